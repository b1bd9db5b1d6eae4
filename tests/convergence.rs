//! Integrity under faults, held to the convergence oracle (issue 15, §3): one scenario
//! (`common/scenario.rs`) is run fault-free for the reference end state, then with faults and
//! fault-free runs until quiet; both sides must end equal to the reference (ids aside), with no
//! duplicate beyond the seed's and the same failed queue — the failures the seed's own dirt
//! causes, and nothing a fault left behind.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use common::oracle::{EndState, assert_converged};
use common::scenario::{
    Reference, Scenario, context, ghl_client, queue_summary, run_once, until_quiet,
};
use ghlsync::store::Store;
use serde_json::json;
use std::time::Duration;

const CONTACTS: usize = 300;
const ROUNDS: usize = 3;

/// A sandbox of the scenario's seed, its state before any sync, and a store.
struct Rig {
    h: Harness,
    baseline: EndState,
    scenario: Scenario,
    dir: tempfile::TempDir,
}

impl Rig {
    async fn start() -> Rig {
        let h = Harness::start(CONTACTS).await;
        h.create_mapping_fields(None).await;
        let baseline = EndState::capture(&h).await;
        let scenario = Scenario::plan(&h, ROUNDS).await;
        Rig {
            h,
            baseline,
            scenario,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("store")).unwrap()
    }

    async fn faults(&self, body: serde_json::Value) {
        self.h.admin_post("faults", body).await;
    }

    async fn faults_off(&self) {
        self.faults(json!({"rate": 0.0, "repslyRate": null, "next": []}))
            .await;
    }

    /// Fault-free runs until quiet, then the oracle.
    async fn converges(&self, store: Store) {
        self.faults_off().await;
        let ctx = context(&self.h, store, ghl_client(&self.h, None));
        let runs = until_quiet(&self.h, &ctx).await;
        let (reference, queue) = Reference::shared(CONTACTS, ROUNDS).await;
        let actual = EndState::capture(&self.h).await;
        println!(
            "quiet after {runs} fault-free runs: {}; failed queue {}",
            actual.summary(),
            queue_summary(&ctx.store).len()
        );
        let held = queue_summary(&ctx.store);
        let extra: Vec<_> = held.difference(queue).collect();
        let missing: Vec<_> = queue.difference(&held).collect();
        if !extra.is_empty() || !missing.is_empty() {
            println!(
                "failed queue: {} extra {extra:#?}\n{} missing {missing:#?}",
                extra.len(),
                missing.len()
            );
            for op in ctx.store.failed_queue().unwrap() {
                if extra
                    .iter()
                    .any(|line| line.contains(&format!(" {} ", op.source_id)))
                {
                    println!(
                        "  {} {}: {:?} payload {}",
                        op.kind,
                        op.source_id,
                        op.error.map(|e| e.message),
                        op.payload
                    );
                }
            }
        }
        let differences = actual.diff(reference);
        if !differences.is_empty() || !extra.is_empty() {
            // The story of every record that differs or fails where the reference does not.
            let mut about = differences.clone();
            about.extend(
                extra
                    .iter()
                    .filter_map(|line| line.split(' ').nth(2))
                    .map(|id| format!("repsly:{id}:")),
            );
            common::scenario::story(&self.h, &ctx.store, &about).await;
        }
        assert_converged(reference, &actual, &self.baseline);
        assert!(
            extra.is_empty() && missing.is_empty(),
            "the failed queue holds what the seed causes, and nothing a fault left"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_percent_transient_faults_on_both_sides_converge() {
    let rig = Rig::start().await;
    let ctx = context(&rig.h, rig.store(), ghl_client(&rig.h, None));
    for round in 0..ROUNDS {
        rig.faults_off().await;
        rig.scenario.edit(&rig.h, round).await;
        // 5xx, HTML 502s, answers slower than the client waits, connections dropped before and
        // after the server acted, writes made and then refused with a 422 — on GHL and Repsly.
        rig.faults(json!({
            "rate": 0.3,
            "repslyRate": 0.3,
            "slowMs": 600,
            "kinds": ["status500", "status502", "status503", "html502", "slow", "drop",
                      "dropAfter", "write422", "slowAfter"],
        }))
        .await;
        run_once(&ctx).await;
    }
    let stats = rig.h.stats().await;
    println!("faults injected: {}", stats["faultsInjected"]);
    rig.converges(ctx.store.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_429_converge() {
    let rig = Rig::start().await;
    let ctx = context(&rig.h, rig.store(), ghl_client(&rig.h, None));
    for round in 0..ROUNDS {
        rig.scenario.edit(&rig.h, round).await;
        // A burst of 429s every 300 ms while the run goes.
        let admin = rig.h.http.clone();
        let url = rig.h.url("/_sandbox/limits");
        let bursts = tokio::spawn(async move {
            loop {
                let _ = admin
                    .post(&url)
                    .json(&json!({"throttleForMs": 150}))
                    .send()
                    .await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        run_once(&ctx).await;
        bursts.abort();
    }
    rig.h
        .admin_post("limits", json!({"throttleForMs": 0}))
        .await;
    rig.converges(ctx.store.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_that_expires_mid_run_converges() {
    let rig = Rig::start().await;
    let store = rig.store();
    for round in 0..ROUNDS {
        rig.scenario.edit(&rig.h, round).await;
        // A token that lives a little longer than the GHL listing: it expires in the middle of
        // the writes.
        let (token, _) = rig.h.mint_token(None, None, Some(700)).await;
        let ctx = context(&rig.h, store.clone(), ghl_client(&rig.h, Some(token)));
        run_once(&ctx).await;
    }
    rig.converges(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_down_for_a_minute_converges() {
    let rig = Rig::start().await;
    let ctx = context(&rig.h, rig.store(), ghl_client(&rig.h, None));
    for (round, mode) in ["503", "drop", "503"].into_iter().enumerate() {
        rig.scenario.edit(&rig.h, round).await;
        // The minute, compressed to two seconds: Repsly goes down shortly after the run starts,
        // at a different point each round.
        let admin = rig.h.http.clone();
        let url = rig.h.url("/_sandbox/repsly/settings");
        let outage = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150 * (round as u64 + 1))).await;
            let _ = admin
                .post(&url)
                .json(&json!({"downForMs": 2_000, "downMode": mode}))
                .send()
                .await;
        });
        run_once(&ctx).await;
        outage.await.unwrap();
    }
    // The minute is over: Repsly answers again.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    rig.converges(ctx.store.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_lost_between_rounds_duplicates_nothing() {
    let rig = Rig::start().await;
    for round in 0..ROUNDS {
        rig.scenario.edit(&rig.h, round).await;
        // Each round on a new, empty store: the location already holds everything synced so
        // far, as for anyone who installs ghlsync on a location synced before.
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(
            &rig.h,
            Store::open(&dir.path().join("store")).unwrap(),
            ghl_client(&rig.h, None),
        );
        assert!(run_once(&ctx).await);
    }
    rig.converges(rig.store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_backup_restored_duplicates_nothing() {
    let rig = Rig::start().await;
    let store = rig.store();
    let ctx = context(&rig.h, store.clone(), ghl_client(&rig.h, None));
    rig.scenario.edit(&rig.h, 0).await;
    assert!(run_once(&ctx).await);
    let backup = rig.dir.path().join("round0.jsonl");
    store.backup(&backup).unwrap();
    for round in 1..ROUNDS {
        rig.scenario.edit(&rig.h, round).await;
        assert!(run_once(&ctx).await);
    }
    drop(ctx);
    drop(store);
    // Back to the store as it was after round 0: links, cursors and baselines of later rounds
    // are gone, while GHL and Repsly hold what those rounds wrote.
    let restored = rig.dir.path().join("restored");
    Store::restore(&backup, &restored, ghlsync::store::TrailerCheck::Required).unwrap();
    rig.converges(Store::open(&restored).unwrap()).await;
}
