//! Regression tests for the ways a sync duplicated or lost records (issue 15, §1): each of these
//! failed on the engine before the one planner, identity before creation and findable children.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::sync::{SyncHarness, count};
use ghlsync::ghl::models::Contact;
use ghlsync::peers::{EntityKind, Peer, PeerRecord};
use ghlsync::store::{OpState, Store};
use ghlsync::sync::{RetryMode, Selection, failed};
use serde_json::json;
use std::collections::BTreeMap;

/// Every record of `kind` the peer holds now, from the start of its change pages.
async fn peer_all(peer: &dyn Peer, kind: EntityKind) -> Vec<PeerRecord> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let page = peer.fetch_changes(kind, cursor.as_deref()).await.unwrap();
        out.extend(page.records);
        if page.done {
            break;
        }
        cursor = page.next_cursor.or(cursor);
    }
    out
}

async fn ghl_contacts(s: &SyncHarness) -> Vec<Contact> {
    s.ctx.ghl.list_all_contacts(None, 100, 1_000).await.unwrap()
}

/// Peer clients grouped by lowercased email, only groups of two or more.
fn peer_email_groups(clients: &[PeerRecord]) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for client in clients {
        if let Some(email) = client.fields.get("Email").and_then(|v| v.as_str()) {
            let email = email.trim().to_lowercase();
            if email.contains('@') {
                groups.entry(email).or_default().push(client.id.clone());
            }
        }
    }
    groups.retain(|_, ids| ids.len() > 1);
    groups
}

/// GHL children of every contact, counted per kind.
async fn ghl_child_counts(s: &SyncHarness) -> (usize, usize, usize) {
    let (mut notes, mut tasks, mut appointments) = (0, 0, 0);
    for contact in ghl_contacts(s).await {
        notes += s.ctx.ghl.list_notes(&contact.id).await.unwrap().notes.len();
        tasks += s.ctx.ghl.list_tasks(&contact.id).await.unwrap().tasks.len();
        appointments += s
            .ctx
            .ghl
            .list_contact_appointments(&contact.id)
            .await
            .unwrap()
            .events
            .len();
    }
    (notes, tasks, appointments)
}

/// §1.1: a retry of "no usable email or phone" fails again for the same reason; it never sends
/// a contact GHL could only create, with nothing to match it by.
#[tokio::test]
async fn retrying_an_unmatchable_contact_fails_again_and_creates_nothing() {
    let s = SyncHarness::start(300).await;
    s.run().await;
    let unmatchable: Vec<u64> = s
        .ctx
        .store
        .failed_queue()
        .unwrap()
        .into_iter()
        .filter(|op| {
            op.kind == EntityKind::Contact
                && op
                    .error
                    .as_ref()
                    .is_some_and(|e| e.message.contains("no usable email or phone"))
        })
        .map(|op| op.id)
        .collect();
    assert!(
        !unmatchable.is_empty(),
        "the seed has clients without email or phone"
    );
    let before = ghl_contacts(&s).await.len();
    for mode in [RetryMode::CurrentMapping, RetryMode::OriginalPayload] {
        let report = failed::retry(&s.ctx, &Selection::Ids(unmatchable.clone()), mode, "test")
            .await
            .unwrap();
        assert!(report.succeeded.is_empty(), "{mode:?}: {report:?}");
        assert_eq!(
            ghl_contacts(&s).await.len(),
            before,
            "{mode:?}: no contact created"
        );
    }
    // The class at once, as `R` does.
    failed::retry(
        &s.ctx,
        &Selection::Class(ghlsync::net::ErrorClass::Validation),
        RetryMode::CurrentMapping,
        "test",
    )
    .await
    .unwrap();
    assert_eq!(ghl_contacts(&s).await.len(), before, "no contact created");
    // Each still waits, with the same reason.
    let queue = s.ctx.store.failed_queue().unwrap();
    for id in &unmatchable {
        let op = queue
            .iter()
            .find(|op| op.id == *id || op.source_id == queue_source(&s.ctx.store, *id))
            .unwrap_or_else(|| panic!("op {id} left the queue"));
        let message = &op.error.as_ref().unwrap().message;
        assert!(message.contains("no usable email or phone"), "{message}");
    }
}

fn queue_source(store: &Store, id: u64) -> String {
    store
        .operation(id)
        .unwrap()
        .map(|op| op.source_id)
        .unwrap_or_default()
}

/// §1.2: a peer client whose write to GHL failed and waits for a retry is the same person as
/// the GHL contact the run sees next; that contact must not come back to the peer as a new
/// client.
#[tokio::test]
async fn a_client_waiting_for_its_retry_is_never_created_again_from_ghl() {
    let s = SyncHarness::start(300).await;
    let before = peer_all(&*s.ctx.peer, EntityKind::Contact).await;
    let dup_before = peer_email_groups(&before);
    // The client tries an upsert four times; a wave sends fifty at once: two hundred faults
    // leave the first clients of the run waiting on the ladder.
    let faults: Vec<(&str, &str)> = (0..200)
        .map(|_| ("POST /contacts/upsert", "status503"))
        .collect();
    s.h.queue_faults(&faults).await;
    let first = s.run().await;
    assert!(
        count(&first, "create/retrying") > 0,
        "{:?}",
        first.run.counts
    );
    let after = peer_all(&*s.ctx.peer, EntityKind::Contact).await;
    let dup_after = peer_email_groups(&after);
    let new: Vec<_> = dup_after
        .iter()
        .filter(|(email, ids)| dup_before.get(*email).map_or(0, Vec::len) < ids.len())
        .collect();
    assert!(new.is_empty(), "clients created twice: {new:?}");
    // The retries go through later; still nothing twice.
    let mut op_ids = Vec::new();
    for op in s.ctx.store.failed_queue().unwrap() {
        if matches!(op.state, OpState::RetryScheduled { .. }) {
            op_ids.push(op.id);
        }
    }
    failed::retry(
        &s.ctx,
        &Selection::Ids(op_ids),
        RetryMode::CurrentMapping,
        "test",
    )
    .await
    .unwrap();
    s.run().await;
    let end = peer_all(&*s.ctx.peer, EntityKind::Contact).await;
    let new: Vec<_> = peer_email_groups(&end)
        .into_iter()
        .filter(|(email, ids)| dup_before.get(email).map_or(0, Vec::len) < ids.len())
        .collect();
    assert!(new.is_empty(), "clients created twice: {new:?}");
}

/// §1.3: a lost store (or a first sync on a location that already holds the data) finds every
/// child it made before instead of creating it again.
#[tokio::test]
async fn a_lost_store_creates_no_child_twice() {
    let mut s = SyncHarness::start(300).await;
    s.run().await;
    let synced = ghl_child_counts(&s).await;
    assert!(synced.0 > 20 && synced.1 > 5 && synced.2 > 5, "{synced:?}");
    // The store is gone: a new, empty one.
    let fresh = tempfile::tempdir().unwrap();
    s.ctx.store = Store::open(&fresh.path().join("store")).unwrap();
    let child_writes = || async {
        let stats = s.h.stats().await;
        stats["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["method"] != "GET")
            .filter(|r| {
                let route = r["route"].as_str().unwrap_or_default();
                route.contains("/tasks")
                    || route.contains("/notes")
                    || route.contains("/appointments")
            })
            .filter_map(|r| r["count"].as_u64())
            .sum::<u64>()
    };
    let before = child_writes().await;
    let report = s.run().await;
    assert_eq!(
        ghl_child_counts(&s).await,
        synced,
        "children created again: {:?}",
        report.run.counts
    );
    // Found again as they are: not rewritten either (an appointment's times in GHL's own form
    // are the same instants).
    assert_eq!(
        child_writes().await,
        before,
        "children written again: {:?}",
        report.run.counts
    );
    // And the next run has nothing left to do for them.
    let writes = s.writes().await;
    s.run().await;
    assert_eq!(s.writes().await, writes);
}

/// §1.5: the children of a client that will never sync (inactive, or unmatchable) are parked
/// with a reason that names the parent and why; they are not retried, and they come back by
/// themselves once the parent syncs.
#[tokio::test]
async fn children_of_a_parent_that_cannot_sync_are_parked_naming_it_and_come_back_with_it() {
    let s = SyncHarness::start(300).await;
    s.run().await;
    let queue = s.ctx.store.failed_queue().unwrap();
    let waiting: Vec<_> = queue
        .iter()
        .filter(|op| op.kind != EntityKind::Contact)
        .collect();
    assert!(
        waiting
            .iter()
            .all(|op| !matches!(op.state, OpState::RetryScheduled { .. })),
        "children of a parent that cannot sync are not on the retry ladder"
    );
    let parked: Vec<_> = s
        .ctx
        .store
        .operations_in("parked")
        .unwrap()
        .into_iter()
        .filter(|op| op.kind != EntityKind::Contact)
        .collect();
    assert!(
        !parked.is_empty(),
        "the seed has children of unmatchable clients"
    );
    for op in &parked {
        let message = &op.error.as_ref().unwrap().message;
        let parent = op
            .parent_id
            .clone()
            .expect("a parked child names its parent");
        assert!(message.contains(&parent), "{message}");
    }
    // Give one parent an email: it syncs, and its children follow in the same run.
    let op = parked
        .iter()
        .find(|op| {
            op.error
                .as_ref()
                .is_some_and(|e| e.message.contains("no usable email or phone"))
        })
        .expect("a child parked behind an unmatchable client");
    let parent = op.parent_id.clone().unwrap();
    s.h.admin_post(
        "repsly/clients",
        json!({"Code": parent, "Email": "found.again@example.org"}),
    )
    .await;
    s.run().await;
    assert!(
        s.ctx
            .store
            .link("repsly", op.kind, &op.source_id)
            .unwrap()
            .is_some(),
        "the parked child synced once its parent did"
    );
    assert!(
        s.ctx
            .store
            .operation(op.id)
            .unwrap()
            .is_none_or(|op| op.state == OpState::Done)
    );
}

/// GHL has answered 422 to writes it made (GoHighLevel/highlevel-api-docs#64): each kind of
/// record the sync creates is looked up after such an answer, found, linked, and never sent
/// twice.
#[tokio::test]
async fn a_write_ghl_made_and_then_refused_with_a_422_is_found_not_sent_twice() {
    let s = SyncHarness::start(120).await;
    let routes = [
        "POST /contacts/upsert",
        "POST /contacts/:contactId/notes",
        "POST /contacts/:contactId/tasks",
        "POST /calendars/events/appointments",
    ];
    let faults: Vec<(&str, &str)> = routes
        .iter()
        .flat_map(|route| std::iter::repeat_n((*route, "write422"), 40))
        .collect();
    s.h.queue_faults(&faults).await;
    let report = s.run().await;
    let queue = s.ctx.store.failed_queue().unwrap();
    let refused: Vec<_> = queue
        .iter()
        .filter(|op| op.error.as_ref().is_some_and(|e| e.status == Some(422)))
        .map(|op| (op.kind, op.source_id.clone(), op.error.clone()))
        .collect();
    assert!(refused.is_empty(), "{refused:#?}\n{:?}", report.run.counts);
    // Every create of the first run met the fault (forty per route queued, fewer creates).
    let stats = s.h.stats().await;
    for route in routes {
        let (method, path) = route.split_once(' ').unwrap();
        assert!(
            common::count_in(&stats, method, path, Some(422)) > 20,
            "{route}: {stats}"
        );
    }
    // Nothing was created twice: a second sync on a new store finds everything linked-equal.
    let synced = ghl_child_counts(&s).await;
    s.run().await;
    assert_eq!(ghl_child_counts(&s).await, synced);
}
