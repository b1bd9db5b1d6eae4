//! Content hashes of GHL-side field maps. Two maps that mean the same (keys in another order,
//! tags in another order) hash the same, so "unchanged" costs zero requests and echoes of our own
//! writes are recognised.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The comparable form: keys sorted (serde_json maps keep insertion order here), tag lists
/// sorted, nulls, empty strings and empty lists dropped (GHL omits empty fields on read, but
/// answers `"tags": []` for a contact without tags, which a peer maps to no field at all).
pub fn normalise(fields: &Map<String, Value>) -> Map<String, Value> {
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort();
    let mut out = Map::new();
    for key in keys {
        let value = &fields[key];
        let value = match (key.as_str(), value) {
            (_, Value::Null) => continue,
            (_, Value::String(text)) if text.is_empty() => continue,
            (_, Value::Array(items)) if items.is_empty() => continue,
            ("tags", Value::Array(items)) => {
                let mut tags: Vec<String> = items
                    .iter()
                    .filter_map(|t| t.as_str().map(|s| s.trim().to_lowercase()))
                    .filter(|t| !t.is_empty())
                    .collect();
                if tags.is_empty() {
                    continue;
                }
                tags.sort();
                tags.dedup();
                Value::from(tags)
            }
            ("customFields", Value::Array(items)) => {
                let mut entries = items.clone();
                entries.sort_by_key(|entry| entry.to_string());
                Value::Array(entries)
            }
            (_, Value::Object(inner)) => Value::Object(normalise(inner)),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    out
}

pub fn hash_fields(fields: &Map<String, Value>) -> String {
    hash_normalised(&normalise(fields))
}

/// `hash_fields` of a map that is already `normalise`d (normalising is idempotent).
pub fn hash_normalised(normalised: &Map<String, Value>) -> String {
    let canonical = serde_json::to_vec(normalised).unwrap_or_default();
    let digest = Sha256::digest(&canonical);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for b in digest.iter().take(16) {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

/// `diff` from nothing to a map that is already `normalise`d: every field is new.
pub fn additions(normalised: Map<String, Value>) -> Map<String, Value> {
    normalised
        .into_iter()
        .map(|(key, new)| (key, Value::Array(vec![Value::Null, new])))
        .collect()
}

/// Field → [before, after] for every field that differs.
pub fn diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Map<String, Value> {
    let (before, after) = (normalise(before), normalise(after));
    let mut out = Map::new();
    for (key, new) in &after {
        let old = before.get(key).cloned().unwrap_or(Value::Null);
        if &old != new {
            out.insert(key.clone(), Value::Array(vec![old, new.clone()]));
        }
    }
    for (key, old) in &before {
        if !after.contains_key(key) {
            out.insert(key.clone(), Value::Array(vec![old.clone(), Value::Null]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn order_case_of_tags_and_empty_fields_do_not_change_the_hash() {
        let a = map(json!({"email": "a@b.co", "tags": ["VIP", "ny"], "city": ""}));
        let b = map(json!({"tags": ["ny", "vip"], "email": "a@b.co", "phone": null}));
        assert_eq!(hash_fields(&a), hash_fields(&b));
        let untagged = map(json!({"email": "a@b.co", "tags": []}));
        assert_eq!(
            hash_fields(&untagged),
            hash_fields(&map(json!({"email": "a@b.co"})))
        );
        let c = map(json!({"email": "a@b.co", "tags": ["ny"]}));
        assert_ne!(hash_fields(&a), hash_fields(&c));
    }

    #[test]
    fn additions_are_the_diff_from_nothing() {
        let a = map(json!({"tags": ["VIP", "ny"], "email": "a@b.co", "city": "", "x": null}));
        assert_eq!(additions(normalise(&a)), diff(&Map::new(), &a));
        assert_eq!(additions(normalise(&a)).len(), 2);
    }

    #[test]
    fn a_normalised_map_hashes_as_its_original() {
        let a = map(
            json!({"tags": ["VIP", "ny"], "email": "a@b.co", "city": "", "x": {"b": 1, "a": null}}),
        );
        assert_eq!(hash_normalised(&normalise(&a)), hash_fields(&a));
        assert_eq!(normalise(&normalise(&a)), normalise(&a));
        assert_eq!(hash_fields(&a).len(), 32);
    }

    #[test]
    fn diff_lists_changed_added_and_removed_fields() {
        let before = map(json!({"email": "a@b.co", "city": "Oslo"}));
        let after = map(json!({"email": "a@b.co", "city": "Bergen", "phone": "+4712345678"}));
        let d = diff(&before, &after);
        assert_eq!(d["city"], json!(["Oslo", "Bergen"]));
        assert_eq!(d["phone"], json!([null, "+4712345678"]));
        assert!(!d.contains_key("email"));
    }
}
