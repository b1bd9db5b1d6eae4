//! Crash consistency, write by write: an operation stranded in flight by a kill (its intent
//! durable, its request sent or not) is finished at the next start without duplicating, and
//! without overwriting an edit made in between on either side. The kill matrix over whole runs
//! is `tests/kills.rs`.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::sync::{Routes, SyncHarness, sandbox_writes};
use ghlsync::ghl::models::UpdateContactDto;
use ghlsync::peers::{EntityKind, Peer, PeerRecord};
use ghlsync::store::{Action, Direction, OpState, Operation, Outcome, Store};
use ghlsync::sync::mapping::Mapping;
use serde_json::{Value, json};
use std::collections::HashMap;

const PEER: &str = "repsly";

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
    stranded_note_create(&s, &twin, &parent).await;

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
    let same = ghl_notes_where(&s, &parent, |text| text == body).await;
    assert_eq!(same, 2, "both notes are in GHL, once each");
}

/// A create found in flight at start-up is looked up on its target first. When that lookup
/// fails (GHL answers 503 to every attempt of it), not knowing is not "not there": the write
/// waits in the failed queue and is looked up again when retried, never sent blind — sent then,
/// it would have landed twice.
#[tokio::test]
async fn a_stranded_create_whose_lookup_fails_is_never_sent_blind() {
    use ghlsync::ghl::models::NotesDto;
    use ghlsync::sync::failed::{RetryMode, Selection, retry};
    let s = SyncHarness::start(120).await;
    s.run().await;
    let (store, peer_name) = (&s.ctx.store, s.ctx.peer_name());
    // A client whose GHL contact's notes are surveyed: a new note there is created without a
    // lookup, so a create planned anew beside a stranded one would land twice.
    let (code, parent) = store
        .links(peer_name, EntityKind::Contact)
        .unwrap()
        .into_iter()
        .map(|(code, link)| (code, link.ghl_id))
        .find(|(_, ghl_id)| store.surveyed(peer_name, EntityKind::Note, ghl_id).unwrap())
        .expect("a client whose notes were surveyed");
    const TEXT: &str = "Stranded, then looked for.";
    s.h.admin_post("repsly/notes", json!({"ClientCode": code, "Note": TEXT}))
        .await;
    let note = read_all(s.ctx.peer.as_ref(), EntityKind::Note)
        .await
        .into_iter()
        .find(|n| n.fields.get("Note") == Some(&json!(TEXT)))
        .unwrap();
    let payload = s
        .ctx
        .mapping
        .entity(EntityKind::Note)
        .unwrap()
        .to_ghl(&note)
        .fields;
    // The create reached GHL; the engine was killed before it heard the answer.
    let dto: NotesDto = serde_json::from_value(Value::Object(payload.clone())).unwrap();
    s.ctx.ghl.create_note(&parent, &dto).await.unwrap();
    let op = stranded_note_create(&s, &note, &parent).await;
    let in_ghl = || ghl_notes_where(&s, &parent, |text| text.starts_with(TEXT));

    // Every attempt of the lookup (the client makes four) answers 503.
    let failing = vec![json!({"route": "GET /contacts/:contactId/notes", "kind": "status503"}); 4];
    s.h.admin_post("faults", json!({ "next": failing })).await;
    s.run().await;
    assert_eq!(
        in_ghl().await,
        1,
        "sent again while it could not be looked up"
    );
    let waiting = store
        .failed_queue()
        .unwrap()
        .into_iter()
        .find(|queued| queued.id == op.id)
        .expect("the write waits in the failed queue");
    let message = waiting.error.map(|e| e.message).unwrap_or_default();
    assert!(message.contains("looking for it failed"), "{message}");
    assert!(
        store
            .link(peer_name, EntityKind::Note, &note.id)
            .unwrap()
            .is_none()
    );

    // Retried once GHL answers: found and linked, not created.
    retry(
        &s.ctx,
        &Selection::Ids(vec![op.id]),
        RetryMode::CurrentMapping,
        "test",
    )
    .await
    .unwrap();
    assert_eq!(in_ghl().await, 1, "created again on retry");
    assert!(
        store
            .link(peer_name, EntityKind::Note, &note.id)
            .unwrap()
            .is_some()
    );
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
            upsert_by: None,
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
        upsert_by: None,
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

/// How many of GHL contact `parent`'s notes have a body `keep` accepts.
async fn ghl_notes_where(s: &SyncHarness, parent: &str, keep: impl Fn(&str) -> bool) -> usize {
    let notes = s.ctx.ghl.list_notes(parent).await.unwrap().notes;
    notes.iter().filter(|note| keep(&note.body)).count()
}

/// The create of Repsly note `note` under GHL contact `parent`, left in flight by a kill.
async fn stranded_note_create(s: &SyncHarness, note: &PeerRecord, parent: &str) -> Operation {
    let store = &s.ctx.store;
    let op = Operation {
        target_parent_id: Some(parent.to_string()),
        payload: Value::Object(
            s.ctx
                .mapping
                .entity(EntityKind::Note)
                .unwrap()
                .to_ghl(note)
                .fields,
        ),
        source: serde_json::to_value(note).unwrap(),
        ..in_flight(
            store,
            &s.ctx.mapping.fingerprint(),
            (EntityKind::Note, Direction::ToGhl, Action::Create),
            &note.id,
        )
    };
    store.record_intent(&op).await.unwrap();
    op
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
        upsert_by: None,
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
