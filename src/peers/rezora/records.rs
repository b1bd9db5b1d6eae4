//! Rezora rows ↔ peer records. A contact record holds the row's writable `contact_*` fields
//! (the name as Rezora keeps it, in one `contact_name`: the mapping's `name_part` and `join`
//! transforms split and join it) plus `lists`: the names of the distribution lists it is in,
//! comma-joined and sorted, the Primary Sphere left out (every contact is in it).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::client::text_of;
use crate::peers::{EntityKind, PeerRecord};

/// The contact fields ghlsync reads and writes (peer-apis.md §4); `contact_id`, `contact_self`
/// and `contact_date` are Rezora's own.
pub const WRITABLE: &[&str] = &[
    "contact_name",
    "contact_email",
    "contact_type",
    "contact_title",
    "contact_company",
    "contact_phone_home",
    "contact_phone_work",
    "contact_phone_mobile",
    "contact_phone_fax",
    "contact_business_street",
    "contact_business_street2",
    "contact_business_city",
    "contact_business_state",
    "contact_business_zip",
    "contact_home_street",
    "contact_home_street2",
    "contact_home_city",
    "contact_home_state",
    "contact_home_zip",
    "contact_unsubscribe",
];

/// The record field holding a contact's distribution lists.
pub const LISTS: &str = "lists";

pub fn is_self(row: &Value) -> bool {
    text_of(row, "contact_self").as_deref() == Some("1")
}

pub fn email_of(row: &Value) -> Option<String> {
    text_of(row, "contact_email")
        .map(|email| email.trim().to_ascii_lowercase())
        .filter(|email| !email.is_empty())
}

/// A contact row as a record, with the names of its (managed) lists.
pub fn contact_record(row: &Value, lists: &[String]) -> Option<PeerRecord> {
    let id = text_of(row, "contact_id").filter(|id| !id.trim().is_empty())?;
    let mut fields = Map::new();
    for name in WRITABLE {
        if let Some(value) = text_of(row, name) {
            fields.insert((*name).to_string(), Value::String(value));
        }
    }
    let mut names: Vec<&str> = lists.iter().map(String::as_str).collect();
    names.sort_unstable_by_key(|name| name.to_ascii_lowercase());
    fields.insert(LISTS.into(), Value::String(names.join(", ")));
    Some(PeerRecord {
        kind: EntityKind::Contact,
        id: id.trim().to_string(),
        parent_id: None,
        updated_at: None,
        active: true,
        fields,
        raw: row.clone(),
    })
}

/// What a write sends: the record's writable fields as Rezora's text (`true` → `1`).
pub fn write_body(record: &PeerRecord) -> Map<String, Value> {
    record
        .fields
        .iter()
        .filter(|(name, _)| WRITABLE.contains(&name.as_str()))
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Bool(flag) => if *flag { "1" } else { "0" }.to_string(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (name.clone(), Value::String(text))
        })
        .collect()
}

/// The list names a record asks for, by lowercase name (`None`: the record says nothing about
/// lists, so they are left as they are). A list or a comma-separated text.
pub fn wanted_lists(record: &PeerRecord) -> Option<BTreeMap<String, String>> {
    let names: Vec<String> = match record.fields.get(LISTS)? {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        Value::String(text) => text.split(',').map(str::to_string).collect(),
        Value::Null => Vec::new(),
        _ => return None,
    };
    Some(
        names
            .into_iter()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .map(|name| (name.to_ascii_lowercase(), name))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_become_records_with_their_lists() {
        let row = json!({"contact_id": "12", "contact_name": "Ann Lee", "contact_self": "0",
            "contact_date": "2010-07-16 22:34:01", "contact_unsubscribe": "1"});
        let record =
            contact_record(&row, &["Past Clients".into(), "hot leads".into()]).expect("a record");
        assert_eq!(record.id, "12");
        assert_eq!(record.fields["lists"], "hot leads, Past Clients");
        assert!(!record.fields.contains_key("contact_date"));
        assert_eq!(record.fields["contact_unsubscribe"], "1");
        let mut back = record.clone();
        back.fields
            .insert("contact_unsubscribe".into(), json!(true));
        back.fields.insert("lists".into(), json!(["A", " b ", ""]));
        assert_eq!(write_body(&back)["contact_unsubscribe"], "1");
        assert!(!write_body(&back).contains_key("lists"));
        let wanted = wanted_lists(&back).expect("lists");
        assert_eq!(wanted.values().collect::<Vec<_>>(), ["A", "b"]);
    }
}
