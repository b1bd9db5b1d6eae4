//! Local refusals: what no request may carry.

use serde_json::{Value, json};

use super::*;
use crate::config::Secret;

fn peer() -> RoblyPeer {
    RoblyPeer::new(RoblySettings {
        base_url: "http://127.0.0.1:9/api/v1".into(),
        api_id: Secret::new("id-very-secret"),
        api_key: Secret::new("key-very-secret"),
        ..RoblySettings::default()
    })
    .unwrap()
}

fn record(fields: Value) -> PeerRecord {
    PeerRecord {
        kind: EntityKind::Contact,
        id: "959140".into(),
        parent_id: None,
        updated_at: None,
        active: true,
        fields: fields.as_object().cloned().unwrap_or_default(),
        raw: Value::Null,
    }
}

#[test]
fn mail_switches_cannot_be_set_by_a_mapping() {
    let peer = peer();
    for switch in MAIL_SWITCHES {
        let err = peer
            .check(&record(json!({"email": "a@b.co", switch: true})))
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Validation);
        assert_eq!(err.field(), Some(switch));
        assert!(err.to_string().contains("send"), "{err}");
    }
    assert!(
        peer.check(&record(json!({"email": "a@b.co", "fname": "Ann"})))
            .is_ok()
    );
    let bad_tag = peer
        .check(&record(json!({"First Name": "Ann"})))
        .unwrap_err();
    assert_eq!(bad_tag.field(), Some("First Name"));
}

#[test]
fn credentials_are_required_and_never_shown() {
    let missing = RoblyPeer::new(RoblySettings::default()).unwrap_err();
    assert!(missing.to_string().contains("API Details"), "{missing}");
    let shown = format!("{:?}", peer());
    assert!(!shown.contains("very-secret"), "{shown}");
}
