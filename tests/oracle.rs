//! The convergence oracle's own proof (`tests/common/oracle.rs`): it finds two fault-free runs
//! of one seed equal although their ids differ, and it is not blind to an extra child, a
//! changed field or a duplicate.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::oracle::{EndState, assert_converged};
use common::sync::SyncHarness;
use ghlsync::ghl::models::{CreateContactDto, NotesDto};
use serde_json::{Value, json};

/// "A few hundred": enough for every kind of record and the seed's dirt.
const CONTACTS: usize = 300;

const NEWCOMER: &str = "oracle.newcomer@example.org";

/// A seeded sandbox, its state before any sync, and its state after one GHL contact is added
/// through the API (a random id, which the sync makes the Code of its new Repsly client) and a
/// full sync and an incremental one have run.
async fn synced() -> (SyncHarness, EndState, EndState) {
    let s = SyncHarness::start(CONTACTS).await;
    let baseline = EndState::capture(&s.h).await;
    let dto = CreateContactDto {
        location_id: Some(s.h.sandbox.location_id.clone()),
        first_name: Some("Nora".into()),
        last_name: Some("Newcomer".into()),
        company_name: Some("Newcomer Goods".into()),
        email: Some(NEWCOMER.into()),
        ..CreateContactDto::default()
    };
    s.h.client()
        .create_contact(&dto)
        .await
        .expect("contact created");
    s.run().await;
    s.run().await;
    let end = EndState::capture(&s.h).await;
    (s, baseline, end)
}

fn rows<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map_or(&[], Vec::as_slice)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_fault_free_runs_of_one_seed_end_equal_and_add_no_duplicate() {
    let (a, base_a, end_a) = synced().await;
    let (b, base_b, end_b) = synced().await;
    assert_eq!(
        base_a.diff(&base_b),
        Vec::<String>::new(),
        "same seed, same data"
    );
    // The sync did something the oracle sees: Repsly-only clients became GHL contacts, GHL
    // contacts became Repsly clients, children crossed over.
    assert!(end_a.ghl_contacts() > CONTACTS, "{}", end_a.summary());
    assert!(
        end_a.repsly_clients() > base_a.repsly_clients(),
        "{}",
        end_a.summary()
    );
    assert!(!end_a.diff(&base_a).is_empty());
    // …with ids drawn at random in each sandbox, which the canonical form sets aside.
    let (ids_a, ids_b) = (a.h.dump().await, b.h.dump().await);
    let ids = |d: &Value| -> Vec<String> {
        rows(&d["ghl"], "contacts")
            .iter()
            .map(|c| text(c, "id").to_string())
            .collect()
    };
    assert_ne!(ids(&ids_a), ids(&ids_b), "created contacts have fresh ids");
    // The newcomer's id is its Repsly client's Code, a different one in each sandbox.
    let newcomer_code = |d: &Value| -> String {
        let id = rows(&d["ghl"], "contacts")
            .iter()
            .find(|c| text(c, "email") == NEWCOMER)
            .map(|c| text(c, "id").to_string())
            .expect("the newcomer in GHL");
        let client = rows(&d["repsly"], "clients")
            .iter()
            .find(|c| text(c, "Email") == NEWCOMER)
            .expect("the newcomer in Repsly");
        assert_eq!(text(client, "Code"), id);
        id
    };
    assert_ne!(newcomer_code(&ids_a), newcomer_code(&ids_b));
    assert_eq!(end_b.pending_imports(), 0);
    assert_eq!(end_b.diff(&end_a), Vec::<String>::new());
    assert_eq!(end_a.diff(&end_b), Vec::<String>::new());

    // Duplicate-free relative to the seed. Where the seed holds a person twice on both sides
    // (two GHL contacts whose emails differ in case, each with a Repsly client), each client
    // pairs with its own contact; none is created a third time.
    let (dups_a, dups_b) = (end_a.duplicates(&base_a), end_b.duplicates(&base_b));
    assert!(dups_a.is_empty(), "{}", dups_a.join("\n"));
    assert!(dups_b.is_empty(), "{}", dups_b.join("\n"));
    assert_converged(&end_a, &end_b, &end_a);
    assert_converged(&end_b, &end_a, &end_b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oracle_reports_an_extra_note_a_changed_client_and_a_duplicate_contact() {
    let (s, baseline, reference) = synced().await;
    assert!(reference.diff(&reference).is_empty());
    let before = s.h.dump().await;
    let (ghl, repsly) = (&before["ghl"], &before["repsly"]);
    let location = s.h.sandbox.location_id.clone();
    let client = s.h.client();

    // 1. One extra note, a copy of an existing one (so it is also a duplicate child).
    // A seeded note: its title is no Repsly rep's name, so no Repsly note explains a repeat.
    let copied = rows(ghl, "notes")
        .iter()
        .find(|n| text(n, "title") == "Call summary" && !text(n, "body").is_empty())
        .expect("a seeded note");
    let contact_id = text(copied, "contactId");
    let body = text(copied, "body").to_string();
    let dto = NotesDto {
        user_id: None,
        body: body.clone(),
        title: copied["title"].as_str().map(str::to_string),
        color: None,
        pinned: None,
    };
    client
        .create_note(contact_id, &dto)
        .await
        .expect("note created");

    // 2. One Repsly client's email changed to another client's (unique) email.
    let clients = rows(repsly, "clients");
    let email_count = |email: &str| {
        clients
            .iter()
            .filter(|c| text(c, "Email").eq_ignore_ascii_case(email))
            .count()
    };
    let with_email: Vec<&Value> = clients
        .iter()
        .filter(|c| text(c, "Code").starts_with("C-") && text(c, "Email").contains('@'))
        .filter(|c| email_count(text(c, "Email")) == 1)
        .collect();
    let (changed, other) = (with_email[0], with_email[1]);
    let (code, taken) = (text(changed, "Code"), text(other, "Email"));
    s.h.admin_post("repsly/clients", json!({"Code": code, "Email": taken}))
        .await;

    // 3. A GHL contact duplicating an existing contact's (unique) email.
    let contacts = rows(ghl, "contacts");
    let unique = contacts
        .iter()
        .map(|c| text(c, "email"))
        .find(|e| {
            e.contains('@')
                && contacts
                    .iter()
                    .filter(|c| text(c, "email").eq_ignore_ascii_case(e))
                    .count()
                    == 1
        })
        .expect("a contact with a unique email")
        .to_string();
    s.h.admin_post("settings", json!({"allowDuplicateContacts": true}))
        .await;
    let dto = CreateContactDto {
        location_id: Some(location),
        first_name: Some("Oracle".into()),
        last_name: Some("Duplicate".into()),
        email: Some(unique.clone()),
        ..CreateContactDto::default()
    };
    client
        .create_contact(&dto)
        .await
        .expect("duplicate created");

    let actual = EndState::capture(&s.h).await;
    let diff = actual.diff(&reference);
    let dups = actual.duplicates(&baseline);
    let report = format!(
        "diff:\n{}\n\nduplicates:\n{}",
        diff.join("\n"),
        dups.join("\n")
    );
    let first_line = body.lines().next().unwrap_or_default().to_string();
    let has = |lines: &[String], all: &[&str]| {
        lines.iter().any(|l| {
            all.iter()
                .all(|part| l.to_lowercase().contains(&part.to_lowercase()))
        })
    };
    let note = serde_json::to_string(&first_line).unwrap_or_default();
    let note = note.trim_matches('"');
    assert!(
        has(&diff, &["changed GHL contact", "notes: extra", note]),
        "{report}"
    );
    assert!(
        has(&diff, &["changed Repsly client", code, "Email", taken]),
        "{report}"
    );
    let unique_lower = unique.to_lowercase();
    assert!(
        has(&diff, &["extra GHL contact", &unique_lower, "Oracle"]),
        "{report}"
    );
    assert_eq!(diff.len(), 3, "{report}");
    assert!(has(&dups, &["GHL contacts", "holds", note]), "{report}");
    assert!(
        has(&dups, &["Repsly clients sharing email", taken, code]),
        "{report}"
    );
    assert!(
        has(
            &dups,
            &["GHL contacts sharing email", &unique_lower, "Oracle"]
        ),
        "{report}"
    );
    // Nothing else is new: the rest is what the fault-free sync itself left (see above).
    let known = reference.duplicates(&baseline);
    let new: Vec<&String> = dups.iter().filter(|l| !known.contains(l)).collect();
    assert_eq!(new.len(), 3, "{report}");
    let panicked = std::panic::catch_unwind(|| assert_converged(&reference, &actual, &baseline));
    assert!(panicked.is_err(), "assert_converged lets it pass");
}

/// The canonical form on a hand-made dump: ids, clocks, counters and order are set aside,
/// a field is not.
#[test]
fn ids_clocks_and_order_are_set_aside_but_fields_are_not() {
    let dump = |contact_id: &str, note_id: &str, added: &str, ts: i64, tags: Value| {
        json!({
            "seed": 1, "seedAnchorMs": 0,
            "ghl": {
                "customFields": [{"id": "cfAAAAAAAAAAAAAAAAAA", "key": "contact.repsly_code"},
                                 {"id": "cfBBBBBBBBBBBBBBBBBB", "key": "contact.size"}],
                "contacts": [{
                    "id": contact_id, "email": "Ann@Example.com", "emailLowerCase": "ann@example.com",
                    "firstName": "Ann", "dateAdded": added, "dateUpdated": added, "tags": tags,
                    "customFields": if ts % 2 == 0 {
                        json!([{"id": "cfAAAAAAAAAAAAAAAAAA", "value": contact_id},
                               {"id": "cfBBBBBBBBBBBBBBBBBB", "value": "L"}])
                    } else {
                        json!([{"id": "cfBBBBBBBBBBBBBBBBBB", "value": "L"},
                               {"id": "cfAAAAAAAAAAAAAAAAAA", "value": contact_id}])
                    },
                }],
                "tasks": [{"id": note_id, "contactId": contact_id, "title": "Call",
                           "dueDate": "2030-01-01T10:00:00Z", "completed": false}],
                "notes": [{"id": note_id, "contactId": contact_id, "body": "Hi", "dateAdded": added}],
                "appointments": [{"id": note_id, "contactId": contact_id, "calendarId": "cal",
                                  "startTime": "2030-01-01T05:00:00-05:00", "dateAdded": added}],
            },
            "repsly": {
                "clients": [{"ClientID": ts, "TimeStamp": ts, "Code": contact_id, "Name": "Ann Co",
                             "Email": "ann@example.com", "CustomFields": []}],
                "notes": [{"ClientNoteID": ts, "TimeStamp": ts, "DateAndTime": added,
                           "ClientCode": contact_id, "ClientName": added, "Note": "Visited"}],
                "schedules": [{"ScheduleCode": format!("ghl-{note_id}"), "ClientCode": contact_id,
                               "ExternalID": note_id, "ScheduledDate": "2030-01-01", "Tasks": []}],
                "visits": [], "pendingImportJobs": 0,
            },
        })
    };
    let a = dump(
        "aaaaaaaaaaaaaaaaaaa1",
        "nnnnnnnnnnnnnnnnnnn1",
        "2026-01-01T00:00:00Z",
        4,
        json!(["x", "y"]),
    );
    let b = dump(
        "bbbbbbbbbbbbbbbbbbb2",
        "mmmmmmmmmmmmmmmmmmm2",
        "2026-02-02T00:00:00Z",
        7,
        json!(["y", "x"]),
    );
    let (a, b) = (EndState::from_dump(&a), EndState::from_dump(&b));
    assert_eq!(b.diff(&a), Vec::<String>::new());

    let mut changed = dump(
        "aaaaaaaaaaaaaaaaaaa1",
        "nnnnnnnnnnnnnnnnnnn1",
        "x",
        4,
        json!(["x"]),
    );
    changed["ghl"]["tasks"][0]["dueDate"] = json!("2030-01-01T10:00:01Z");
    changed["repsly"]["schedules"][0]["ScheduledDate"] = json!("2030-01-02");
    let diff = EndState::from_dump(&changed).diff(&a);
    let all = diff.join("\n");
    assert_eq!(diff.len(), 2, "{all}");
    assert!(
        all.contains("changed GHL contact ghl:ann@example.com"),
        "{all}"
    );
    assert!(all.contains("tags: missing \"y\""), "{all}");
    assert!(all.contains("2030-01-01T10:00:01.000Z"), "{all}");
    assert!(
        all.contains("changed Repsly client repsly:ghl:ann@example.com"),
        "{all}"
    );
    assert!(all.contains("2030-01-02"), "{all}");
}
