//! The sync engine's throughput and request economy against the sandbox (GHL and Repsly over
//! loopback, a real sled store in a temp dir). Contacts only, peer → GHL (`contacts.to_peer`
//! off), so every GHL write is one Repsly client arriving.
//!
//!     cargo bench --bench sync                  # defaults: 10,000 contacts, 1,500 rate-limited
//!     cargo bench --bench sync -- 20000 3000    # CONTACTS LIMITED_CONTACTS
//!     LANES=1 cargo bench --bench sync          # records written one at a time (default 50 lanes)
//!
//! Three measurements (issue 3's targets in brackets):
//! 1. initial import, sandbox limits off: engine throughput [≥ 3,000 contacts/s: "the engine is
//!    never the bottleneck"] and GHL writes per contact written [1.0];
//! 2. incremental run after 1 % of the Repsly clients changed: GHL requests per unchanged
//!    contact [0]; reads reported apart (`GET /contacts/` is 1 per 100 contacts by design);
//! 3. initial import with a time-compressed GHL limit (100 per 1 s): the fraction of the ceiling
//!    reached during the write phase [≥ 0.95] and the 429 count.
//!
//! The sandbox runs in this process and shares the machine's cores with the engine, so the
//! figures are a floor for the engine and a ceiling for nothing.

// Bench code: a panic is how it stops (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ghlsync::ghl::{AuthSettings, ClientSettings, GhlClient};
use ghlsync::peers::EntityKind;
use ghlsync::peers::repsly::{RepslyPeer, RepslySettings};
use ghlsync::sandbox::{self, BurstLimit, RunningSandbox, SandboxOptions};
use ghlsync::store::{Action, LogEntry, Outcome, Store};
use ghlsync::sync::mapping::Mapping;
use ghlsync::sync::{RunOptions, RunReport, SyncContext, SyncSettings, run_sync};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::broadcast;

fn main() {
    // As `ghlsync sync` does before its threads start.
    ghlsync::allocator::tune(ghlsync::allocator::Workload::Other);
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let contacts: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let limited: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_500);
    // The sandbox gets its own runtime (threads named "sandbox"), so the process's CPU time can
    // be split between the engine (everything else) and the emulated APIs.
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
        "sync bench: {} cores; the sandbox (GHL + Repsly) runs in this process and shares them",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    runtime.block_on(unlimited(&sandboxes, contacts));
    runtime.block_on(rate_limited(&sandboxes, limited));
}

struct Bench {
    sandbox: RunningSandbox,
    http: reqwest::Client,
    /// Shared with the run's task: the run is spawned onto the runtime, as the engine does.
    ctx: std::sync::Arc<SyncContext>,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn start(sandboxes: &Handle, options: SandboxOptions) -> Bench {
        let sandbox = sandboxes
            .spawn(sandbox::start(options))
            .await
            .expect("sandbox task")
            .expect("sandbox starts");
        let http = reqwest::Client::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("store")).expect("store opens");
        // Production settings: the client starts from GHL's 100 per 10 s and learns the rest.
        let ghl = GhlClient::new(ClientSettings::new(
            sandbox.base_url.clone(),
            sandbox.location_id.clone(),
            AuthSettings::PrivateToken(sandbox.token.clone()),
        ))
        .expect("client");
        let peer = RepslyPeer::new(RepslySettings {
            base_url: sandbox.repsly_base_url.clone(),
            username: sandbox.repsly_username.clone(),
            password: sandbox.repsly_password.clone(),
            min_request_interval_ms: 0,
            import_poll_interval_ms: 5,
            ..RepslySettings::default()
        })
        .expect("repsly peer");
        let mut settings = SyncSettings::default();
        settings.contacts.to_peer = false;
        if let Some(lanes) = std::env::var("LANES").ok().and_then(|l| l.parse().ok()) {
            settings.lanes = lanes;
        }
        let ctx = SyncContext {
            store,
            ghl,
            peer: Arc::new(peer),
            mapping: Mapping::builtin("repsly").expect("built-in mapping"),
            settings,
            events: None,
        };
        let bench = Bench {
            sandbox,
            http,
            ctx: std::sync::Arc::new(ctx),
            _dir: dir,
        };
        bench
            .admin("repsly/settings", json!({"importDelayMs": 0}))
            .await;
        bench
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/_sandbox/{path}", self.sandbox.base_url))
            .json(&body)
            .send()
            .await
            .expect("admin request");
        assert!(response.status().is_success(), "admin {path}");
        response.json().await.unwrap_or(Value::Null)
    }

    async fn stats(&self) -> Stats {
        let stats: Value = self
            .http
            .get(format!("{}/_sandbox/stats", self.sandbox.base_url))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats json");
        Stats(stats)
    }

    async fn run(&self) -> RunReport {
        // On a worker of the runtime, as the engine runs it (`engine::handle` is spawned), not on
        // the thread blocked in `block_on`.
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            run_sync(
                &ctx,
                &RunOptions {
                    entities: vec![EntityKind::Contact],
                    ..RunOptions::default()
                },
            )
            .await
        })
        .await
        .expect("the run's task ends")
        .expect("run completes")
    }
}

/// The bench's context, to change between runs (no run holds it then).
fn context(b: &mut Bench) -> &mut SyncContext {
    std::sync::Arc::get_mut(&mut b.ctx).expect("no run holds the context between runs")
}

/// A `/_sandbox/stats` answer.
struct Stats(Value);

impl Stats {
    fn rows(&self) -> impl Iterator<Item = &Value> {
        self.0["requests"].as_array().into_iter().flatten()
    }

    fn count(&self, method: &str, route: &str) -> u64 {
        self.rows()
            .filter(|r| r["method"] == method && r["route"] == route)
            .filter_map(|r| r["count"].as_u64())
            .sum()
    }

    fn where_(&self, keep: impl Fn(&Value) -> bool) -> u64 {
        self.rows()
            .filter(|r| keep(r))
            .filter_map(|r| r["count"].as_u64())
            .sum()
    }

    fn ghl_writes(&self) -> u64 {
        self.count("POST", "/contacts/upsert") + self.count("PUT", "/contacts/:contactId")
    }

    fn ghl(&self, method_is_get: bool) -> u64 {
        self.where_(|r| {
            !r["route"].as_str().unwrap_or("").starts_with("/repsly/")
                && (r["method"] == "GET") == method_is_get
        })
    }

    fn too_many(&self) -> u64 {
        self.where_(|r| r["status"] == 429)
    }

    fn total(&self) -> u64 {
        self.where_(|_| true)
    }
}

fn count(report: &RunReport, key: &str) -> u64 {
    report.run.counts.get(key).copied().unwrap_or(0)
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

async fn unlimited(sandboxes: &Handle, contacts: usize) {
    let b = Bench::start(
        sandboxes,
        SandboxOptions {
            contacts,
            rate_limit: None,
            daily_limit: None,
            ..SandboxOptions::default()
        },
    )
    .await;
    let info: Value = b
        .http
        .get(format!("{}/_sandbox/repsly/info", b.sandbox.base_url))
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("info json");
    let clients = info["counts"]["clients"].as_u64().unwrap_or(0);

    let before_import = b.stats().await;

    // 1. Initial import.
    let cpu_before = cpu_seconds();
    let (durable_before, fsyncs_before) = b.ctx.store.group_flush_counts();
    let started = Instant::now();
    let report = b.run().await;
    let elapsed = started.elapsed();
    let cpu_after = cpu_seconds();
    let (durable_after, fsyncs_after) = b.ctx.store.group_flush_counts();
    let stats = b.stats().await;
    let created = count(&report, "create/ok");
    // A Repsly client whose GHL twin exists already is written by one update (or linked
    // without a request when the twin holds its fields already).
    let written = created + count(&report, "update/ok");
    let processed: u64 = report.run.counts.values().sum();
    let writes = stats.ghl_writes() - before_import.ghl_writes();
    let requests = stats.total() - before_import.total();
    println!();
    println!(
        "1. initial import, limits off: {contacts} GHL contacts, {clients} Repsly clients, contacts only, peer -> GHL"
    );
    println!("   counts: {:?}", report.run.counts);
    println!(
        "   wall {:.2} s | {processed} contacts processed = {:.0} contacts/s (target >= 3,000/s)",
        elapsed.as_secs_f64(),
        processed as f64 / elapsed.as_secs_f64()
    );
    println!(
        "   {created} created = {:.0} created/s | {requests} requests (GHL + Repsly) = {:.0} req/s | {:.3} ms per created contact",
        created as f64 / elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / created.max(1) as f64
    );
    println!(
        "   GHL writes {writes} (upsert {} + PUT {}) / {written} contacts written ({created} created) = {:.3} per contact written (target 1.0)",
        stats.count("POST", "/contacts/upsert") - before_import.count("POST", "/contacts/upsert"),
        stats.count("PUT", "/contacts/:contactId")
            - before_import.count("PUT", "/contacts/:contactId"),
        ratio(writes, written)
    );
    println!(
        "   reads: GHL GET {} (GET /contacts/ {}), Repsly GET {}",
        stats.ghl(true) - before_import.ghl(true),
        stats.count("GET", "/contacts/"),
        stats
            .where_(|r| r["method"] == "GET"
                && r["route"].as_str().unwrap_or("").starts_with("/repsly/"))
    );

    // Where the import's time went. CPU: the sandbox's threads against the rest of the process
    // (the engine, its HTTP client, sled and its IO threads). Intents wait for a flush, shared by
    // the writes in flight at the time (group flush): counted below.
    let sandbox_cpu = cpu_after.sandbox - cpu_before.sandbox;
    let engine_cpu = cpu_after.rest - cpu_before.rest;
    let sled_io_cpu = cpu_after.sled_io - cpu_before.sled_io;
    let per_contact = |cpu: f64| cpu * 1000.0 / processed.max(1) as f64;
    println!(
        "   where the import's {:.1} s went: sandbox CPU {sandbox_cpu:.1} s ({:.3} ms per contact), \
         engine CPU {engine_cpu:.1} s ({:.3} ms per contact, of which sled's IO threads {:.3})",
        elapsed.as_secs_f64(),
        per_contact(sandbox_cpu),
        per_contact(engine_cpu),
        per_contact(sled_io_cpu),
    );
    let durable = durable_after - durable_before;
    let fsyncs = fsyncs_after - fsyncs_before;
    println!(
        "   intents made durable {durable} with {fsyncs} fsyncs ({:.2} writes per fsync)",
        ratio(durable, fsyncs)
    );
    println!(
        "   engine throughput per CPU-second: {:.0} contacts/s (target >= 3,000/s); \
         wall-clock with the sandbox on the same cores: {:.0} contacts/s",
        processed as f64 / engine_cpu.max(1e-9),
        processed as f64 / elapsed.as_secs_f64()
    );

    // 2. Incremental: 1 % of the Repsly clients change.
    let peer = b.ctx.peer_name().to_string();
    let linked: Vec<String> = b
        .ctx
        .store
        .links(&peer, EntityKind::Contact)
        .expect("links")
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    let changed = (linked.len() / 100).max(1);
    let step = linked.len() / changed;
    for (i, code) in linked.iter().step_by(step).take(changed).enumerate() {
        b.admin(
            "repsly/clients",
            json!({"Code": code, "City": format!("Benchville {i}")}),
        )
        .await;
    }
    let before = b.stats().await;
    let started = Instant::now();
    let report = b.run().await;
    let elapsed = started.elapsed();
    let after = b.stats().await;
    let writes = after.ghl_writes() - before.ghl_writes();
    let updated = count(&report, "update/ok") + count(&report, "update/conflict");
    let unchanged = linked.len() as u64 - changed as u64;
    let extra = writes.saturating_sub(changed as u64);
    let ghl_reads = after.ghl(true) - before.ghl(true);
    let ghl_contacts = after.0["contacts"].as_u64().unwrap_or(0);
    let list_pages = after.count("GET", "/contacts/") - before.count("GET", "/contacts/");
    println!();
    println!(
        "2. incremental run, {changed} of {} linked Repsly clients changed (1 %)",
        linked.len()
    );
    println!("   counts: {:?}", report.run.counts);
    for op in b.ctx.store.failed_queue().expect("failed queue") {
        if op.run_id == Some(report.run.id) {
            let error = op.error.map(|e| e.message).unwrap_or_default();
            println!("   failed: {} {error}", op.source_id);
        }
    }
    println!(
        "   wall {:.3} s | GHL writes {writes} for {changed} changed ({updated} updated)",
        elapsed.as_secs_f64()
    );
    println!(
        "   GHL writes per unchanged contact: ({writes} - {changed}) / {unchanged} = {:.4} (target 0)",
        ratio(extra, unchanged)
    );
    println!(
        "   reads: GHL GET {ghl_reads} (GET /contacts/ pages {list_pages} for {ghl_contacts} GHL contacts = 1 per {:.0}), Repsly GET {}",
        ghl_contacts as f64 / list_pages.max(1) as f64,
        (after.total() - before.total()) - (after.ghl(true) - before.ghl(true)) - writes
    );
}

async fn rate_limited(sandboxes: &Handle, target: usize) {
    let limit = BurstLimit {
        max: 100,
        interval: Duration::from_secs(1),
    };
    // The Repsly seed overlaps part of the GHL seed and adds its own clients; size the GHL seed
    // so Repsly holds at least `target` clients.
    let b = Bench::start(
        sandboxes,
        SandboxOptions {
            contacts: target * 2,
            rate_limit: Some(limit),
            daily_limit: None,
            ..SandboxOptions::default()
        },
    )
    .await;
    let (events, mut rx) = broadcast::channel::<LogEntry>(1 << 16);
    let mut b = b;
    context(&mut b).events = Some(events);
    let collector = tokio::spawn(async move {
        let mut writes: Vec<chrono::DateTime<chrono::Utc>> = Vec::new();
        while let Ok(entry) = rx.recv().await {
            if matches!(entry.action, Action::Create | Action::Update)
                && matches!(entry.outcome, Outcome::Ok | Outcome::Conflict)
            {
                writes.push(entry.at);
            }
        }
        writes
    });
    // Start from a fresh window.
    tokio::time::sleep(limit.interval).await;
    let started = Instant::now();
    let report = b.run().await;
    let elapsed = started.elapsed();
    let stats = b.stats().await;
    context(&mut b).events = None;
    let times = collector.await.expect("collector");
    let created = count(&report, "create/ok");
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        println!("3. rate limited: no writes");
        return;
    };
    // n writes committed between the first and the last commit span n - 1 intervals.
    let rate = limit.max as f64 / limit.interval.as_secs_f64();
    let phase = (*last - *first).num_microseconds().unwrap_or(0) as f64 / 1e6;
    let achieved = (times.len().saturating_sub(1)) as f64 / phase.max(1e-9);
    let ghl_requests = stats.ghl(true) + stats.ghl(false);
    println!();
    println!(
        "3. initial import with the GHL limit on ({}/{}s, time-compressed), contacts only",
        limit.max,
        limit.interval.as_secs()
    );
    println!("   counts: {:?}", report.run.counts);
    println!(
        "   {created} created in {:.1} s total; write phase {} writes in {phase:.1} s = {achieved:.1} writes/s",
        elapsed.as_secs_f64(),
        times.len()
    );
    println!(
        "   fraction of the ceiling in the write phase: {:.3} (target >= 0.95) | 429s: {} of {ghl_requests} GHL requests",
        achieved / rate,
        stats.too_many()
    );
    let per_write = phase * 1000.0 / times.len() as f64;
    println!("   {per_write:.1} ms per write");
}

struct Cpu {
    sandbox: f64,
    /// Of the rest: sled's IO threads ("sled-io-…"), alive at the time of reading.
    sled_io: f64,
    rest: f64,
}

/// CPU seconds (user + system) of this process's threads named "sandbox…" and of everything
/// else. "Everything else" is the process's total minus the sandbox, so threads that ended
/// meanwhile (sled's pool retires idle threads) still count against the engine.
fn cpu_seconds() -> Cpu {
    let mut cpu = Cpu {
        sandbox: 0.0,
        sled_io: 0.0,
        rest: 0.0,
    };
    let total = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| stat_cpu(&stat).map(|(_, used)| used))
        .unwrap_or(0.0);
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return cpu;
    };
    for task in tasks.flatten() {
        let Some((comm, used)) = std::fs::read_to_string(task.path().join("stat"))
            .ok()
            .and_then(|stat| stat_cpu(&stat))
        else {
            continue;
        };
        if comm.starts_with("sandbox") {
            cpu.sandbox += used;
        } else if comm.starts_with("sled-io") {
            cpu.sled_io += used;
        }
    }
    cpu.rest = total - cpu.sandbox;
    cpu
}

/// (comm, utime + stime in seconds) from a `/proc/…/stat` line.
fn stat_cpu(stat: &str) -> Option<(String, f64)> {
    let ticks = 100.0; // USER_HZ on Linux
    // "pid (comm) state ..."; comm may hold spaces, so split after the last ')'.
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let comm = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after "state".
    let used = fields
        .get(11..13)?
        .iter()
        .filter_map(|v| v.parse::<f64>().ok())
        .sum::<f64>()
        / ticks;
    Some((comm, used))
}
