//! The console over a store of 100,000 contacts (issue 4). The store is written directly through
//! the public `Store` API (links, baselines, failed operations, log entries, runs, cursors, and
//! tasks, notes and appointments), deterministically, in a temp dir; no sync runs. The engine
//! runs in process over it with an in-memory peer (`BenchPeer`: contact reads and the parents
//! of children, computed from the ids) and a GHL client pointed at a closed port, so every
//! answer the console gets comes from the store.
//!
//!     cargo bench --bench console             # 100,000 contacts
//!     cargo bench --bench console -- 20000    # CONTACTS
//!
//! Six figures (issue 4's targets in brackets):
//! 1. time to first frame [≤ 300 ms]: the real runner (`console::runner::run`) in a
//!    pseudo-terminal at 120×40, from the call (state built, engine in hand) to the first
//!    complete frame (`ESC[?2026l` closes the synchronized update) showing the contact list
//!    loaded;
//! 2. render time per frame at 120×40 [≤ 2 ms]: `views::render` through ratatui's `TestBackend`
//!    for every main screen, state loaded through the engine and the reducer;
//! 3. filter latency per keystroke [≤ 15 ms]: "smith@example" typed into the contact filter,
//!    keystroke (keymap → `update`) to the frame drawn; the filter runs in the console;
//! 4. resident memory [≤ 150 MB]: VmRSS and VmHWM of the console process of 1 (state over all
//!    contacts, engine and store open);
//! 5. CPU while idle for 10 s [≤ 0.5 %]: that process, no input, no engine events;
//! 6. bytes written to the terminal while the sync log streams 100 events/s for 10 s: the bench
//!    holds a clone of the engine's log sender (`SyncContext::events`) and announces through it,
//!    the path a sync's outcomes take.
//!
//! 1, 4, 5 and 6 run in a child process: this bench binary started again in a pseudo-terminal
//! (portable-pty) with `GHLSYNC_CONSOLE_BENCH_CHILD` set, read back through `vt100`. 2 and 3
//! run in this process. Benchmarks print figures; they never assert timings.

// Bench code: a panic is how it stops (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};
use ghlsync::config::Secret;
use ghlsync::console::action::{Action, FocusTarget, Motion};
use ghlsync::console::help::help_sections;
use ghlsync::console::keymap::Keymap;
use ghlsync::console::msg::{Answer, Effect, FIRST_CONTACTS, Msg, Request};
use ghlsync::console::runner;
use ghlsync::console::runner::effects::perform;
use ghlsync::console::state::{AppState, Mode, Screen};
use ghlsync::console::theme::Theme;
use ghlsync::console::update::{init, update};
use ghlsync::console::views::render;
use ghlsync::engine::{Command, EngineHandle, EngineOptions, start_in_process};
use ghlsync::ghl::{AuthSettings, ClientSettings, GhlClient};
use ghlsync::net::ErrorClass;
use ghlsync::peers::{
    ChangeDetection, ChangePage, EntityCapability, EntityKind, Peer, PeerError, PeerRecord,
    WriteOutcome,
};
use ghlsync::store::{
    Action as OpAction, Baseline, Direction, LogEntry, OpError, OpState, Operation, Outcome,
    RunRecord, Store,
};
use ghlsync::sync::SyncContext;
use ghlsync::sync::mapping::Mapping;
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

mod child;
mod fixture;
mod in_process;
mod probe;
mod pty;
mod seed;

use fixture::{context, open_when_free};

const COLS: u16 = 120;
const ROWS: u16 = 40;
const PEER: &str = "repsly";
/// Set (to the store's path) in the child that runs the real console in the pseudo-terminal.
const CHILD_ENV: &str = "GHLSYNC_CONSOLE_BENCH_CHILD";
/// Set (to `memory`, `api` or `scan`) in a child that measures one part of the contact list
/// on its own, in a fresh process (`probe`).
const PROBE_ENV: &str = "GHLSYNC_CONSOLE_BENCH_PROBE";
/// How many contacts the child's store holds (for the stream's ids).
const CONTACTS_ENV: &str = "GHLSYNC_CONSOLE_BENCH_CONTACTS";
/// Where the child writes the wall-clock time it called the runner.
const START_ENV: &str = "GHLSYNC_CONSOLE_BENCH_START";
/// Live log events per second and for how long (measurement 6).
const STREAM_RATE: u64 = 100;
const STREAM_SECS: u64 = 10;
const IDLE_SECS: u64 = 10;
/// Frames timed per screen (measurement 2) and times the filter is typed (measurement 3).
const FRAMES: usize = 500;
const FILTER_RUNS: usize = 5;
const FILTER_TEXT: &str = "smith@example";

fn main() {
    if let (Ok(mode), Ok(store)) = (std::env::var(PROBE_ENV), std::env::var(CHILD_ENV)) {
        probe::run(&mode, Path::new(&store));
        return;
    }
    if let Ok(store) = std::env::var(CHILD_ENV) {
        child::run(PathBuf::from(store));
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let contacts: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store_path = dir.path().join("store");
    println!(
        "console bench: {contacts} contacts, {COLS}x{ROWS}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let started = Instant::now();
    let seeded = seed::write(&store_path, contacts);
    println!(
        "store seeded in {:.1} s: {} contacts ({} linked, {} known only by a failed first write), \
         {} failed operations, {} log entries, {} tasks, {} notes, {} appointments",
        started.elapsed().as_secs_f64(),
        seeded.rows(),
        contacts,
        seed::UNLINKED,
        seeded.failed_ops,
        seeded.log_entries,
        seed::TASKS,
        seed::NOTES,
        seed::APPOINTMENTS,
    );

    let (store_mb, store_open_ms) = store_figures(&store_path);
    println!(
        "store on disk {store_mb:.0} MB; opened cold in a fresh process in {store_open_ms:.0} ms"
    );

    // 1, 4, 5, 6: the real console in a pseudo-terminal.
    let pty = pty::measure(dir.path(), &store_path, contacts, seeded.rows());

    // Where the contact list's time and memory go, each in a fresh process.
    println!();
    println!("   where the first frame and the memory go (fresh processes):");
    for mode in ["api", "memory"] {
        let output = std::process::Command::new(std::env::current_exe().expect("this bench"))
            .env(PROBE_ENV, mode)
            .env(CHILD_ENV, &store_path)
            .env(CONTACTS_ENV, contacts.to_string())
            .output()
            .expect("the probe runs");
        print!("{}", String::from_utf8_lossy(&output.stdout));
        if !output.status.success() {
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            panic!("probe {mode} failed");
        }
    }

    // 2, 3: the reducer and the views in this process, state loaded through the engine.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pure = runtime.block_on(in_process::measure(&store_path, contacts));
    drop(runtime);

    println!();
    println!("summary (figure / target):");
    let ratio = |figure: f64, target: f64| figure / target;
    println!(
        "1. time to first frame: {:.0} ms / 300 ms = {:.2} (every contact loaded at {:.0} ms)",
        pty.first_frame_ms,
        ratio(pty.first_frame_ms, 300.0),
        pty.whole_list_ms
    );
    let worst = pure
        .render
        .iter()
        .max_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms))
        .expect("screens were rendered");
    let screens = pure
        .render
        .iter()
        .map(|r| format!("{} {:.2}/{:.2}", r.screen, r.mean_ms, r.p99_ms))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "2. render per frame (mean/p99 ms): {screens}; worst p99 {:.3} ms ({}) / 2 ms = {:.2}",
        worst.p99_ms,
        worst.screen,
        ratio(worst.p99_ms, 2.0)
    );
    println!(
        "3. filter per keystroke: mean {:.2} ms, max {:.2} ms / 15 ms = {:.2}",
        pure.filter_mean_ms,
        pure.filter_max_ms,
        ratio(pure.filter_max_ms, 15.0)
    );
    println!(
        "4. resident memory: peak {:.1} MB, current {:.1} MB / 150 MB = {:.2}",
        pty.peak_mb,
        pty.current_mb,
        ratio(pty.peak_mb, 150.0)
    );
    println!(
        "5. idle CPU over {IDLE_SECS} s: {:.3} % / 0.5 % = {:.2} (the next {IDLE_SECS} s: {:.3} %)",
        pty.idle_cpu_percent,
        ratio(pty.idle_cpu_percent, 0.5),
        pty.idle_cpu_later
    );
    println!(
        "6. sync log streaming {STREAM_RATE} events/s: {:.0} bytes/s, {:.0} bytes per event, {:.1} frames/s",
        pty.stream_bytes_per_sec, pty.stream_bytes_per_event, pty.stream_fps
    );
    // Gathered by `benches/figures`.
    let rows = seeded.rows();
    println!(
        "FIGURE|store at {rows} contacts with children: size on disk, open|{:.0} MB, {:.0} ms|—|—",
        store_mb, store_open_ms
    );
    println!(
        "FIGURE|console first frame, {rows} contacts|{:.0} ms|—|≤ 300 ms",
        pty.first_frame_ms
    );
    println!(
        "FIGURE|console render per frame, worst p99|{:.2} ms|—|≤ 2 ms",
        worst.p99_ms
    );
    println!(
        "FIGURE|console filter per keystroke, max|{:.2} ms|—|≤ 15 ms",
        pure.filter_max_ms
    );
    println!(
        "FIGURE|console memory, peak|{:.0} MB|—|≤ 150 MB",
        pty.peak_mb
    );
    println!(
        "FIGURE|console idle CPU|{:.3} % of a core|—|≤ 0.5 %",
        pty.idle_cpu_percent
    );
}

/// The store's size on disk in MB, and how long it takes to open in a fresh process (the `open`
/// probe), in ms. The best of three: the first may wait for the seeding's lock to be let go.
fn store_figures(store: &Path) -> (f64, f64) {
    let bytes: u64 = walk_size(store);
    let open_ms = (0..3)
        .map(|_| {
            let output = std::process::Command::new(std::env::current_exe().expect("this bench"))
                .env(PROBE_ENV, "open")
                .env(CHILD_ENV, store)
                .output()
                .expect("the probe runs");
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("open_ms ")?.trim().parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        })
        .fold(f64::INFINITY, f64::min);
    (bytes as f64 / 1e6, open_ms)
}

fn walk_size(path: &Path) -> u64 {
    match std::fs::read_dir(path) {
        Ok(entries) => entries.flatten().map(|e| walk_size(&e.path())).sum(),
        Err(_) => std::fs::metadata(path).map_or(0, |m| m.len()),
    }
}

/// Percentiles and means of per-frame times.
fn stats_ms(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let n = samples.len().max(1);
    let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / n as f64;
    let p99 = samples
        .get(((n as f64 * 0.99).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or_default();
    let max = samples.last().copied().unwrap_or_default();
    (
        mean * 1000.0,
        p99.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
    )
}

/// VmRSS and VmHWM of a process (`"self"` or a pid), in MB (10^6 bytes).
fn memory(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb * 1024.0 / 1e6)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
