//! The Growbots emulation's part of an end state: each prospect (by its email, lower-cased)
//! with its export row and the events the bridge delivered about it (type and whether it got
//! through, as a multiset: event ids and attempt statuses differ between correct runs).

use serde_json::{Map, Value, json};

use super::canon::Record;

pub fn canon(growbots: &Value) -> Vec<Record> {
    let events = growbots["events"].as_array().cloned().unwrap_or_default();
    let mut out: Vec<Record> = growbots["prospects"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let email = row["Email"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_lowercase();
            let mut kinds: Vec<String> = events
                .iter()
                .filter(|e| {
                    e["email"]
                        .as_str()
                        .unwrap_or_default()
                        .trim()
                        .to_lowercase()
                        == email
                })
                .map(|e| {
                    format!(
                        "{}:{}",
                        e["type"].as_str().unwrap_or_default(),
                        e["delivered"]
                    )
                })
                .collect();
            kinds.sort();
            let mut body = Map::new();
            body.insert("row".into(), sorted(row));
            body.insert("events".into(), json!(kinds));
            let body = Value::Object(body);
            Record {
                identity: format!("growbots:{email}"),
                text: body.to_string(),
                body,
            }
        })
        .collect();
    out.sort_by(|a, b| a.identity.cmp(&b.identity));
    out
}

fn sorted(row: &Value) -> Value {
    let mut pairs: Vec<(&String, &Value)> = row.as_object().into_iter().flatten().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}
