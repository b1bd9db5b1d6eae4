//! The control socket: an in-process engine (real sandbox, real sled store) served on a Unix
//! socket in a temp dir, driven by clients that are ordinary `EngineHandle`s.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

mod common;

use bytes::Bytes;
use common::sync::SyncHarness;
use futures::{SinkExt, StreamExt};
use ghlsync::engine::socket::{
    self, PROTOCOL, SocketError,
    frame::{self, ServerFrame},
};
use ghlsync::engine::{Command, EngineHandle, EngineOptions, Event, Reply, start_in_process};
use ghlsync::sync::{RetryMode, RunOptions, Selection, SyncContext};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::broadcast;

/// Long enough for any machine; only a hang ever reaches it.
const PATIENCE: Duration = Duration::from_secs(60);

fn engine_of(s: &SyncHarness) -> EngineHandle {
    let ctx = SyncContext {
        store: s.ctx.store.clone(),
        ghl: s.ctx.ghl.clone(),
        peer: s.ctx.peer.clone(),
        mapping: s.ctx.mapping.clone(),
        settings: s.ctx.settings.clone(),
        events: None,
    };
    start_in_process(ctx, EngineOptions::default())
}

/// Where `default_path` puts instance `name` when `XDG_RUNTIME_DIR` is `runtime`.
fn socket_in(runtime: &Path, name: &str) -> PathBuf {
    runtime.join("ghlsync").join(format!("{name}.sock"))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The next event that `pick` accepts, skipping others.
async fn next_event<T>(
    events: &mut broadcast::Receiver<Event>,
    mut pick: impl FnMut(Event) -> Option<T>,
) -> T {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(err) => panic!("events ended: {err}"),
            }
        }
    })
    .await
    .expect("the event came")
}

#[tokio::test]
async fn two_clients_share_a_service_and_reconnect_after_it_restarts() {
    let s = SyncHarness::start(60).await;
    let engine = engine_of(&s);
    let runtime = tempfile::tempdir().unwrap();
    let path = socket_in(runtime.path(), "acme");
    let server = socket::serve(engine.clone(), &path, "acme").await.unwrap();
    assert_eq!(mode(path.parent().unwrap()), 0o700, "the folder is 0700");
    assert_eq!(mode(&path), 0o600, "the socket is 0600");

    let (a, info) = socket::attach(&path).await.unwrap();
    assert_eq!(info.instance, "acme");
    assert_eq!(info.pid, std::process::id());
    assert_eq!(
        info.to_string(),
        format!("ghlsync run acme (pid {})", info.pid)
    );
    let b = socket::connect(&path).await.unwrap();
    let mut b_live = b.subscribe();

    // A syncs; B reads the live log of that run.
    let Reply::Run { report } = a
        .call(Command::Sync {
            options: RunOptions::default(),
        })
        .await
        .unwrap()
    else {
        panic!("a run report");
    };
    assert!(report.run.counts.values().sum::<u64>() > 0, "{report:?}");
    let Reply::Log { entries } = b.call(Command::LogTail { limit: 10_000 }).await.unwrap() else {
        panic!("the log");
    };
    let last = entries.last().expect("the run logged").clone();
    let seen = next_event(&mut b_live, |event| match event {
        Event::Log { entry } if entry.at == last.at && entry.peer_id == last.peer_id => Some(entry),
        _ => None,
    })
    .await;
    assert_eq!(
        seen.op_id, last.op_id,
        "B saw A's run live, to its last entry"
    );

    // Status and failures over the socket, from B.
    let Reply::Status { status } = b.call(Command::Status).await.unwrap() else {
        panic!("status");
    };
    assert_eq!(status.last_runs.len(), 1, "A's run");
    assert_eq!(status.peer, "repsly");
    let Reply::FailedQueue { operations } = b.call(Command::FailedQueue).await.unwrap() else {
        panic!("the failed queue");
    };
    let failure = operations
        .first()
        .expect("the seed's dirty records fail")
        .id;

    // A retries one failure; the answer names it.
    let Reply::Retried { report } = a
        .call(Command::Retry {
            selection: Selection::Ids(vec![failure]),
            mode: RetryMode::CurrentMapping,
        })
        .await
        .unwrap()
    else {
        panic!("a retry report");
    };
    let named = report
        .succeeded
        .iter()
        .chain(&report.failed)
        .chain(&report.not_claimed)
        .any(|id| *id == failure);
    assert!(named, "{report:?}");

    // A client's Shutdown ends its own connection, never the service.
    assert!(matches!(a.call(Command::Shutdown).await, Ok(Reply::Done)));
    assert!(a.call(Command::Status).await.is_err(), "A is closed");
    assert!(matches!(
        b.call(Command::Status).await,
        Ok(Reply::Status { .. })
    ));

    // The service goes away: B is told, its calls fail with a transient error, and when the
    // service is back B reconnects by itself.
    server.close();
    assert!(!path.exists(), "close removes the socket file");
    let lost = next_event(&mut b_live, |event| match event {
        Event::Connection { connected, message } => Some((connected, message)),
        _ => None,
    })
    .await;
    assert!(!lost.0, "{lost:?}");
    assert!(lost.1.contains("service lost"), "{}", lost.1);
    match b.call(Command::Status).await.unwrap() {
        Reply::Error { class, message } => {
            assert_eq!(class, "transient");
            assert!(message.contains("reconnecting"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let _server = socket::serve(engine.clone(), &path, "acme").await.unwrap();
    let back = next_event(&mut b_live, |event| match event {
        Event::Connection { connected, message } => Some((connected, message)),
        _ => None,
    })
    .await;
    assert!(back.0, "{back:?}");
    assert!(
        back.1.contains("reconnected to ghlsync run acme"),
        "{}",
        back.1
    );
    assert!(matches!(
        b.call(Command::Status).await,
        Ok(Reply::Status { .. })
    ));
}

#[tokio::test]
async fn stale_sockets_are_replaced_live_ones_and_open_folders_refused() {
    let s = SyncHarness::start(5).await;
    let engine = engine_of(&s);
    let runtime = tempfile::tempdir().unwrap();
    let path = socket_in(runtime.path(), "acme");
    std::fs::create_dir(path.parent().unwrap()).unwrap();
    std::fs::set_permissions(
        path.parent().unwrap(),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();

    // A service that died left its socket: nothing answers, so it is replaced.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    assert!(matches!(
        socket::connect(&path).await,
        Err(SocketError::NotRunning { .. })
    ));
    let server = socket::serve(engine.clone(), &path, "acme").await.unwrap();
    assert!(socket::connect(&path).await.is_ok(), "the new one answers");

    // A live one is not taken over: the error names who holds it.
    let err = socket::serve(engine.clone(), &path, "other")
        .await
        .err()
        .expect("refused");
    let message = err.to_string();
    assert!(
        matches!(&err, SocketError::InUse { instance, pid, .. } if instance == "acme" && *pid == std::process::id()),
        "{message}"
    );
    assert!(message.contains("already serves"), "{message}");
    drop(server);
    assert!(!path.exists(), "dropping the server removes its socket");

    // A folder others can enter is refused with the fix.
    let open = runtime.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = socket::serve(engine.clone(), &open.join("x.sock"), "x")
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains(&format!("chmod 700 {}", open.display())),
        "{err}"
    );
}

#[tokio::test]
async fn another_protocol_version_is_refused_naming_both() {
    let s = SyncHarness::start(5).await;
    let runtime = tempfile::tempdir().unwrap();
    let path = socket_in(runtime.path(), "acme");
    let _server = socket::serve(engine_of(&s), &path, "acme").await.unwrap();

    let refusal = |hello: &'static [u8]| {
        let path = path.clone();
        async move {
            let stream = tokio::net::UnixStream::connect(&path).await.unwrap();
            let mut wire = tokio_util::codec::Framed::new(stream, frame::codec());
            wire.send(Bytes::from_static(hello)).await.unwrap();
            let bytes = wire.next().await.unwrap().unwrap();
            let frame: ServerFrame = frame::decode(&bytes).unwrap();
            let ServerFrame::Refused { reason } = frame else {
                panic!("refused, not {frame:?}");
            };
            // And the server hangs up.
            assert!(wire.next().await.is_none());
            reason
        }
    };
    let reason = refusal(br#"{"frame":"hello","protocol":99,"version":"9.0.0"}"#).await;
    assert!(
        reason.contains(&format!("protocol {PROTOCOL}")) && reason.contains("speaks 99"),
        "{reason}"
    );
    assert!(reason.contains("same release"), "{reason}");
    let reason =
        refusal(br#"{"frame":"call","envelope":{"id":1,"command":{"command":"status"}}}"#).await;
    assert!(reason.contains("hello"), "{reason}");
}

#[tokio::test]
async fn two_instances_with_their_own_stores_are_listed_by_their_sockets() {
    let (one, two) = tokio::join!(SyncHarness::start(10), SyncHarness::start(10));
    let runtime = tempfile::tempdir().unwrap();
    let alpha = socket_in(runtime.path(), "alpha");
    let beta = socket_in(runtime.path(), "beta");
    let _alpha = socket::serve(engine_of(&one), &alpha, "alpha")
        .await
        .unwrap();
    let _beta = socket::serve(engine_of(&two), &beta, "beta").await.unwrap();
    // A third that died.
    drop(std::os::unix::net::UnixListener::bind(socket_in(runtime.path(), "gamma")).unwrap());

    let found = socket::paths::list_in(&runtime.path().join("ghlsync"))
        .await
        .unwrap();
    let summary: Vec<(&str, bool)> = found.iter().map(|i| (i.name.as_str(), i.alive)).collect();
    assert_eq!(summary, [("alpha", true), ("beta", true), ("gamma", false)]);

    // Each answers from its own store.
    let mut stores = Vec::new();
    for instance in found.iter().filter(|i| i.alive) {
        let (client, info) = socket::attach(&instance.path).await.unwrap();
        assert_eq!(info.instance, instance.name);
        let Reply::Status { status } = client.call(Command::Status).await.unwrap() else {
            panic!("status");
        };
        stores.push(status.store_path);
    }
    assert_eq!(stores.len(), 2);
    assert_ne!(stores[0], stores[1], "separate stores");
}

#[tokio::test]
async fn the_cli_attaches_to_a_running_service_and_says_why_when_it_cannot() {
    let s = SyncHarness::start(10).await;
    let home = tempfile::tempdir().unwrap();
    let config = common::binary::write_config(&s.h, home.path(), "");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[service]\ninstance = \"acme\"\n");
    std::fs::write(&config, text).unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let path = socket_in(runtime.path(), "acme");
    let server = socket::serve(engine_of(&s), &path, "acme").await.unwrap();
    let served_store = s.ctx.store.path().display().to_string();
    let ghlsync = |args: &[&str]| {
        let mut command = common::binary::isolated(home.path(), &["--config"]);
        command
            .arg(&config)
            .args(args)
            .env("XDG_RUNTIME_DIR", runtime.path());
        command
    };
    let attached = format!("attached to ghlsync run acme (pid {})", std::process::id());

    // `sync` runs in the service (its store, not the config's).
    let out = ghlsync(&["sync", "--json"]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&attached), "{stderr}");
    assert_eq!(
        s.ctx.store.runs(10).unwrap().len(),
        1,
        "the service's store ran it"
    );

    let out = ghlsync(&["status", "--json"]).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["store_path"], served_store.as_str());

    let out = ghlsync(&["log", "--json", "--limit", "3"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);

    let out = ghlsync(&["failures", "list", "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows.as_array().map(Vec::len),
        Some(s.ctx.store.failed_queue().unwrap().len())
    );

    // The service died (its socket is left, nothing answers) but something holds the store:
    // the error says both.
    server.close();
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let _held = ghlsync::store::Store::open(&home.path().join("store")).unwrap();
    let out = ghlsync(&["status"]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("is in use by"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "its control socket {} did not answer",
            path.display()
        )),
        "{stderr}"
    );
}
