//! `connector = "rest"` end to end against the sandbox's generic app over real sockets: every
//! paging and auth style, incremental reads and full listings, writes, error classes, secrets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::Harness;
use ghlsync::config::Secret;
use ghlsync::net::{ErrorClass, RetryPolicy};
use ghlsync::peers::rest::{ConnectorFile, RestPeer};
use ghlsync::peers::{EntityKind, Peer, PeerRecord};
use ghlsync::sandbox::SandboxOptions;
use ghlsync::sandbox::generic::{GenericAuth, GenericOptions, GenericPaging};
use serde_json::{Value, json};

const PAGINGS: [GenericPaging; 4] = [
    GenericPaging::Offset,
    GenericPaging::PageNumber,
    GenericPaging::Cursor,
    GenericPaging::LinkHeader,
];
const AUTHS: [GenericAuth; 4] = [
    GenericAuth::Bearer,
    GenericAuth::Basic,
    GenericAuth::Header,
    GenericAuth::Query,
];

async fn start(contacts: usize) -> Harness {
    Harness::with_options(SandboxOptions {
        contacts,
        rate_limit: None,
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await
}

async fn shape(h: &Harness, options: &GenericOptions) {
    h.admin_post("generic/settings", json!(options)).await;
}

/// A connector file for the app in this shape (page size 7, so lists take several pages).
fn connector(options: &GenericOptions, extra: &str) -> String {
    let paginator = match options.paging {
        GenericPaging::Offset => "type = \"offset\"\npage_size = 7",
        GenericPaging::PageNumber => "type = \"page_number\"\npage_size = 7",
        GenericPaging::Cursor => {
            "type = \"cursor\"\npage_size = 7\ncursor_value = \"/meta/next_cursor\""
        }
        GenericPaging::LinkHeader => "type = \"link_header\"\npage_size = 7",
    };
    let auth = match options.auth {
        GenericAuth::Bearer => "type = \"bearer\"\ntoken = { secret = \"api_token\" }",
        GenericAuth::Basic => {
            "type = \"basic\"\nusername = { secret = \"username\" }\npassword = { secret = \"password\" }"
        }
        GenericAuth::Header => {
            "type = \"header\"\nheader = \"X-Api-Key\"\nvalue = { secret = \"api_key\" }"
        }
        GenericAuth::Query => "type = \"query\"\nparams = { api_key = { secret = \"api_key\" } }",
    };
    let id_type = if options.string_ids {
        "string"
    } else {
        "number"
    };
    let (full, incremental) = if options.incremental {
        (
            "",
            "[contact.incremental_sync]\nstart_time_param = \"updated_since\"",
        )
    } else {
        ("full_listing = true", "")
    };
    format!(
        r#"name = "acme"
base_url = "http://127.0.0.1:1/generic"
{extra}
[authenticator]
{auth}

[contact]
id_type = "{id_type}"
updated_at_field = "updated_at"
{full}

[contact.list]
path = "/contacts"
record_selector = "/data"

[contact.list.paginator]
{paginator}

{incremental}

[contact.get]
path = "/contacts/{{{{ id }}}}"
record_selector = "/data"

[contact.lookup]
path = "/contacts"
request_parameters = {{ email = "{{{{ email }}}}" }}
record_selector = "/data"

[contact.create]
path = "/contacts"
required = ["email"]

[contact.update]
path = "/contacts/{{{{ id }}}}"

[contact.delete]
path = "/contacts/{{{{ id }}}}"
"#,
    )
}

fn secrets(h: &Harness) -> BTreeMap<String, Secret> {
    let s = &h.sandbox;
    BTreeMap::from([
        ("api_token".to_string(), s.generic_token.clone()),
        ("api_key".to_string(), s.generic_token.clone()),
        (
            "username".to_string(),
            Secret::new(s.generic_username.clone()),
        ),
        ("password".to_string(), s.generic_password.clone()),
    ])
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(2),
        cap: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn peer_from(h: &Harness, text: &str, secrets: &BTreeMap<String, Secret>) -> RestPeer {
    let file = ConnectorFile::parse(text, "acme.toml").expect("the test connector file is valid");
    RestPeer::new("acme", file, Some(&h.sandbox.generic_base_url), secrets)
        .expect("the peer builds")
        .with_retry(fast(), Duration::from_secs(5))
}

async fn peer(h: &Harness, options: &GenericOptions) -> RestPeer {
    shape(h, options).await;
    peer_from(h, &connector(options, ""), &secrets(h))
}

/// Every contact the list gives, page by page, and how many pages it took.
async fn read_all(
    peer: &RestPeer,
    cursor: Option<String>,
) -> (Vec<PeerRecord>, usize, Option<String>) {
    let mut cursor = cursor;
    let mut records = Vec::new();
    let mut saved = None;
    for pages in 1..1000 {
        let page = peer
            .fetch_changes(EntityKind::Contact, cursor.as_deref())
            .await
            .expect("a page");
        records.extend(page.records);
        if let Some(next) = page.next_cursor {
            saved = Some(next.clone());
            cursor = Some(next);
        }
        if page.done {
            return (records, pages, saved);
        }
    }
    panic!("the list never ended");
}

async fn app_contacts(h: &Harness) -> Vec<Value> {
    h.dump().await["generic"]["contacts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn id_text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

#[tokio::test]
async fn every_paging_style_reads_every_contact_once() {
    let h = start(40).await;
    let expected: BTreeSet<String> = app_contacts(&h)
        .await
        .iter()
        .map(|c| id_text(&c["id"]))
        .collect();
    assert!(
        expected.len() > 12,
        "the seed has contacts: {}",
        expected.len()
    );
    for paging in PAGINGS {
        for incremental in [false, true] {
            let options = GenericOptions {
                paging,
                incremental,
                ..GenericOptions::default()
            };
            let peer = peer(&h, &options).await;
            let (records, pages, _) = read_all(&peer, None).await;
            let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
            let unique: BTreeSet<String> = ids.iter().cloned().collect();
            assert_eq!(unique.len(), ids.len(), "{paging:?}: a record came twice");
            assert_eq!(unique, expected, "{paging:?} incremental={incremental}");
            // A short last page ends offset and page-number lists; an exact multiple of the
            // page size costs one empty page more.
            let least = expected.len().div_ceil(7);
            assert!(
                (least..=least + 1).contains(&pages),
                "{paging:?}: {pages} pages"
            );
            assert!(
                records
                    .iter()
                    .all(|r| r.updated_at.is_some() && r.fields.contains_key("email"))
            );
        }
    }
}

#[tokio::test]
async fn every_auth_style_gets_in_and_a_wrong_secret_is_an_auth_error() {
    let h = start(10).await;
    for auth in AUTHS {
        let options = GenericOptions {
            auth,
            ..GenericOptions::default()
        };
        let peer = peer(&h, &options).await;
        let page = peer.fetch_changes(EntityKind::Contact, None).await;
        assert!(page.is_ok_and(|p| !p.records.is_empty()), "{auth:?}");
        let mut wrong = secrets(&h);
        for value in wrong.values_mut() {
            *value = Secret::new("wrong-secret-1234567");
        }
        let denied = peer_from(&h, &connector(&options, ""), &wrong);
        let err = denied
            .fetch_changes(EntityKind::Contact, None)
            .await
            .expect_err("a wrong secret is refused");
        assert_eq!(err.class(), ErrorClass::Auth, "{auth:?}: {err}");
        let text = format!("{err} {err:?} {denied:?}");
        assert!(!text.contains("wrong-secret-1234567"), "{auth:?}: {text}");
        assert!(
            !text.contains(h.sandbox.generic_token.expose()),
            "{auth:?}: {text}"
        );
    }
}

#[tokio::test]
async fn incremental_reads_return_what_changed_since_the_last_pass() {
    let h = start(30).await;
    let options = GenericOptions::default();
    let peer = peer(&h, &options).await;
    let (all, _, cursor) = read_all(&peer, None).await;
    let cursor = cursor.expect("a finished pass leaves a cursor");
    assert!(cursor.contains("since"), "{cursor}");
    let newest = all.iter().filter_map(|r| r.updated_at).max().unwrap();
    // Nothing changed: only the records at the newest instant come back (the parameter is
    // inclusive), and the cursor stays.
    let again = peer
        .fetch_changes(EntityKind::Contact, Some(&cursor))
        .await
        .unwrap();
    assert!(again.done);
    assert!(
        again.records.iter().all(|r| r.updated_at == Some(newest)),
        "{:?}",
        again.records
    );
    assert!(again.records.len() < all.len());
    assert_eq!(
        again.next_cursor, None,
        "an unchanged pass keeps the cursor"
    );
    // A change in the app is read next time.
    let target = &all[3];
    h.admin_post(
        "generic/contacts",
        json!({"id": target.id.parse::<u64>().unwrap(), "city": "Reno"}),
    )
    .await;
    let changed = peer
        .fetch_changes(EntityKind::Contact, Some(&cursor))
        .await
        .unwrap();
    let found = changed
        .records
        .iter()
        .find(|r| r.id == target.id)
        .expect("the change is read");
    assert_eq!(found.fields["city"], "Reno");
    assert!(changed.next_cursor.is_some_and(|next| next != cursor));
}

#[tokio::test]
async fn a_full_listing_reads_the_same_content_again() {
    let h = start(20).await;
    let options = GenericOptions {
        paging: GenericPaging::Cursor,
        incremental: false,
        string_ids: true,
        ..GenericOptions::default()
    };
    let peer = peer(&h, &options).await;
    let hashes = |records: &[PeerRecord]| -> BTreeMap<String, String> {
        records
            .iter()
            .map(|r| (r.id.clone(), ghlsync::sync::hash::hash_fields(&r.fields)))
            .collect()
    };
    let (first, _, first_cursor) = read_all(&peer, None).await;
    assert!(first.iter().all(|r| r.id.starts_with("ct_")));
    // The engine does not keep a full listing's cursor: each run starts from nothing.
    let (second, _, _) = read_all(&peer, None).await;
    assert_eq!(
        hashes(&first),
        hashes(&second),
        "unchanged records hash alike"
    );
    assert!(first_cursor.is_some_and(|c| !c.contains("since")));
    // The incremental parameter is not sent to an app that has none (it would refuse it).
    let stats = h.stats().await;
    let refused = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["route"] == "/generic/contacts" && r["status"] == 400)
        .count();
    assert_eq!(refused, 0);
}

fn record(id: &str, fields: Value) -> PeerRecord {
    PeerRecord {
        kind: EntityKind::Contact,
        id: id.into(),
        parent_id: None,
        updated_at: None,
        active: true,
        fields: fields.as_object().cloned().unwrap_or_default(),
        raw: Value::Null,
    }
}

#[tokio::test]
async fn create_update_lookup_get_and_delete_with_numeric_and_string_ids() {
    let h = start(10).await;
    for string_ids in [false, true] {
        let options = GenericOptions {
            string_ids,
            ..GenericOptions::default()
        };
        let peer = peer(&h, &options).await;
        let email = format!("new.person.{string_ids}@example.test");
        let ghl_id = "Xq3kW9bLmN2pR7sT4vYz";
        let fields = json!({"first_name": "Nia", "last_name": "Okafor", "email": email, "phone": "+15125550100"});
        let created = peer.upsert(&record(ghl_id, fields.clone())).await.unwrap();
        assert!(created.created, "{created:?}");
        assert_ne!(created.id, ghl_id);
        assert_eq!(created.id.starts_with("ct_"), string_ids);
        let got = peer
            .get(EntityKind::Contact, &created.id)
            .await
            .unwrap()
            .expect("it exists");
        assert_eq!(got.fields["email"], email.as_str());
        let found = peer
            .lookup_by_email(EntityKind::Contact, &email.to_uppercase())
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
            vec![created.id.clone()]
        );
        // The same create again (a retry after a lost answer): the lookup finds it and says
        // so, writing nothing; the sync adopts it (tests/rest_sync.rs).
        let again = peer
            .upsert(&record(ghl_id, fields.clone()))
            .await
            .unwrap_err();
        assert_eq!(
            again.existing.as_deref(),
            Some(created.id.as_str()),
            "{again}"
        );
        let updated = peer
            .upsert(&record(
                &created.id,
                json!({"city": "Austin", "id": "ignored", "updated_at": "x"}),
            ))
            .await
            .unwrap();
        assert_eq!(
            (updated.id.as_str(), updated.created),
            (created.id.as_str(), false)
        );
        let got = peer
            .get(EntityKind::Contact, &created.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.fields["city"], "Austin");
        assert_eq!(
            got.fields["first_name"], "Nia",
            "an update leaves other fields"
        );
        peer.delete(EntityKind::Contact, &created.id).await.unwrap();
        assert!(
            peer.get(EntityKind::Contact, &created.id)
                .await
                .unwrap()
                .is_none()
        );
        peer.delete(EntityKind::Contact, &created.id)
            .await
            .expect("deleting twice is fine");
        assert!(
            peer.get(EntityKind::Contact, "nope")
                .await
                .unwrap()
                .is_none()
        );
        let same = app_contacts(&h)
            .await
            .into_iter()
            .filter(|c| c["email"] == email.as_str())
            .count();
        assert_eq!(same, 0, "deleted");
        let gone = peer
            .upsert(&record(&created.id, json!({"email": "waco@example.test"})))
            .await;
        if string_ids {
            // A string id the app does not know may be GHL's: the record is created anew.
            assert!(gone.is_ok_and(|o| o.created && o.id != created.id));
        } else {
            // A numeric id is the app's own: its record is gone, not made again.
            assert_eq!(gone.unwrap_err().class(), ErrorClass::NotFound);
        }
    }
}

#[tokio::test]
async fn required_fields_and_refusals_name_the_field() {
    let h = start(10).await;
    let peer = peer(&h, &GenericOptions::default()).await;
    let err = peer
        .check(&record("Xq3kW9bLmN2pR7sT4vYz", json!({"first_name": "A"})))
        .unwrap_err();
    assert_eq!(
        (err.class(), err.field()),
        (ErrorClass::Validation, Some("email"))
    );
    let err = peer
        .upsert(&record(
            "Xq3kW9bLmN2pR7sT4vYz",
            json!({"email": "bob@", "favourite": "x"}),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Validation, "{err}");
    assert!(err.to_string().contains("HTTP 422"), "{err}");
    assert!(err.field().is_some(), "{err}");
}

#[tokio::test]
async fn status_overrides_change_the_class() {
    let h = start(10).await;
    let options = GenericOptions::default();
    shape(&h, &options).await;
    let taken = app_contacts(&h).await[0]["email"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app_contacts(&h).await[1]["id"]
        .as_u64()
        .unwrap()
        .to_string();
    let plain = peer_from(&h, &connector(&options, ""), &secrets(&h));
    let err = plain
        .upsert(&record(&other, json!({"email": taken})))
        .await
        .unwrap_err();
    assert_eq!(
        (err.class(), err.field()),
        (ErrorClass::Validation, Some("email")),
        "{err}"
    );
    let overridden = peer_from(
        &h,
        &connector(&options, "[errors]\n409 = \"ambiguous\"\n"),
        &secrets(&h),
    );
    let err = overridden
        .upsert(&record(&other, json!({"email": taken})))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Ambiguous, "{err}");
}

async fn queue_faults(h: &Harness, route: &str, kind: &str, count: usize, slow_ms: u64) {
    let next: Vec<Value> = (0..count)
        .map(|_| json!({"route": route, "kind": kind}))
        .collect();
    h.admin_post("faults", json!({"next": next, "slowMs": slow_ms}))
        .await;
}

/// A peer's answer that never ends is cut off at the answer limit, as GHL's is
/// (`net::body`): a decode error naming the size, not a read until memory runs out.
#[tokio::test]
async fn a_peer_answer_that_never_ends_is_cut_off_at_the_limit() {
    let h = start(10).await;
    let peer = peer(&h, &GenericOptions::default()).await;
    queue_faults(&h, "GET /generic/contacts", "endless200", 1, 0).await;
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        peer.fetch_changes(EntityKind::Contact, None),
    )
    .await
    .expect("the read stops at the limit")
    .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode, "{err}");
    assert!(err.to_string().contains("larger than 32 MB"), "{err}");
}

#[tokio::test]
async fn html_pages_are_decode_errors_or_transient_with_their_title() {
    let h = start(10).await;
    let peer = peer(&h, &GenericOptions::default()).await;
    queue_faults(&h, "GET /generic/contacts", "html200", 1, 0).await;
    let err = peer
        .fetch_changes(EntityKind::Contact, None)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode, "{err}");
    assert!(
        err.to_string().contains("an HTML page instead of JSON"),
        "{err}"
    );
    assert!(err.to_string().contains("Just a moment"), "{err}");
    queue_faults(&h, "GET /generic/contacts", "html502", 4, 0).await;
    let err = peer
        .fetch_changes(EntityKind::Contact, None)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient, "{err}");
    assert!(
        err.to_string().contains("HTML page: 502 Bad Gateway"),
        "{err}"
    );
    // Three 5xx, then an answer: a read is retried.
    queue_faults(&h, "GET /generic/contacts", "status503", 3, 0).await;
    assert!(peer.fetch_changes(EntityKind::Contact, None).await.is_ok());
}

#[tokio::test]
async fn a_timeout_after_a_post_is_ambiguous_and_the_retry_finds_the_record() {
    let h = start(10).await;
    let options = GenericOptions::default();
    shape(&h, &options).await;
    let peer = peer_from(&h, &connector(&options, ""), &secrets(&h))
        .with_retry(fast(), Duration::from_millis(300));
    queue_faults(&h, "POST /generic/contacts", "slowAfter", 1, 2_000).await;
    let fields = json!({"first_name": "Lost", "email": "lost.answer@example.test"});
    let err = peer
        .upsert(&record("Xq3kW9bLmN2pR7sT4vYz", fields.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Ambiguous, "{err}");
    let retried = peer
        .upsert(&record("Xq3kW9bLmN2pR7sT4vYz", fields))
        .await
        .unwrap_err();
    assert!(
        retried.existing.is_some(),
        "the lookup found the record the lost answer made: {retried}"
    );
    let twins = app_contacts(&h)
        .await
        .into_iter()
        .filter(|c| c["email"] == "lost.answer@example.test")
        .count();
    assert_eq!(
        twins, 1,
        "one record, though its create was answered by nothing"
    );
}

#[tokio::test]
async fn secrets_stay_out_of_errors_links_and_debug_output() {
    let h = start(30).await;
    let options = GenericOptions {
        paging: GenericPaging::LinkHeader,
        auth: GenericAuth::Query,
        ..GenericOptions::default()
    };
    let peer = peer(&h, &options).await;
    let token = h.sandbox.generic_token.expose().to_string();
    // The app copies api_key into its Link URLs; the saved cursor must not hold it.
    let (_, pages, _) = read_all(&peer, None).await;
    assert!(pages > 1);
    let page = peer.fetch_changes(EntityKind::Contact, None).await.unwrap();
    let cursor = page.next_cursor.clone().expect("a next page");
    assert!(
        cursor.contains("page=2") && !cursor.contains(&token),
        "{cursor}"
    );
    let next = peer.fetch_changes(EntityKind::Contact, Some(&cursor)).await;
    assert!(next.is_ok_and(|p| !p.records.is_empty()));
    assert!(!format!("{peer:?} {:?}", peer.health()).contains(&token));
    // A saved next-page URL off the base URL (the sandbox moved): the list is read again.
    let moved = r#"{"page":{"url":"http://127.0.0.1:9/generic/contacts?per_page=7&page=2"}}"#;
    let again = peer
        .fetch_changes(EntityKind::Contact, Some(moved))
        .await
        .unwrap();
    assert_eq!(again.records[0].id, page.records[0].id);
    // A missing secret is named, with where to set it.
    let mut missing = secrets(&h);
    missing.remove("api_key");
    let file = ConnectorFile::parse(&connector(&options, ""), "acme.toml").unwrap();
    let err = RestPeer::new("acme-crm", file, None, &missing).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("\"api_key\"") && text.contains("GHLSYNC_ACME_CRM_API_KEY"),
        "{text}"
    );
}

#[tokio::test]
async fn the_example_connector_files_load_and_fetch() {
    let h = start(30).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/connectors");
    let shapes = [
        ("crm-offset.toml", GenericOptions::default()),
        (
            "crm-cursor.toml",
            GenericOptions {
                paging: GenericPaging::Cursor,
                auth: GenericAuth::Header,
                incremental: false,
                string_ids: true,
                ..GenericOptions::default()
            },
        ),
    ];
    for (name, options) in shapes {
        shape(&h, &options).await;
        let file = ConnectorFile::load(&root.join(name)).expect("the example loads");
        let peer_name = file.name().to_string();
        let peer = RestPeer::new(
            &peer_name,
            file,
            Some(&h.sandbox.generic_base_url),
            &secrets(&h),
        )
        .expect("the peer builds")
        .with_retry(fast(), Duration::from_secs(5));
        let (contacts, _, _) = read_all(&peer, None).await;
        assert_eq!(contacts.len(), app_contacts(&h).await.len(), "{name}");
        let notes = peer
            .fetch_changes(EntityKind::Note, None)
            .await
            .expect("notes");
        assert!(!notes.records.is_empty(), "{name}");
        assert!(
            notes.records.iter().all(|n| n.parent_id.is_some()),
            "{name}"
        );
        let one = &contacts[0];
        let got = peer
            .get(EntityKind::Contact, &one.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.fields, one.fields, "{name}");
        let mapping = ghlsync::sync::mapping::Mapping::load(
            &root.join(name.replace(".toml", ".mapping.toml")),
        )
        .expect("the example mapping loads");
        let mapped = mapping.entity(EntityKind::Contact).unwrap().to_ghl(one);
        assert!(
            mapped.fields.contains_key("email") || mapped.fields.contains_key("phone"),
            "{name}: {:?}",
            mapped.fields
        );
    }
    // crm-offset's notes can be written, under the contact's id.
    shape(&h, &GenericOptions::default()).await;
    let file = ConnectorFile::load(&root.join("crm-offset.toml")).unwrap();
    let peer = RestPeer::new("crm", file, Some(&h.sandbox.generic_base_url), &secrets(&h)).unwrap();
    let contact = id_text(&app_contacts(&h).await[0]["id"]);
    let mut note = record(
        "ghl-note-1",
        json!({"contact_id": contact.parse::<u64>().unwrap(), "body": "Called back"}),
    );
    note.kind = EntityKind::Note;
    let written = peer.upsert(&note).await.unwrap();
    assert!(written.created);
    let back = peer
        .get(EntityKind::Note, &written.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.parent_id.as_deref(), Some(contact.as_str()));
    assert_eq!(back.fields["body"], "Called back");
}

#[test]
fn a_bad_connector_file_on_disk_gets_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"acme\"\nbase_url = \"https://x.test\"\n[contact.list]\npath = \"/c\"\n[contact.list.paginator]\ntype = \"pages\"\npage_size = 5\n",
    )
    .unwrap();
    let err = ConnectorFile::load(&path).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}:6:", path.display())),
        "{text}"
    );
    assert!(
        text.contains("page_number") && text.contains("link_header"),
        "{text}"
    );
    assert_eq!(err.position().map(|(line, _)| line), Some(6));
}
