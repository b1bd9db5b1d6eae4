//! The engine behind its handle: the protocol front ends use (in-process transport).

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::sync::SyncHarness;
use ghlsync::engine::{
    Command, ContactDetail, ContactRef, EngineOptions, Event, Reply, RowState, start_in_process,
};
use ghlsync::store::Direction;
use ghlsync::sync::{RecordRef, RunOptions};

#[tokio::test]
async fn commands_answer_and_record_outcomes_stream_live() {
    let s = SyncHarness::start(40).await;
    let store = s.ctx.store.clone();
    let ctx = ghlsync::sync::SyncContext {
        store: store.clone(),
        ghl: s.ctx.ghl.clone(),
        peer: s.ctx.peer.clone(),
        mapping: s.ctx.mapping.clone(),
        settings: s.ctx.settings.clone(),
        events: None,
    };
    let engine = start_in_process(
        ctx,
        EngineOptions {
            log_max_age: chrono::Duration::days(30),
            log_max_entries: 25,
        },
    );
    let mut events = engine.subscribe();
    let reply = engine
        .call(Command::Sync {
            options: RunOptions::default(),
        })
        .await
        .unwrap();
    let Reply::Run { report } = reply else {
        panic!("unexpected {reply:?}");
    };
    assert!(report.run.counts.values().sum::<u64>() > 25);

    let mut logged = 0;
    while let Ok(event) = events.try_recv() {
        if let Event::Log { entry } = event {
            assert!(entry.op_id.is_some());
            logged += 1;
        }
    }
    assert!(logged > 25, "every record outcome is streamed: {logged}");
    assert_eq!(store.log_len(), 25, "retention keeps the newest 25 entries");

    let Reply::Status { status } = engine.call(Command::Status).await.unwrap() else {
        panic!("status");
    };
    assert_eq!(status.peer, "repsly");
    assert_eq!(status.last_runs.len(), 1);
    // The run talked to Repsly over loopback: its health says so.
    assert_eq!(
        status.peer_health.verdict(),
        "ok",
        "{:?}",
        status.peer_health
    );
    assert!(status.peer_health.last_ok_at.is_some());
    assert_eq!(status.rate_limit.paused_until_ms, None, "no 429 met");
    assert!(
        status
            .cursors
            .iter()
            .any(|(key, _)| key == "repsly/contact/")
    );

    // The protocol is serde: what the socket transport will carry round-trips.
    let wire = serde_json::to_string(&Command::Sync {
        options: RunOptions::default(),
    })
    .unwrap();
    assert!(wire.contains("\"command\":\"sync\""), "{wire}");
    let back: Command = serde_json::from_str(&wire).unwrap();
    assert!(matches!(back, Command::Sync { .. }));

    assert!(matches!(
        engine.call(Command::Shutdown).await.unwrap(),
        Reply::Done
    ));
    assert!(
        engine.call(Command::Status).await.is_err(),
        "a stopped engine says so"
    );
}

#[tokio::test]
async fn the_console_queries_and_mapping_versions() {
    let s = SyncHarness::start(60).await;
    s.run().await;
    let engine = engine_over(&s);

    let list = contacts(&engine).await;
    assert!(list.complete);
    let rows = list.rows;
    use ghlsync::engine::RowState;
    assert!(
        rows.iter()
            .any(|r| r.state == RowState::Synced && r.ghl_id.is_some())
    );
    let linked = rows
        .iter()
        .find(|r| {
            r.peer_id.as_deref().is_some_and(|id| id.starts_with("C-"))
                && r.state == RowState::Synced
        })
        .expect("a synced Repsly contact");
    let linked_peer_id = linked.peer_id.clone().unwrap_or_default();

    let reply = engine
        .call(Command::ContactDetail {
            contact: ContactRef::Peer(linked_peer_id.clone()),
        })
        .await
        .unwrap();
    let Reply::ContactDetail { detail } = reply else {
        panic!("detail: {reply:?}");
    };
    assert!(
        detail.peer.is_some() && detail.ghl.is_some(),
        "{:?}",
        detail.problems
    );
    assert!(detail.preview.iter().any(|row| row.target == "email"));
    assert!(!detail.history.is_empty(), "the contact's log entries");

    // By its GHL id, a linked contact is the same detail: the peer record it is linked to.
    let ghl_id = detail
        .ghl_id
        .clone()
        .expect("a linked contact has a GHL id");
    let reply = engine
        .call(Command::ContactDetail {
            contact: ContactRef::Ghl(ghl_id.clone()),
        })
        .await
        .unwrap();
    let Reply::ContactDetail { detail: by_ghl } = reply else {
        panic!("detail by GHL id: {reply:?}");
    };
    assert_eq!(by_ghl.peer_id.as_deref(), Some(linked_peer_id.as_str()));
    assert_eq!(by_ghl.ghl_id.as_deref(), Some(ghl_id.as_str()));
    assert!(by_ghl.peer.is_some() && by_ghl.ghl.is_some());

    let Reply::Mapping { text, versions, .. } = engine.call(Command::Mapping).await.unwrap() else {
        panic!("mapping");
    };
    assert!(text.contains("[contact]") && versions.is_empty());
    let broken = text.replacen("direction = \"both\"", "direction = \"sideways\"", 1);
    let Reply::MappingChecked { problem } = engine
        .call(Command::MappingCheck {
            text: broken.clone(),
        })
        .await
        .unwrap()
    else {
        panic!("check");
    };
    let problem = problem.expect("a bad direction is reported");
    assert!(
        problem.line.is_some() && problem.message.contains("sideways"),
        "{problem:?}"
    );
    assert!(matches!(
        engine
            .call(Command::SaveMapping { text: broken })
            .await
            .unwrap(),
        Reply::Error { .. }
    ));

    let edited = format!("{text}\n# edited in the console\n");
    let reply = engine
        .call(Command::MappingPreview {
            text: edited.clone(),
            record: RecordRef::Peer(linked_peer_id.clone()),
        })
        .await
        .unwrap();
    let Reply::MappingPreview {
        rows,
        problem,
        direction,
    } = reply
    else {
        panic!("preview");
    };
    assert!(problem.is_none() && !rows.is_empty());
    assert_eq!(direction, Direction::ToGhl);
    assert!(
        rows.iter().any(|row| row.target == "companyName"),
        "{rows:?}"
    );
    // The same contact by its GHL id: GHL's side as it would go to the peer, in the peer's
    // field names.
    let ghl_id = linked.ghl_id.clone().expect("a linked contact");
    let Reply::MappingPreview {
        rows,
        problem,
        direction,
    } = engine
        .call(Command::MappingPreview {
            text: edited.clone(),
            record: RecordRef::Ghl(ghl_id),
        })
        .await
        .unwrap()
    else {
        panic!("preview");
    };
    assert!(problem.is_none(), "{problem:?}");
    assert_eq!(direction, Direction::ToPeer);
    let name = rows
        .iter()
        .find(|row| row.target == "Name")
        .unwrap_or_else(|| panic!("the peer's Name: {rows:?}"));
    assert_eq!(name.source, "companyName");
    assert!(name.after.is_some(), "{name:?}");
    assert!(
        rows.iter().all(|row| row.target != "companyName"),
        "{rows:?}"
    );
    // An id neither side has is the person's problem, not the engine's error.
    let Reply::MappingPreview { problem, .. } = engine
        .call(Command::MappingPreview {
            text: edited.clone(),
            record: RecordRef::Ghl("no-such-contact".into()),
        })
        .await
        .unwrap()
    else {
        panic!("preview");
    };
    let problem = problem.expect("a missing contact is reported");
    assert!(problem.message.contains("no-such-contact"), "{problem:?}");
    assert!(matches!(
        engine
            .call(Command::SaveMapping {
                text: edited.clone()
            })
            .await
            .unwrap(),
        Reply::MappingSaved { version: 1 }
    ));
    let Reply::Mapping { text: now, .. } = engine.call(Command::Mapping).await.unwrap() else {
        panic!("mapping");
    };
    assert_eq!(now, edited, "the saved mapping is in force");
    assert!(matches!(
        engine.call(Command::UndoMapping).await.unwrap(),
        Reply::MappingSaved { version: 2 }
    ));
    let Reply::Mapping {
        text: undone,
        versions,
        ..
    } = engine.call(Command::Mapping).await.unwrap()
    else {
        panic!("mapping");
    };
    assert_eq!(undone, text, "undo goes back to the previous text");
    assert_eq!(versions.len(), 2);
}

/// The engine's detail for `peer_id`.
async fn detail(engine: &ghlsync::engine::EngineHandle, peer_id: &str) -> Box<ContactDetail> {
    let reply = engine
        .call(Command::ContactDetail {
            contact: ContactRef::Peer(peer_id.to_string()),
        })
        .await
        .unwrap();
    let Reply::ContactDetail { detail } = reply else {
        panic!("detail: {reply:?}");
    };
    detail
}

/// §2 "One difference": after a clean run, the detail of every synced contact shows no `≠` row,
/// since it asks the planner's own comparison (`sync::ghl_differences`) — reformatted phones and
/// emails in another case included.
#[tokio::test]
async fn after_a_clean_run_no_synced_contact_shows_a_difference() {
    // The built-in mapping, custom fields and external id included (the harness creates the
    // fields it names in the location, as `mapping check --create-fields` does).
    let s = SyncHarness::start(120).await;
    s.run().await;
    let again = s.run().await;
    assert!(
        !again.run.counts.contains_key("update/ok"),
        "the second run is clean: {:?}",
        again.run.counts
    );
    let engine = engine_over(&s);
    let list = contacts(&engine).await;
    let synced: Vec<String> = list
        .rows
        .iter()
        .filter(|row| row.state == RowState::Synced && row.ghl_id.is_some())
        .filter_map(|row| row.peer_id.clone())
        .collect();
    assert!(synced.len() > 50, "{}", synced.len());
    let (mut checked, mut with_external_id) = (0, 0);
    // Born in the peer: GHL holds every field the mapping writes, custom ones included.
    let mut peer_born = Vec::new();
    for peer_id in &synced {
        let detail = detail(&engine, peer_id).await;
        if detail.peer.is_none() || detail.ghl.is_none() {
            continue;
        }
        checked += 1;
        assert!(
            detail.differences.is_empty(),
            "{peer_id}: {:?}\npeer: {:?}\nghl: {:?}",
            detail.differences,
            detail.peer,
            detail.ghl
        );
        // "GHL now" reads custom fields by their resolved ids: the external id is there.
        let external = detail
            .ghl_now
            .get("customField:key:repsly_code")
            .and_then(|value| value.as_str());
        if external.is_some_and(|code| code == peer_id) {
            with_external_id += 1;
            peer_born.push(peer_id.clone());
        }
    }
    assert!(checked > 50, "{checked} details compared");
    assert!(
        with_external_id * 2 > checked,
        "{with_external_id} of {checked} details show the external id GHL holds"
    );

    // A difference the planner would send is one the detail shows. (A contact born in GHL never
    // received the peer-only custom fields; once out of step, its detail lists those too.)
    let probe = &peer_born[0];
    let before = detail(&engine, probe).await;
    let ghl_id = before.ghl_id.clone().expect("linked");
    s.ctx
        .ghl
        .update_contact(
            &ghl_id,
            &ghlsync::ghl::models::UpdateContactDto {
                city: Some("Nowhere Special".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let after = detail(&engine, probe).await;
    let city_mapped = before
        .preview
        .iter()
        .any(|row| row.target == "city" && row.after.is_some());
    if city_mapped {
        assert_eq!(after.differences, vec!["city".to_string()]);
    }
}

/// An in-process engine over the harness's store and clients (what the console talks to).
fn engine_over(s: &SyncHarness) -> ghlsync::engine::EngineHandle {
    let ctx = ghlsync::sync::SyncContext {
        store: s.ctx.store.clone(),
        ghl: s.ctx.ghl.clone(),
        peer: s.ctx.peer.clone(),
        mapping: s.ctx.mapping.clone(),
        settings: s.ctx.settings.clone(),
        events: None,
    };
    start_in_process(ctx, EngineOptions::default())
}

/// Every contact row, as the console's Contacts screen asks for them.
async fn contacts(engine: &ghlsync::engine::EngineHandle) -> ghlsync::engine::ContactList {
    let Reply::Contacts { list } = engine
        .call(Command::Contacts { limit: None })
        .await
        .unwrap()
    else {
        panic!("contacts");
    };
    list
}
