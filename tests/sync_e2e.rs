//! The sync engine end to end over loopback: GHL and Repsly sandboxes, a real sled store.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::count_in;
use common::sync::{SyncHarness, count};
use ghlsync::peers::EntityKind;
use ghlsync::store::{Action, Direction, OpState, Outcome};
use ghlsync::sync::mapping::Mapping;
use ghlsync::sync::settings::DeletePolicy;
use ghlsync::sync::{RetryMode, RunOptions, Selection, SyncSettings, failed, run_sync};
use serde_json::json;

#[tokio::test]
async fn initial_import_moves_all_four_entities_and_a_second_run_writes_nothing() {
    let s = SyncHarness::start(200).await;
    let first = s.run().await;
    let stats = s.h.stats().await;
    assert!(
        count_in(&stats, "POST", "/contacts/upsert", Some(200)) > 50,
        "{stats}"
    );
    assert!(count_in(&stats, "POST", "/contacts/:contactId/notes", Some(201)) > 10);
    assert!(count_in(&stats, "POST", "/contacts/:contactId/tasks", Some(201)) > 0);
    assert!(count_in(&stats, "POST", "/calendars/events/appointments", Some(200)) > 0);
    assert_eq!(
        stats["appointmentsCreated"]["toNotifyTrueOrAbsent"], 0,
        "a sync never notifies"
    );
    assert!(count(&first, "create/ok") > 100, "{:?}", first.run.counts);
    let peer = s.ctx.peer_name().to_string();
    assert!(
        !s.ctx
            .store
            .links(&peer, EntityKind::Contact)
            .unwrap()
            .is_empty()
    );
    assert!(
        !s.ctx
            .store
            .links(&peer, EntityKind::Note)
            .unwrap()
            .is_empty()
    );
    // Every child's link names its contact, and that contact is linked too: the console lists
    // children across contacts from the store alone.
    for kind in [EntityKind::Note, EntityKind::Task, EntityKind::Appointment] {
        for (child, link) in s.ctx.store.links(&peer, kind).unwrap() {
            let parent = link
                .parent
                .unwrap_or_else(|| panic!("{kind} {child} has no parent on its link"));
            assert!(
                s.ctx
                    .store
                    .link(&peer, EntityKind::Contact, &parent)
                    .unwrap()
                    .is_some(),
                "{kind} {child}: parent {parent} is not a linked contact"
            );
        }
    }

    // Echo suppression and baselines: what the first run wrote on both sides is not news.
    let writes = s.writes().await;
    let second = s.run().await;
    assert_eq!(
        s.writes().await,
        writes,
        "an incremental run after no change writes nothing: {:?}",
        second.run.counts
    );
    assert_eq!(count(&second, "create/ok") + count(&second, "update/ok"), 0);
}

#[tokio::test]
async fn a_dry_run_plans_but_writes_nothing_anywhere() {
    let s = SyncHarness::start(80).await;
    let report = run_sync(
        &s.ctx,
        &RunOptions {
            dry_run: true,
            ..RunOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(!report.plan.is_empty());
    assert!(
        report
            .plan
            .iter()
            .any(|c| c.kind == EntityKind::Contact && !c.diff.is_empty())
    );
    assert_eq!(s.writes().await, 0, "no write request");
    let peer = s.ctx.peer_name();
    assert!(
        s.ctx
            .store
            .links(peer, EntityKind::Contact)
            .unwrap()
            .is_empty(),
        "no link stored"
    );
    assert!(
        s.ctx
            .store
            .cursor(peer, EntityKind::Contact)
            .unwrap()
            .is_none(),
        "no cursor stored"
    );
    assert!(s.ctx.store.runs(5).unwrap().is_empty(), "no run recorded");
}

/// Picks a linked contact: (Repsly code, GHL id).
fn linked(s: &SyncHarness) -> (String, String) {
    s.ctx
        .store
        .links(s.ctx.peer_name(), EntityKind::Contact)
        .unwrap()
        .into_iter()
        .find(|(code, _)| code.starts_with("C-"))
        .map(|(code, link)| (code, link.ghl_id))
        .expect("a linked Repsly-born contact")
}

#[tokio::test]
async fn edits_on_both_sides_merge_by_the_mapping_and_the_conflict_is_logged() {
    let s = SyncHarness::start(120).await;
    s.run().await;
    let (code, ghl_id) = linked(&s);
    // GHL changes the website (peer side untouched) and both sides change the city.
    let update = ghlsync::ghl::models::UpdateContactDto {
        city: Some("Tromsø".into()),
        website: Some("https://ghl.example".into()),
        ..Default::default()
    };
    s.ctx.ghl.update_contact(&ghl_id, &update).await.unwrap();
    s.h.admin_post("repsly/clients", json!({"Code": code, "City": "Bergen"}))
        .await;

    let report = s.run().await;
    assert_eq!(
        count(&report, "update/conflict"),
        2,
        "{:?}",
        report.run.counts
    );
    let log = s.ctx.store.log_tail(50).unwrap();
    let conflict = log
        .iter()
        .find(|e| e.outcome == Outcome::Conflict && e.peer_id.as_deref() == Some(code.as_str()))
        .expect("conflict logged");
    let conflicts = conflict.diff["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["field"], "city");
    assert_eq!(conflicts[0]["peer"], "Bergen");
    assert_eq!(conflicts[0]["ghl"], "Tromsø");
    // "latest": the peer change is the one this run observed last.
    assert_eq!(conflicts[0]["winner"], "peer");
    let ghl_now = s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact;
    assert_eq!(ghl_now.city.as_deref(), Some("Bergen"));
    assert_eq!(
        ghl_now.website.as_deref(),
        Some("https://ghl.example"),
        "one-sided GHL change kept"
    );
    let peer_now = s.peer_contact(&code).await;
    assert_eq!(
        peer_now.fields["Website"], "https://ghl.example",
        "and sent to the peer"
    );

    assert_converged(&s).await;
}

/// Tags are a set: a peer's tag edit adds and removes only what it changed, and the tags GHL
/// holds besides (added by hand, or by another peer) stay, when both sides changed. (The
/// peer-only path merges the same way: `sync::merge` tests.)
#[tokio::test]
async fn a_peer_tag_edit_changes_only_its_own_tags_in_ghl() {
    let s = SyncHarness::start(120).await;
    s.run().await;
    let (code, ghl_id) = linked(&s);
    s.h.admin_post(
        "repsly/clients",
        json!({"Code": code, "Tag": "north, lead"}),
    )
    .await;
    s.run().await;
    let tags = |contact: ghlsync::ghl::models::Contact| {
        let mut tags = contact.tags;
        tags.sort();
        tags
    };
    let agreed = tags(s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact);
    assert!(agreed.contains(&"lead".to_string()), "{agreed:?}");

    // Someone tags the contact in GHL by hand while the peer drops "lead" and adds "south".
    s.ctx
        .ghl
        .add_tags(&ghl_id, &["vip".to_string()])
        .await
        .unwrap();
    s.h.admin_post(
        "repsly/clients",
        json!({"Code": code, "Tag": "north, south"}),
    )
    .await;
    s.run().await;
    let now = tags(s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact);
    assert!(
        now.contains(&"vip".to_string()),
        "GHL's own tag stays: {now:?}"
    );
    assert!(now.contains(&"south".to_string()), "{now:?}");
    assert!(!now.contains(&"lead".to_string()), "{now:?}");
    let peer_tags = s.peer_contact(&code).await.fields["Tag"].clone();
    assert!(
        peer_tags.as_str().is_some_and(|t| t.contains("vip")),
        "and GHL's tag reached the peer: {peer_tags}"
    );

    // Both sides change at once: the peer adds "east", GHL adds "gold"; both stay.
    s.ctx
        .ghl
        .add_tags(&ghl_id, &["gold".to_string()])
        .await
        .unwrap();
    let peer_tags = peer_tags.as_str().unwrap().to_string();
    s.h.admin_post(
        "repsly/clients",
        json!({"Code": code, "Tag": format!("{peer_tags}, east")}),
    )
    .await;
    s.run().await;
    let now = tags(s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact);
    for tag in ["vip", "gold", "east", "south", "north"] {
        assert!(now.contains(&tag.to_string()), "{tag} missing: {now:?}");
    }
    assert_converged(&s).await;
}

/// A Repsly edit whose write to GHL failed waits on the retry ladder; the cursor has moved past
/// it. If GHL's contact is edited before the retry is due, the retry is superseded (sending it
/// could overwrite that edit, and its baseline would call the loss agreed). The Repsly edit it
/// carried must still sync: no page brings it again, and flow 4, taking the Repsly record for
/// unchanged, would overwrite it with GHL's side. Both edits end up on both sides.
#[tokio::test]
async fn a_superseded_retry_to_ghl_still_syncs_the_peer_edit_it_carried() {
    let s = SyncHarness::start(120).await;
    s.run().await;
    let (code, ghl_id) = linked(&s);
    let store = &s.ctx.store;
    s.h.admin_post("repsly/clients", json!({"Code": code, "City": "Bergen"}))
        .await;
    // Every attempt of the client's PUT fails: the write waits on the ladder.
    s.h.queue_faults(&[("PUT /contacts/{contactId}", "status500"); 4])
        .await;
    s.run().await;
    let mut queued = store
        .failed_queue()
        .unwrap()
        .into_iter()
        .find(|op| op.direction == Direction::ToGhl && op.source_id == code)
        .expect("the failed write is queued");
    assert!(queued.planned_against.is_some());
    // Its time comes; meanwhile someone edits the website in GHL.
    queued.state = OpState::RetryScheduled {
        next_at: chrono::Utc::now() - chrono::Duration::minutes(1),
    };
    store.update_operation(&queued, None).unwrap();
    let update = ghlsync::ghl::models::UpdateContactDto {
        website: Some("https://ghl.example".into()),
        ..Default::default()
    };
    s.ctx.ghl.update_contact(&ghl_id, &update).await.unwrap();

    s.run().await;
    let ended: Vec<_> = store
        .log_after(None, usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|(_, entry)| entry.op_id == Some(queued.id))
        .map(|(_, entry)| (entry.action, entry.outcome))
        .collect();
    assert_eq!(
        ended.last(),
        Some(&(Action::Skip, Outcome::Ok)),
        "superseded: {ended:?}"
    );
    let ghl_now = s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact;
    assert_eq!(ghl_now.city.as_deref(), Some("Bergen"), "the Repsly edit");
    assert_eq!(
        ghl_now.website.as_deref(),
        Some("https://ghl.example"),
        "the GHL edit"
    );
    let peer_now = s.peer_contact(&code).await;
    assert_eq!(peer_now.fields["City"], "Bergen", "the Repsly edit");
    assert_eq!(
        peer_now.fields["Website"], "https://ghl.example",
        "the GHL edit"
    );
    assert_converged(&s).await;
}

async fn deactivate_with(policy: DeletePolicy) -> (SyncHarness, String, String) {
    let mut settings = SyncSettings::default();
    settings.contacts.delete_policy = policy;
    let s = SyncHarness::with(60, settings, None).await;
    s.run().await;
    let (code, ghl_id) = linked(&s);
    s.h.admin_post("repsly/clients", json!({"Code": code, "Active": false}))
        .await;
    s.run().await;
    (s, code, ghl_id)
}

#[tokio::test]
async fn delete_policy_ignore_leaves_ghl_alone() {
    let (s, _, ghl_id) = deactivate_with(DeletePolicy::Ignore).await;
    let contact = s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact;
    assert!(!contact.tags.contains(&"deleted-in-peer".to_string()));
}

#[tokio::test]
async fn delete_policy_tag_tags_once() {
    let (s, _, ghl_id) = deactivate_with(DeletePolicy::Tag).await;
    let contact = s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact;
    assert!(
        contact.tags.contains(&"deleted-in-peer".to_string()),
        "{:?}",
        contact.tags
    );
    let writes = s.writes().await;
    s.run().await;
    assert_eq!(s.writes().await, writes, "the tombstone is handled once");
}

#[tokio::test]
async fn delete_policy_mirror_deletes_in_ghl() {
    let (s, _, ghl_id) = deactivate_with(DeletePolicy::Mirror).await;
    let err = s.ctx.ghl.get_contact(&ghl_id).await.unwrap_err();
    assert_eq!(err.class(), ghlsync::net::ErrorClass::NotFound);
}

#[tokio::test]
async fn a_permanent_failure_is_queued_once_and_a_retry_after_a_mapping_fix_succeeds() {
    let s = SyncHarness::start(150).await;
    s.run().await;
    // GHL contacts without a company cannot become Repsly clients: Name is required there.
    let queue = s.ctx.store.failed_queue().unwrap();
    let nameless: Vec<u64> = queue
        .iter()
        .filter(|op| {
            op.error
                .as_ref()
                .is_some_and(|e| e.message.contains("Name"))
        })
        .map(|op| op.id)
        .collect();
    assert!(
        !nameless.is_empty(),
        "the seed has GHL contacts without a company"
    );
    // They wait in the queue: the next run does not pile up new attempts.
    let again = s.run().await;
    assert_eq!(
        s.ctx.store.failed_queue().unwrap().len(),
        queue.len(),
        "{:?}",
        again.run.counts
    );

    // The fix a person makes: Name falls back to the contact's name when there is no company.
    let text = Mapping::builtin_text("repsly").unwrap().replacen(
        "peer = \"Name\"                            # the place / account name; required by Repsly imports\nghl = \"companyName\"\ndirection = \"both\"\nauthority = \"peer\"",
        "peer = \"Name\"\nghl = [\"companyName\", \"firstName\", \"lastName\"]\ndirection = \"to_peer\"\ntransforms = [{ join = \" \" }]\n\n[[contact.field]]\npeer = \"Name\"\nghl = \"companyName\"\ndirection = \"to_ghl\"",
        1,
    );
    let fixed = Mapping::parse(&text, "fixed.toml").expect("the fixed mapping parses");
    let ctx = s.with_mapping(fixed);
    let report = failed::retry(
        &ctx,
        &Selection::Ids(nameless.clone()),
        RetryMode::CurrentMapping,
        "test",
    )
    .await
    .unwrap();
    assert_eq!(report.succeeded.len(), nameless.len(), "{report:?}");
    let remaining = s.ctx.store.failed_queue().unwrap();
    assert!(remaining.iter().all(|op| !nameless.contains(&op.id)));
    // A second claim of the same ids finds nothing to do.
    let twice = failed::retry(
        &ctx,
        &Selection::Ids(nameless.clone()),
        RetryMode::CurrentMapping,
        "test",
    )
    .await
    .unwrap();
    assert!(twice.succeeded.is_empty() && twice.failed.is_empty());
}

#[tokio::test]
async fn a_company_name_change_reaches_ghl_although_put_cannot_carry_it() {
    let s = SyncHarness::start(60).await;
    s.run().await;
    let (code, ghl_id) = linked(&s);
    s.h.admin_post(
        "repsly/clients",
        json!({"Code": code, "Name": "Renamed Traders Ltd"}),
    )
    .await;
    let report = s.run().await;
    assert_eq!(count(&report, "update/ok"), 1, "{:?}", report.run.counts);
    let contact = s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact;
    assert_eq!(contact.company_name.as_deref(), Some("Renamed Traders Ltd"));
    assert!(
        s.ctx
            .store
            .failed_queue()
            .unwrap()
            .iter()
            .all(|op| op.source_id != code)
    );
}

#[tokio::test]
async fn activity_tags_the_contact_by_the_tag_rules() {
    let mut settings = SyncSettings::default();
    settings.tag_rules = vec![ghlsync::sync::settings::TagRule {
        when: ghlsync::sync::settings::Activity::NoteAdded,
        tag: "repsly-note".into(),
    }];
    let s = SyncHarness::with(60, settings, None).await;
    s.run().await;
    let (code, ghl_id) = linked(&s);
    s.h.admin_post(
        "repsly/notes",
        json!({"ClientCode": code, "Note": "Asked for a quote"}),
    )
    .await;
    let report = s.run().await;
    assert_eq!(
        count(&report, "create/ok"),
        1,
        "the note: {:?}",
        report.run.counts
    );
    assert_eq!(
        count(&report, "tag/ok"),
        1,
        "and the tag: {:?}",
        report.run.counts
    );
    let contact = s.ctx.ghl.get_contact(&ghl_id).await.unwrap().contact;
    assert!(
        contact.tags.contains(&"repsly-note".to_string()),
        "{:?}",
        contact.tags
    );
    let notes = s.ctx.ghl.list_notes(&ghl_id).await.unwrap().notes;
    assert!(notes.iter().any(|n| n.body == "Asked for a quote"));
}

/// One more run writes nothing: both sides agree.
async fn assert_converged(s: &SyncHarness) {
    let writes = s.writes().await;
    s.run().await;
    assert_eq!(s.writes().await, writes, "converged: nothing more to write");
}
