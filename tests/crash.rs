//! Crash consistency (sync-design.md §5.2, T1, the CI-sized version): the `ghlsync sync` binary
//! is killed with SIGKILL at random points, at least 20 times during a sync of ≥ 2,000 GHL
//! contacts (and the overlapping Repsly clients, notes, tasks and appointments), while Repsly keeps
//! changing between the kills; then it is let finish. The sandbox lives in this process, so it
//! survives every kill and counts exactly what was written.
//!
//! Checks: the store opens after every kill; no duplicate GHL contact (by email or phone) beyond
//! the seed's own; no GHL note, task or appointment created twice (every one the sync created is
//! linked from exactly one Repsly record); every Repsly client, note and task and every GHL contact
//! is either linked or waits in the failed queue; every edit and note made during the kills is in
//! GHL; nothing is left in flight.

mod common;

use common::Harness;
use common::sync::{Routes, SyncHarness, repsly_settings, sandbox_writes};
use ghlsync::config::secrets::Secrets;
use ghlsync::ghl::GhlClient;
use ghlsync::ghl::models::{Contact, CreateContactDto, UpdateContactDto};
use ghlsync::peers::repsly::RepslyPeer;
use ghlsync::peers::{EntityKind, Peer, PeerRecord};
use ghlsync::store::{Action, Direction, OpState, Operation, Outcome, Store};
use ghlsync::sync::mapping::Mapping;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const CONTACTS: usize = 2_000;
const KILLS: usize = 20;
const MAX_SPAWNS: usize = 80;
const PEER: &str = "repsly";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_nothing_and_duplicates_nothing() {
    let started = Instant::now();
    let h = Harness::start(CONTACTS).await;
    h.admin_post("repsly/settings", json!({"importDelayMs": 0}))
        .await;
    let home = tempfile::tempdir().unwrap();
    let config = write_config(&h, home.path());
    let store_path = home.path().join("store");
    let ghl = h.client();
    let peer = RepslyPeer::new(repsly_settings(&h)).unwrap();
    let mapping = Mapping::builtin(PEER).unwrap();

    // Before the first sync: the seed's own duplicate groups and every GHL child that exists.
    let seeded = ghl.list_all_contacts(None, 100, 1_000).await.unwrap();
    assert!(seeded.len() >= CONTACTS, "seeded {}", seeded.len());
    let dups_before = duplicate_groups(&seeded);
    let mut children_before = HashSet::new();
    for contact in &seeded {
        for child in children_of(&ghl, &contact.id).await {
            children_before.insert(child.id);
        }
    }
    let clients = read_all(&peer, EntityKind::Contact).await;
    let editable: Vec<String> = editable_clients(&clients, &mapping);
    assert!(editable.len() > 100, "{} editable clients", editable.len());

    // The kills. Between two kills both sides change (see the end of the loop).
    let mut rng = StdRng::seed_from_u64(0x6b11_1e57);
    // A run spends its first second or so listing both sides; a whole sync of this size takes
    // 15–30 s in a debug build. Kills land anywhere in 0.3–5 s of a run, so twenty of them move
    // the sync through much of its work; the window shrinks if runs start to finish before
    // their kill.
    let mut window_ms: u64 = 5_000;
    let mut writes_at_kill = Vec::new();
    let (mut spawns, mut kills, mut early_exits) = (0usize, 0usize, 0usize);
    let mut expected_city: BTreeMap<String, String> = BTreeMap::new();
    let mut expected_notes: Vec<(String, String)> = Vec::new();
    let (mut new_clients, mut new_contacts) = (Vec::new(), Vec::new());
    let mut delays = Vec::new();
    while kills < KILLS {
        assert!(
            spawns < MAX_SPAWNS,
            "only {kills} kills landed mid-run in {spawns} runs"
        );
        spawns += 1;
        let mut child = sync_command(home.path(), &config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let delay = rng.random_range(300..=window_ms.max(400));
        tokio::time::sleep(Duration::from_millis(delay)).await;
        match child.try_wait().unwrap() {
            None => {
                child.start_kill().unwrap();
                let status = child.wait().await.unwrap();
                if status.signal() == Some(9) {
                    kills += 1;
                    delays.push(delay);
                    writes_at_kill.push(sandbox_writes(&h, Routes::All).await);
                } else {
                    // It ended between the check and the kill.
                    assert!(status.success(), "a run after a kill failed: {status}");
                    early_exits += 1;
                }
            }
            Some(status) => {
                // The run finished before the kill: less work is left, so kill sooner.
                let out = child.wait_with_output().await.unwrap();
                assert!(
                    status.success(),
                    "a run after a kill failed: {status}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                early_exits += 1;
                window_ms = (window_ms * 2 / 3).max(400);
            }
        }
        // The store opens after every kill (sled recovers its log), then is closed again.
        let store = Store::open(&store_path)
            .unwrap_or_else(|err| panic!("store does not open after kill {kills}: {err}"));
        drop(store);
        // Both sides keep changing between the kills, so later runs still have work to do.
        for _ in 0..6 {
            let code = editable[rng.random_range(0..editable.len())].clone();
            let city = format!("Crashville {spawns}-{}", rng.random_range(0..1_000_000));
            h.admin_post("repsly/clients", json!({"Code": code, "City": city}))
                .await;
            expected_city.insert(code, city);
        }
        for _ in 0..2 {
            let code = editable[rng.random_range(0..editable.len())].clone();
            let body = format!(
                "Crash test note {spawns}-{}: rang back after the outage",
                rng.random_range(0..1_000_000)
            );
            h.admin_post(
                "repsly/notes",
                json!({"ClientCode": code, "Note": body, "RepresentativeCode": "REP01"}),
            )
            .await;
            expected_notes.push((code, body));
        }
        let code = format!("CRASH-{spawns}");
        let email = format!("crash.client{spawns}@example.org");
        h.admin_post(
            "repsly/clients",
            json!({"Code": code, "Name": format!("Crash Co {spawns}"),
                   "ContactName": "Kim Crash", "Email": email, "Active": true}),
        )
        .await;
        new_clients.push((code, email));
        let dto = CreateContactDto {
            location_id: Some(h.sandbox.location_id.clone()),
            first_name: Some(format!("Ghlborn{spawns}")),
            company_name: Some(format!("Ghlborn Co {spawns}")),
            email: Some(format!("ghl.born{spawns}@example.net")),
            ..CreateContactDto::default()
        };
        new_contacts.push(ghl.create_contact(&dto).await.unwrap().contact.id);
    }

    // Let it finish, twice: the second run must converge and write nothing new.
    let first = Instant::now();
    let out = sync_command(home.path(), &config).output().await.unwrap();
    assert!(
        out.status.success(),
        "final run failed\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let final_secs = first.elapsed().as_secs_f64();
    println!("final run ({final_secs:.1} s):\n{}", text(&out.stdout));
    let out = sync_command(home.path(), &config).output().await.unwrap();
    assert!(
        out.status.success(),
        "second final run failed\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("second final run:\n{}", text(&out.stdout));

    let store = Store::open(&store_path).unwrap();
    let in_flight = store.operations_in("in_flight").unwrap();
    assert!(in_flight.is_empty(), "left in flight: {in_flight:?}");
    let queue = store.failed_queue().unwrap();
    let queued: HashSet<(Direction, EntityKind, String)> = queue
        .iter()
        .map(|op| (op.direction, op.kind, op.source_id.clone()))
        .collect();

    // 1. No duplicate contacts beyond the seed's own.
    let contacts = ghl.list_all_contacts(None, 100, 1_000).await.unwrap();
    let by_id: HashMap<&str, &Contact> = contacts.iter().map(|c| (c.id.as_str(), c)).collect();
    let dups_after = duplicate_groups(&contacts);
    for (key, ids) in &dups_after {
        let before = dups_before.get(key).map_or(0, Vec::len);
        assert!(
            ids.len() <= before,
            "duplicate contacts for {key}: {ids:?} (the seed had {before})"
        );
    }
    assert!(dups_after.len() <= dups_before.len());

    // 3. Every Repsly client (now including the GHL-born ones) is linked or queued.
    let clients = read_all(&peer, EntityKind::Contact).await;
    let contact_map = mapping.entity(EntityKind::Contact).unwrap();
    let mut linked_clients = 0;
    for client in clients.iter().filter(|c| c.active) {
        let fields = contact_map.to_ghl(client).fields;
        if !fields.contains_key("email") && !fields.contains_key("phone") {
            continue;
        }
        let key = (Direction::ToGhl, EntityKind::Contact, client.id.clone());
        let Some(link) = store.link(PEER, EntityKind::Contact, &client.id).unwrap() else {
            assert!(
                queued.contains(&key),
                "client {} neither linked nor queued",
                client.id
            );
            continue;
        };
        let contact = by_id
            .get(link.ghl_id.as_str())
            .unwrap_or_else(|| panic!("client {} linked to a missing contact", client.id));
        if let Some(email) = fields.get("email").and_then(Value::as_str) {
            let held = contact.email.as_deref().unwrap_or_default().trim();
            assert!(
                held.eq_ignore_ascii_case(email) || queued.contains(&key),
                "client {}: GHL holds {held:?}, Repsly {email:?}",
                client.id
            );
        }
        linked_clients += 1;
    }
    // Flow 4: every GHL contact reached Repsly (or waits in the queue).
    for contact in &contacts {
        let linked = store
            .peer_id_for(PEER, EntityKind::Contact, &contact.id)
            .unwrap()
            .is_some();
        let key = (Direction::ToPeer, EntityKind::Contact, contact.id.clone());
        assert!(
            linked || queued.contains(&key),
            "GHL contact {} neither linked nor queued",
            contact.id
        );
    }
    // The edits and notes made between kills all arrived.
    for (code, city) in &expected_city {
        let link = store.link(PEER, EntityKind::Contact, code).unwrap();
        let link = link.unwrap_or_else(|| {
            let why: Vec<_> = queue
                .iter()
                .filter(|op| &op.source_id == code)
                .map(|op| {
                    (
                        op.state.name(),
                        op.error.as_ref().map(|e| e.message.clone()),
                    )
                })
                .collect();
            panic!("edited client {code} not linked; queued: {why:?}")
        });
        let contact = by_id[link.ghl_id.as_str()];
        assert_eq!(
            contact.city.as_deref(),
            Some(city.as_str()),
            "client {code}"
        );
    }
    for (code, email) in &new_clients {
        let link = store.link(PEER, EntityKind::Contact, code).unwrap();
        let link = link.unwrap_or_else(|| panic!("new client {code} not linked"));
        let held = by_id[link.ghl_id.as_str()].email.as_deref();
        assert_eq!(held, Some(email.as_str()), "new client {code}");
    }
    for id in &new_contacts {
        let code = store.peer_id_for(PEER, EntityKind::Contact, id).unwrap();
        let code = code.unwrap_or_else(|| panic!("new GHL contact {id} never reached Repsly"));
        let client = peer.get(EntityKind::Contact, &code).await.unwrap();
        assert!(
            client.is_some(),
            "new GHL contact {id}: Repsly has no {code}"
        );
    }
    let mut notes_by_contact: HashMap<String, Vec<String>> = HashMap::new();
    for (code, body) in &expected_notes {
        let link = store
            .link(PEER, EntityKind::Contact, code)
            .unwrap()
            .unwrap();
        if !notes_by_contact.contains_key(&link.ghl_id) {
            let notes = ghl.list_notes(&link.ghl_id).await.unwrap().notes;
            let bodies = notes.into_iter().map(|note| note.body).collect();
            notes_by_contact.insert(link.ghl_id.clone(), bodies);
        }
        let n = notes_by_contact[&link.ghl_id]
            .iter()
            .filter(|held| *held == body)
            .count();
        assert_eq!(n, 1, "note {body:?} on {code} is in GHL {n} times");
    }
    // Every Repsly note, task and appointment whose client is linked is linked too, or queued
    // for a reason of its own (not a parent that a crash left unlinked).
    let queued_errors: HashMap<(Direction, EntityKind, String), String> = queue
        .iter()
        .map(|op| {
            let message = op.error.as_ref().map(|e| e.message.clone());
            (
                (op.direction, op.kind, op.source_id.clone()),
                message.unwrap_or_default(),
            )
        })
        .collect();
    for kind in [EntityKind::Note, EntityKind::Task, EntityKind::Appointment] {
        for record in read_all(&peer, kind).await.iter().filter(|r| r.active) {
            let parent_linked = record.parent_id.as_deref().is_some_and(|parent| {
                store
                    .link(PEER, EntityKind::Contact, parent)
                    .unwrap()
                    .is_some()
            });
            if !parent_linked || store.link(PEER, kind, &record.id).unwrap().is_some() {
                continue;
            }
            let key = (Direction::ToGhl, kind, record.id.clone());
            let error = queued_errors
                .get(&key)
                .unwrap_or_else(|| panic!("{kind} {} neither linked nor queued", record.id));
            assert!(
                !error.contains("parent record is not synced"),
                "{kind} {} waits for a parent that is linked: {error}",
                record.id
            );
        }
    }

    // 2. No child created twice: every note, task and appointment the sync created is the
    // target of exactly one link, and no two such children of a contact look the same.
    let mut targets: HashMap<String, usize> = HashMap::new();
    for kind in [EntityKind::Note, EntityKind::Task, EntityKind::Appointment] {
        for (_, link) in store.links(PEER, kind).unwrap() {
            *targets.entry(link.ghl_id).or_default() += 1;
        }
    }
    let shared: Vec<_> = targets.iter().filter(|(_, n)| **n > 1).collect();
    assert!(shared.is_empty(), "GHL children linked twice: {shared:?}");
    let parents: HashSet<String> = store
        .links(PEER, EntityKind::Contact)
        .unwrap()
        .into_iter()
        .map(|(_, link)| link.ghl_id)
        .collect();
    // Look-alike children are legitimate only as often as Repsly holds look-alike records
    // (stock phrases, two tasks of one visit): never more.
    let mut expected_looks: HashMap<(String, String), usize> = HashMap::new();
    for kind in [EntityKind::Note, EntityKind::Task] {
        let entity = mapping.entity(kind).unwrap();
        for record in read_all(&peer, kind).await.iter().filter(|r| r.active) {
            let Some(parent) = record.parent_id.as_deref() else {
                continue;
            };
            let Some(link) = store.link(PEER, EntityKind::Contact, parent).unwrap() else {
                continue;
            };
            let fields = entity.to_ghl(record).fields;
            let field = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default();
            let look = match kind {
                EntityKind::Note => note_look(field("body")),
                _ => task_look(field("title"), Some(field("dueDate"))),
            };
            *expected_looks.entry((link.ghl_id, look)).or_default() += 1;
        }
    }
    let (mut created, mut orphans, mut twins, mut legit_lookalikes) =
        (0, Vec::new(), Vec::new(), 0);
    for parent in &parents {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for child in children_of(&ghl, parent).await {
            if children_before.contains(&child.id) {
                continue;
            }
            created += 1;
            if !targets.contains_key(&child.id) {
                orphans.push(format!("{} {} on {parent}", child.kind, child.id));
            }
            *seen.entry(child.look).or_default() += 1;
        }
        for (look, n) in seen.into_iter().filter(|(_, n)| *n > 1) {
            let allowed = if look.starts_with("appointment") {
                n
            } else {
                expected_looks
                    .get(&(parent.clone(), look.clone()))
                    .copied()
                    .unwrap_or(0)
            };
            if n > allowed {
                twins.push(format!("{n}× {look} on {parent} (Repsly holds {allowed})"));
            } else {
                legit_lookalikes += 1;
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "children created but linked from nothing (duplicates): {orphans:?}"
    );
    assert!(twins.is_empty(), "children created twice: {twins:?}");

    let mean = delays.iter().sum::<u64>() / delays.len().max(1) as u64;
    println!(
        "crash test: {kills} SIGKILLs mid-run ({early_exits} runs ended before their kill, \
         {spawns} runs, kill delays {}..{} ms, mean {mean} ms); final run {final_secs:.1} s; \
         total {:.1} s",
        delays.iter().min().unwrap_or(&0),
        delays.iter().max().unwrap_or(&0),
        started.elapsed().as_secs_f64()
    );
    println!("sandbox writes seen at each kill: {writes_at_kill:?}");
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for op in &queue {
        let message = op.error.as_ref().map(|e| e.message.as_str()).unwrap_or("");
        let head: String = message.chars().take(50).collect();
        *reasons
            .entry(format!(
                "{} {} {}: {head}",
                op.direction.as_str(),
                op.kind,
                op.state.name()
            ))
            .or_default() += 1;
    }
    println!("failed queue by reason: {reasons:#?}");
    println!(
        "GHL contacts {} → {}; duplicate groups {} before, {} after; {} Repsly clients linked; \
         {} children created, 0 orphans, {} legitimate look-alike groups; {} city edits, {} notes, {} new clients and {} new GHL \
         contacts made between kills all arrived; failed queue {} (none in flight)",
        seeded.len(),
        contacts.len(),
        dups_before.len(),
        dups_after.len(),
        linked_clients,
        created,
        legit_lookalikes,
        expected_city.len(),
        expected_notes.len(),
        new_clients.len(),
        new_contacts.len(),
        queue.len()
    );
}

/// `ghlsync --config CFG sync` with an isolated HOME and XDG dirs (logs go there).
fn sync_command(home: &Path, config: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"));
    command
        .arg("--config")
        .arg(config)
        .arg("sync")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .kill_on_drop(true);
    command
}

/// What `ghlsync sandbox --write-config` writes, with faster import polling and the store in
/// `home`.
fn write_config(h: &Harness, home: &Path) -> PathBuf {
    let s = &h.sandbox;
    let quote = |text: &str| toml::Value::String(text.to_string()).to_string();
    let text = format!(
        "[ghl]\nbase_url = {}\nlocation_id = {}\nauth = \"private-token\"\n\n\
         [store]\npath = {}\n\n\
         [peers.repsly.connection]\nbase_url = {}\nusername = {}\n\
         min_request_interval_ms = 0\nimport_poll_interval_ms = 5\n",
        quote(&s.base_url),
        quote(&s.location_id),
        quote(&home.join("store").display().to_string()),
        quote(&s.repsly_base_url),
        quote(&s.repsly_username),
    );
    let path = home.join("ghlsync.toml");
    std::fs::write(&path, text).unwrap();
    Secrets {
        ghl_token: Some(s.token.clone()),
        ghl_client_secret: None,
        repsly_password: Some(s.repsly_password.clone()),
    }
    .write(&home.join("secrets.toml"))
    .unwrap();
    path
}

/// The lookup before a resumed create must not adopt a look-alike that already belongs to another
/// record. Stock phrases make identical notes common (the seed above has dozens of such pairs):
/// a run killed after persisting the intent for the second one must still give it its own note.
#[tokio::test]
async fn a_resumed_create_never_adopts_a_lookalike_linked_to_another_record() {
    let s = SyncHarness::start(120).await;
    s.run().await;
    let (store, peer_name) = (&s.ctx.store, s.ctx.peer_name());
    let notes = read_all(s.ctx.peer.as_ref(), EntityKind::Note).await;
    let (first_id, first) = store
        .links(peer_name, EntityKind::Note)
        .unwrap()
        .into_iter()
        .next()
        .expect("a synced note");
    let code = notes
        .iter()
        .find(|n| n.id == first_id)
        .and_then(|n| n.parent_id.clone())
        .unwrap();
    let parent = store
        .link(peer_name, EntityKind::Contact, &code)
        .unwrap()
        .unwrap()
        .ghl_id;
    let ghl_notes = s.ctx.ghl.list_notes(&parent).await.unwrap().notes;
    let body = ghl_notes
        .iter()
        .find(|n| n.id == first.ghl_id)
        .unwrap()
        .body
        .clone();

    // Repsly gets a second note in the same words; the run that reads it is killed right after
    // persisting its intent.
    s.h.admin_post("repsly/notes", json!({"ClientCode": code, "Note": body}))
        .await;
    let twin = read_all(s.ctx.peer.as_ref(), EntityKind::Note)
        .await
        .into_iter()
        .find(|n| {
            n.parent_id.as_deref() == Some(code.as_str())
                && n.id != first_id
                && store
                    .link(peer_name, EntityKind::Note, &n.id)
                    .unwrap()
                    .is_none()
        })
        .unwrap();
    let op = Operation {
        target_parent_id: Some(parent.clone()),
        payload: Value::Object(
            s.ctx
                .mapping
                .entity(EntityKind::Note)
                .unwrap()
                .to_ghl(&twin)
                .fields,
        ),
        source: serde_json::to_value(&twin).unwrap(),
        ..in_flight(
            store,
            &s.ctx.mapping.fingerprint(),
            (EntityKind::Note, Direction::ToGhl, Action::Create),
            &twin.id,
        )
    };
    store.record_intent(&op).await.unwrap();

    s.run().await;
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    let twin_link = store
        .link(peer_name, EntityKind::Note, &twin.id)
        .unwrap()
        .expect("the second note is linked");
    assert_ne!(
        twin_link.ghl_id, first.ghl_id,
        "the second note adopted the first one's GHL note: one of them is lost"
    );
    let same = s
        .ctx
        .ghl
        .list_notes(&parent)
        .await
        .unwrap()
        .notes
        .into_iter()
        .filter(|n| n.body == body)
        .count();
    assert_eq!(same, 2, "both notes are in GHL, once each");
}

/// A write to Repsly planned from GHL's side (flow 4, a merge, a gap fill) whose run is killed
/// after its intent is durable is found in flight at the next start. If someone edited the Repsly
/// record in between, sending the stranded payload again would overwrite that edit with the
/// older GHL values, and then both sides agree on the old value: the edit is gone for good. The
/// stranded write must give way to the newer edit, which then reaches GHL; a stranded write
/// whose record nobody touched still goes out.
#[tokio::test]
async fn a_stranded_write_to_the_peer_never_overwrites_a_later_peer_edit() {
    let s = SyncHarness::start(120).await;
    s.run().await;
    let (store, peer_name) = (&s.ctx.store, s.ctx.peer_name());
    let entity = s.ctx.mapping.entity(EntityKind::Contact).unwrap();
    let [edited, untouched] = <[String; 2]>::try_from(linked_clients(&s, 2).await).unwrap();

    // The run that planned GHL's view of both contacts for Repsly is killed once their intents
    // are on disk (whether the requests went out does not matter: the import is idempotent).
    let strand = async |code: &str| {
        let ghl_id = store
            .link(peer_name, EntityKind::Contact, code)
            .unwrap()
            .unwrap()
            .ghl_id;
        let contact = s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact;
        let ghl_json = serde_json::to_value(contact).unwrap();
        let agreed = store
            .baseline(peer_name, EntityKind::Contact, code)
            .unwrap()
            .expect("a synced client has a baseline");
        let op = Operation {
            target_id: Some(code.to_string()),
            payload: Value::Object(entity.to_peer(&ghl_json).fields),
            source: ghl_json,
            // Planned, as flow 4 plans, against the Repsly record the baseline says is there.
            planned_against: Some(agreed.peer_hash),
            ..in_flight(
                store,
                &s.ctx.mapping.fingerprint(),
                (EntityKind::Contact, Direction::ToPeer, Action::Update),
                &ghl_id,
            )
        };
        store.record_intent(&op).await.unwrap();
        (op.id, ghl_id)
    };
    let (edited_op, edited_ghl) = strand(&edited).await;
    let (untouched_op, _) = strand(&untouched).await;

    // Before the next start, someone edits one of the clients in Repsly.
    let city = "Edited after the kill";
    s.h.admin_post("repsly/clients", json!({"Code": edited, "City": city}))
        .await;

    s.run().await;
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    let client = s.peer_contact(&edited).await;
    assert_eq!(
        entity.to_ghl(&client).fields.get("city"),
        Some(&json!(city)),
        "the stranded write overwrote the Repsly edit"
    );
    let held = s
        .ctx
        .ghl
        .get_contact(&edited_ghl)
        .await
        .unwrap()
        .contact
        .city;
    assert_eq!(
        held.as_deref(),
        Some(city),
        "the Repsly edit never reached GHL"
    );
    let ended = |op: u64| log_of(store, op);
    assert_eq!(ended(edited_op), vec![(Action::Skip, Outcome::Ok)]);
    assert_eq!(
        ended(untouched_op),
        vec![(Action::Update, Outcome::Ok)],
        "a stranded write whose record nobody touched is sent"
    );
}

/// The mirror for writes to GHL: a peer → GHL contact update whose run is killed after its
/// intent is durable is found in flight at the next start. If someone edited the GHL contact in
/// between, sending the stranded payload again would overwrite that edit with the older Repsly
/// values, and the baseline would then make the loss look agreed. The stranded write must give
/// way, without a request to GHL: the GHL edit stays, and reaches Repsly as a change of its own.
/// A stranded update whose contact nobody touched still goes out, and so does one whose request
/// had landed before the kill (GHL holding exactly what it writes is not someone else's edit).
#[tokio::test]
async fn a_stranded_write_to_ghl_never_overwrites_a_later_ghl_edit() {
    let s = SyncHarness::start(120).await;
    s.run().await;
    let (store, peer_name) = (&s.ctx.store, s.ctx.peer_name());
    let entity = s.ctx.mapping.entity(EntityKind::Contact).unwrap();
    let [edited, untouched, landed] = <[String; 3]>::try_from(linked_clients(&s, 3).await).unwrap();
    let ghl_id = |code: &str| {
        store
            .link(peer_name, EntityKind::Contact, code)
            .unwrap()
            .unwrap()
            .ghl_id
    };
    let set_ghl_city = async |code: &str, city: &str| {
        let edit = UpdateContactDto {
            city: Some(city.into()),
            ..UpdateContactDto::default()
        };
        s.ctx
            .ghl
            .update_contact(&ghl_id(code), &edit)
            .await
            .unwrap();
    };
    let ghl_city = async |code: &str| {
        let contact = s.ctx.ghl.get_contact(&ghl_id(code)).await.unwrap().contact;
        contact.city
    };
    let ended = |op: u64| log_of(store, op);

    // A write of the Repsly record to its GHL contact is planned against the GHL contact the
    // baseline says is there, as flow 1 plans it; the run is killed once the intent is on disk.
    // `city`: Repsly's city is edited first and the payload carries only that change (flow 1's
    // changed fields); without it, the payload is the whole record as the mapping makes it.
    let strand = async |code: &str, city: Option<&str>| {
        if let Some(city) = city {
            s.h.admin_post("repsly/clients", json!({"Code": code, "City": city}))
                .await;
        }
        let client = s.peer_contact(code).await;
        let mapped = entity.to_ghl(&client).fields;
        let agreed = store
            .baseline(peer_name, EntityKind::Contact, code)
            .unwrap()
            .expect("a synced client has a baseline");
        let op = Operation {
            target_id: Some(ghl_id(code)),
            payload: city.map_or_else(|| Value::Object(mapped.clone()), |c| json!({"city": c})),
            source_hash: Some(ghlsync::sync::hash::hash_fields(&mapped)),
            parent_id: None,
            planned_against: Some(agreed.ghl_hash),
            ..in_flight(
                store,
                &s.ctx.mapping.fingerprint(),
                (EntityKind::Contact, Direction::ToGhl, Action::Update),
                code,
            )
        };
        store.record_new_intent(&op).await.unwrap();
        op.id
    };

    // 1. Before the next start, someone edits the contact's city in GHL. (Repsly's record is
    // left as it was: an edit of its city too would be a conflict, which the mapping's
    // `latest` rule gives to Repsly, since Repsly clients carry no clock.)
    let edited_op = strand(&edited, None).await;
    let ghl_edit = "GHL edit after the kill";
    set_ghl_city(&edited, ghl_edit).await;
    let writes_before = sandbox_writes(&s.h, Routes::Ghl).await;
    s.run().await;
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    assert_eq!(
        ghl_city(&edited).await.as_deref(),
        Some(ghl_edit),
        "the stranded write overwrote the GHL edit"
    );
    assert_eq!(ended(edited_op), vec![(Action::Skip, Outcome::Ok)]);
    assert_eq!(
        sandbox_writes(&s.h, Routes::Ghl).await,
        writes_before,
        "a write reached GHL for the superseded operation"
    );
    let client = s.peer_contact(&edited).await;
    assert_eq!(
        entity.to_ghl(&client).fields.get("city"),
        Some(&json!(ghl_edit)),
        "the GHL edit never reached Repsly"
    );

    // 2. Nobody touches the GHL contact: the stranded write goes out. 3. Its request landed
    // before the kill: GHL holds what it writes, and it is committed, not superseded.
    let untouched_city = "Repsly edit, GHL untouched";
    let untouched_op = strand(&untouched, Some(untouched_city)).await;
    let landed_city = "Repsly edit that reached GHL";
    let landed_op = strand(&landed, Some(landed_city)).await;
    // The earlier attempt's request.
    set_ghl_city(&landed, landed_city).await;
    s.run().await;
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    for (code, op, city) in [
        (&untouched, untouched_op, untouched_city),
        (&landed, landed_op, landed_city),
    ] {
        assert_eq!(
            ended(op),
            vec![(Action::Update, Outcome::Ok)],
            "the stranded write to {code} is sent"
        );
        assert_eq!(ghl_city(code).await.as_deref(), Some(city), "{code}");
        let contact = s.ctx.ghl.get_contact(&ghl_id(code)).await.unwrap().contact;
        let held = ghlsync::sync::send::project(
            &serde_json::to_value(contact).unwrap(),
            &s.ctx.ghl_keys(EntityKind::Contact).unwrap(),
        );
        let base = store
            .baseline(peer_name, EntityKind::Contact, code)
            .unwrap()
            .unwrap();
        assert_eq!(
            base.ghl_hash,
            ghlsync::sync::hash::hash_fields(&held),
            "{code}: the baseline ends on the contact GHL holds"
        );
    }
}

/// A write to GHL keeps its source record out of its intent (only the hash of what it was
/// planned from is there). Killed after the intent is durable, it is found in flight at the next
/// start and the record is read again from Repsly; if someone edited it in between, that newer
/// record must not pass for what the stranded payload carried: the stranded write finishes with
/// its own payload, and the newer edit still reaches GHL in the same run.
#[tokio::test]
async fn a_stranded_write_to_ghl_does_not_take_a_later_peer_edit_for_its_own() {
    let s = SyncHarness::start(120).await;
    s.run().await;
    let (store, peer_name) = (&s.ctx.store, s.ctx.peer_name());
    let entity = s.ctx.mapping.entity(EntityKind::Contact).unwrap();
    let clients = read_all(s.ctx.peer.as_ref(), EntityKind::Contact).await;
    let code = editable_clients(&clients, &s.ctx.mapping)
        .into_iter()
        .find(|code| {
            store
                .link(peer_name, EntityKind::Contact, code)
                .unwrap()
                .is_some()
        })
        .expect("a linked client");
    let ghl_id = store
        .link(peer_name, EntityKind::Contact, &code)
        .unwrap()
        .unwrap()
        .ghl_id;

    // A first edit is planned and its intent made durable; then the run is killed.
    let first = "First edit before the kill";
    s.h.admin_post("repsly/clients", json!({"Code": code, "City": first}))
        .await;
    let planned = s.peer_contact(&code).await;
    let fields = entity.to_ghl(&planned).fields;
    let op = Operation {
        target_id: Some(ghl_id.clone()),
        payload: json!({"city": first}),
        source_hash: Some(ghlsync::sync::hash::hash_fields(&fields)),
        parent_id: None,
        ..in_flight(
            store,
            &s.ctx.mapping.fingerprint(),
            (EntityKind::Contact, Direction::ToGhl, Action::Update),
            &code,
        )
    };
    store.record_new_intent(&op).await.unwrap();

    // Before the next start, a second edit.
    let second = "Second edit after the kill";
    s.h.admin_post("repsly/clients", json!({"Code": code, "City": second}))
        .await;

    s.run().await;
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    assert_eq!(
        log_of(store, op.id),
        vec![(Action::Update, Outcome::Ok)],
        "the stranded write finishes"
    );
    let held = s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact.city;
    assert_eq!(
        held.as_deref(),
        Some(second),
        "the second edit never reached GHL: the stranded write took it for its own"
    );
    let base = store
        .baseline(peer_name, EntityKind::Contact, &code)
        .unwrap()
        .unwrap();
    let now = s.peer_contact(&code).await;
    assert_eq!(
        base.peer_hash,
        ghlsync::sync::hash::hash_fields(&entity.to_ghl(&now).fields),
        "the baseline ends on the record Repsly holds"
    );
}

/// Every record of `kind` Repsly holds now, read like the sync reads it.
/// `n` clients a first run linked, whose fields the tests can edit.
async fn linked_clients(s: &SyncHarness, n: usize) -> Vec<String> {
    let (store, peer_name) = (&s.ctx.store, s.ctx.peer_name());
    let clients = read_all(s.ctx.peer.as_ref(), EntityKind::Contact).await;
    let linked: Vec<String> = editable_clients(&clients, &s.ctx.mapping)
        .into_iter()
        .filter(|code| {
            store
                .link(peer_name, EntityKind::Contact, code)
                .unwrap()
                .is_some()
        })
        .take(n)
        .collect();
    assert_eq!(linked.len(), n, "{n} linked clients");
    linked
}

/// How the sync log says operation `op` ended: (action, outcome) per entry.
fn log_of(store: &Store, op: u64) -> Vec<(Action, Outcome)> {
    let log = store.log_after(None, usize::MAX).unwrap();
    log.into_iter()
        .filter(|(_, entry)| entry.op_id == Some(op))
        .map(|(_, entry)| (entry.action, entry.outcome))
        .collect()
}

async fn read_all(peer: &dyn Peer, kind: EntityKind) -> Vec<PeerRecord> {
    let mut cursor: Option<String> = None;
    let mut records = Vec::new();
    for _ in 0..10_000 {
        let page = peer.fetch_changes(kind, cursor.as_deref()).await.unwrap();
        records.extend(page.records);
        if page.done {
            return records;
        }
        cursor = page.next_cursor.or(cursor);
    }
    panic!("{kind} pages never ended");
}

/// Active clients with a valid email that no other client shares: their edits have one GHL home.
fn editable_clients(clients: &[PeerRecord], mapping: &Mapping) -> Vec<String> {
    let entity = mapping.entity(EntityKind::Contact).unwrap();
    let mut by_email: HashMap<String, Vec<String>> = HashMap::new();
    for client in clients.iter().filter(|c| c.active) {
        if let Some(email) = entity
            .to_ghl(client)
            .fields
            .get("email")
            .and_then(Value::as_str)
        {
            by_email
                .entry(email.to_string())
                .or_default()
                .push(client.id.clone());
        }
    }
    let mut codes: Vec<String> = by_email
        .into_values()
        .filter(|codes| codes.len() == 1)
        .flatten()
        .collect();
    codes.sort();
    codes
}

/// Groups of more than one contact sharing a lower-cased email or an E.164-ish phone.
fn duplicate_groups(contacts: &[Contact]) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for contact in contacts {
        if let Some(email) = contact
            .email
            .as_deref()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
        {
            groups
                .entry(format!("email {email}"))
                .or_default()
                .push(contact.id.clone());
        }
        if let Some(phone) = contact.phone.as_deref().and_then(e164ish) {
            groups
                .entry(format!("phone {phone}"))
                .or_default()
                .push(contact.id.clone());
        }
    }
    groups.retain(|_, ids| ids.len() > 1);
    groups
}

/// Digits with the US country code made explicit, so `(555) 010-2233` and `+15550102233` meet.
fn e164ish(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    match digits.len() {
        0..7 => None,
        10 if !phone.trim_start().starts_with('+') => Some(format!("+1{digits}")),
        _ => Some(format!("+{digits}")),
    }
}

struct Child {
    kind: &'static str,
    id: String,
    /// What a duplicate would share: note body, task title + due date, appointment title + start.
    look: String,
}

async fn children_of(ghl: &GhlClient, contact_id: &str) -> Vec<Child> {
    let mut out = Vec::new();
    for note in ghl.list_notes(contact_id).await.unwrap().notes {
        out.push(Child {
            kind: "note",
            look: note_look(&note.body),
            id: note.id,
        });
    }
    for task in ghl.list_tasks(contact_id).await.unwrap().tasks {
        out.push(Child {
            kind: "task",
            look: task_look(&task.title, task.due_date.as_deref()),
            id: task.id,
        });
    }
    let events = ghl.list_contact_appointments(contact_id).await.unwrap();
    for event in events.events {
        out.push(Child {
            kind: "appointment",
            look: format!(
                "appointment {:?} at {:?} in {:?}",
                event.title, event.start_time, event.calendar_id
            ),
            id: event.id,
        });
    }
    out
}

fn note_look(body: &str) -> String {
    format!("note {body:?}")
}

/// Title and due instant (GHL and the mapping may write one instant differently).
fn task_look(title: &str, due: Option<&str>) -> String {
    let due = due.map(|due| {
        chrono::DateTime::parse_from_rfc3339(due)
            .map(|at| at.timestamp_millis().to_string())
            .unwrap_or_else(|_| due.to_string())
    });
    format!("task {title:?} due {due:?}")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An operation as a killed engine leaves it: intent written, state in flight. Tests set what
/// they vary (target, payload, source, hashes) with struct update syntax.
fn in_flight(
    store: &Store,
    fingerprint: &str,
    (kind, direction, action): (EntityKind, Direction, Action),
    source_id: &str,
) -> Operation {
    let now = chrono::Utc::now();
    Operation {
        id: store.new_op_id().unwrap(),
        peer: PEER.to_string(),
        kind,
        direction,
        action,
        source_id: source_id.to_string(),
        target_id: None,
        target_parent_id: None,
        payload: Value::Null,
        source: Value::Null,
        mapping_fingerprint: fingerprint.to_string(),
        planned_against: None,
        source_hash: None,
        parent_id: None,
        state: OpState::InFlight {
            owner: "engine".into(),
            since: now,
        },
        attempts: 1,
        error: None,
        created_at: now,
        updated_at: now,
        run_id: None,
    }
}
