use super::{builtin, contact_with_rule};
use crate::peers::EntityKind;
use crate::sync::mapping::{Authority, CustomFieldRef, Mapping, MappingError, MatchKey};

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
fn builtin_mapping_parses_with_every_entity() {
    let mapping = builtin();
    assert_eq!(mapping.peer, "repsly");
    for kind in EntityKind::ALL {
        assert!(mapping.entity(kind).is_some(), "{kind} is mapped");
    }
    let contact = mapping.entity(EntityKind::Contact).unwrap();
    assert_eq!(
        contact.match_keys(),
        [MatchKey::ExternalId, MatchKey::Email, MatchKey::Phone]
    );
    assert_eq!(
        contact.external_id_field(),
        Some(&CustomFieldRef::Key("repsly_code".into()))
    );
    assert_eq!(
        mapping.entity(EntityKind::Note).unwrap().parent_field(),
        Some("ClientCode")
    );
    assert!(Mapping::builtin("repsly").is_some());
    assert!(Mapping::builtin("acme").is_none());
    assert!(Mapping::builtin_text("acme").is_none());
}

#[test]
fn unknown_transform_is_located_and_lists_the_valid_ones() {
    let text =
        contact_with_rule("peer = \"Email\"\nghl = \"email\"\ntransforms = [\"trim\", \"shout\"]");
    let (line, column, message) = invalid(&text);
    assert_eq!((line, column), (9, 23));
    assert!(message.contains("unknown transform `shout`"), "{message}");
    assert!(
        message.contains("trim, lowercase, uppercase, title_case, name_part"),
        "{message}"
    );
}

#[test]
fn bad_direction_lists_the_valid_ones_and_error_names_the_file() {
    let text = contact_with_rule("peer = \"Email\"\nghl = \"email\"\ndirection = \"sideways\"");
    let err = Mapping::parse(&text, "my/repsly.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "my/repsly.toml:9:13: unknown direction \"sideways\"; expected one of: to_ghl, to_peer, both"
    );
    assert_eq!(err.position(), Some((9, 13)));
}

#[test]
fn toml_syntax_and_unknown_keys_are_parse_errors_with_position() {
    let err = Mapping::parse("peer = \"x\"\n[contact\n", "t.toml").unwrap_err();
    assert!(matches!(err, MappingError::Parse { line: 2, .. }), "{err}");
    let text = contact_with_rule("peer = \"Email\"\nghl = \"email\"\ndirecton = \"both\"");
    let err = Mapping::parse(&text, "t.toml").unwrap_err();
    assert!(matches!(err, MappingError::Parse { line: 9, .. }), "{err}");
    assert!(
        err.to_string().contains("unknown field `direction`")
            || err.to_string().contains("directon"),
        "{err}"
    );
}

#[test]
fn semantic_errors_say_what_was_expected() {
    let cases = [
        (
            "peer = \"E\"\nghl = \"emial\"",
            "unknown GHL contact field `emial` for writing; expected one of: ",
        ),
        (
            "peer = \"E\"\nghl = \"email\"\nauthority = \"peer\"",
            "it needs direction = \"both\"",
        ),
        (
            "peer = \"E\"\nghl = \"email\"\ndirection = \"both\"\nauthority = \"me\"",
            "expected one of: peer, ghl, latest",
        ),
        (
            "peer = \"N\"\nghl = \"firstName\"\ndirection = \"both\"\ntransforms = [{ name_part = \"first\" }]",
            "cannot be undone",
        ),
        (
            "peer = \"N\"\nghl = \"firstName\"\ntransforms = [{ name_part = \"middle\" }]",
            "{ name_part = \"first\" } or { name_part = \"last\" }",
        ),
        (
            "peer = \"N\"\nghl = \"firstName\"\ntransforms = [{ cast = \"int\" }]",
            "{ cast = \"string\" }",
        ),
        (
            "peer = \"P\"\nghl = \"phone\"\ntransforms = [{ phone_e164 = \"XX\" }]",
            "ISO 3166",
        ),
        (
            "peer = \"D\"\nghl = \"dateOfBirth\"\ntransforms = [{ date = \"Mars/Base\" }]",
            "IANA name",
        ),
        (
            "peer = \"N\"\nghl = \"firstName\"\ntransforms = [{ max_len = 0 }]",
            "a positive whole number",
        ),
        ("ghl = \"firstName\"", "a rule needs `peer`"),
        (
            "constant = 1\nghl = \"source\"\ndirection = \"both\"",
            "a `constant` rule goes one way",
        ),
        (
            "peer = \"A\"\nghl = \"customField:name:x\"",
            "customField:key:<field key>",
        ),
        ("peer = \"A\"\nghl = 5", "`ghl` is a field name"),
    ];
    for (rule, expected) in cases {
        let (line, _, message) = invalid(&contact_with_rule(rule));
        assert!(message.contains(expected), "{rule:?}: {message}");
        assert!(line >= 6, "{rule:?}: line {line}");
    }
}

#[test]
fn entity_level_errors() {
    let dup = contact_with_rule(
        "peer = \"A\"\nghl = \"email\"\n\n[[contact.field]]\npeer = \"B\"\nghl = \"email\"",
    );
    let (line, _, message) = invalid(&dup);
    assert_eq!(line, 10);
    assert!(
        message.contains("already written by the rule on line 6"),
        "{message}"
    );

    let (line, column, message) =
        invalid("peer = \"x\"\n[contact]\nmatch = [\"email\", \"fax\"]\n");
    assert_eq!((line, column), (3, 19));
    assert!(
        message.contains("expected one of: external_id, email, phone"),
        "{message}"
    );

    let (_, _, message) = invalid("peer = \"x\"\n[contact]\nmatch = [\"external_id\"]\n");
    assert!(message.contains("needs `external_id = { key"), "{message}");

    let (_, _, message) =
        invalid("peer = \"x\"\n[note]\n[[note.field]]\npeer = \"T\"\nghl = \"title\"\n");
    assert!(message.contains("no rule fills `body`"), "{message}");

    let (_, _, message) = invalid("peer = \"x\"\n[task]\nmatch = [\"email\"]\n");
    assert!(message.contains("for [contact] only"), "{message}");

    let (line, _, message) = invalid("peer = \"x\"\n[contact]\ntimezone = \"Nowhere/City\"\n");
    assert_eq!(line, 3);
    assert!(message.contains("America/New_York"), "{message}");
}

#[test]
fn two_way_rules_get_an_inverse_chain() {
    let mapping = builtin();
    let contact = mapping.entity(EntityKind::Contact).unwrap();
    let tags = contact
        .rules()
        .iter()
        .find(|r| r.touches_ghl("tags"))
        .unwrap();
    let back: Vec<String> = tags
        .chain_to_peer()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(back, ["lowercase", "trim", "join = \",\""]);
    let appointment = mapping.entity(EntityKind::Appointment).unwrap();
    let start = appointment
        .rules()
        .iter()
        .find(|r| r.touches_ghl("startTime"))
        .unwrap();
    assert_eq!(start.chain_to_peer()[0].to_string(), "date_split");
}

#[test]
fn authority_per_field() {
    let mapping = builtin();
    let contact = mapping.entity(EntityKind::Contact).unwrap();
    assert_eq!(contact.authority("email"), Authority::Latest); // both, entity default
    assert_eq!(contact.authority("phone"), Authority::Peer); // both, own authority
    assert_eq!(contact.authority("tags"), Authority::Ghl);
    assert_eq!(
        contact.authority("customField:key:repsly_active"),
        Authority::Peer
    ); // to_ghl only
    assert_eq!(contact.authority("dnd"), Authority::Latest); // unmapped: entity default
    let text = "peer = \"x\"\n[contact]\nconflict = \"ghl\"\n[[contact.field]]\npeer = \"A\"\nghl = \"city\"\ndirection = \"to_peer\"\n";
    let mapping = Mapping::parse(text, "t").unwrap();
    let contact = mapping.entity(EntityKind::Contact).unwrap();
    assert_eq!(contact.authority("city"), Authority::Ghl);
    assert_eq!(contact.authority("email"), Authority::Ghl);
}

#[test]
fn fingerprint_ignores_layout_and_follows_meaning() {
    let text = Mapping::builtin_text("repsly").unwrap();
    let base = builtin().fingerprint();
    assert_eq!(base.len(), 16);
    let relaid = format!(
        "# another comment\n\n{}",
        text.replace("transforms = [\"trim\"]", "transforms = [ \"trim\" ]")
    );
    assert_eq!(Mapping::parse(&relaid, "x").unwrap().fingerprint(), base);
    let changed = text.replace("default_region = \"US\"", "default_region = \"CA\"");
    assert_ne!(Mapping::parse(&changed, "x").unwrap().fingerprint(), base);
}
