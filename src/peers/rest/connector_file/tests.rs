use super::*;

const OFFSET: &str = include_str!("../../../../assets/connectors/crm-offset.toml");
const CURSOR: &str = include_str!("../../../../assets/connectors/crm-cursor.toml");

fn minimal(extra: &str) -> String {
    format!("name = \"acme\"\nbase_url = \"https://api.acme.test/v1\"\n{extra}")
}

fn error(text: &str) -> (usize, usize, String) {
    match ConnectorFile::parse(text, "acme.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(ConnectorFileError::Invalid {
            origin,
            line,
            column,
            message,
        }) => {
            assert_eq!(origin, "acme.toml");
            (line, column, message)
        }
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn the_example_files_load() {
    let offset = ConnectorFile::parse(OFFSET, "crm-offset.toml").unwrap();
    assert_eq!(offset.name(), "crm-offset");
    assert_eq!(offset.secret_names(), vec!["api_token".to_string()]);
    let caps = offset.capabilities();
    let contact = caps.iter().find(|c| c.kind == EntityKind::Contact).unwrap();
    assert!(contact.read && contact.write);
    assert_eq!(contact.changes, ChangeDetection::Cursor);
    let note = caps.iter().find(|c| c.kind == EntityKind::Note).unwrap();
    assert!(note.read && note.write);
    let cursor = ConnectorFile::parse(CURSOR, "crm-cursor.toml").unwrap();
    assert_eq!(cursor.secret_names(), vec!["api_key".to_string()]);
    let caps = cursor.capabilities();
    assert!(
        caps.iter()
            .all(|c| c.changes == ChangeDetection::FullListing)
    );
    let note = caps.iter().find(|c| c.kind == EntityKind::Note).unwrap();
    assert!(note.read && !note.write, "crm-cursor's notes are read-only");
}

#[test]
fn a_misspelled_key_names_its_line_and_the_valid_keys() {
    let text = minimal(
        "[contact]\nprimary_key = \"id\"\n\n[contact.list]\npath = \"/c\"\nrecord_selectr = \"/data\"\n",
    );
    let (line, column, message) = error(&text);
    assert_eq!((line, column), (8, 1), "{message}");
    assert!(
        message.contains("unknown field `record_selectr`"),
        "{message}"
    );
    assert!(message.contains("record_selector"), "{message}");
}

#[test]
fn a_wrong_paginator_type_lists_the_types() {
    let text = minimal(
        "[contact.list]\npath = \"/c\"\n[contact.list.paginator]\ntype = \"offfset\"\npage_size = 5\n",
    );
    let (line, _, message) = error(&text);
    assert_eq!(line, 6, "{message}");
    assert!(message.contains("unknown variant `offfset`"), "{message}");
    for valid in ["offset", "page_number", "cursor", "link_header", "none"] {
        assert!(message.contains(valid), "{valid} missing from: {message}");
    }
}

#[test]
fn an_unknown_key_in_a_tagged_table_points_at_the_key() {
    let text = minimal(
        "[contact.list]\npath = \"/c\"\n[contact.list.paginator]\ntype = \"offset\"\npage_size = 5\n  limit_parm = \"n\"\n",
    );
    let (line, column, message) = error(&text);
    assert_eq!((line, column), (8, 3), "{message}");
    assert!(message.contains("limit_param"), "{message}");
    let auth =
        minimal("[authenticator]\ntype = \"bearer\"\ntokn = { secret = \"t\" }\n[contact]\n");
    let (line, _, message) = error(&auth);
    assert_eq!(line, 5, "{message}");
    let auth = minimal("[authenticator]\ntype = \"oauth\"\n[contact]\n");
    let (_, _, message) = error(&auth);
    assert!(
        message.contains("bearer") && message.contains("query"),
        "{message}"
    );
}

#[test]
fn checks_after_parsing_are_located_too() {
    let cases: &[(&str, usize, &str)] = &[
        ("[contact.get]\npath = \"/c\"\n", 4, "must use {{ id }}"),
        (
            "[contact.get]\npath = \"/c/{{ uid }}\"\n",
            4,
            "unknown placeholder",
        ),
        ("[contact.list]\npath = \"c\"\n", 4, "must start with /"),
        (
            "[contact.list]\npath = \"/c\"\nrecord_selector = \"data\"\n",
            5,
            "write \"/data\"",
        ),
        (
            "[contact]\nfull_listing = true\n[contact.list]\npath = \"/c\"\n[contact.incremental_sync]\nstart_time_param = \"since\"\ncursor_field = \"u\"\n",
            4,
            "keep one",
        ),
        (
            "[errors]\n\"4o9\" = \"validation\"\n[contact]\n",
            4,
            "not an HTTP status",
        ),
        (
            "[contact]\ndatetime_format = \"%Q\"\n",
            4,
            "not a valid strftime",
        ),
        (
            "[authenticator]\ntype = \"bearer\"\ntoken = { secret = \"API-Token\" }\n[contact]\n",
            5,
            "secret name",
        ),
        (
            "[contact.update]\nmethod = \"FETCH\"\npath = \"/c/{{ id }}\"\n",
            4,
            "PATCH",
        ),
        ("[note.list]\npath = \"/n\"\n", 1, "parent_field"),
    ];
    for (extra, line, needle) in cases {
        let (got, _, message) = error(&minimal(extra));
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
        assert_eq!(got, *line, "{message}");
    }
    let (_, _, message) = error(&minimal(""));
    assert!(message.contains("declares no entity"), "{message}");
}

#[test]
fn date_formats_read_and_write() {
    let at = Utc.with_ymd_and_hms(2024, 11, 25, 15, 0, 0).unwrap();
    let pattern = DateFormat::parse_spec("%Y-%m-%d %H:%M:%S").unwrap();
    assert_eq!(pattern.write(at), "2024-11-25 15:00:00");
    assert_eq!(pattern.read(&Value::from("2024-11-25 15:00:00")), Some(at));
    let unix = DateFormat::parse_spec("unix").unwrap();
    assert_eq!(unix.read(&Value::from(at.timestamp())), Some(at));
    assert_eq!(unix.write(at), at.timestamp().to_string());
    let ms = DateFormat::parse_spec("unix_ms").unwrap();
    assert_eq!(ms.read(&Value::from(at.timestamp_millis())), Some(at));
    let rfc = DateFormat::parse_spec("rfc3339").unwrap();
    assert_eq!(
        rfc.read(&Value::from("2024-11-25T16:00:00+01:00")),
        Some(at)
    );
    assert_eq!(rfc.write(at), "2024-11-25T15:00:00Z");
    assert!(DateFormat::parse_spec("weekly").is_err());
}
