//! Locations per host (issue 17 §4): N engines, one per GHL location, each a separate `ghlsync`
//! process with its own config, store and secrets, syncing two peers (Repsly and the REST app
//! "crm") against its own sandbox at GHL's real ceiling (100 requests per 10 s per location).
//!
//!     cargo bench --bench locations                   # 4 locations, a 60 s window
//!     LOCATIONS=8 WINDOW_SECS=120 cargo bench --bench locations
//!     LIMIT=100/1s cargo bench --bench locations      # time-compressed: 10x the work per second
//!     CONTACTS=500 WINDOW_SECS=1200 WARMUP_SECS=2 cargo bench --bench locations   # whole first syncs
//!
//! The window ends early when every engine's sync has ended (an ended engine's CPU time and peak
//! RSS come from wait4), so a long window measures whole first syncs, phases included: the
//! default 60 s sees only the first one (the REST peer's contacts into GHL, at GHL's ceiling).
//!
//! Other knobs: CONTACTS (seeded per location, default 2000: a first sync of ≈ 340 s at the real
//! ceiling, so every engine is still busy when the window ends), WARMUP_SECS (10, excluded: config
//! load, mapping compile, the first window's burst), MEMORY_BUDGET_MB (4096) and HOST_CORES (2) for
//! the projection.
//!
//! Each location's sandbox is a `ghlsync sandbox --write-config` process of its own, so its CPU is
//! not the engine's. The engine is `ghlsync sync` (a first sync: contacts, tasks, notes and
//! appointments, both directions, both peers), measured from outside through /proc: CPU time
//! (utime + stime) over the window, RSS every second (VmRSS, RssAnon, RssFile) and VmHWM at the
//! end. Requests and 429s come from each sandbox's `/_sandbox/stats`. The window is rounded to a
//! whole number of the limit's intervals, so "fraction of the ceiling" does not depend on where
//! the sandbox's fixed windows fall.
//!
//! Projection: locations per host = min(cores ÷ CPU share per engine, memory ÷ memory per
//! engine). Memory per engine is counted two ways: VmHWM (every page the process touched,
//! including the binary's text, which the page cache shares between engines), and the private
//! part (peak RssAnon) with the shared file pages counted once for the host.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../shared/ghlsync_process.rs"]
mod ghlsync_process;
mod probe;
mod processes;

use probe::{Ended, Memory, Served, cpu_seconds, load_average, memory, reap, served};
use processes::{Location, start_engine, start_sandbox};
use std::process::Child;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ghlsync");

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Settings {
    locations: usize,
    contacts: usize,
    limit: String,
    /// Requests per second of one location's ceiling.
    ceiling: f64,
    warmup: Duration,
    window: Duration,
    /// The stretch the window is reported in: whole intervals of the limit, at least 10 s.
    slice: Duration,
    memory_budget_mb: f64,
    cores: f64,
}

impl Settings {
    fn from_env() -> Settings {
        let limit = std::env::var("LIMIT").unwrap_or_else(|_| "100/10s".into());
        let (max, interval) = limit.split_once('/').expect("LIMIT is MAX/INTERVAL");
        let max: f64 = max.parse().expect("LIMIT's MAX is a number");
        let interval = humantime::parse_duration(interval).expect("LIMIT's INTERVAL, e.g. 10s");
        let asked = Duration::from_secs(env_or("WINDOW_SECS", 60));
        let intervals = (asked.as_secs_f64() / interval.as_secs_f64())
            .round()
            .max(1.0);
        Settings {
            locations: env_or("LOCATIONS", 4),
            contacts: env_or("CONTACTS", 2000),
            ceiling: max / interval.as_secs_f64(),
            limit,
            warmup: Duration::from_secs(env_or("WARMUP_SECS", 10)),
            window: interval.mul_f64(intervals),
            slice: interval.mul_f64((10.0 / interval.as_secs_f64()).ceil().max(1.0)),
            memory_budget_mb: env_or("MEMORY_BUDGET_MB", 4096.0),
            cores: env_or("HOST_CORES", 2.0),
        }
    }
}

/// One engine's figures over the window (or the part of it the engine ran).
struct Figures {
    /// The seconds of the window the engine ran.
    secs: f64,
    cpu: f64,
    sandbox_cpu: f64,
    rss_start: f64,
    rss_end: f64,
    peak: Memory,
    hwm: f64,
    served: Served,
    finished_early: bool,
}

#[derive(Clone)]
struct Snapshot {
    at: Instant,
    cpu: Vec<f64>,
    sandbox_cpu: Vec<f64>,
    served: Vec<Served>,
}

/// A stretch of the window (the limit's interval, at least 10 s), averaged over the engines: the
/// first sync goes through phases, and they do not cost the same.
struct Slice {
    start: f64,
    cpu: f64,
    ghl_per_s: f64,
    peers_per_s: f64,
}

/// Means over the engines still running at `to`, between two snapshots.
fn slice(start: f64, from: &Snapshot, to: &Snapshot) -> Option<Slice> {
    let secs = to.at.duration_since(from.at).as_secs_f64().max(1e-9);
    let live: Vec<usize> = (0..to.cpu.len())
        .filter(|&i| to.cpu[i].is_finite())
        .collect();
    if live.is_empty() {
        return None;
    }
    let n = live.len() as f64;
    let mean = |value: &dyn Fn(usize) -> f64| live.iter().map(|&i| value(i)).sum::<f64>() / n;
    Some(Slice {
        start,
        cpu: mean(&|i| (to.cpu[i] - from.cpu[i]) / secs),
        ghl_per_s: mean(&|i| (to.served[i].ghl - from.served[i].ghl) as f64 / secs),
        peers_per_s: mean(&|i| (to.served[i].peers - from.served[i].peers) as f64 / secs),
    })
}

async fn snapshot(http: &reqwest::Client, locations: &[Location]) -> Snapshot {
    let mut snap = Snapshot {
        at: Instant::now(),
        cpu: Vec::new(),
        sandbox_cpu: Vec::new(),
        served: Vec::new(),
    };
    for location in locations {
        let engine = location.engine.as_ref().map_or(0, Child::id);
        snap.cpu.push(cpu_seconds(engine).unwrap_or(f64::NAN));
        snap.sandbox_cpu
            .push(cpu_seconds(location.sandbox.id()).unwrap_or(f64::NAN));
        snap.served.push(served(http, &location.base_url).await);
    }
    snap
}

fn main() {
    let s = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let root = tempfile::tempdir().expect("temp dir");
    println!(
        "locations bench: {} locations, {} contacts each, limit {} ({:.1} req/s per location), \
         warm-up {} s, window {} s; {} cores here, load average {}",
        s.locations,
        s.contacts,
        s.limit,
        s.ceiling,
        s.warmup.as_secs(),
        s.window.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
    );
    println!("binary: {BIN}");

    let mut locations: Vec<Location> = (0..s.locations)
        .map(|i| start_sandbox(root.path(), i, &s))
        .collect();
    for location in &mut locations {
        start_engine(root.path(), location);
    }
    let (figures, slices) = runtime.block_on(measure(&s, &mut locations));
    drop(locations);
    report(&s, &figures, &slices);
    println!("load average at the end: {}", load_average());
}

async fn measure(s: &Settings, locations: &mut [Location]) -> (Vec<Figures>, Vec<Slice>) {
    let http = reqwest::Client::new();
    tokio::time::sleep(s.warmup).await;
    let pids: Vec<u32> = locations
        .iter()
        .map(|l| l.engine.as_ref().map_or(0, Child::id))
        .collect();
    let first_memory: Vec<Memory> = pids
        .iter()
        .map(|&p| memory(p).unwrap_or_default())
        .collect();
    let before = snapshot(&http, locations).await;
    let started = before.at;
    let mut peak = first_memory.clone();
    let mut last = first_memory.clone();
    let mut ended: Vec<Option<Ended>> = locations.iter().map(|_| None).collect();
    let mut slices = Vec::new();
    let mut slice_start = before.clone();
    while started.elapsed() < s.window && ended.iter().any(Option::is_none) {
        if slice_start.at.elapsed() >= s.slice {
            let now = snapshot(&http, locations).await;
            let start = slice_start.at.duration_since(started).as_secs_f64();
            slices.extend(slice(start, &slice_start, &now));
            slice_start = now;
        }
        tokio::time::sleep(Duration::from_secs(1).min(s.window.saturating_sub(started.elapsed())))
            .await;
        for (i, location) in locations.iter_mut().enumerate() {
            if ended[i].is_some() {
                continue;
            }
            if let Some((status, end)) = reap(pids[i]) {
                // Reaped here, so the Child must not signal its pid again.
                location.engine = None;
                let stderr = std::fs::read_to_string(location.dir.join("sync.err"));
                println!(
                    "engine {i} ended {:.0} s into the window (wait status {status}): {}",
                    end.at.duration_since(started).as_secs_f64(),
                    stderr.unwrap_or_default().trim()
                );
                ended[i] = Some(end);
                continue;
            }
            if let Some(m) = memory(pids[i]) {
                peak[i].rss = peak[i].rss.max(m.rss);
                peak[i].anon = peak[i].anon.max(m.anon);
                peak[i].file = peak[i].file.max(m.file);
                last[i] = m;
            }
        }
    }
    let after = snapshot(&http, locations).await;
    let wall = after.at.duration_since(before.at).as_secs_f64();
    if after.at.duration_since(slice_start.at) >= s.slice / 2 {
        let start = slice_start.at.duration_since(started).as_secs_f64();
        slices.extend(slice(start, &slice_start, &after));
    }
    let figures = (0..locations.len())
        .map(|i| {
            let served = Served {
                ghl: after.served[i].ghl - before.served[i].ghl,
                too_many: after.served[i].too_many - before.served[i].too_many,
                peers: after.served[i].peers - before.served[i].peers,
            };
            let (secs, cpu, hwm) = match &ended[i] {
                Some(end) => (
                    end.at.duration_since(before.at).as_secs_f64(),
                    end.cpu,
                    end.max_rss,
                ),
                None => (
                    wall,
                    after.cpu[i],
                    memory(pids[i]).map_or(last[i].hwm, |m| m.hwm),
                ),
            };
            Figures {
                secs,
                cpu: (cpu - before.cpu[i]) / secs,
                sandbox_cpu: (after.sandbox_cpu[i] - before.sandbox_cpu[i]) / wall,
                rss_start: first_memory[i].rss,
                rss_end: last[i].rss,
                peak: peak[i],
                hwm,
                served,
                finished_early: ended[i].is_some(),
            }
        })
        .collect();
    (figures, slices)
}

fn report(s: &Settings, figures: &[Figures], slices: &[Slice]) {
    println!();
    println!(
        "engine | CPU share | sandbox CPU | RSS start -> end (MB) | VmHWM | RssAnon peak | RssFile | GHL req / ceiling | 429s | peer req"
    );
    for (i, f) in figures.iter().enumerate() {
        let ceiling = s.ceiling * f.secs;
        println!(
            "{i:>6} | {:>8.2} % | {:>9.2} % | {:>8.1} -> {:>6.1} | {:>5.1} | {:>12.1} | {:>7.1} | {:>5} / {:.0} = {:.3} | {:>4} | {:>8}{}",
            f.cpu * 100.0,
            f.sandbox_cpu * 100.0,
            f.rss_start,
            f.rss_end,
            f.hwm,
            f.peak.anon,
            f.peak.file,
            f.served.ghl,
            ceiling,
            f.served.ghl as f64 / ceiling,
            f.served.too_many,
            f.served.peers,
            if f.finished_early {
                "  (ended inside the window: its figures are over the part it ran)"
            } else {
                ""
            },
        );
    }
    let n = figures.len().max(1) as f64;
    let mean = |value: fn(&Figures) -> f64| figures.iter().map(value).sum::<f64>() / n;
    let max = |value: fn(&Figures) -> f64| figures.iter().map(value).fold(0.0, f64::max);
    let share = mean(|f| f.cpu);
    let fraction = figures
        .iter()
        .map(|f| f.served.ghl as f64 / (s.ceiling * f.secs))
        .sum::<f64>()
        / n;
    let too_many: u64 = figures.iter().map(|f| f.served.too_many).sum();
    let requests: u64 = figures.iter().map(|f| f.served.ghl).sum();
    let hwm = max(|f| f.hwm);
    let anon = max(|f| f.peak.anon);
    let file = max(|f| f.peak.file);
    let peer_requests: u64 = figures.iter().map(|f| f.served.peers).sum();
    let cpu_seconds: f64 = figures.iter().map(|f| f.cpu * f.secs).sum();
    let cpu_per_request_ms = cpu_seconds * 1000.0 / (requests + peer_requests).max(1) as f64;
    println!();
    println!("by stretch of the window (means over the engines):");
    for slice in slices {
        println!(
            "  {:>5.0} s: CPU {:.2} % of a core, {:.1} GHL req/s, {:.1} peer req/s",
            slice.start,
            slice.cpu * 100.0,
            slice.ghl_per_s,
            slice.peers_per_s
        );
    }
    let busiest = slices.iter().map(|slice| slice.cpu).fold(0.0, f64::max);
    println!();
    println!(
        "N = {}: mean CPU share per engine {:.2} % of a core (busiest stretch {:.2} %; {cpu_per_request_ms:.2} ms CPU per request, GHL + peers); \
         RSS per engine: VmHWM max {hwm:.1} MB, RssAnon peak max {anon:.1} MB (+ {file:.1} MB of file pages, shared); \
         {:.3} of the ceiling; {too_many} 429s of {requests} GHL requests",
        figures.len(),
        share * 100.0,
        busiest * 100.0,
        fraction,
    );
    let by_cpu = s.cores / share.max(1e-9);
    let by_hwm = s.memory_budget_mb / hwm.max(1e-9);
    let by_private = (s.memory_budget_mb - file) / anon.max(1e-9);
    let by_busiest = s.cores / busiest.max(1e-9);
    println!(
        "projection for a {}-core host with {:.0} MB for engines: by CPU {by_cpu:.0} locations \
         ({by_busiest:.0} if every engine were in its busiest stretch at once); \
         by memory {by_hwm:.0} (VmHWM each) or {by_private:.0} (private memory each, the binary's pages once)",
        s.cores, s.memory_budget_mb,
    );
    println!(
        "locations per host = min: {:.0} counting VmHWM, {:.0} counting private memory (goal >= 50)",
        by_cpu.min(by_hwm),
        by_cpu.min(by_private),
    );
    // Gathered by `benches/figures`.
    println!(
        "FIGURE|locations per {}-core host ({:.0} MB for engines)|{:.0}–{:.0}|—|≥ 50",
        s.cores,
        s.memory_budget_mb,
        by_cpu.min(by_hwm),
        by_cpu.min(by_private),
    );
    if fraction < 0.9 {
        println!(
            "note: the engines used {:.0} % of their ceiling; at a full ceiling the CPU share would be about {:.2} %",
            fraction * 100.0,
            share / fraction.max(1e-9) * 100.0
        );
    }
}
