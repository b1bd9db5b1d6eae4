//! The failpoint matrix (issue 15, §3; sync-design.md §5.2, T2): at each step of the write path
//! (`ghlsync::failpoint`: intent written, request answered, commit applied, cursor saved) ×
//! each action (crash, error, timeout) × an early and a later pass through the step, the
//! `ghlsync sync` binary is run with that failpoint armed through the scenario's rounds, then
//! fault-free until quiet. Every cell must end where the fault-free scenario ends (the
//! convergence oracle), with the same failed queue and nothing in flight.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use common::binary::{BinaryRig, sync_command, sync_until_quiet};
use common::oracle::{EndState, assert_converged};
use common::scenario::{Reference, queue_summary};
use ghlsync::store::Store;
use std::os::unix::process::ExitStatusExt;

const CONTACTS: usize = 200;
const ROUNDS: usize = 2;
const ACTIONS: [&str; 3] = ["crash", "error", "timeout"];
/// The first pass through a step, and one well into a run (a run saves a few cursors and
/// makes hundreds of writes).
fn hits(site: &str) -> [u32; 2] {
    match site {
        "cursor" => [1, 3],
        _ => [1, 40],
    }
}

/// One cell: the scenario with `site:action:hit` armed in every run of its rounds.
async fn cell(site: &str, action: &str, hit: u32) -> String {
    let h = Harness::start(CONTACTS).await;
    let BinaryRig {
        baseline,
        scenario,
        home,
        config,
        store_path,
    } = BinaryRig::start(&h, ROUNDS).await;
    let mut fired = 0;
    for round in 0..ROUNDS {
        scenario.edit(&h, round).await;
        let out = sync_command(home.path(), &config)
            .env(ghlsync::failpoint::ENV, format!("{site}:{action}:{hit}"))
            .output()
            .await
            .unwrap();
        let killed = out.status.signal() == Some(9);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Opened once per round: sled releases its lock from a background thread after a
        // drop, so reopening at once in this process can find it still held.
        let store = Store::open(&store_path).unwrap();
        let logged = store.log_tail(100_000).unwrap().iter().any(|entry| {
            entry
                .message
                .as_deref()
                .is_some_and(|m| m.contains("test failpoint"))
        });
        fired += usize::from(killed || stderr.contains("test failpoint") || logged);
        if killed && matches!(site, "intent" | "request") {
            // Killed between intent and commit: the store says so.
            assert!(
                !store.operations_in("in_flight").unwrap().is_empty(),
                "{site}:{action}:{hit}: nothing in flight after the kill"
            );
        }
        drop(store);
    }
    sync_until_quiet(&h, home.path(), &config).await;
    let store = Store::open(&store_path).unwrap();
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    let (reference, queue) = Reference::shared(CONTACTS, ROUNDS).await;
    let actual = EndState::capture(&h).await;
    let differences = actual.diff(reference);
    if !differences.is_empty() {
        println!("cell {site}:{action}:{hit}");
        common::scenario::story(&h, &store, &differences).await;
    }
    assert_converged(reference, &actual, &baseline);
    let held = queue_summary(&store);
    assert_eq!(&held, queue, "{site}:{action}:{hit}: the failed queue");
    assert!(
        fired > 0,
        "{site}:{action}:{hit} never fired: the cell proves nothing"
    );
    format!("{site}:{action}:{hit} fired in {fired} of {ROUNDS} runs: 0 dup / 0 loss")
}

async fn row(site: &str) {
    let mut lines = Vec::new();
    for action in ACTIONS {
        for hit in hits(site) {
            lines.push(cell(site, action, hit).await);
        }
    }
    println!("{}", lines.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_after_the_intent_is_written_converges() {
    row("intent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_after_the_request_is_answered_converges() {
    row("request").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_after_the_commit_converges() {
    row("commit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_after_the_cursor_advances_converges() {
    row("cursor").await;
}
