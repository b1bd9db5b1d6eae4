//! The Robly half of the canonical form: each member by its lowercased email, without its id
//! or `updatedAt` (assigned in whatever order writes land), fields as they are, sub-lists
//! sorted (the dump sorts them), opt-out flags compared.

use serde_json::Value;

use super::canon::{Record, rows, str_of};

pub fn members(robly: &Value) -> Vec<Record> {
    rows(robly, "members")
        .iter()
        .map(|m| {
            let mut body = m.as_object().cloned().unwrap_or_default();
            body.remove("id");
            body.remove("updatedAt");
            let body = Value::Object(body);
            let text = body.to_string();
            Record {
                identity: format!("robly:{}", str_of(m, "email").trim().to_lowercase()),
                body,
                text,
            }
        })
        .collect()
}
