//! Resolving the custom fields a mapping names against a location's fields (pure: the list is
//! given), and what the writes then name.

use serde_json::json;

use super::{builtin, contact_with_rule, entity, record};
use crate::ghl::models::CustomField;
use crate::peers::EntityKind;
use crate::sync::mapping::{CustomFieldRef, FieldsError, Mapping};

fn field(id: &str, key: &str) -> CustomField {
    CustomField {
        id: id.into(),
        name: key.into(),
        field_key: format!("contact.{key}"),
        data_type: "TEXT".into(),
        ..CustomField::default()
    }
}

#[test]
fn the_builtin_mapping_names_four_fields_with_their_places_and_types() {
    let named = builtin().named_custom_fields();
    let summary: Vec<(String, usize, &str)> = named
        .iter()
        .map(|n| (n.field.to_string(), n.at.0, n.data_type))
        .collect();
    assert_eq!(
        summary,
        [
            ("customField:key:repsly_code".to_string(), 69, "TEXT"),
            ("customField:key:repsly_mobile".to_string(), 112, "PHONE"),
            ("customField:key:repsly_active".to_string(), 160, "TEXT"),
            ("customField:key:repsly_note".to_string(), 165, "TEXT"),
        ]
    );
}

#[test]
fn resolved_keys_are_written_and_read_by_id() {
    let mut mapping = builtin();
    let fields = [
        field("cf-code", "repsly_code"),
        field("cf-mobile", "repsly_mobile"),
        field("cf-active", "repsly_active"),
        field("cf-note", "repsly_note"),
        field("cf-other", "favorite_color"),
    ];
    mapping.resolve_location_fields(&fields).unwrap();
    let contact = entity(&mapping, EntityKind::Contact);
    let mapped = contact.to_ghl(&record(
        EntityKind::Contact,
        "C-1",
        json!({"Name": "A", "Active": true, "Note": "hi"}),
    ));
    let mut custom = mapped.fields["customFields"].as_array().unwrap().clone();
    custom.sort_by_key(ToString::to_string);
    assert_eq!(
        custom,
        [
            json!({"id": "cf-active", "field_value": "yes"}),
            json!({"id": "cf-code", "field_value": "C-1"}),
            json!({"id": "cf-note", "field_value": "hi"}),
        ]
    );
    // What GHL holds, in the same form: a payload can be compared with a read.
    let read = json!({"customFields": [
        {"id": "cf-code", "value": "C-1"}, {"id": "cf-other", "value": "red"}, {"id": "cf-note", "value": "hi"}
    ]});
    assert_eq!(
        contact.ghl_custom_values(&read),
        json!([{"id": "cf-note", "field_value": "hi"}, {"id": "cf-code", "field_value": "C-1"}])
    );
}

#[test]
fn a_missing_field_is_named_with_its_place_and_an_unknown_id_too() {
    let mut mapping = builtin();
    let err = mapping
        .resolve_location_fields(&[field("cf-code", "repsly_code")])
        .unwrap_err();
    let FieldsError::Missing(missing) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(missing.len(), 3);
    assert_eq!(
        missing[0].field,
        CustomFieldRef::Key("repsly_mobile".into())
    );
    assert_eq!(
        missing[0].place,
        "assets/mappings/repsly.toml (built-in):112:7"
    );
    assert!(err.to_string().contains("--create-fields"), "{err}");

    let text = contact_with_rule("peer = \"Note\"\nghl = \"customField:id:abc123\"");
    let mut by_id = Mapping::parse(&text, "t.toml").unwrap();
    let err = by_id.resolve_location_fields(&[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("customField:id:abc123 (t.toml:8:7)"),
        "{err}"
    );
    by_id
        .resolve_location_fields(&[field("abc123", "note")])
        .unwrap();
}
