//! Inbox files: pages, rejections with their reason, and the `done/` lifecycle.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use super::*;

#[tokio::test]
async fn a_csv_file_is_one_page_of_records_keyed_by_the_id_column() {
    let rig = Rig::new();
    rig.drop_file("a.csv", CONTACTS.as_bytes());
    let page = fetch(&rig.peer(), None).await;
    assert_eq!(ids(&page), ["C1", "C2"]);
    assert!(page.done);
    let ann = &page.records[0];
    assert_eq!(ann.fields["company"], "Lee, Ann & Co");
    assert_eq!(ann.fields["code"], "C1", "the id column stays a field");
    assert_eq!(ann.raw, json!({ "file": "a.csv", "line": 2 }));
    assert!(
        !page.records[1].fields.contains_key("phone"),
        "an empty cell is no value"
    );
    let cursor = page.next_cursor.unwrap();
    assert!(cursor.starts_with("a.csv#"), "{cursor}");
}

#[tokio::test]
async fn jsonl_lines_and_row_hash_ids_when_no_id_field() {
    let rig = Rig::new();
    rig.drop_file(
        "a.jsonl",
        b"{\"email\":\"ann@example.com\",\"first_name\":\"Ann\"}\n\n{\"first_name\":\"Bo\",\"n\":7,\"x\":null}\n",
    );
    rig.drop_file(
        "b.jsonl",
        b"{\"first_name\":\"Ann\",\"email\":\"ann@example.com\"}\n",
    );
    let peer = FilePeer::new("shop", rig.connection(None)).unwrap();
    let first = fetch(&peer, None).await;
    assert_eq!(first.records.len(), 2);
    assert!(first.records[0].id.starts_with("row-"));
    assert_eq!(first.records[1].fields["n"], 7);
    assert!(!first.records[1].fields.contains_key("x"));
    assert!(!first.done, "b.jsonl is still to come");
    let second = fetch(&peer, first.next_cursor.as_deref()).await;
    assert_eq!(
        second.records[0].id, first.records[0].id,
        "the same row is the same record, whatever the key order"
    );
}

#[tokio::test]
async fn a_broken_file_is_rejected_with_its_reason_and_the_walk_goes_on() {
    let rig = Rig::new();
    rig.drop_file("1-short-row.csv", b"code,email\nC1,a@x.com\nC2\n");
    rig.drop_file("2-bad.jsonl", b"{\"code\":\"C1\"}\n{\"code\": \"C2\",,}\n");
    rig.drop_file("3-latin1.csv", b"code,name\nC1,Jos\xe9\n");
    rig.drop_file("4-no-id.csv", b"email\na@x.com\n");
    rig.drop_file("5-good.csv", CONTACTS.as_bytes());
    let page = fetch(&rig.peer(), None).await;
    assert_eq!(ids(&page), ["C1", "C2"], "the good file is read");
    assert!(page.next_cursor.unwrap().starts_with("5-good.csv#"));
    assert_eq!(rig.names(""), ["5-good.csv"]);
    let rejected = rig.inbox().join("rejected");
    let reason = |name: &str| rig.read(&rejected.join(format!("{name}.reason.txt")));
    let short = reason("1-short-row.csv");
    assert!(
        short.starts_with("1-short-row.csv:3:2: the row has 1 fields, the header has 2"),
        "{short}"
    );
    assert!(
        short.contains("\nfix: give every row as many cells"),
        "{short}"
    );
    let bad_json = reason("2-bad.jsonl");
    assert!(
        bad_json.starts_with("2-bad.jsonl:2:15: not valid JSON: key must be a string"),
        "{bad_json}"
    );
    assert!(reason("3-latin1.csv").starts_with("3-latin1.csv:2:7: the file is not UTF-8"));
    let no_id = reason("4-no-id.csv");
    assert!(
        no_id.starts_with("4-no-id.csv:1:1: the header has no code column"),
        "{no_id}"
    );
    assert!(
        rejected.join("4-no-id.csv").exists(),
        "the file itself is kept"
    );
    let mode = std::fs::metadata(rejected.join("4-no-id.csv.reason.txt")).unwrap();
    assert_eq!(mode.permissions().mode() & 0o777, 0o600);
}

#[tokio::test]
async fn huge_lines_and_files_are_refused_unparsed() {
    let rig = Rig::new();
    let limits = FileLimits {
        file_bytes: 4096,
        line_bytes: 100,
        ..FileLimits::default()
    };
    let long = format!("code,note\nC1,short\nC2,{}\n", "x".repeat(200));
    rig.drop_file("long.csv", long.as_bytes());
    rig.drop_file("big.csv", "code\nC1\n".repeat(1000).as_bytes());
    let peer = rig.peer().with_limits(limits);
    let page = fetch(&peer, None).await;
    assert!(page.records.is_empty() && page.done && page.next_cursor.is_none());
    let rejected = rig.inbox().join("rejected");
    let long_reason = rig.read(&rejected.join("long.csv.reason.txt"));
    assert!(
        long_reason.starts_with("long.csv:3:101: the line is 203 bytes, over the 100-byte limit"),
        "{long_reason}"
    );
    let big_reason = rig.read(&rejected.join("big.csv.reason.txt"));
    assert!(
        big_reason.contains("over the 4096-byte limit"),
        "{big_reason}"
    );
}

#[tokio::test]
async fn a_committed_page_moves_to_done_and_joins_the_export() {
    let rig = Rig::new();
    rig.drop_file("a.csv", CONTACTS.as_bytes());
    rig.drop_file("b.csv", b"code,email\nC3,cy@example.com\n");
    let peer = rig.peer();
    let first = fetch(&peer, None).await;
    assert!(!first.done);
    let c1 = first.next_cursor.unwrap();
    peer.page_committed(EntityKind::Contact, &c1).await.unwrap();
    assert_eq!(rig.names(""), ["b.csv"]);
    assert_eq!(rig.names("done"), ["a.csv"]);
    let second = fetch(&peer, Some(&c1)).await;
    assert_eq!(ids(&second), ["C3"]);
    assert!(second.done);
    peer.page_committed(EntityKind::Contact, second.next_cursor.as_deref().unwrap())
        .await
        .unwrap();
    let last = fetch(&peer, second.next_cursor.as_deref()).await;
    assert!(last.records.is_empty() && last.done);
    let ann = peer.get(EntityKind::Contact, "C1").await.unwrap().unwrap();
    assert_eq!(ann.fields["email"], "ann@example.com");
    let export = rig.read(&rig.export());
    assert!(
        export.starts_with("code,first_name,last_name,email,phone,company\n"),
        "{export}"
    );
    assert!(export.contains("C3,,,cy@example.com,,\n"), "{export}");
}

/// A kill after the cursor was saved but before the move: the cursor read back from the store
/// settles the file first. A kill before the cursor: the file is read again.
#[tokio::test]
async fn a_kill_before_the_move_or_the_cursor_is_recovered() {
    let rig = Rig::new();
    rig.drop_file("a.csv", CONTACTS.as_bytes());
    rig.drop_file("b.csv", b"code,email\nC3,cy@example.com\n");
    let saved = fetch(&rig.peer(), None).await.next_cursor.unwrap();
    // Killed before the cursor was saved: a new process reads a.csv again.
    let again = fetch(&rig.peer(), None).await;
    assert_eq!(ids(&again), ["C1", "C2"]);
    // Killed after the cursor was saved, before the move: a new process settles a.csv first.
    let restarted = rig.peer();
    let next = fetch(&restarted, Some(&saved)).await;
    assert_eq!(ids(&next), ["C3"]);
    assert_eq!(rig.names("done"), ["a.csv"]);
    assert!(
        restarted
            .get(EntityKind::Contact, "C2")
            .await
            .unwrap()
            .is_some()
    );
}

/// A dry run walks every page with cursors that are never saved: nothing may move.
#[tokio::test]
async fn a_walk_that_is_never_committed_moves_nothing() {
    let rig = Rig::new();
    rig.drop_file("a.csv", CONTACTS.as_bytes());
    rig.drop_file("b.csv", b"code,email\nC3,cy@example.com\n");
    let peer = rig.peer();
    let first = fetch(&peer, None).await;
    let second = fetch(&peer, first.next_cursor.as_deref()).await;
    assert_eq!(ids(&second), ["C3"]);
    let end = fetch(&peer, second.next_cursor.as_deref()).await;
    assert!(end.records.is_empty() && end.done);
    assert_eq!(rig.names(""), ["a.csv", "b.csv"]);
    assert!(rig.names("done").is_empty());
    assert!(!rig.export().exists());
    // The real run that follows starts from the store's cursor (none) and reads both again.
    assert_eq!(ids(&fetch(&peer, None).await), ["C1", "C2"]);
}

/// A file dropped again under a committed file's name is new content: it is read, not moved.
#[tokio::test]
async fn a_new_file_under_an_old_name_is_read() {
    let rig = Rig::new();
    rig.drop_file("daily.csv", CONTACTS.as_bytes());
    let peer = rig.peer();
    let cursor = fetch(&peer, None).await.next_cursor.unwrap();
    peer.page_committed(EntityKind::Contact, &cursor)
        .await
        .unwrap();
    rig.drop_file("daily.csv", b"code,email\nC9,new@example.com\n");
    let page = fetch(&rig.peer(), Some(&cursor)).await;
    assert_eq!(ids(&page), ["C9"]);
    let cursor_2 = page.next_cursor.unwrap();
    assert_ne!(cursor_2, cursor);
    peer.page_committed(EntityKind::Contact, &cursor_2)
        .await
        .unwrap();
    assert_eq!(rig.names("done"), ["daily-2.csv", "daily.csv"]);
}

#[tokio::test]
async fn updated_at_is_read_and_a_bad_date_rejects_the_file() {
    let rig = Rig::new();
    let mut connection = rig.connection(Some("code"));
    connection.updated_at_field = Some("changed".into());
    connection.delimiter = Some(';');
    rig.drop_file(
        "a.csv",
        b"code;changed\nC1;2024-11-25 15:00:00\nC2;2024-11-25T16:00:00+01:00\nC3;\n",
    );
    rig.drop_file("b.csv", b"code;changed\nC4;yesterday\n");
    let peer = FilePeer::new("shop", connection).unwrap();
    let page = fetch(&peer, None).await;
    let times: Vec<Option<String>> = page
        .records
        .iter()
        .map(|r| r.updated_at.map(|t| t.to_rfc3339()))
        .collect();
    assert_eq!(
        times,
        [
            Some("2024-11-25T15:00:00+00:00".to_string()),
            Some("2024-11-25T15:00:00+00:00".to_string()),
            None
        ]
    );
    let end = fetch(&peer, page.next_cursor.as_deref()).await;
    assert!(end.records.is_empty());
    let reason = rig.read(&rig.inbox().join("rejected/b.csv.reason.txt"));
    assert!(
        reason.starts_with("b.csv:2:2: changed \"yesterday\" is not a date"),
        "{reason}"
    );
}

/// The built-in mapping reads the example inbox file's columns.
#[tokio::test]
async fn the_example_file_maps_to_ghl_with_the_builtin_mapping() {
    let rig = Rig::new();
    let example = include_str!("../../../../assets/examples/contacts.csv");
    rig.drop_file("contacts.csv", example.as_bytes());
    let page = fetch(&rig.peer(), None).await;
    assert_eq!(ids(&page), ["F-1001", "F-1002", "F-1003"]);
    let mapping = crate::sync::mapping::Mapping::builtin("file").unwrap();
    let entity = mapping.entity(EntityKind::Contact).unwrap();
    let ann = entity.to_ghl(&page.records[0]).fields;
    assert_eq!(ann["firstName"], "Ann");
    assert_eq!(ann["email"], "ann.lee@example.com");
    assert_eq!(ann["companyName"], "Lee, Ann & Co");
    assert_eq!(ann["tags"], json!(["vip", "north"]));
    assert_eq!(ann["source"], "file");
}

/// A record of a page in hand that GHL's side wrote over (both changed, merged): `get` and the
/// export hold the write, not the older row, before and after the page commits.
#[tokio::test]
async fn a_write_during_the_page_is_newer_than_its_row() {
    let rig = Rig::new();
    rig.drop_file("a.csv", CONTACTS.as_bytes());
    let peer = rig.peer();
    let page = fetch(&peer, None).await;
    let ann = peer.get(EntityKind::Contact, "C1").await.unwrap().unwrap();
    assert_eq!(ann.fields["company"], "Lee, Ann & Co", "the page in hand");
    let mut merged = page.records[0].clone();
    merged
        .fields
        .insert("company".into(), json!("Lee Holdings"));
    peer.upsert(&merged).await.unwrap();
    let now = peer.get(EntityKind::Contact, "C1").await.unwrap().unwrap();
    assert_eq!(now.fields["company"], "Lee Holdings");
    peer.page_committed(EntityKind::Contact, page.next_cursor.as_deref().unwrap())
        .await
        .unwrap();
    let after = peer.get(EntityKind::Contact, "C1").await.unwrap().unwrap();
    assert_eq!(after.fields["company"], "Lee Holdings");
    let bo = peer.get(EntityKind::Contact, "C2").await.unwrap().unwrap();
    assert_eq!(
        bo.fields["company"], "Park Ltd",
        "the rest of the page joined the export"
    );
}

/// GHL writes to a record whose inbox file was read but not committed yet: the export keeps the
/// record's whole row (the columns the sync does not write back too), not only what was written.
#[tokio::test]
async fn a_write_to_a_record_read_but_not_committed_keeps_its_whole_row() {
    let rig = Rig::new();
    rig.drop_file("a.csv", CONTACTS.as_bytes());
    let peer = rig.peer();
    let page = fetch(&peer, None).await;
    peer.upsert(&contact("C1", json!({ "first_name": "Anne" })))
        .await
        .unwrap();
    peer.page_committed(EntityKind::Contact, page.next_cursor.as_deref().unwrap())
        .await
        .unwrap();
    let back = peer.get(EntityKind::Contact, "C1").await.unwrap().unwrap();
    assert_eq!(back.fields.get("first_name"), Some(&json!("Anne")));
    assert_eq!(
        back.fields.get("company"),
        Some(&json!("Lee, Ann & Co")),
        "the row read from the inbox is kept: {:?}",
        back.fields
    );
    assert_eq!(back.fields.get("phone"), Some(&json!("555-0101")));
}
