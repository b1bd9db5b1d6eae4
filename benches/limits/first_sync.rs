//! Section 3: a realistic first sync, as a user starts one. `ghlsync sandbox --write-config`
//! (GHL and every emulated peer) and the release `ghlsync sync` as processes of their own, GHL's
//! limit time-compressed to 100 per 1 s. No run can take less than its GHL requests ÷ 100/s: the
//! floor. The figure is wall time ÷ floor.

use crate::ghlsync_process::{ghlsync, sandbox_url};
use crate::stats::{Delta, Stats};
use crate::{Figure, LIMIT};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Kills the sandbox also when the bench panics.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn measure(contacts: usize) -> Vec<Figure> {
    let root = tempfile::tempdir().expect("temp dir");
    let root = root.path();
    let config = root.join("ghlsync.toml");
    let limit = format!("{}/{}s", LIMIT.max, LIMIT.interval.as_secs());
    let out = std::fs::File::create(root.join("sandbox.out")).expect("sandbox.out");
    let _sandbox = Killed(
        ghlsync(root)
            .args([
                "sandbox",
                "--contacts",
                &contacts.to_string(),
                "--rate-limit",
                &limit,
            ])
            .arg("--write-config")
            .arg(&config)
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .expect("ghlsync sandbox starts"),
    );
    let base_url = sandbox_url(&root.join("sandbox.out"), Duration::from_secs(60));
    let peers: Vec<String> = std::fs::read_to_string(&config)
        .expect("the written config")
        .lines()
        .filter_map(|l| {
            l.strip_prefix("[peers.")?
                .strip_suffix(']')
                .map(str::to_string)
        })
        .filter(|name| !name.contains('.'))
        .collect();
    compress_peer_limits(&config);
    // The location's set-up, as a user does it before a first sync.
    let setup = ghlsync(root)
        .arg("--config")
        .arg(&config)
        .args(["mapping", "check", "--create-fields"])
        .output()
        .expect("mapping check runs");
    assert!(
        setup.status.success(),
        "mapping check --create-fields: {}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let http = reqwest::Client::new();
    tokio::time::sleep(LIMIT.interval).await;
    // Peer by peer, as `ghlsync sync` runs them (one writer at a time), each its own process so
    // that each peer's requests and time are its own.
    let tail = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let timeline = tokio::spawn(timeline(http.clone(), base_url.clone(), tail.clone()));
    let mut rows = Vec::new();
    let started = Instant::now();
    for peer in &peers {
        let before = Stats::read(&http, &base_url).await;
        let began = Instant::now();
        let sync = tokio::process::Command::from(ghlsync(root))
            .arg("--config")
            .arg(&config)
            .args(["sync", "--json", "--peer", peer])
            .output()
            .await
            .expect("ghlsync sync runs");
        let wall = began.elapsed().as_secs_f64();
        let delta = Delta::between(&before, &Stats::read(&http, &base_url).await);
        let report: serde_json::Value = serde_json::from_slice(&sync.stdout).unwrap_or_default();
        let ghl_floor = delta.ghl as f64 / ceiling();
        // A peer's own documented limit is a floor too (the REST app's connector file says 20/s).
        let peer_rate = peer_rate(&config, peer);
        let peer_floor = peer_rate.map_or(0.0, |rate| delta.peer as f64 / rate);
        println!(
            "   {peer:<9} exit {:?} {wall:>6.1} s | GHL {:>6} (429s {}) floor {ghl_floor:>5.1} s | peer {:>6}{} | {}",
            sync.status.code(),
            delta.ghl,
            delta.too_many,
            delta.peer,
            peer_rate.map_or(String::new(), |r| format!(
                " at its {r}/s: floor {peer_floor:.1} s"
            )),
            report["run"]["counts"],
        );
        rows.push((wall, delta, ghl_floor.max(peer_floor)));
    }
    let wall = started.elapsed().as_secs_f64();
    timeline.abort();
    println!(
        "   GHL/peer requests per 10 s, the last:{}",
        tail.lock().expect("tail")
    );
    let ghl: u64 = rows.iter().map(|r| r.1.ghl).sum();
    let floor = ghl as f64 / ceiling();
    let true_floor: f64 = rows.iter().map(|r| r.2).sum();
    println!(
        "   every peer, {contacts} GHL contacts with their tasks, notes and appointments: {wall:.1} s; \
         {ghl} GHL requests: floor {floor:.1} s, wall ÷ floor = {:.2}; \
         with each peer's own limit as a floor too (peers one after another): {true_floor:.1} s, wall ÷ that = {:.2}",
        wall / floor.max(1e-9),
        wall / true_floor.max(1e-9),
    );
    vec![
        Figure::new(
            "first sync, every peer: wall ÷ floor (GHL requests ÷ ceiling)",
            format!("{:.2} ({wall:.0} s ÷ {floor:.0} s)", wall / floor.max(1e-9)),
            "—".to_string(),
            "≤ 1.1",
        ),
        Figure::new(
            "… ÷ the floor counting each peer's own limit",
            format!("{:.2} (÷ {true_floor:.0} s)", wall / true_floor.max(1e-9)),
            "—".to_string(),
            "—",
        ),
    ]
}

fn ceiling() -> f64 {
    f64::from(LIMIT.max) / LIMIT.interval.as_secs_f64()
}

/// GHL's window is compressed ×10; a peer's own documented limit (a connector file's
/// `requests_per_second`) is compressed alike, or a peer that never binds at the real limits
/// (the REST app's 20/s against GHL's 10/s) would bind here.
fn compress_peer_limits(config: &Path) {
    let factor = 10.0 / LIMIT.interval.as_secs_f64();
    let dir = config.parent().expect("config dir").join("connectors");
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("connector file");
        let scaled: Vec<String> = text
            .lines()
            .map(
                |line| match line.trim().strip_prefix("requests_per_second = ") {
                    Some(rate) => {
                        let rate: f64 = rate.trim().parse().expect("a rate");
                        format!("requests_per_second = {}", rate * factor)
                    }
                    None => line.to_string(),
                },
            )
            .collect();
        std::fs::write(entry.path(), scaled.join("\n") + "\n").expect("connector file written");
    }
}

/// `requests_per_second` of a `rest` peer's connector file, if the config names one.
fn peer_rate(config: &Path, peer: &str) -> Option<f64> {
    let text = std::fs::read_to_string(config).ok()?;
    let section = format!("[peers.{peer}.connection]");
    let file = text
        .split(&section)
        .nth(1)?
        .lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.trim().strip_prefix("file = "))?
        .trim_matches('"')
        .to_string();
    let connector = std::fs::read_to_string(config.parent()?.join(file)).ok()?;
    connector
        .lines()
        .find_map(|l| l.trim().strip_prefix("requests_per_second = "))?
        .trim()
        .parse()
        .ok()
}

/// GHL and peer requests per 10 s while the sync runs: where GHL's ceiling sits idle.
async fn timeline(
    http: reqwest::Client,
    base_url: String,
    tail: std::sync::Arc<std::sync::Mutex<String>>,
) {
    let mut last = (0, 0);
    for second in 1.. {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let stats = Stats::read(&http, &base_url).await;
        let now = (stats.ghl(), stats.peer());
        let mut line = tail.lock().expect("tail");
        line.push_str(&format!(" {}/{}", now.0 - last.0, now.1 - last.1));
        last = now;
        if second % 10 == 0 {
            println!(
                "   GHL/peer requests per 10 s from t={:>4}s:{line}",
                (second - 10) * 10
            );
            line.clear();
        }
    }
}
