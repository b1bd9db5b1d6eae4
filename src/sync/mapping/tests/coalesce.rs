//! `first_non_empty` (alias `coalesce`): the first of several source fields that holds a value,
//! its way back for two-way rules, and the errors for a rule that cannot use it.

use serde_json::json;

use super::{builtin, contact_with_rule, entity, record};
use crate::peers::EntityKind;
use crate::sync::mapping::{Mapping, MappingError, Transform};

fn phone_of(fields: serde_json::Value) -> Option<serde_json::Value> {
    let mapping = builtin();
    let mapped =
        entity(&mapping, EntityKind::Contact).to_ghl(&record(EntityKind::Contact, "C-9", fields));
    mapped.fields.get("phone").cloned()
}

#[test]
fn the_default_mapping_takes_phone_then_mobile() {
    let both = json!({"Name": "A", "Phone": "(555) 010-2233", "Mobile": "555 010 9999"});
    assert_eq!(phone_of(both), Some(json!("+15550102233")));
    let mobile_only = json!({"Name": "A", "Phone": "  ", "Mobile": "555 010 9999"});
    assert_eq!(phone_of(mobile_only), Some(json!("+15550109999")));
    let mobile_no_phone_key = json!({"Name": "A", "Mobile": "555 010 9999"});
    assert_eq!(phone_of(mobile_no_phone_key), Some(json!("+15550109999")));
    assert_eq!(phone_of(json!({"Name": "A"})), None);
}

#[test]
fn the_way_back_writes_the_first_field_only() {
    let mapping = builtin();
    let contact = entity(&mapping, EntityKind::Contact);
    let mapped = contact.to_peer(&json!({"id": "g1", "companyName": "A", "phone": "+15550109999"}));
    assert_eq!(mapped.fields["Phone"], "+15550109999");
    assert!(!mapped.fields.contains_key("Mobile"), "{:?}", mapped.fields);
    let rule = contact
        .rules()
        .iter()
        .find(|rule| rule.touches_ghl("phone"))
        .unwrap();
    assert_eq!(rule.peer, ["Phone", "Mobile"]);
    assert_eq!(
        rule.chain_to_peer(),
        [
            Transform::PhoneE164 { region: None },
            Transform::IntoFirst(2)
        ]
    );
}

#[test]
fn coalesce_is_an_alias_and_skips_blank_and_missing_fields() {
    let text = contact_with_rule(
        "peer = [\"Email\", \"Email2\", \"Email3\"]\nghl = \"email\"\ntransforms = [\"trim\", \"coalesce\"]",
    );
    let mapping = Mapping::parse(&text, "t.toml").unwrap();
    let contact = entity(&mapping, EntityKind::Contact);
    let mapped = contact.to_ghl(&record(
        EntityKind::Contact,
        "1",
        json!({"Email": "   ", "Email3": " c@example.com "}),
    ));
    assert_eq!(mapped.fields["email"], "c@example.com");
    let none = contact.to_ghl(&record(EntityKind::Contact, "1", json!({"Email": ""})));
    assert!(!none.fields.contains_key("email"));
}

#[test]
fn a_to_peer_rule_can_pick_among_ghl_fields() {
    let text = contact_with_rule(
        "peer = \"Email\"\nghl = \"email\"\n\n[[contact.field]]\npeer = \"Phone\"\nghl = [\"phone\", \"customField:key:mobile\"]\ndirection = \"to_peer\"\ntransforms = [\"first_non_empty\"]",
    );
    let mapping = Mapping::parse(&text, "t.toml").unwrap();
    let mapped = entity(&mapping, EntityKind::Contact).to_peer(&json!({
        "customFields": [{"id": "x", "key": "mobile", "value": "+15550100000"}]
    }));
    assert_eq!(mapped.fields["Phone"], "+15550100000");
}

fn invalid(text: &str) -> (usize, usize, String) {
    match Mapping::parse(text, "test.toml") {
        Err(MappingError::Invalid {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn first_non_empty_over_one_field_is_located_with_the_fix() {
    let text = contact_with_rule(
        "peer = \"Phone\"\nghl = \"phone\"\ntransforms = [\"first_non_empty\", \"phone_e164\"]",
    );
    let (line, column, message) = invalid(&text);
    assert_eq!((line, column), (9, 15));
    assert!(message.contains("several fields"), "{message}");
    assert!(
        message.contains("peer = [\"Phone\", \"Mobile\"]"),
        "{message}"
    );

    let with_value = contact_with_rule(
        "peer = [\"Phone\", \"Mobile\"]\nghl = \"phone\"\ntransforms = [{ coalesce = true }]",
    );
    let (line, _, message) = invalid(&with_value);
    assert_eq!(line, 9);
    assert!(message.contains("takes no value"), "{message}");
}

#[test]
fn two_way_to_peer_transforms_need_several_ghl_fields_for_first_non_empty() {
    let text = contact_with_rule(
        "peer = \"Email\"\nghl = \"email\"\ndirection = \"both\"\nto_peer_transforms = [\"first_non_empty\"]",
    );
    let (line, _, message) = invalid(&text);
    assert_eq!(line, 10);
    assert!(message.contains("ghl = [\"phone\""), "{message}");
}
