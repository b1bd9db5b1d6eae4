//! The canonical form of the dump's `rezora` part: each contact without its id and creation
//! date (assigned in whatever order writes land), paired by its email (lowercased; else its
//! name), its lists sorted, its lock kept. Two contacts of one email pair off against the
//! reference's one, so a duplicate shows as an extra record. Phones compare by their last ten
//! digits: a gap fill sends GHL's whole side, rewriting a number Rezora holds as
//! `(512) 739-0026` into `+15127390026`, and whether that write lands or is found moot on its
//! retry depends on the faults; the number is the same either way.

use serde_json::{Map, Value};

use super::canon::{Record, Tokens, finish, rows, str_of};

pub fn rezora(rezora: &Value, tokens: &Tokens) -> Vec<Record> {
    rows(rezora, "contacts")
        .iter()
        .map(|contact| {
            let mut map: Map<String, Value> = contact.as_object().cloned().unwrap_or_default();
            map.remove("contact_id");
            map.remove("contact_date");
            for (key, value) in map.iter_mut() {
                if key.starts_with("contact_phone_")
                    && let Some(text) = value.as_str()
                {
                    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
                    let last_ten = digits[digits.len().saturating_sub(10)..].to_string();
                    *value = Value::String(last_ten);
                }
            }
            let email = str_of(contact, "contact_email").trim().to_ascii_lowercase();
            let identity = if email.is_empty() {
                format!("rezora:name:{}", str_of(contact, "contact_name").trim())
            } else {
                format!("rezora:{email}")
            };
            finish(identity, map, &["lists"], tokens)
        })
        .collect()
}
