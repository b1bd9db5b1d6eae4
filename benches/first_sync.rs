//! A whole first sync against its floor (issue 17 §4): contacts, tasks, notes and appointments,
//! both directions, the Repsly emulation as the peer, a real sled store in a temp dir, real HTTP
//! over loopback. GHL's ceiling is time-compressed to 100 requests per 1 s (production: per
//! 10 s), so the run can take no less than its GHL requests ÷ 100/s: the floor. The figure is
//! the run's wall time over that floor (goal ≤ 1.1), and the same run with no limit at all.
//!
//!     cargo bench --bench first_sync                     # 2,000 GHL contacts
//!     CONTACTS=500 cargo bench --bench first_sync        # sizes by env var
//!     IMPORT_DELAY_MS=200 cargo bench --bench first_sync # the emulated import job's run time
//!     TIMELINE=1 cargo bench --bench first_sync          # requests per second, GHL and Repsly
//!
//! The GHL client starts from GHL's production assumption (100 per 10 s) and learns the
//! compressed window from the headers, as `ghlsync sync` would. The Repsly peer is paced as the
//! tests pace it (no minimum interval; an import job polled every 5 ms), and the emulation runs
//! each import job `IMPORT_DELAY_MS` after it is started (its default, 50 ms, unless set).

// Bench code: a panic is how it stops (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "shared/repsly_engine.rs"]
mod repsly_engine;
#[path = "shared/sandbox_stats.rs"]
mod stats;

use ghlsync::sandbox::{self, BurstLimit, SandboxOptions};
use ghlsync::sync::{RunOptions, RunReport, run_sync};
use serde_json::{Value, json};
use stats::Stats;
use std::time::{Duration, Instant};
use tokio::runtime::Handle;

/// The compressed ceiling: GHL's 100 per 10 s, ten times faster.
const LIMIT: BurstLimit = BurstLimit {
    max: 100,
    interval: Duration::from_secs(1),
};

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn main() {
    ghlsync::allocator::tune(ghlsync::allocator::Workload::Other);
    let contacts: usize = env("CONTACTS").unwrap_or(2_000);
    // The sandbox on a runtime of its own, as in the sync bench.
    let sandbox_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sandbox")
        .enable_all()
        .build()
        .expect("sandbox runtime");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("engine")
        .enable_all()
        .build()
        .expect("runtime");
    let sandboxes = sandbox_rt.handle().clone();
    println!(
        "first-sync bench: {contacts} GHL contacts, {} cores shared with the sandbox in this process; load {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let limited = runtime.block_on(first_sync(&sandboxes, contacts, Some(LIMIT)));
    let free = runtime.block_on(first_sync(&sandboxes, contacts, None));
    let rate = f64::from(LIMIT.max) / LIMIT.interval.as_secs_f64();
    let floor = limited.ghl_requests as f64 / rate;
    println!();
    println!(
        "first sync against its floor: {} GHL requests ÷ {rate:.0}/s = floor {floor:.1} s; \
         wall {:.1} s = {:.2}× the floor (goal ≤ 1.1); no limit: {:.1} s ({} GHL requests)",
        limited.ghl_requests,
        limited.wall.as_secs_f64(),
        limited.wall.as_secs_f64() / floor.max(1e-9),
        free.wall.as_secs_f64(),
        free.ghl_requests,
    );
    println!("load after: {}", load_average());
}

struct Outcome {
    ghl_requests: u64,
    wall: Duration,
}

async fn first_sync(sandboxes: &Handle, contacts: usize, limit: Option<BurstLimit>) -> Outcome {
    let sandbox = sandboxes
        .spawn(sandbox::start(SandboxOptions {
            contacts,
            rate_limit: limit,
            daily_limit: None,
            ..SandboxOptions::default()
        }))
        .await
        .expect("sandbox task")
        .expect("sandbox starts");
    let http = reqwest::Client::new();
    let admin = |path: &'static str, body: Value| {
        let request = http
            .post(format!("{}/_sandbox/{path}", sandbox.base_url))
            .json(&body);
        async move {
            let response = request.send().await.expect("admin request");
            assert!(response.status().is_success(), "admin {path}");
        }
    };
    if let Some(ms) = env::<u64>("IMPORT_DELAY_MS") {
        admin("repsly/settings", json!({"importDelayMs": ms})).await;
    }
    let engine = repsly_engine::start(&sandbox, env("POLL_MS").unwrap_or(5)).await;
    let ctx = engine.ctx.clone();
    // The counters (and the limit's window) start again from zero after the set-up.
    admin("reset", json!({})).await;
    if let Some(limit) = limit {
        tokio::time::sleep(limit.interval).await;
    }

    let sampler = tokio::spawn(sample(http.clone(), sandbox.base_url.clone()));
    let started = Instant::now();
    // On a worker of the runtime, as the engine runs it.
    let run = tokio::spawn({
        let ctx = ctx.clone();
        async move { run_sync(&ctx, &RunOptions::default()).await }
    });
    let report: RunReport = run
        .await
        .expect("the run's task ends")
        .expect("run completes");
    let wall = started.elapsed();
    sampler.abort();
    let stats = Stats::read(&http, &sandbox.base_url).await;
    let ghl_requests = stats.ghl();
    let repsly_requests = stats.peer();
    let (durable, fsyncs) = ctx.store.group_flush_counts();
    println!();
    match limit {
        Some(limit) => println!(
            "with the GHL limit at {}/{}s (time-compressed):",
            limit.max,
            limit.interval.as_secs()
        ),
        None => println!("with no limit:"),
    }
    println!("   counts: {:?}", report.run.counts);
    println!(
        "   wall {:.1} s | GHL requests {ghl_requests} (429s: {}) | Repsly requests {repsly_requests}",
        wall.as_secs_f64(),
        stats.too_many(),
    );
    if let Some(limit) = limit {
        let rate = f64::from(limit.max) / limit.interval.as_secs_f64();
        let floor = ghl_requests as f64 / rate;
        println!(
            "   floor {floor:.1} s | wall / floor = {:.2} (goal ≤ 1.1)",
            wall.as_secs_f64() / floor.max(1e-9)
        );
    }
    println!("   store: {durable} intents made durable in {fsyncs} fsyncs");
    println!("   GHL requests by route: {}", stats.ghl_routes());
    drop(ctx);
    drop(engine);
    Outcome { ghl_requests, wall }
}

/// Samples `/_sandbox/stats` once a second and prints GHL and Repsly requests per second (only
/// with `TIMELINE`): where GHL's ceiling sits idle.
async fn sample(http: reqwest::Client, base_url: String) {
    if std::env::var_os("TIMELINE").is_none() {
        return;
    }
    let mut last = (0, 0);
    let mut line = String::new();
    for second in 1.. {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let stats = Stats::read(&http, &base_url).await;
        let now = (stats.ghl(), stats.peer());
        line.push_str(&format!(" {}/{}", now.0 - last.0, now.1 - last.1));
        last = now;
        if second % 10 == 0 {
            println!("   t={:>3}s{line}", second - 10);
            line.clear();
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
