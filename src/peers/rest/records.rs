//! From an app's JSON to `PeerRecord`s: the record selector (a JSON pointer), the id, parent
//! and updated-at fields, the inactive marker. Fields keep the app's own names: the mapping
//! file turns them into GHL's.

use serde_json::{Map, Value};

use super::connector_file::EntitySpec;
use super::file::IdType;
use super::template::value_text;
use crate::peers::PeerRecord;

/// The value at `pointer` (`""`: the whole answer); `None` when the pointer leads nowhere.
pub(crate) fn select<'a>(json: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        Some(json)
    } else {
        json.pointer(pointer)
    }
}

/// The records array at `pointer`. `Err` says what the answer held instead.
pub(crate) fn select_list<'a>(json: &'a Value, pointer: &str) -> Result<&'a [Value], String> {
    match select(json, pointer) {
        Some(Value::Array(items)) => Ok(items.as_slice()),
        Some(Value::Null) => Ok(&[]),
        Some(other) => Err(format!(
            "record_selector {pointer:?} leads to {} instead of an array",
            kind_of(other)
        )),
        None => Err(format!(
            "record_selector {pointer:?} finds nothing in the answer (its keys: {})",
            json.as_object()
                .map(|object| object.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_else(|| kind_of(json).to_string())
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `id` can be one of the app's ids (a GHL id never parses as a number).
pub(crate) fn plausible_id(spec: &EntitySpec, id: &str) -> bool {
    let id = id.trim();
    !id.is_empty() && (spec.id_type == IdType::String || id.parse::<i64>().is_ok())
}

/// One row as a record; `None` when it has no id.
pub(crate) fn to_record(spec: &EntitySpec, row: &Value) -> Option<PeerRecord> {
    let fields: &Map<String, Value> = row.as_object()?;
    let id = fields
        .get(&spec.primary_key)
        .and_then(value_text)
        .filter(|id| !id.trim().is_empty())?;
    let parent_id = spec
        .parent_field
        .as_ref()
        .and_then(|field| fields.get(field))
        .and_then(value_text)
        .filter(|parent| !parent.trim().is_empty());
    let updated_at = spec
        .updated_at_field
        .as_ref()
        .and_then(|field| fields.get(field))
        .and_then(|value| spec.dates.read(value));
    let active = match &spec.inactive_when {
        Some((field, inactive)) => fields.get(field) != Some(inactive),
        None => true,
    };
    Some(PeerRecord {
        kind: spec.kind,
        id,
        parent_id,
        updated_at,
        active,
        fields: fields.clone(),
        raw: row.clone(),
    })
}

/// The records of a list answer; rows without an id are skipped with a warning.
pub(crate) fn to_records(spec: &EntitySpec, rows: &[Value], peer: &str) -> Vec<super::PeerRecord> {
    rows.iter()
        .filter_map(|row| {
            let record = to_record(spec, row);
            if record.is_none() {
                tracing::warn!(peer, kind = %spec.kind, field = %spec.primary_key, "skipped a row without its id");
            }
            record
        })
        .collect()
}
