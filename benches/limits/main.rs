//! The figures against GHL's limits, side by side with the naive way, in one run (issue 20 §4).
//!
//!     cargo bench --bench limits                          # every section
//!     SECTIONS=ceiling,requests cargo bench --bench limits
//!     CALLS=2000 WORKERS=8 cargo bench --bench limits     # section 1's size
//!     REQUEST_CONTACTS=2000 cargo bench --bench limits    # section 2's size
//!     CONTACTS=10000 cargo bench --bench limits           # section 3's size
//!
//! 1. `ceiling`: how much of GHL's ceiling a client gets, and how many 429s it draws: ghlsync's
//!    client and a naive one (what GHL's SDK and n8n do: send, and back off exponentially on 429).
//! 2. `requests`: GHL requests per contact — a first sync, a run with 1 % changed, a change by
//!    webhook — and the naive poller that writes every record on every run.
//! 3. `first_sync`: the release `ghlsync sync` of every emulated peer over CONTACTS contacts with
//!    their children, wall time against the floor its GHL requests set.
//!
//! GHL's limit (100 requests per 10 s per location) is time-compressed to 100 per 1 s. The other
//! figures of issue 20 §4 (100,000 contacts, idle CPU, locations per host) come from the
//! `console`, `service` and `locations` benches; `bash benches/figures` runs them all and prints
//! every figure in one table.

// Bench code: a panic is how it stops (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ceiling;
mod first_sync;
#[path = "../shared/ghlsync_process.rs"]
mod ghlsync_process;
mod naive;
#[path = "../shared/repsly_engine.rs"]
mod repsly_engine;
mod requests;
#[path = "../shared/sandbox_stats.rs"]
mod stats;

use ghlsync::sandbox::BurstLimit;
use std::time::Duration;

/// GHL's 100 per 10 s, ten times faster.
const LIMIT: BurstLimit = BurstLimit {
    max: 100,
    interval: Duration::from_secs(1),
};

/// One row of the side-by-side table.
pub struct Figure {
    name: String,
    ghlsync: String,
    naive: String,
    goal: String,
}

impl Figure {
    fn new(name: &str, ghlsync: String, naive: String, goal: &str) -> Figure {
        Figure {
            name: name.to_string(),
            ghlsync,
            naive,
            goal: goal.to_string(),
        }
    }
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn main() {
    ghlsync::allocator::tune(ghlsync::allocator::Workload::Other);
    let sections =
        std::env::var("SECTIONS").unwrap_or_else(|_| "ceiling,requests,first_sync".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "limits bench: GHL's limit at {}/{}s (time-compressed ×10), {} cores, load {}",
        LIMIT.max,
        LIMIT.interval.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let mut figures = Vec::new();
    for section in sections.split(',').map(str::trim) {
        println!();
        println!("== {section}");
        figures.extend(match section {
            "ceiling" => runtime.block_on(ceiling::measure(
                env("CALLS").unwrap_or(2_000),
                env("WORKERS").unwrap_or(8),
            )),
            "requests" => {
                runtime.block_on(requests::measure(env("REQUEST_CONTACTS").unwrap_or(2_000)))
            }
            "first_sync" => {
                runtime.block_on(first_sync::measure(env("CONTACTS").unwrap_or(10_000)))
            }
            other => panic!("SECTIONS: unknown section {other:?} (ceiling, requests, first_sync)"),
        });
    }
    println!();
    println!("load after: {}", load_average());
    println!();
    println!("| figure | ghlsync | naive client | goal |");
    println!("| --- | --- | --- | --- |");
    for f in &figures {
        println!("| {} | {} | {} | {} |", f.name, f.ghlsync, f.naive, f.goal);
    }
    // One line per figure for `benches/figures`, which gathers every bench's.
    for f in &figures {
        println!("FIGURE|{}|{}|{}|{}", f.name, f.ghlsync, f.naive, f.goal);
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
