//! Growbots end to end: the sandbox's Growbots exports downloaded into the inbox folders →
//! GHL (the sandbox over loopback), GHL → the prospects export file, and the emulated Zapier
//! bridge posting signed events to the receiver (behind a tiny loopback HTTP server here, as the
//! service will serve it), with a real sled store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::Harness;
use common::oracle::{EndState, assert_converged};
use common::sync::{Routes, sandbox_writes};
use ghlsync::config::Secret;
use ghlsync::ghl::models::UpdateContactDto;
use ghlsync::peers::growbots::receiver::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature};
use ghlsync::peers::growbots::{GrowbotsConnection, GrowbotsPeer, Receiver};
use ghlsync::peers::{EntityKind, Peer};
use ghlsync::store::Store;
use ghlsync::sync::mapping::{Mapping, resolve_against_location};
use ghlsync::sync::{RunOptions, RunReport, SyncContext, run_sync};
use serde_json::{Value, json};

const CONTACTS: usize = 30;

/// The receiver behind a loopback server, keeping the last request it was sent.
#[derive(Clone)]
struct Hook {
    receiver: Arc<Receiver>,
    last: Arc<Mutex<Option<(HeaderMap, Bytes)>>>,
}

async fn hook_handler(
    State(hook): State<Hook>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    *hook.last.lock().unwrap() = Some((headers.clone(), body.clone()));
    let answer = hook.receiver.accept(&headers, &body);
    let (status, text) = match answer {
        Ok(accepted) => (accepted.status, accepted.body()),
        Err(refused) => (refused.status, refused.body()),
    };
    (StatusCode::from_u16(status).unwrap(), text)
}

struct Rig {
    h: Harness,
    dir: tempfile::TempDir,
    conn: GrowbotsConnection,
    ctx: SyncContext,
    hook: Hook,
    hook_url: String,
    downloads: Mutex<usize>,
}

impl Rig {
    async fn start() -> Rig {
        let h = Harness::start(CONTACTS).await;
        let mapping = Mapping::builtin("growbots").expect("the built-in growbots mapping");
        h.create_mapping_fields(Some(&mapping)).await;
        let dir = tempfile::tempdir().unwrap();
        for sub in ["inbox", "companies"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let mut conn = GrowbotsConnection {
            inbox: "inbox".into(),
            companies_inbox: Some("companies".into()),
            export: "prospects-for-growbots.csv".into(),
            events: "events".into(),
            columns: Default::default(),
            company_columns: Default::default(),
            tolerance_secs: None,
        };
        conn.resolve_paths(dir.path());
        let receiver = conn
            .receiver(h.sandbox.growbots.webhook_secret.clone())
            .unwrap();
        let hook = Hook {
            receiver: Arc::new(receiver),
            last: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!("http://{}/hooks/growbots", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hooks/growbots", axum::routing::post(hook_handler))
            .with_state(hook.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        h.admin_post("growbots/bridge", json!({"url": hook_url}))
            .await;
        let store = Store::open(&dir.path().join("store")).unwrap();
        let mut ctx = SyncContext {
            store,
            ghl: common::scenario::ghl_client(&h, None),
            peer: Arc::new(GrowbotsPeer::new("growbots", &conn).unwrap()),
            mapping,
            settings: common::scenario::settings(),
            events: None,
        };
        resolve_against_location(&mut ctx.mapping, &ctx.ghl)
            .await
            .unwrap();
        Rig {
            h,
            dir,
            conn,
            ctx,
            hook,
            hook_url,
            downloads: Mutex::new(0),
        }
    }

    async fn run(&self) -> RunReport {
        run_sync(&self.ctx, &RunOptions::default()).await.unwrap()
    }

    /// Downloads both exports into their inboxes as a user would: again when the app answers
    /// an error page.
    async fn download_exports(&self) {
        let n = {
            let mut n = self.downloads.lock().unwrap();
            *n += 1;
            *n
        };
        for (export, folder) in [("companies", "companies"), ("prospects", "inbox")] {
            let url = format!("{}/exports/{export}.csv", self.h.sandbox.growbots.base_url);
            let mut text = None;
            for _ in 0..3 {
                let answer = self
                    .h
                    .http
                    .get(&url)
                    .bearer_auth(self.h.sandbox.growbots.token.expose())
                    .send()
                    .await
                    .unwrap();
                if answer.status().is_success() {
                    text = Some(answer.text().await.unwrap());
                    break;
                }
            }
            let path = self
                .dir
                .path()
                .join(folder)
                .join(format!("{export}-{n:03}.csv"));
            std::fs::write(path, text.expect("the export downloads")).unwrap();
        }
    }

    fn export(&self) -> String {
        std::fs::read_to_string(&self.conn.export).unwrap_or_default()
    }

    async fn ghl_contacts(&self) -> Vec<Value> {
        self.h.dump().await["ghl"]["contacts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn ghl_contact(&self, email: &str) -> Value {
        let email = email.trim().to_lowercase();
        let found: Vec<Value> = self
            .ghl_contacts()
            .await
            .into_iter()
            .filter(|c| c["email"].as_str() == Some(email.as_str()))
            .collect();
        assert_eq!(found.len(), 1, "one GHL contact with {email}: {found:?}");
        found[0].clone()
    }

    async fn prospects(&self) -> Vec<Value> {
        self.h.dump().await["growbots"]["prospects"]
            .as_array()
            .cloned()
            .unwrap()
    }

    async fn post_raw(&self, headers: &[(&str, String)], body: &[u8]) -> u16 {
        let mut request = self.h.http.post(&self.hook_url).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap().status().as_u16()
    }
}

fn custom_field(contact: &Value, h: &Value, key: &str) -> Option<Value> {
    let id = h["ghl"]["customFields"]
        .as_array()?
        .iter()
        .find(|f| f["key"] == format!("contact.{key}"))?["id"]
        .clone();
    contact["customFields"]
        .as_array()?
        .iter()
        .find(|f| f["id"] == id)
        .map(|f| f["value"].clone())
}

/// The export file's rows, canonical: by email, cells sorted.
fn export_rows(text: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let mut rows: Vec<String> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let mut cells: Vec<String> = headers
                .iter()
                .zip(r.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(h, v)| format!("{h}={v}"))
                .collect();
            cells.sort();
            cells.join("|").to_lowercase()
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn exports_import_once_then_changes_flow_both_ways() {
    let rig = Rig::start().await;
    rig.download_exports().await;
    rig.run().await;
    let dump = rig.h.dump().await;
    let prospects = rig.prospects().await;
    assert!(prospects.len() >= 8, "{}", prospects.len());
    for prospect in &prospects {
        rig.ghl_contact(prospect["Email"].as_str().unwrap()).await;
    }
    // A Growbots-only prospect: its company's name and website.
    let only = prospects
        .iter()
        .find(|p| p["Email"].as_str().unwrap().contains(".gb0@"))
        .unwrap();
    let contact = rig.ghl_contact(only["Email"].as_str().unwrap()).await;
    assert_eq!(contact["companyName"], only["Company"]);
    assert!(
        contact["website"].as_str().unwrap().starts_with("https://"),
        "{contact}"
    );
    assert_eq!(contact["firstName"], only["First Name"]);
    assert_eq!(
        custom_field(&contact, &dump, "growbots_job_title"),
        Some(only["Job Title"].clone())
    );
    for prospect in prospects.iter().filter(|p| p["Status"] == "Qualified") {
        let contact = rig.ghl_contact(prospect["Email"].as_str().unwrap()).await;
        assert!(
            contact["tags"]
                .as_array()
                .unwrap()
                .contains(&json!("qualified")),
            "{contact}"
        );
    }
    let done = std::fs::read_dir(rig.dir.path().join("inbox/done"))
        .unwrap()
        .count();
    assert_eq!(done, 1, "the export moved to done/");
    let export = rig.export();
    assert!(export.starts_with("Email,"), "{export}");
    assert!(export_rows(&export).len() >= prospects.len(), "{export}");

    // The same exports again: nothing to write on either side.
    rig.download_exports().await;
    let writes = sandbox_writes(&rig.h, Routes::Ghl).await;
    let second = rig.run().await;
    assert_eq!(
        sandbox_writes(&rig.h, Routes::Ghl).await,
        writes,
        "{:?}",
        second.run.counts
    );
    // Nothing written to Growbots either (the export only takes the re-read rows back as
    // Growbots has them): no create or update, only unchanged records and GHL's two seeded
    // duplicates held back.
    let written: Vec<&String> = second
        .run
        .counts
        .keys()
        .filter(|k| k.ends_with("/ok") || k.ends_with("/failed"))
        .collect();
    assert!(written.is_empty(), "{:?}", second.run.counts);

    // Edited in Growbots, exported again: GHL follows.
    let email = only["Email"].as_str().unwrap();
    rig.h
        .admin_post(
            "growbots/prospects",
            json!({"Email": email, "Job Title": "Chief Growth Officer", "City": "Reno"}),
        )
        .await;
    rig.download_exports().await;
    rig.run().await;
    let contact = rig.ghl_contact(email).await;
    assert_eq!(contact["city"], "Reno");
    let dump = rig.h.dump().await;
    assert_eq!(
        custom_field(&contact, &dump, "growbots_job_title"),
        Some(json!("Chief Growth Officer"))
    );

    // Edited in GHL: the prospects file follows.
    let id = contact["id"].as_str().unwrap();
    let edit = UpdateContactDto {
        first_name: Some("Zebulon".into()),
        ..UpdateContactDto::default()
    };
    rig.ctx.ghl.update_contact(id, &edit).await.unwrap();
    rig.run().await;
    let export = rig.export();
    let row: Vec<&str> = export
        .lines()
        .filter(|l| l.to_lowercase().starts_with(&email.to_lowercase()))
        .collect();
    assert_eq!(row.len(), 1, "{export}");
    assert!(row[0].contains("Zebulon"), "{export}");
}

#[tokio::test]
async fn bridge_events_are_verified_stored_and_synced() {
    let rig = Rig::start().await;
    rig.download_exports().await;
    rig.run().await;
    let prospects = rig.prospects().await;
    let known = prospects[0]["Email"].as_str().unwrap().to_string();

    // created (its first attempt badly signed: refused, then retried), replied, qualified.
    rig.h
        .admin_post("growbots/faults", json!({"next": ["badSignature"]}))
        .await;
    let created = rig
        .h
        .admin_post(
            "growbots/prospects",
            json!({"Email": "new.lead@growbots.example", "First Name": "Nia", "Last Name": "Okafor", "Company": "Acme Plumbing"}),
        )
        .await;
    assert_eq!(
        created["bridge"]["delivery"]["attempts"],
        json!([401, 200]),
        "{created}"
    );
    let replied = rig
        .h
        .admin_post(
            "growbots/replies",
            json!({"email": known, "subject": "Re: quick question", "body": "Sounds good, call me Tuesday"}),
        )
        .await;
    assert_eq!(replied["delivery"]["delivered"], true, "{replied}");
    rig.h
        .admin_post("growbots/faults", json!({"next": ["duplicate"]}))
        .await;
    let qualified = rig
        .h
        .admin_post(
            "growbots/qualify",
            json!({"email": known, "qualified": true}),
        )
        .await;
    assert_eq!(
        qualified["delivery"]["attempts"],
        json!([200, 200]),
        "delivered twice"
    );

    // Durable before the 200: a fresh peer over the same folders finds all three.
    let fresh = GrowbotsPeer::new("growbots", &rig.conn).unwrap();
    let notes = fresh.fetch_changes(EntityKind::Note, None).await.unwrap();
    assert_eq!(notes.records.len(), 1);
    let stored = std::fs::read_dir(rig.conn.events.join("prospects"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_file())
        .count();
    assert_eq!(
        stored, 2,
        "created and qualified, the duplicate stored once"
    );

    // Forged, unsigned, stale and replayed requests are refused.
    let (headers, body) = rig.hook.last.lock().unwrap().clone().unwrap();
    let pairs = |h: &HeaderMap| -> Vec<(&str, String)> {
        [TIMESTAMP_HEADER, SIGNATURE_HEADER]
            .into_iter()
            .filter_map(|n| Some((n, h.get(n)?.to_str().ok()?.to_string())))
            .collect()
    };
    assert_eq!(rig.post_raw(&pairs(&headers), &body).await, 409, "replayed");
    assert_eq!(rig.post_raw(&[], &body).await, 401, "unsigned");
    let now = chrono::Utc::now().timestamp().to_string();
    let forged = signature(b"guessed", &now, &body);
    assert_eq!(
        rig.post_raw(
            &[(TIMESTAMP_HEADER, now.clone()), (SIGNATURE_HEADER, forged)],
            &body
        )
        .await,
        401,
        "forged"
    );
    let old = (chrono::Utc::now().timestamp() - 3600).to_string();
    let secret = rig
        .h
        .sandbox
        .growbots
        .webhook_secret
        .expose()
        .as_bytes()
        .to_vec();
    let stale = signature(&secret, &old, &body);
    assert_eq!(
        rig.post_raw(&[(TIMESTAMP_HEADER, old), (SIGNATURE_HEADER, stale)], &body)
            .await,
        401,
        "stale"
    );
    // A restarted receiver still knows the replay.
    let restarted = rig
        .conn
        .receiver(Secret::new(String::from_utf8(secret).unwrap()))
        .unwrap();
    assert_eq!(restarted.accept(&headers, &body).unwrap_err().status, 409);

    rig.run().await;
    let nia = rig.ghl_contact("new.lead@growbots.example").await;
    assert_eq!(nia["firstName"], "Nia");
    assert_eq!(nia["companyName"], "Acme Plumbing");
    let contact = rig.ghl_contact(&known).await;
    assert!(
        contact["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("qualified")),
        "{contact}"
    );
    let dump = rig.h.dump().await;
    let notes: Vec<&Value> = dump["ghl"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["contactId"] == contact["id"])
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n["body"].as_str().unwrap().contains("call me Tuesday")),
        "{notes:?}"
    );
    // Synced: the event files moved on, the prospect is in the export as Qualified.
    let left = std::fs::read_dir(rig.conn.events.join("prospects"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_file())
        .count();
    assert_eq!(left, 0);
    assert!(rig.export().contains("new.lead@growbots.example"));
    let writes = sandbox_writes(&rig.h, Routes::Ghl).await;
    rig.run().await;
    assert_eq!(
        sandbox_writes(&rig.h, Routes::Ghl).await,
        writes,
        "quiet afterwards"
    );
}

/// The scenario: import, Growbots edits and events, a GHL edit; with `faults`, GHL answers
/// errors, a download is an HTML page, an event is badly signed once and one is delivered twice.
async fn scenario(faults: bool) -> (EndState, EndState, Vec<String>) {
    let rig = Rig::start().await;
    let baseline = EndState::capture(&rig.h).await;
    if faults {
        rig.h.admin_post("faults", json!({"rate": 0.15})).await;
        rig.h
            .admin_post(
                "growbots/faults",
                json!({"next": ["html", "badSignature", "duplicate"]}),
            )
            .await;
    }
    rig.download_exports().await;
    let _ = run_sync(&rig.ctx, &RunOptions::default()).await;
    let prospects = rig.prospects().await;
    let a = prospects[1]["Email"].as_str().unwrap().to_string();
    let b = prospects[2]["Email"].as_str().unwrap().to_string();
    rig.h
        .admin_post(
            "growbots/prospects",
            json!({"Email": "z.lead@growbots.example", "First Name": "Zoe"}),
        )
        .await;
    rig.h
        .admin_post(
            "growbots/replies",
            json!({"email": a, "body": "Interested, send details"}),
        )
        .await;
    rig.h
        .admin_post("growbots/qualify", json!({"email": b, "qualified": false}))
        .await;
    rig.h
        .admin_post(
            "growbots/prospects",
            json!({"Email": a, "Job Title": "VP Sales"}),
        )
        .await;
    rig.download_exports().await;
    let _ = run_sync(&rig.ctx, &RunOptions::default()).await;
    if faults {
        rig.h.admin_post("faults", json!({"rate": 0.0})).await;
    }
    // Faults off, then runs until nothing is written and nothing waits on the ladder.
    common::scenario::until_quiet(&rig.h, &rig.ctx).await;
    let end = EndState::capture(&rig.h).await;
    (end, baseline, export_rows(&rig.export()))
}

#[tokio::test]
async fn faults_end_in_the_same_state_as_a_clean_run() {
    let (reference, _, reference_export) = scenario(false).await;
    let (actual, baseline, actual_export) = scenario(true).await;
    assert_converged(&reference, &actual, &baseline);
    assert_eq!(actual_export, reference_export, "the prospects files agree");
}
