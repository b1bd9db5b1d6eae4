//! The Robly connector in real syncs against the sandbox's GHL API and Robly emulation, over
//! loopback, with a real sled store: the initial import, a quiet second run, an update each
//! way, Robly's quirks (no upsert, "already exists", `+` as %2B, unknown field parameters,
//! one-way unsubscribes, the mail switches, the [verify] switches), secrets kept out of every
//! output, and the convergence oracle with faults on both sides.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Harness;
use common::oracle::{EndState, assert_converged};
use common::sync::{Routes, sandbox_writes};
use ghlsync::net::RetryPolicy;
use ghlsync::peers::robly::{
    ListPath, MAIL_SWITCHES, RoblyPeer, RoblySettings, SinceFormat, WriteParams,
};
use ghlsync::store::Store;
use ghlsync::sync::mapping::Mapping;
use ghlsync::sync::{RunOptions, SyncContext, SyncSettings, run_sync};
use serde_json::{Value, json};

const CONTACTS: usize = 40;

fn settings(h: &Harness) -> RoblySettings {
    RoblySettings {
        base_url: h.sandbox.robly.base_url.clone(),
        api_id: h.sandbox.robly.api_id.clone(),
        api_key: h.sandbox.robly.api_key.clone(),
        min_request_interval_ms: 0,
        timeout_secs: 1,
        retry: RetryPolicy {
            base: Duration::from_millis(2),
            cap: Duration::from_millis(20),
            ..RetryPolicy::default()
        },
        ..RoblySettings::default()
    }
}

struct Rig {
    h: Harness,
    ctx: SyncContext,
    _dir: tempfile::TempDir,
}

async fn rig_with(mapping: Option<Mapping>, robly: impl FnOnce(&mut RoblySettings)) -> Rig {
    let h = Harness::start(CONTACTS).await;
    let mapping = mapping.unwrap_or_else(|| Mapping::builtin("robly").expect("built-in"));
    h.create_mapping_fields(Some(&mapping)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut peer_settings = settings(&h);
    robly(&mut peer_settings);
    let mut ctx = SyncContext {
        store: Store::open(&dir.path().join("store")).unwrap(),
        ghl: common::scenario::ghl_client(&h, None),
        peer: Arc::new(RoblyPeer::new(peer_settings).expect("robly peer")),
        mapping,
        settings: common::scenario::settings(),
        events: None,
    };
    ghlsync::sync::mapping::resolve_against_location(&mut ctx.mapping, &ctx.ghl)
        .await
        .expect("the mapping's fields resolve");
    Rig { h, ctx, _dir: dir }
}

async fn rig() -> Rig {
    rig_with(None, |_| {}).await
}

impl Rig {
    async fn run(&self) -> ghlsync::sync::RunReport {
        run_sync(&self.ctx, &RunOptions::default())
            .await
            .expect("run completes")
    }

    async fn robly(&self) -> Value {
        self.h.dump().await["robly"].clone()
    }

    async fn member(&self, email: &str) -> Value {
        let robly = self.robly().await;
        let found: Vec<Value> = robly["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["email"].as_str().unwrap().eq_ignore_ascii_case(email))
            .cloned()
            .collect();
        assert_eq!(found.len(), 1, "{email} is one Robly member: {found:?}");
        found[0].clone()
    }

    async fn ghl_contact(&self, email: &str) -> Value {
        let dump = self.h.dump().await;
        let found: Vec<Value> = dump["ghl"]["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["email"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .cloned()
            .collect();
        assert_eq!(found.len(), 1, "{email} is one GHL contact");
        found[0].clone()
    }

    async fn edit_member(&self, body: Value) {
        self.h.admin_post("robly/members", body).await;
    }

    async fn edit_contact(&self, id: &str, body: Value) {
        let response = self
            .h
            .http
            .put(self.h.url(&format!("/contacts/{id}")))
            .bearer_auth(self.h.sandbox.token.expose())
            .header("Version", "2021-07-28")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// Subscribed members whose email GHL holds exactly once (the seed has duplicates).
    async fn plain_members(&self) -> Vec<Value> {
        let dump = self.h.dump().await;
        let ghl = emails(&dump["ghl"]["contacts"], "email");
        dump["robly"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                [
                    "isUnsubscribed",
                    "isDeleted",
                    "isHardBounce",
                    "isCleaned",
                    "isSpam",
                ]
                .iter()
                .all(|k| m[*k] == false)
            })
            .filter(|m| {
                let email = m["email"].as_str().unwrap().to_lowercase();
                ghl.iter().filter(|e| **e == email).count() == 1
            })
            .cloned()
            .collect()
    }

    async fn requests(&self) -> Vec<Value> {
        let url = self.h.url("/_sandbox/robly/requests");
        let list: Value = self
            .h
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list.as_array().unwrap().clone()
    }

    async fn writes(&self) -> u64 {
        sandbox_writes(&self.h, Routes::All).await
    }
}

fn emails(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c[key].as_str().map(str::to_lowercase))
        .collect()
}

/// No request ever set a mail switch, and every sign-up and list add said false to each.
fn assert_no_mail(requests: &[Value], mail_requests: u64) {
    assert!(!requests.is_empty());
    for request in requests {
        let params = request["params"].as_array().unwrap();
        for pair in params {
            let (name, value) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            if MAIL_SWITCHES.contains(&name) {
                assert_eq!(value, "false", "{request}");
            }
        }
        let path = request["path"].as_str().unwrap();
        let needed: &[&str] = if path.ends_with("sign_up/generate") {
            &MAIL_SWITCHES
        } else if path.ends_with("contacts/add_sub_list") {
            &MAIL_SWITCHES[2..]
        } else {
            &[]
        };
        for switch in needed {
            assert!(
                params.iter().any(|p| p[0] == *switch && p[1] == "false"),
                "{switch} sent false: {request}"
            );
        }
    }
    assert_eq!(mail_requests, 0, "no write asked Robly to send mail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_quiet_second_run_and_updates_each_way() {
    let r = rig().await;
    let before = r.robly().await;
    let ghl_before = emails(&r.h.dump().await["ghl"]["contacts"], "email");
    let seed = &r.h.admin_post("robly/settings", json!({})).await;
    assert_eq!(seed["updatedSinceFormat"], "epoch");

    r.run().await;
    let dump = r.h.dump().await;
    let ghl = emails(&dump["ghl"]["contacts"], "email");
    for email in emails(&before["members"], "email") {
        let n = ghl.iter().filter(|e| **e == email).count();
        let had = ghl_before.iter().filter(|e| **e == email).count();
        assert_eq!(
            n,
            had.max(1),
            "{email}: in GHL once (or as often as the seed had it)"
        );
    }
    // Every opted-out member GHL holds once is DND in GHL.
    for member in before["members"].as_array().unwrap() {
        let lower = member["email"].as_str().unwrap().to_lowercase();
        if ghl.iter().filter(|e| **e == lower).count() != 1 {
            continue;
        }
        let out = [
            "isUnsubscribed",
            "isDeleted",
            "isHardBounce",
            "isCleaned",
            "isSpam",
        ]
        .iter()
        .any(|k| member[*k] == true);
        if out {
            let contact = r.ghl_contact(member["email"].as_str().unwrap()).await;
            assert_eq!(contact["dnd"], true, "{member}");
        }
    }
    // GHL's people went to Robly, once each.
    let after = r.robly().await;
    let robly = emails(&after["members"], "email");
    assert!(robly.len() > emails(&before["members"], "email").len());
    let mut unique = robly.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), robly.len(), "no Robly duplicates");

    let writes = r.writes().await;
    r.run().await;
    assert_eq!(
        r.writes().await - writes,
        0,
        "the second run writes nothing"
    );

    // Robly → GHL: a name changed in Robly.
    let plain = r.plain_members().await;
    let member = &plain[0];
    let email = member["email"].as_str().unwrap();
    r.edit_member(json!({"id": member["id"], "fields": {"fname": "Robertina"}}))
        .await;
    // GHL → Robly: a last name changed in GHL.
    let other = &plain[1]["email"].as_str().unwrap().to_string();
    let contact = r.ghl_contact(other).await;
    r.edit_contact(
        contact["id"].as_str().unwrap(),
        json!({"lastName": "Vanderbilt"}),
    )
    .await;
    r.run().await;
    assert_eq!(r.ghl_contact(email).await["firstName"], "Robertina");
    assert_eq!(r.member(other).await["fields"]["lname"], "Vanderbilt");
    let writes = r.writes().await;
    r.run().await;
    assert_eq!(r.writes().await - writes, 0, "quiet again");

    // A `+` address from GHL: searched as %2B, signed up once, never doubled.
    let plus = "ann+robly@example.org";
    let created = r
        .h
        .http
        .post(r.h.url("/contacts/"))
        .bearer_auth(r.h.sandbox.token.expose())
        .header("Version", "2021-07-28")
        .json(&json!({"locationId": r.h.sandbox.location_id, "email": plus, "firstName": "Ann"}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    r.run().await;
    r.run().await;
    assert_eq!(r.member(plus).await["fields"]["fname"], "Ann");
    let requests = r.requests().await;
    assert!(
        requests.iter().any(|q| q["rawQuery"]
            .as_str()
            .unwrap()
            .contains("ann%2Brobly%40example.org")),
        "the + travelled as %2B"
    );
    assert_no_mail(&requests, r.robly().await["mailRequests"].as_u64().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribes_are_one_way_and_already_exists_is_reconciled() {
    let r = rig().await;
    r.run().await;
    let subscribed = r.plain_members().await;
    // Unsubscribed in Robly → DND in GHL.
    let a = subscribed[0]["email"].as_str().unwrap();
    r.edit_member(json!({"id": subscribed[0]["id"], "isUnsubscribed": true}))
        .await;
    // DND set in GHL → unsubscribed in Robly.
    let b = subscribed[1]["email"].as_str().unwrap();
    let contact = r.ghl_contact(b).await;
    r.edit_contact(contact["id"].as_str().unwrap(), json!({"dnd": true}))
        .await;
    r.run().await;
    assert_eq!(r.ghl_contact(a).await["dnd"], true);
    assert_eq!(r.member(b).await["isUnsubscribed"], true);
    // DND cleared in GHL: Robly keeps the unsubscribe (resubscribe = false) ...
    let contact = r.ghl_contact(a).await;
    r.edit_contact(contact["id"].as_str().unwrap(), json!({"dnd": false}))
        .await;
    r.run().await;
    r.run().await;
    assert_eq!(
        r.member(a).await["isUnsubscribed"],
        true,
        "never resubscribed"
    );
    let refusals: Vec<String> = r
        .ctx
        .store
        .failed_queue()
        .unwrap()
        .into_iter()
        .filter_map(|op| op.error.map(|e| e.message))
        .filter(|m| m.contains("one-way"))
        .collect();
    assert_eq!(
        refusals.len(),
        1,
        "the refusal is said once, with the fix: {refusals:?}"
    );
    assert!(
        !r.requests()
            .await
            .iter()
            .any(|q| q["path"].as_str().unwrap().ends_with("resubscribe")),
    );

    // "already exists": a member Robly holds but its email search misses (a search index
    // behind a sign-up); the sign-up answers "already exists", the member is searched again
    // and adopted, not doubled.
    let email = "late.arrival@example.net";
    r.edit_member(json!({"email": email, "fields": {"fname": "Late"}}))
        .await;
    r.h.admin_post("robly/faults", json!({"missSearches": 1}))
        .await;
    let peer = RoblyPeer::new(settings(&r.h)).unwrap();
    let record = ghlsync::peers::PeerRecord {
        kind: ghlsync::peers::EntityKind::Contact,
        id: "not-a-member-id".into(),
        parent_id: None,
        updated_at: None,
        active: true,
        fields: json!({"email": email, "lname": "Arrival"})
            .as_object()
            .cloned()
            .unwrap(),
        raw: Value::Null,
    };
    use ghlsync::peers::Peer;
    // The connector says whom it met and writes nothing; the sync adopts that member (an update
    // under its id) unless another GHL contact owns it (tests/rest_sync.rs shows the refusal).
    let met = peer
        .upsert(&record)
        .await
        .expect_err("met an existing member");
    let member_id = met
        .existing
        .as_deref()
        .expect("names the member")
        .to_string();
    let adopted = ghlsync::peers::PeerRecord {
        id: member_id.clone(),
        ..record.clone()
    };
    let outcome = peer.upsert(&adopted).await.expect("the update lands");
    assert_eq!(
        (outcome.id.as_str(), outcome.created),
        (member_id.as_str(), false)
    );
    let generated = r
        .requests()
        .await
        .iter()
        .filter(|q| q["path"].as_str().unwrap().ends_with("sign_up/generate"))
        .filter(|q| q["params"].to_string().contains("late.arrival"))
        .count();
    assert_eq!(generated, 1, "the sign-up was tried, and met the member");
    let member = r.member(email).await;
    assert_eq!(member["fields"]["lname"], "Arrival");
    assert_eq!(
        member["fields"]["fname"], "Late",
        "the full update kept the other fields"
    );
    r.run().await;
    r.member(email).await;
    assert_no_mail(
        &r.requests().await,
        r.robly().await["mailRequests"].as_u64().unwrap(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verify_switches_match_the_emulation() {
    let r = rig_with(None, |s| {
        s.updated_since_format = SinceFormat::Iso8601;
        s.list_path = ListPath::Contacts;
        s.write_params = WriteParams::Form;
        s.page_size = 7;
    })
    .await;
    r.h.admin_post(
        "robly/settings",
        json!({"updatedSinceFormat": "iso8601", "listPath": "contacts", "writeParams": "form"}),
    )
    .await;
    r.run().await;
    let writes = r.writes().await;
    r.run().await;
    assert_eq!(r.writes().await - writes, 0);
    let members = r.plain_members().await;
    let email = members[0]["email"].as_str().unwrap();
    r.edit_member(json!({"id": members[0]["id"], "fields": {"lname": "Formbody"}}))
        .await;
    let contact = r.ghl_contact(members[3]["email"].as_str().unwrap()).await;
    r.edit_contact(
        contact["id"].as_str().unwrap(),
        json!({"firstName": "Querina"}),
    )
    .await;
    r.run().await;
    assert_eq!(r.ghl_contact(email).await["lastName"], "Formbody");
    assert_eq!(
        r.member(members[3]["email"].as_str().unwrap()).await["fields"]["fname"],
        "Querina"
    );
    let requests = r.requests().await;
    assert!(requests.iter().any(|q| {
        q["path"].as_str().unwrap().ends_with("/contacts")
            && q["params"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p[0] == "updated_since")
    }));
    // A connector on the other format is refused, not silently wrong.
    r.h.admin_post("robly/settings", json!({"updatedSinceFormat": "epoch"}))
        .await;
    let err = run_sync(&r.ctx, &RunOptions::default()).await;
    assert!(
        err.is_err(),
        "an ISO watermark to an epoch account fails the run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_field_is_refused_before_any_request() {
    let mut text = Mapping::builtin_text("robly")
        .expect("built-in")
        .to_string();
    text.push_str(
        "\n[[contact.field]]\npeer = \"favourite_colour\"\nghl = \"companyName\"\ndirection = \"to_peer\"\n",
    );
    let mapping = Mapping::parse(&text, "robly.toml").expect("parses");
    let r = rig_with(Some(mapping), |_| {}).await;
    r.run().await;
    let queue = r.ctx.store.failed_queue().unwrap();
    let refused: Vec<_> = queue
        .iter()
        .filter_map(|op| op.error.as_ref())
        .filter(|e| e.message.contains("favourite_colour"))
        .collect();
    assert!(!refused.is_empty(), "the refusal names the field");
    assert!(
        refused[0].message.contains("add the field in Robly"),
        "{}",
        refused[0].message
    );
    let requests = r.requests().await;
    assert!(
        !requests
            .iter()
            .any(|q| q["params"].to_string().contains("favourite_colour")),
        "never sent"
    );
    // Sent anyway, Robly would answer 500.
    let url = format!(
        "{}/sign_up/generate?api_id={}&api_key={}&email=x%40y.io&favourite_colour=red",
        r.h.sandbox.robly.base_url,
        r.h.sandbox.robly.api_id.expose(),
        r.h.sandbox.robly.api_key.expose()
    );
    assert_eq!(r.h.http.post(url).send().await.unwrap().status(), 500);
}

/// A file the test's tracing writes to: what `ghlsync`'s own log file would hold.
#[derive(Clone)]
struct LogFile(Arc<std::sync::Mutex<std::fs::File>>);

impl std::io::Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap().flush()
    }
}

// One thread: the test's log subscriber is the thread's default, and sees every request.
#[tokio::test]
async fn the_credentials_never_show() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ghlsync.log");
    let file = LogFile(Arc::new(std::sync::Mutex::new(
        std::fs::File::create(&path).unwrap(),
    )));
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || file.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests of this binary run on other threads with no subscriber: a callsite they
    // registered first may have cached "never" before this one existed (seen once in CI).
    tracing::callsite::rebuild_interest_cache();

    let r = rig().await;
    let (id, key) = (
        r.h.sandbox.robly.api_id.expose().to_string(),
        r.h.sandbox.robly.api_key.expose().to_string(),
    );
    // Faults of every shape on Robly's side, so errors carry URLs and bodies.
    r.h.admin_post(
        "robly/faults",
        json!({"rate": 0.5, "kinds": ["status500", "status503", "html502", "drop"]}),
    )
    .await;
    let mut errors = Vec::new();
    for _ in 0..3 {
        if let Err(err) = run_sync(&r.ctx, &RunOptions::default()).await {
            errors.push(format!("{err} {err:?}"));
        }
    }
    r.h.admin_post("robly/faults", json!({"rate": 0.0})).await;
    // A wrong key: the 403's error names the problem, not the key.
    let mut wrong = settings(&r.h);
    wrong.api_key = ghlsync::config::Secret::new("wrong-key-0123456789abcdef");
    let bad = SyncContext {
        store: r.ctx.store.clone(),
        ghl: r.ctx.ghl.clone(),
        peer: Arc::new(RoblyPeer::new(wrong).unwrap()),
        mapping: r.ctx.mapping.clone(),
        settings: SyncSettings::default(),
        events: None,
    };
    let err = run_sync(&bad, &RunOptions::default()).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("403") || shown.contains("authentication"),
        "{shown}"
    );
    errors.push(shown);

    let log = std::fs::read_to_string(&path).unwrap();
    assert!(
        log.contains("robly"),
        "the log file has the peer's requests"
    );
    let sync_log = serde_json::to_string(&r.ctx.store.log_tail(100_000).unwrap()).unwrap();
    let queue = format!("{:?}", r.ctx.store.failed_queue().unwrap());
    for (what, text) in [
        ("log file", &log),
        ("sync log", &sync_log),
        ("failed queue", &queue),
        ("errors", &errors.join("\n")),
    ] {
        for secret in [&id, &key, &"wrong-key-0123456789abcdef".to_string()] {
            assert!(
                !text.contains(secret.as_str()),
                "a credential in the {what}"
            );
        }
    }
}

/// The same scenario fault-free and with faults on both sides ends in the same state.
async fn scenario(r: &Rig, faulty: bool) {
    let fault = |on: bool| async move {
        let rate = if on { 0.25 } else { 0.0 };
        r.h.admin_post("faults", json!({"rate": rate / 2.0, "next": []}))
            .await;
        r.h.admin_post(
            "robly/faults",
            json!({"rate": rate, "slowMs": 1500, "next": []}),
        )
        .await;
    };
    let members = r.plain_members().await;
    fault(faulty).await;
    r.run_quietly().await;
    fault(false).await;
    r.scenario_edits(&members).await;
    fault(faulty).await;
    r.run_quietly().await;
    r.run_quietly().await;
    fault(false).await;
}

impl Rig {
    async fn run_quietly(&self) {
        let _ = run_sync(&self.ctx, &RunOptions::default()).await;
    }

    /// The convergence scenarios' edits: a Robly edit, a Robly unsubscribe and a GHL edit, each
    /// of another plain member.
    async fn scenario_edits(&self, members: &[Value]) {
        self.edit_member(json!({"id": members[0]["id"], "fields": {"fname": "Oracle"}}))
            .await;
        self.edit_member(json!({"id": members[1]["id"], "isUnsubscribed": true}))
            .await;
        let contact = self
            .ghl_contact(members[2]["email"].as_str().unwrap())
            .await;
        self.edit_contact(
            contact["id"].as_str().unwrap(),
            json!({"lastName": "Converged"}),
        )
        .await;
    }
}

/// The built-in mapping less the two GHL fields whose writing can depend on which side links a
/// person first: Robly's member id (`robly_member_id`) and `source = "robly"`. After a create
/// into Robly whose answer was lost, a later run may meet the new member from Robly's side and
/// write them to GHL, which a fault-free run (linking the member at its create) does not: values
/// more in GHL, nothing lost. Everything else — people, fields, sub-lists, opt-outs,
/// duplicates — must agree.
fn convergence_mapping() -> Mapping {
    let text = Mapping::builtin_text("robly")
        .expect("built-in")
        .replace(
            "match = [\"external_id\", \"email\", \"phone\"]",
            "match = [\"email\", \"phone\"]",
        )
        .replace(
            "external_id = { key = \"robly_member_id\" }   # Robly's member id\n",
            "",
        )
        .replace(
            "[[contact.field]]\nconstant = \"robly\"\nghl = \"source\"\n",
            "",
        );
    assert!(!text.contains("robly_member_id") && !text.contains("\"source\""));
    Mapping::parse(&text, "robly.toml").expect("parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_both_sides_converge_to_the_fault_free_state() {
    let reference = {
        let r = rig_with(Some(convergence_mapping()), |_| {}).await;
        scenario(&r, false).await;
        common::scenario::until_quiet(&r.h, &r.ctx).await;
        EndState::capture(&r.h).await
    };
    let r = rig_with(Some(convergence_mapping()), |_| {}).await;
    let baseline = EndState::capture(&r.h).await;
    scenario(&r, true).await;
    let runs = common::scenario::until_quiet(&r.h, &r.ctx).await;
    println!("quiet after {runs} fault-free runs");
    let actual = EndState::capture(&r.h).await;
    assert_converged(&reference, &actual, &baseline);
    let stats = r.h.stats().await;
    assert!(
        stats["faultsInjected"].to_string().contains("robly:"),
        "Robly's faults were drawn: {}",
        stats["faultsInjected"]
    );
}

/// A first run that fails as a whole links nobody, so the next run links people after the
/// user's edits: how a first link decides a field both sides hold differently must not depend
/// on that. It decides as a linked record's merge would (the field's authority, then the later
/// change), so the end state is the one where the first run went through — for a GHL edit
/// (`lastName`, "latest"), a Robly unsubscribe (authority peer) and a Robly edit (`fname`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_that_fails_wholly_loses_no_later_edit() {
    let reference = {
        let r = rig_with(Some(convergence_mapping()), |_| {}).await;
        first_run_then_edits(&r, None).await;
        common::scenario::until_quiet(&r.h, &r.ctx).await;
        EndState::capture(&r.h).await
    };
    for down in ["faults", "robly/faults"] {
        let r = rig_with(Some(convergence_mapping()), |_| {}).await;
        let baseline = EndState::capture(&r.h).await;
        first_run_then_edits(&r, Some(down)).await;
        common::scenario::until_quiet(&r.h, &r.ctx).await;
        let actual = EndState::capture(&r.h).await;
        println!("first run failed on {down}");
        assert_converged(&reference, &actual, &baseline);
    }
}

/// The first run (every request to `down`'s side failing, when given), then one edit on each
/// side and one run.
async fn first_run_then_edits(r: &Rig, down: Option<&str>) {
    let members = r.plain_members().await;
    if let Some(route) = down {
        r.h.admin_post(route, json!({"rate": 1.0, "next": []}))
            .await;
    }
    r.run_quietly().await;
    if let Some(route) = down {
        r.h.admin_post(route, json!({"rate": 0.0, "next": []}))
            .await;
    }
    r.scenario_edits(&members).await;
    r.run_quietly().await;
}
