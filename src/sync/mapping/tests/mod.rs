//! Tests of the mapping engine: parsing and validation errors, applying mappings both ways, the
//! preview, and properties of the transforms on arbitrary input.

mod apply;
mod coalesce;
mod location_fields;
mod parse;
mod props;

use serde_json::{Map, Value, json};

use crate::peers::{EntityKind, PeerRecord};

use super::{EntityMapping, Mapping};

pub(super) fn builtin() -> Mapping {
    Mapping::parse(
        Mapping::builtin_text("repsly").expect("built-in repsly mapping"),
        "assets/mappings/repsly.toml (built-in)",
    )
    .expect("built-in mapping parses")
}

pub(super) fn entity(mapping: &Mapping, kind: EntityKind) -> &EntityMapping {
    mapping.entity(kind).expect("entity is mapped")
}

pub(super) fn record(kind: EntityKind, id: &str, fields: Value) -> PeerRecord {
    let fields: Map<String, Value> = match fields {
        Value::Object(map) => map,
        other => panic!("fields must be an object, got {other}"),
    };
    PeerRecord {
        kind,
        id: id.to_string(),
        parent_id: None,
        updated_at: None,
        active: true,
        raw: json!(fields),
        fields,
    }
}

/// A small mapping wrapped around one contact rule, for error and transform tests.
pub(super) fn contact_with_rule(rule: &str) -> String {
    format!("peer = \"test\"\n\n[contact]\nmatch = [\"email\"]\n\n[[contact.field]]\n{rule}\n")
}
