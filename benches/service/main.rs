//! The always-on service (issue 19 §5): what `ghlsync run` costs when nothing happens, how
//! fast a GHL change reaches the peer when webhooks drive it, and how many deliveries its
//! receiver acknowledges durably.
//!
//!     cargo bench --bench service                       # all three
//!     MODE=idle cargo bench --bench service             # 10,000 contacts, a 60 s window
//!     MODE=latency RATES=1,5,10 EVENTS_SECS=30 cargo bench --bench service
//!     MODE=receiver cargo bench --bench service
//!     CONTACTS=2000 WINDOW_SECS=120 PEERS=repsly,robly MODE=idle cargo bench --bench service
//!
//! Idle: a `ghlsync sandbox --contacts N --write-config` process (limits off so the first sync
//! is quick; the config keeps the peers of PEERS, default Repsly), and the release `ghlsync run` on that config with a one-hour
//! schedule: its first run (due at start) syncs everything, then the window measures the
//! service between runs — CPU from /proc/PID/stat over the window, RSS every second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../shared/ghlsync_process.rs"]
mod ghlsync_process;
#[path = "../locations/probe.rs"]
#[allow(dead_code)]
mod probe;

mod webhooks;

use ghlsync_process::{ghlsync, sandbox_url};
use probe::{cpu_seconds, load_average, memory};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Children killed when the bench ends, also on a panic.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a sandbox writing `root/ghlsync.toml` with the peers of PEERS (default Repsly) and,
/// with `listen`, its webhooks pointed there; returns its base URL.
fn start_sandbox(
    root: &Path,
    contacts: usize,
    limit: &str,
    listen: Option<u16>,
    procs: &mut Processes,
) -> String {
    let out = root.join("sandbox.out");
    let peers = std::env::var("PEERS").unwrap_or_else(|_| "repsly".into());
    let mut command = ghlsync(root);
    command
        .args([
            "sandbox",
            "--contacts",
            &contacts.to_string(),
            "--rate-limit",
            limit,
        ])
        .args(["--peers", &peers])
        .arg("--write-config")
        .arg(root.join("ghlsync.toml"));
    if let Some(port) = listen {
        command.args(["--service-listen", &format!("127.0.0.1:{port}")]);
    }
    let child = command
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(root.join("sandbox.err")).unwrap())
        .spawn()
        .unwrap();
    procs.0.push(child);
    sandbox_url(&out, Duration::from_secs(120))
}

/// Merges `tables` (TOML) and the bench's `[service]` keys into the config (the sandbox wrote a
/// whole `[service]` when given a listener), then starts `ghlsync run`; returns its listener's
/// URL and pid.
fn start_service(root: &Path, port: u16, tables: &str, procs: &mut Processes) -> (String, u32) {
    fn merge(into: &mut toml::Table, from: toml::Table) {
        for (key, value) in from {
            match (into.get_mut(&key), value) {
                (Some(toml::Value::Table(mine)), toml::Value::Table(theirs)) => merge(mine, theirs),
                (_, value) => {
                    into.insert(key, value);
                }
            }
        }
    }
    let config = root.join("ghlsync.toml");
    let mut table: toml::Table =
        toml::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let ours: toml::Table = toml::from_str(&format!(
        "[service]\ninstance = \"bench\"\nmetrics = true\n{tables}\n"
    ))
    .unwrap();
    merge(&mut table, ours);
    let service = table
        .entry("service")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(service) = service {
        service
            .entry("listen")
            .or_insert_with(|| toml::Value::String(format!("127.0.0.1:{port}")));
    }
    let url = match &table["service"]["listen"] {
        toml::Value::String(listen) => format!("http://{listen}"),
        _ => unreachable!("listen is a string"),
    };
    std::fs::write(&config, toml::to_string(&table).unwrap()).unwrap();
    std::fs::create_dir_all(root.join("runtime")).unwrap();
    let child = ghlsync(root)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(root.join("run.err")).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    procs.0.push(child);
    (url, pid)
}

/// Waits until every peer has a last run in `/metrics`; returns how long it took.
async fn wait_first_runs(http: &reqwest::Client, url: &str, peers: usize) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(answer) = http.get(format!("{url}/metrics")).send().await
            && let Ok(text) = answer.text().await
        {
            let done = text
                .lines()
                .filter(|l| l.starts_with("ghlsync_last_run_timestamp_seconds{"))
                .count();
            if done >= peers {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(3600),
            "the first runs did not end in an hour"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn peers_in(config: &Path) -> usize {
    std::fs::read_to_string(config)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("[peers.") && l.matches('.').count() == 1)
        .count()
}

async fn idle(root: PathBuf) {
    let contacts: usize = env_or("CONTACTS", 10_000);
    let window = Duration::from_secs(env_or("WINDOW_SECS", 60));
    let mut procs = Processes(Vec::new());
    start_sandbox(&root, contacts, "off", None, &mut procs);
    let peers = peers_in(&root.join("ghlsync.toml"));
    let (url, pid) = start_service(
        &root,
        free_port(),
        "[service.schedule]\nall = \"1h\"",
        &mut procs,
    );
    let http = reqwest::Client::new();
    let first = wait_first_runs(&http, &url, peers).await;
    // Let the last run's tail (retention, the allocator's purge) settle.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let cpu_before = cpu_seconds(pid).unwrap();
    let started = Instant::now();
    let mut peak_rss: f64 = 0.0;
    while started.elapsed() < window {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(m) = memory(pid) {
            peak_rss = peak_rss.max(m.rss);
        }
    }
    let cpu = cpu_seconds(pid).unwrap() - cpu_before;
    let elapsed = started.elapsed().as_secs_f64();
    let end = memory(pid).unwrap_or_default();
    println!(
        "service idle, {contacts} GHL contacts, {peers} peers (load {})",
        load_average()
    );
    println!(
        "  first runs of every peer (limits off): {:.1} s",
        first.as_secs_f64()
    );
    println!(
        "  idle window {elapsed:.0} s: CPU {:.3} % of a core (goal ≤ 0.2 %)",
        100.0 * cpu / elapsed
    );
    println!(
        "  RSS {:.1} MB at the end, peak {:.1} MB in the window (goal ≤ 40 MB); RssAnon {:.1} MB, RssFile {:.1} MB, VmHWM {:.1} MB",
        end.rss, peak_rss, end.anon, end.file, end.hwm
    );
    // Gathered by `benches/figures`.
    println!(
        "FIGURE|service idle CPU, {contacts} contacts|{:.3} % of a core|—|≤ 0.2 %",
        100.0 * cpu / elapsed
    );
    println!(
        "FIGURE|service idle RSS, {contacts} contacts|{:.0} MB (private {:.0} MB)|—|≤ 40 MB",
        end.rss, end.anon
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let mode = std::env::var("MODE").unwrap_or_else(|_| "all".into());
    if matches!(mode.as_str(), "all" | "idle") {
        let root = tempfile::tempdir().unwrap();
        idle(root.path().to_path_buf()).await;
    }
    if matches!(mode.as_str(), "all" | "latency") {
        let root = tempfile::tempdir().unwrap();
        webhooks::latency(root.path()).await;
    }
    if matches!(mode.as_str(), "all" | "receiver") {
        let root = tempfile::tempdir().unwrap();
        webhooks::receiver(root.path()).await;
    }
}
