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

use ghlsync::ghl::{AuthSettings, ClientSettings, GhlClient};
use ghlsync::peers::repsly::{RepslyPeer, RepslySettings};
use ghlsync::sandbox::{self, BurstLimit, SandboxOptions};
use ghlsync::store::Store;
use ghlsync::sync::mapping::Mapping;
use ghlsync::sync::{RunOptions, RunReport, SyncContext, SyncSettings, run_sync};
use serde_json::{Value, json};
use std::sync::Arc;
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
    let ghl = GhlClient::new(ClientSettings::new(
        sandbox.base_url.clone(),
        sandbox.location_id.clone(),
        AuthSettings::PrivateToken(sandbox.token.clone()),
    ))
    .expect("client");
    let mapping = Mapping::builtin("repsly").expect("built-in mapping");
    // The location's set-up, as `mapping check --create-fields` does it; then the counters (and
    // the limit's window) start again from zero.
    ghlsync::sync::mapping::create_missing_fields(&mapping, &ghl)
        .await
        .expect("the mapping's custom fields are created");
    admin("reset", json!({})).await;
    if let Some(limit) = limit {
        tokio::time::sleep(limit.interval).await;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = Arc::new(SyncContext {
        store: Store::open(&dir.path().join("store")).expect("store opens"),
        ghl,
        peer: Arc::new(
            RepslyPeer::new(RepslySettings {
                base_url: sandbox.repsly_base_url.clone(),
                username: sandbox.repsly_username.clone(),
                password: sandbox.repsly_password.clone(),
                min_request_interval_ms: 0,
                import_poll_interval_ms: env("POLL_MS").unwrap_or(5),
                ..RepslySettings::default()
            })
            .expect("repsly peer"),
        ),
        mapping,
        settings: SyncSettings::default(),
        events: None,
    });

    let sampler = tokio::spawn(sample(
        http.clone(),
        format!("{}/_sandbox/stats", sandbox.base_url),
    ));
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
    let stats = Stats(
        http.get(format!("{}/_sandbox/stats", sandbox.base_url))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats json"),
    );
    let ghl_requests = stats.ghl();
    let repsly_requests = stats.total() - ghl_requests;
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
    Outcome { ghl_requests, wall }
}

/// Samples `/_sandbox/stats` once a second and prints GHL and Repsly requests per second (only
/// with `TIMELINE`): where GHL's ceiling sits idle.
async fn sample(http: reqwest::Client, url: String) {
    if std::env::var_os("TIMELINE").is_none() {
        return;
    }
    let mut last = (0, 0);
    let mut line = String::new();
    for second in 1.. {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let Ok(response) = http.get(&url).send().await else {
            return;
        };
        let Ok(stats) = response.json::<Value>().await else {
            return;
        };
        let stats = Stats(stats);
        let now = (stats.ghl(), stats.total() - stats.ghl());
        line.push_str(&format!(" {}/{}", now.0 - last.0, now.1 - last.1));
        last = now;
        if second % 10 == 0 {
            println!("   t={:>3}s{line}", second - 10);
            line.clear();
        }
    }
}

/// A `/_sandbox/stats` answer.
struct Stats(Value);

impl Stats {
    fn rows(&self) -> impl Iterator<Item = &Value> {
        self.0["requests"].as_array().into_iter().flatten()
    }

    fn where_(&self, keep: impl Fn(&Value) -> bool) -> u64 {
        self.rows()
            .filter(|r| keep(r))
            .filter_map(|r| r["count"].as_u64())
            .sum()
    }

    fn is_ghl(row: &Value) -> bool {
        !row["route"].as_str().unwrap_or("").starts_with("/repsly/")
    }

    fn ghl(&self) -> u64 {
        self.where_(Stats::is_ghl)
    }

    fn too_many(&self) -> u64 {
        self.where_(|r| r["status"] == 429)
    }

    fn total(&self) -> u64 {
        self.where_(|_| true)
    }

    fn ghl_routes(&self) -> String {
        let mut routes: std::collections::BTreeMap<String, u64> = Default::default();
        for row in self.rows().filter(|r| Stats::is_ghl(r)) {
            let key = format!(
                "{} {}",
                row["method"].as_str().unwrap_or(""),
                row["route"].as_str().unwrap_or("")
            );
            *routes.entry(key).or_default() += row["count"].as_u64().unwrap_or(0);
        }
        routes
            .iter()
            .map(|(route, n)| format!("{route} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
