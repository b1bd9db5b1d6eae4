//! The kill matrix (issue 15, §3; sync-design.md §5.2, T1): the `ghlsync sync` binary is killed
//! with SIGKILL at random points, at least fifty times, during the sync of a location of 4,000
//! GHL contacts (with the overlapping Repsly clients, their notes, tasks and appointments) under
//! a time-compressed rate limit, while the scenario's edits land on both sides between the
//! kills; then it runs fault-free until quiet. The sandbox lives in this process, so it survives
//! every kill.
//!
//! The convergence oracle holds the result to the same scenario run fault-free: both sides
//! equal to the reference (ids aside), no duplicate beyond the seed's, the same failed queue.
//! The store opens after every kill and verifies without damage; nothing is left in flight.

mod common;

use common::Harness;
use common::binary::{BinaryRig, sync_command, sync_until_quiet};
use common::oracle::{EndState, assert_converged};
use common::scenario::{Reference, queue_summary};
use ghlsync::sandbox::{BurstLimit, SandboxOptions};
use ghlsync::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// CI's size; a longer soak sets `GHLSYNC_SOAK_CONTACTS` and `GHLSYNC_SOAK_KILLS`
/// (RELIABILITY.md has the command).
const CONTACTS: usize = 4_000;
const KILLS: usize = 50;
/// A scenario round lands every this many kills.
const KILLS_PER_ROUND: usize = 5;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_sigkills_during_a_4000_contact_sync_end_where_a_fault_free_sync_ends() {
    let started = Instant::now();
    let contacts = setting("GHLSYNC_SOAK_CONTACTS", CONTACTS);
    let kills_wanted = setting("GHLSYNC_SOAK_KILLS", KILLS);
    let rounds = kills_wanted.div_ceil(KILLS_PER_ROUND);
    let max_spawns = kills_wanted * 4;

    // The reference: the same rounds, each followed by a fault-free run, then quiet.
    let reference = Reference::run(contacts, rounds).await;
    let reference_secs = started.elapsed().as_secs_f64();

    // The same location under GHL's limit compressed tenfold (100 requests a second).
    let h = Harness::with_options(SandboxOptions {
        contacts,
        rate_limit: Some(BurstLimit {
            max: 100,
            interval: Duration::from_secs(1),
        }),
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await;
    let BinaryRig {
        baseline,
        scenario,
        home,
        config,
        store_path,
    } = BinaryRig::start(&h, rounds).await;

    let mut rng = StdRng::seed_from_u64(0x6b11_1e57);
    let (mut spawns, mut kills, mut finished, mut round) = (0usize, 0usize, 0usize, 0usize);
    let (mut delays, mut early) = (Vec::new(), 0usize);
    while kills < kills_wanted {
        assert!(
            spawns < max_spawns,
            "only {kills} kills landed in {spawns} runs"
        );
        if kills >= round * KILLS_PER_ROUND && round < rounds {
            scenario.edit(&h, round).await;
            round += 1;
        }
        spawns += 1;
        let mut child = sync_command(home.path(), &config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Anywhere in a run: in its start-up and recovery, its listing, its writes.
        let delay = rng.random_range(50..=2_500);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        match child.try_wait().unwrap() {
            None => {
                child.start_kill().unwrap();
                let status = child.wait().await.unwrap();
                if status.signal() == Some(9) {
                    kills += 1;
                    delays.push(delay);
                } else {
                    assert!(status.success(), "a run after a kill failed: {status}");
                    finished += 1;
                }
            }
            Some(status) => {
                let out = child.wait_with_output().await.unwrap();
                assert!(
                    status.success(),
                    "a run after a kill failed: {status}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                finished += 1;
                early += 1;
            }
        }
        // The store opens after every kill (sled recovers its log) and has no damage.
        let store = Store::open(&store_path)
            .unwrap_or_else(|err| panic!("the store does not open after kill {kills}: {err}"));
        let report = store.verify().unwrap();
        assert!(
            report.damage().next().is_none(),
            "damage after kill {kills}: {:?}",
            report.findings
        );
        drop(store);
    }
    while round < rounds {
        scenario.edit(&h, round).await;
        round += 1;
    }

    // Fault-free runs of the binary until one writes nothing and nothing waits on the ladder.
    let quiet_runs = sync_until_quiet(&h, home.path(), &config).await;

    let store = Store::open(&store_path).unwrap();
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    let report = store.verify().unwrap();
    assert!(
        report.damage().next().is_none(),
        "damage at the end: {:?}",
        report.findings
    );
    let actual = EndState::capture(&h).await;
    let held = queue_summary(&store);
    println!(
        "kill matrix: {kills} SIGKILLs in {spawns} runs ({finished} ended before their kill, \
         {early} before the delay; kill delays {}..{} ms), quiet after {quiet_runs} more runs; \
         {}; failed queue {}; reference {reference_secs:.0} s, total {:.0} s",
        delays.iter().min().unwrap_or(&0),
        delays.iter().max().unwrap_or(&0),
        actual.summary(),
        held.len(),
        started.elapsed().as_secs_f64()
    );
    let differences = actual.diff(&reference.end);
    if !differences.is_empty() {
        println!("faulted:");
        common::scenario::story(&h, &store, &differences).await;
        println!("reference:");
        let reference_store = Store::open(&reference.dir.path().join("store")).unwrap();
        common::scenario::story(&reference.h, &reference_store, &differences).await;
    }
    // The mapping's own duplicates (people whose Repsly `Mobile` is their GHL phone: the
    // default mapping matches by `Phone` only) are in the fault-free run too; a kill may add none.
    let mapping_own = reference.end.duplicates(&baseline);
    println!(
        "the fault-free run's own duplicate groups beyond the seed: {}",
        mapping_own.len()
    );
    assert_converged(&reference.end, &actual, &reference.end);
    let extra: Vec<_> = held.difference(&reference.queue).collect();
    let missing: Vec<_> = reference.queue.difference(&held).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "the failed queue differs from the fault-free run's: extra {extra:#?}, missing {missing:#?}"
    );
}
