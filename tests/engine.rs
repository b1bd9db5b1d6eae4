//! The engine behind its handle: the protocol front ends use (in-process transport).

mod common;

use common::sync::SyncHarness;
use ghlsync::engine::{Command, EngineOptions, Event, Reply, start_in_process};
use ghlsync::sync::RunOptions;

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
