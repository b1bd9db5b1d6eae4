//! One scenario for every integrity test: rounds of edits on both sides with a sync after each,
//! the same in every sandbox of one seed, so a run with faults can be held to a fault-free run
//! of it by the convergence oracle (`oracle.rs`).
//!
//! Each round edits disjoint people, so the end state does not depend on when a sync saw an
//! edit: Repsly clients get a new city (peer → GHL), GHL-only contacts a new website (GHL →
//! peer, once flow 4 made them Repsly clients), some clients a new note, and one new Repsly
//! client and one new GHL contact appear.
#![allow(dead_code)]

use super::Harness;
use super::oracle::EndState;
use super::sync::repsly_settings;
use ghlsync::ghl::models::{CreateContactDto, UpdateContactDto};
use ghlsync::ghl::{AuthSettings, GhlClient};
use ghlsync::net::RetryPolicy;
use ghlsync::peers::repsly::RepslyPeer;
use ghlsync::store::{OpState, Store};
use ghlsync::sync::mapping::Mapping;
use ghlsync::sync::settings::RetryLadder;
use ghlsync::sync::{RunOptions, SyncContext, SyncSettings, run_sync};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Edits per round.
const CITIES: usize = 5;
const WEBSITES: usize = 3;
const NOTES: usize = 2;

/// Who the scenario edits, picked from the seed (the same in every sandbox of one seed).
pub struct Scenario {
    pub rounds: usize,
    /// Active Repsly clients with an email: their city changes.
    cities: Vec<String>,
    /// Repsly clients that get notes (not the ones whose city changes).
    notes: Vec<String>,
    /// GHL contacts no Repsly client shares an email with: their website changes.
    websites: Vec<String>,
}

impl Scenario {
    pub async fn plan(h: &Harness, rounds: usize) -> Scenario {
        let dump = h.dump().await;
        let mut clients: Vec<(String, String)> = rows(&dump["repsly"]["clients"])
            .iter()
            .filter(|c| c["Active"] != json!(false))
            .filter_map(|c| {
                let email = c["Email"].as_str()?.trim().to_lowercase();
                email
                    .contains('@')
                    .then(|| (c["Code"].as_str().unwrap_or_default().to_string(), email))
            })
            .collect();
        clients.sort();
        let peer_emails: BTreeSet<&str> = clients.iter().map(|(_, e)| e.as_str()).collect();
        let mut websites: Vec<String> = rows(&dump["ghl"]["contacts"])
            .iter()
            .filter(|c| {
                let email = c["email"]
                    .as_str()
                    .unwrap_or_default()
                    .trim()
                    .to_lowercase();
                email.contains('@')
                    && !peer_emails.contains(email.as_str())
                    && c["companyName"].as_str().is_some_and(|n| !n.is_empty())
            })
            .filter_map(|c| c["id"].as_str().map(str::to_string))
            .collect();
        websites.sort();
        let (cities, notes): (Vec<_>, Vec<_>) = clients
            .into_iter()
            .enumerate()
            .partition(|(i, _)| i % 2 == 0);
        let scenario = Scenario {
            rounds,
            cities: cities.into_iter().map(|(_, (code, _))| code).collect(),
            notes: notes.into_iter().map(|(_, (code, _))| code).collect(),
            websites,
        };
        assert!(
            scenario.cities.len() >= rounds * CITIES
                && scenario.notes.len() >= rounds * NOTES
                && scenario.websites.len() >= rounds * WEBSITES,
            "the seed is too small for {rounds} rounds"
        );
        scenario
    }

    /// Round `round`'s edits, on both sides, through the sandbox's admin hooks and GHL's API. Call
    /// it with faults off: the edits are the scenario, not part of what is tested.
    pub async fn edit(&self, h: &Harness, round: usize) {
        println!(
            "round {round} edits at {}",
            chrono::Utc::now().format("%H:%M:%S%.3f")
        );
        for (i, code) in self.cities[round * CITIES..][..CITIES].iter().enumerate() {
            h.admin_post(
                "repsly/clients",
                json!({"Code": code, "City": format!("Scenario City {round}-{i}")}),
            )
            .await;
        }
        for (i, code) in self.notes[round * NOTES..][..NOTES].iter().enumerate() {
            h.admin_post(
                "repsly/notes",
                json!({"ClientCode": code, "Note": format!("Scenario note {round}-{i}: called back"),
                       "RepresentativeCode": "REP01", "DateAndTime": 1_700_000_000_000i64 + (round * 10 + i) as i64}),
            )
            .await;
        }
        h.admin_post(
            "repsly/clients",
            json!({"Code": format!("SCN-{round}"), "Name": format!("Scenario Co {round}"),
                   "ContactName": format!("Sam Scenario{round}"),
                   "Email": format!("scenario.client{round}@example.org"), "Active": true}),
        )
        .await;
        // GHL's side through its API (the caller switches faults off while a round edits).
        let ghl = h.client();
        for (i, id) in self.websites[round * WEBSITES..][..WEBSITES]
            .iter()
            .enumerate()
        {
            let dto = UpdateContactDto {
                website: Some(format!("https://scenario-{round}-{i}.example.com")),
                ..UpdateContactDto::default()
            };
            ghl.update_contact(id, &dto).await.expect("scenario edit");
        }
        let dto = CreateContactDto {
            location_id: Some(h.sandbox.location_id.clone()),
            first_name: Some(format!("Gale{round}")),
            last_name: Some("Scenario".into()),
            company_name: Some(format!("Ghl Scenario Co {round}")),
            email: Some(format!("ghl.scenario{round}@example.net")),
            ..CreateContactDto::default()
        };
        ghl.create_contact(&dto).await.expect("scenario contact");
    }
}

fn rows(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

/// The scenario run fault-free: its end state and failed queue are what a run with faults must
/// end at. The sandbox and the store stay with it (a failure's story reads both).
pub struct Reference {
    pub end: EndState,
    pub queue: BTreeSet<String>,
    pub h: Harness,
    pub dir: tempfile::TempDir,
}

impl Reference {
    pub async fn run(contacts: usize, rounds: usize) -> Reference {
        let h = Harness::start(contacts).await;
        h.create_mapping_fields(None).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("store")).expect("store opens");
        let ctx = context(&h, store, h.client());
        let scenario = Scenario::plan(&h, rounds).await;
        for round in 0..rounds {
            scenario.edit(&h, round).await;
            assert!(run_once(&ctx).await, "a fault-free run succeeds");
        }
        until_quiet(&h, &ctx).await;
        let (end, queue) = (EndState::capture(&h).await, queue_summary(&ctx.store));
        Reference { end, queue, h, dir }
    }

    /// The end state and failed queue of the scenario run fault-free, computed once per test
    /// binary (its tests share one seed and size).
    pub async fn shared(contacts: usize, rounds: usize) -> &'static (EndState, BTreeSet<String>) {
        static SHARED: OnceCell<(EndState, BTreeSet<String>)> = OnceCell::const_new();
        SHARED
            .get_or_init(|| async {
                let reference = Reference::run(contacts, rounds).await;
                (reference.end, reference.queue)
            })
            .await
    }
}

/// Sync settings for integrity tests: the retry ladder compressed to milliseconds, so what
/// waits on it is due at the next run (the real ladder waits minutes to hours).
pub fn settings() -> SyncSettings {
    SyncSettings {
        retry_ladder: RetryLadder(vec![Duration::from_millis(1)]),
        ..SyncSettings::default()
    }
}

/// A GHL client for faulted runs: short timeouts (so a slow answer is a timeout), fast retries.
pub fn ghl_client(h: &Harness, token: Option<ghlsync::config::Secret>) -> GhlClient {
    let mut settings = h.settings(AuthSettings::PrivateToken(
        token.unwrap_or_else(|| h.sandbox.token.clone()),
    ));
    settings.timeout = Duration::from_millis(400);
    settings.retry = RetryPolicy {
        base: Duration::from_millis(2),
        cap: Duration::from_millis(20),
        ..settings.retry
    };
    GhlClient::new(settings).expect("client builds")
}

/// A sync context over `store` with `ghl`, a Repsly connector with fast retries and the
/// compressed ladder.
pub fn context(h: &Harness, store: Store, ghl: GhlClient) -> SyncContext {
    let mut repsly = repsly_settings(h);
    // Long enough to outlast a compressed outage while a job's status cannot be read.
    repsly.import_timeout_secs = 10;
    repsly.retry = RetryPolicy {
        base: Duration::from_millis(2),
        cap: Duration::from_millis(20),
        ..repsly.retry
    };
    SyncContext {
        store,
        ghl,
        peer: Arc::new(RepslyPeer::new(repsly).expect("repsly peer")),
        mapping: Mapping::builtin("repsly").expect("built-in mapping"),
        settings: settings(),
        events: None,
    }
}

/// One sync run; a run stopped by a fault (a listing that failed after its retries) is simply
/// over, as `ghlsync run` would try again at its next tick.
pub async fn run_once(ctx: &SyncContext) -> bool {
    match run_sync(ctx, &RunOptions::default()).await {
        Ok(_) => true,
        Err(err) => {
            println!("run failed: {err}");
            false
        }
    }
}

/// Sync, fault-free, until a run writes nothing and nothing waits on the ladder. Returns the
/// number of runs it took.
pub async fn until_quiet(h: &Harness, ctx: &SyncContext) -> usize {
    for runs in 1..=25 {
        let before = super::sync::sandbox_writes(h, super::sync::Routes::All).await;
        let ok = run_once(ctx).await;
        let after = super::sync::sandbox_writes(h, super::sync::Routes::All).await;
        let waiting = ctx
            .store
            .failed_queue()
            .expect("queue")
            .iter()
            .any(|op| matches!(op.state, OpState::RetryScheduled { .. }));
        if ok && before == after && !waiting {
            return runs;
        }
        if !ok {
            // As a scheduler would: the next run a little later.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("no quiet run after 25 fault-free runs");
}

/// The failed queue as (direction, kind, source, state, class, reason): what two runs of one
/// scenario must agree on once quiet (ids of records created through GHL's API differ, so those
/// rows compare by count).
pub fn queue_summary(store: &Store) -> BTreeSet<String> {
    store
        .failed_queue()
        .expect("queue")
        .into_iter()
        .map(|op| {
            let error = op.error.unwrap_or_else(|| ghlsync::store::OpError {
                class: ghlsync::net::ErrorClass::Transient,
                status: None,
                message: String::new(),
                trace_id: None,
                reason: None,
                field: None,
            });
            format!(
                "{} {} {} {} {} {}",
                op.direction.as_str(),
                op.kind,
                op.source_id,
                op.state.name(),
                error.class.as_str(),
                error.reason.unwrap_or_default()
            )
        })
        .collect()
}

/// What the sync log says of the records a difference names (Repsly clients by code, GHL
/// contacts by email, and their children): how they got that way.
pub async fn story(h: &Harness, store: &Store, differences: &[String]) {
    use ghlsync::peers::EntityKind;
    let mut codes: BTreeSet<String> = differences
        .iter()
        .filter_map(|line| line.split("repsly:").nth(1))
        .filter_map(|rest| rest.split(':').next())
        .map(str::to_string)
        .collect();
    let ghl = h.client();
    let mut ghl_ids = BTreeSet::new();
    for line in differences {
        let Some(email) = line
            .split("ghl:")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .filter(|email| email.contains('@'))
        else {
            continue;
        };
        if let Ok(found) = ghl.find_duplicate(Some(email), None).await
            && let Some(contact) = found.contact
        {
            if let Ok(notes) = ghl.list_notes(&contact.id).await {
                for note in notes.notes {
                    ghl_ids.insert(note.id.clone());
                    println!(
                        "  GHL note {} on {} added {:?}: {:?}",
                        note.id, contact.id, note.date_added, note.body
                    );
                }
            }
            if let Some(code) = store
                .peer_id_for("repsly", EntityKind::Contact, &contact.id)
                .unwrap()
            {
                codes.insert(code);
            }
        }
    }
    let mut ids = codes.clone();
    ids.extend(ghl_ids);
    for kind in [EntityKind::Task, EntityKind::Note, EntityKind::Appointment] {
        for (child, link) in store.links("repsly", kind).unwrap() {
            if link.parent.as_ref().is_some_and(|p| codes.contains(p)) {
                ids.insert(child);
            }
        }
    }
    println!("story of {codes:?}:");
    for entry in store.log_tail(1_000_000).unwrap() {
        if entry.peer_id.as_ref().is_some_and(|id| ids.contains(id))
            || entry.ghl_id.as_ref().is_some_and(|id| ids.contains(id))
        {
            println!(
                "  {} run {:?} {} {} {} {} {} {} {:?} {}",
                entry.at.format("%H:%M:%S%.3f"),
                entry.run_id,
                entry.trigger,
                entry.kind,
                entry.direction.as_str(),
                entry.action.as_str(),
                entry.outcome.as_str(),
                entry.peer_id.clone().unwrap_or_default(),
                entry.message,
                serde_json::Value::Object(entry.diff.clone())
            );
        }
    }
}
