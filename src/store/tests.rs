use super::*;
use crate::net::ErrorClass;
use chrono::Utc;
use serde_json::json;

fn op(store: &Store, state: OpState) -> Operation {
    Operation {
        id: store.new_op_id().unwrap(),
        peer: "repsly".into(),
        kind: EntityKind::Contact,
        direction: Direction::ToGhl,
        action: Action::Create,
        source_id: "C-1".into(),
        target_id: None,
        target_parent_id: None,
        payload: json!({"email": "a@b.co"}),
        source: json!({"Code": "C-1"}),
        mapping_fingerprint: "m1".into(),
        planned_against: None,
        source_hash: None,
        parent_id: None,
        upsert_by: None,
        state,
        attempts: 1,
        error: None,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        run_id: None,
    }
}

fn log(action: Action, outcome: Outcome) -> LogEntry {
    LogEntry {
        at: Utc::now(),
        trigger: "test".into(),
        peer: "repsly".into(),
        direction: Direction::ToGhl,
        kind: EntityKind::Contact,
        peer_id: Some("C-1".into()),
        ghl_id: Some("G1".into()),
        action,
        outcome,
        error_class: None,
        status: Some(200),
        trace_id: None,
        message: None,
        duration_ms: 3,
        diff: Default::default(),
        op_id: None,
        run_id: None,
    }
}

fn in_flight() -> OpState {
    OpState::InFlight {
        owner: "engine".into(),
        since: Utc::now(),
    }
}

/// A backup's text without its end line.
fn unsealed(backup: &str) -> String {
    let body = backup.trim_end_matches('\n');
    let end = body.rfind('\n').map_or(0, |at| at + 1);
    assert!(body[end..].starts_with("{\"end\":"), "{}", &body[end..]);
    body[..end].to_string()
}

/// `body` (whole lines) with the end line `backup` would write for it: what an edit that keeps
/// a backup's checksum right looks like.
fn sealed(body: &str) -> String {
    let lines = body.lines().count() as u64;
    let end = super::backup::trailer_line(body.as_bytes(), lines).unwrap();
    body.to_string() + std::str::from_utf8(&end).unwrap()
}

/// A store with something in every tree, consistent: it verifies clean. Returns the store and
/// the id of its failed operation.
async fn full_store(path: &std::path::Path) -> (Store, u64) {
    let store = Store::open(path).unwrap();
    store
        .set_link("repsly", EntityKind::Contact, "C-1", "G1")
        .unwrap();
    let baseline = Baseline {
        peer_hash: "p".into(),
        ghl_hash: "g".into(),
        fields: json!({"firstName": "Ann"}).as_object().unwrap().clone(),
        synced_at: Utc::now(),
    };
    store
        .set_baseline("repsly", EntityKind::Contact, "C-1", &baseline)
        .unwrap();
    let mut task = op(&store, in_flight());
    task.kind = EntityKind::Task;
    task.source_id = "T-1".into();
    store.record_new_intent(&task).await.unwrap();
    task.state = OpState::Done;
    store
        .commit(&Commit {
            op: &task,
            link: Some(("T-1", "GT1")),
            parent: Some("C-1"),
            baseline: None,
            log: &log(Action::Create, Outcome::Ok),
        })
        .unwrap();
    let mut failed = op(&store, OpState::Failed);
    failed.source_id = "C-2".into();
    store.update_operation(&failed, None).unwrap();
    store.set_cursor("repsly", EntityKind::Note, "77").unwrap();
    store.save_mapping("repsly", "[contact]", "f1").unwrap();
    store
        .put_run(&RunRecord {
            id: 1,
            trigger: "test".into(),
            peer: "repsly".into(),
            started_at: Utc::now(),
            ended_at: None,
            counts: Default::default(),
            dry_run: false,
        })
        .unwrap();
    store
        .bind(&Binding {
            location_id: "loc-A".into(),
            peer: "repsly".into(),
            account: PeerAccount::new("https://api.repsly.com/v3", "api-user"),
        })
        .unwrap();
    store
        .remember_person(
            "repsly",
            "C-1",
            &crate::store::KnownPerson {
                keys: vec!["email:ann@example.org".into()],
                active: true,
            },
        )
        .unwrap();
    store
        .mark_surveyed("repsly", EntityKind::Task, "G1")
        .unwrap();
    for name in TREE_NAMES {
        assert!(
            !store.tree_by_name(name).unwrap().is_empty(),
            "the fixture fills {name}"
        );
    }
    (store, failed.id)
}

#[tokio::test]
async fn intent_then_commit_links_both_ways_and_retires_the_operation() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mut operation = op(&store, in_flight());
    store.record_intent(&operation).await.unwrap();
    assert_eq!(store.operations_in("in_flight").unwrap().len(), 1);

    operation.state = OpState::Done;
    let baseline = Baseline {
        peer_hash: "p".into(),
        ghl_hash: "g".into(),
        fields: Default::default(),
        synced_at: Utc::now(),
    };
    store
        .commit(&Commit {
            op: &operation,
            link: Some(("C-1", "G1")),
            parent: None,
            baseline: Some(("C-1", &baseline)),
            log: &log(Action::Create, Outcome::Ok),
        })
        .unwrap();
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    assert!(
        store.operation(operation.id).unwrap().is_none(),
        "done ops leave the ops tree"
    );
    assert_eq!(
        store
            .link("repsly", EntityKind::Contact, "C-1")
            .unwrap()
            .unwrap()
            .ghl_id,
        "G1"
    );
    assert_eq!(
        store
            .peer_id_for("repsly", EntityKind::Contact, "G1")
            .unwrap()
            .as_deref(),
        Some("C-1")
    );
    assert_eq!(
        store
            .baseline("repsly", EntityKind::Contact, "C-1")
            .unwrap(),
        Some(baseline)
    );
    assert_eq!(store.log_tail(10).unwrap().len(), 1);
}

#[test]
fn a_claim_succeeds_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut failed = op(&store, OpState::Failed);
    failed.error = Some(OpError {
        class: ErrorClass::Validation,
        status: Some(422),
        message: "bad email".into(),
        trace_id: None,
        reason: None,
        field: None,
    });
    store.update_operation(&failed, None).unwrap();
    assert_eq!(store.failed_queue().unwrap().len(), 1);
    let first = store.claim(failed.id, &["failed"], "tui").unwrap();
    let second = store.claim(failed.id, &["failed"], "scheduler").unwrap();
    assert!(first.is_some());
    assert!(
        second.is_none(),
        "the second claimant sees it already taken"
    );
    assert!(store.failed_queue().unwrap().is_empty());
    assert!(matches!(
        store.claim(999_999, &["failed"], "x"),
        Err(StoreError::NoSuchOperation(_))
    ));
}

#[test]
fn cursors_mappings_runs_and_log_retention() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .set_cursor("repsly", EntityKind::Contact, "12345")
        .unwrap();
    assert_eq!(
        store
            .cursor("repsly", EntityKind::Contact)
            .unwrap()
            .as_deref(),
        Some("12345")
    );
    assert_eq!(store.save_mapping("repsly", "a", "f1").unwrap(), 1);
    assert_eq!(store.save_mapping("repsly", "b", "f2").unwrap(), 2);
    assert_eq!(store.mapping_versions("repsly").unwrap()[1].text, "b");
    for _ in 0..5 {
        store.append_log(&log(Action::Update, Outcome::Ok)).unwrap();
    }
    assert_eq!(store.prune_log(chrono::Duration::days(30), 3).unwrap(), 2);
    assert_eq!(store.log_len(), 3);
    let first = store.log_after(None, 1).unwrap();
    assert_eq!(store.log_after(Some(&first[0].0), 10).unwrap().len(), 2);
}

#[test]
fn a_corrupt_value_names_tree_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .idmap
        .insert(
            entity_key("repsly", EntityKind::Contact, "C-9"),
            &[1, b'{'][..],
        )
        .unwrap();
    let err = store
        .link("repsly", EntityKind::Contact, "C-9")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("idmap") && err.contains("repsly/contact/C-9"),
        "{err}"
    );
}

#[test]
fn store_files_are_owner_only_and_backup_restores_byte_for_byte() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = Store::open(&path).unwrap();
        store
            .set_link("repsly", EntityKind::Contact, "C-1", "G1")
            .unwrap();
        store.set_cursor("repsly", EntityKind::Note, "77").unwrap();
        let backup = dir.path().join("backup.jsonl");
        assert!(store.backup(&backup).unwrap() >= 4);
        assert_eq!(
            std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let restored = dir.path().join("restored");
        Store::restore(&backup, &restored, TrailerCheck::Required).unwrap();
        let copy = Store::open(&restored).unwrap();
        assert_eq!(
            copy.link("repsly", EntityKind::Contact, "C-1")
                .unwrap()
                .unwrap()
                .ghl_id,
            "G1"
        );
        assert_eq!(
            copy.cursor("repsly", EntityKind::Note).unwrap().as_deref(),
            Some("77")
        );
        let mut export = Vec::new();
        assert!(copy.export_jsonl(&mut export).unwrap() >= 4);
        assert!(
            String::from_utf8(export)
                .unwrap()
                .contains("\"repsly/contact/C-1\"")
        );
        assert!(
            Store::restore(&backup, &restored, TrailerCheck::Required).is_err(),
            "never restores over a store"
        );
    }
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    for entry in std::fs::read_dir(&path).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", entry.path().display());
        }
    }
    // Reopens after a clean drop.
    Store::open(&path).unwrap();
}

#[test]
fn a_schema_2_backup_restores_and_its_contact_list_is_rebuilt_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.jsonl");
    {
        let store = Store::open(&dir.path().join("old")).unwrap();
        store
            .set_link("repsly", EntityKind::Contact, "C-1", "G1")
            .unwrap();
        store.backup(&backup).unwrap();
    }
    // What schema 2 wrote: its version, and the list name in `contact_list_keys`.
    let hex = super::backup::hex;
    let original = std::fs::read_to_string(&backup).unwrap();
    let version_line = hex(&codec::encode(&SCHEMA_VERSION).unwrap());
    assert!(original.contains(&version_line), "{original}");
    let text = unsealed(&original).replace(
        &hex(&codec::encode(&SCHEMA_VERSION).unwrap()),
        &hex(&codec::encode(&2u32).unwrap()),
    ) + &json!({
        "tree": "contact_list_keys",
        "key": hex(b"repsly/C-1"),
        "value": hex(&codec::encode(&"c-1").unwrap()),
    })
    .to_string()
        + "\n";
    std::fs::write(&backup, sealed(&text)).unwrap();
    let restored = dir.path().join("restored");
    Store::restore(&backup, &restored, TrailerCheck::Required).unwrap();
    let copy = Store::open(&restored).unwrap();
    assert_eq!(copy.schema_version().unwrap(), SCHEMA_VERSION);
    let list = copy.contact_list("repsly", None).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].ghl_id, "G1");
    assert_eq!(
        copy.link("repsly", EntityKind::Contact, "C-1")
            .unwrap()
            .unwrap()
            .listed_as
            .as_deref(),
        Some("c-1")
    );
}

/// A store with two linked contacts, one named by its person and one by its company only.
fn store_with_companies(path: &std::path::Path) -> Store {
    let store = Store::open(path).unwrap();
    let contacts = [
        (
            "C-1",
            "G1",
            json!({"firstName": "Grace", "lastName": "Hopper", "companyName": "Harbor Deli"}),
        ),
        ("C-2", "G2", json!({"companyName": "Acme Hardware"})),
    ];
    for (peer_id, ghl_id, fields) in contacts {
        store
            .set_link("repsly", EntityKind::Contact, peer_id, ghl_id)
            .unwrap();
        let baseline = Baseline {
            peer_hash: "p".into(),
            ghl_hash: "g".into(),
            fields: fields.as_object().cloned().unwrap(),
            synced_at: Utc::now(),
        };
        store
            .set_baseline("repsly", EntityKind::Contact, peer_id, &baseline)
            .unwrap();
    }
    store
}

/// A `contact_list` value as schema 4 wrote it: the first five elements, no company.
fn as_schema_4_entry(value: &[u8]) -> Vec<u8> {
    let mut elements: Vec<serde_json::Value> = codec::decode("contact_list", b"k", value).unwrap();
    assert_eq!(elements.len(), 6, "today's entry: {elements:?}");
    elements.truncate(5);
    codec::encode(&elements).unwrap()
}

/// The (name, company) of every listed contact, in list order.
fn listed_companies(store: &Store) -> Vec<(String, Option<String>)> {
    store
        .contact_list("repsly", None)
        .unwrap()
        .into_iter()
        .map(|entry| (entry.name, entry.company))
        .collect()
}

fn expected_companies() -> Vec<(String, Option<String>)> {
    vec![
        ("Acme Hardware".into(), Some("Acme Hardware".into())),
        ("Grace Hopper".into(), Some("Harbor Deli".into())),
    ]
}

#[test]
fn opening_a_schema_4_store_fills_in_every_contacts_company() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    assert_eq!(
        listed_companies(&store_with_companies(&path)),
        expected_companies()
    );
    {
        // What schema 4 left: entries without a company, and its version.
        let db = sled::open(&path).unwrap();
        let list = db.open_tree("contact_list").unwrap();
        for item in list.iter() {
            let (key, value) = item.unwrap();
            list.insert(key, as_schema_4_entry(&value)).unwrap();
        }
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", codec::encode(&4u32).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(listed_companies(&store), expected_companies());
    assert!(store.verify().unwrap().is_clean());
}

#[test]
fn a_schema_4_backup_restores_and_its_companies_are_filled_in_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.jsonl");
    store_with_companies(&dir.path().join("old"))
        .backup(&backup)
        .unwrap();
    let hex = super::backup::hex;
    let mut old_entries = 0;
    let body: String = unsealed(&std::fs::read_to_string(&backup).unwrap())
        .lines()
        .map(|line| {
            let mut line: serde_json::Value = serde_json::from_str(line).unwrap();
            let value = super::backup::unhex(line["value"].as_str().unwrap()).unwrap();
            match line["tree"].as_str() {
                Some("contact_list") => {
                    old_entries += 1;
                    line["value"] = hex(&as_schema_4_entry(&value)).into();
                }
                Some("meta") if line["key"] == hex(b"schema_version") => {
                    line["value"] = hex(&codec::encode(&4u32).unwrap()).into();
                }
                _ => {}
            }
            line.to_string() + "\n"
        })
        .collect();
    assert_eq!(old_entries, 2);
    std::fs::write(&backup, sealed(&body)).unwrap();
    let restored = dir.path().join("restored");
    Store::restore(&backup, &restored, TrailerCheck::Required).unwrap();
    let copy = Store::open(&restored).unwrap();
    assert_eq!(copy.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(listed_companies(&copy), expected_companies());
}

#[tokio::test]
async fn a_new_intent_is_found_in_flight_without_an_index_entry_and_leaves_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut operation = op(&store, in_flight());
    operation.source = serde_json::Value::Null;
    operation.source_hash = Some("h".into());
    store.record_new_intent(&operation).await.unwrap();
    let found = store.operations_in("in_flight").unwrap();
    assert_eq!(
        found,
        vec![operation.clone()],
        "the small intent reads back whole"
    );
    assert_eq!(store.ops_by_state.len(), 0, "in flight is not indexed");

    // Failing moves it into the index; a retry claims it back out of it.
    operation.state = OpState::Failed;
    store.update_operation(&operation, None).unwrap();
    assert_eq!(store.operations_in("failed").unwrap().len(), 1);
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    let claimed = store
        .claim(operation.id, &["failed"], "me")
        .unwrap()
        .unwrap();
    assert_eq!(store.ops_by_state.len(), 0);
    assert_eq!(store.operations_in("in_flight").unwrap(), vec![claimed]);

    operation.state = OpState::Done;
    commit_link(&store, &operation, "C-1", "G1").unwrap();
    assert!(store.operation(operation.id).unwrap().is_none());
    assert_eq!(store.ops_by_state.len(), 0);
}

/// Commits a created contact's link, without a baseline.
fn commit_link(
    store: &Store,
    operation: &Operation,
    peer_id: &str,
    ghl_id: &str,
) -> Result<(), StoreError> {
    store.commit(&Commit {
        op: operation,
        link: Some((peer_id, ghl_id)),
        parent: None,
        baseline: None,
        log: &log(Action::Create, Outcome::Ok),
    })
}

mod binding;
mod restore;
mod verify;

#[test]
fn run_ids_count_up_across_reopens_and_a_killed_run_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.next_run_id().unwrap(), 1);
        assert_eq!(store.reserve_run_id().unwrap(), 1);
        // Run 1 was never recorded (killed): the next one is still 2.
        assert_eq!(store.next_run_id().unwrap(), 2);
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.reserve_run_id().unwrap(), 2);
    assert_eq!(store.reserve_run_id().unwrap(), 3);
}
