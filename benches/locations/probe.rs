//! What the bench reads about a process (/proc, wait4) and a sandbox (`/_sandbox/stats`).

use serde_json::Value;
use std::time::Instant;

/// A process's CPU seconds so far (user + system), from /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant of the running system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// /proc/PID/status memory lines, in MB: VmRSS, RssAnon, RssFile, VmHWM.
#[derive(Clone, Copy, Default, Debug)]
pub struct Memory {
    pub rss: f64,
    pub anon: f64,
    pub file: f64,
    pub hwm: f64,
}

pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    Some(Memory {
        rss: kb("VmRSS:"),
        anon: kb("RssAnon:"),
        file: kb("RssFile:"),
        hwm: kb("VmHWM:"),
    })
}

/// What one sandbox has served so far: GHL requests, GHL 429s, and the peers' requests.
#[derive(Clone, Copy, Default)]
pub struct Served {
    pub ghl: u64,
    pub too_many: u64,
    pub peers: u64,
}

pub async fn served(http: &reqwest::Client, base_url: &str) -> Served {
    let stats: Value = http
        .get(format!("{base_url}/_sandbox/stats"))
        .send()
        .await
        .unwrap_or_else(|err| panic!("{base_url}/_sandbox/stats: {err} (did the sandbox stop?)"))
        .json()
        .await
        .expect("stats json");
    let mut served = Served::default();
    for row in stats["requests"].as_array().into_iter().flatten() {
        let route = row["route"].as_str().unwrap_or("");
        let count = row["count"].as_u64().unwrap_or(0);
        if route.starts_with("/repsly/") || route.starts_with("/generic") {
            served.peers += count;
        } else {
            served.ghl += count;
            if row["status"] == 429 {
                served.too_many += count;
            }
        }
    }
    served
}

/// An engine that ended inside the window: when, and from wait4 its CPU seconds in all and its
/// peak RSS in MB (its /proc entry is gone once it is reaped).
pub struct Ended {
    pub at: Instant,
    pub cpu: f64,
    pub max_rss: f64,
}

/// Reaps `pid` if it has ended: its wait status and figures.
pub fn reap(pid: u32) -> Option<(i32, Ended)> {
    let pid = i32::try_from(pid).ok()?;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it in for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is a child of this process; WNOHANG returns at once.
    let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
    if reaped != pid {
        return None;
    }
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    Some((
        status,
        Ended {
            at: Instant::now(),
            cpu: secs(usage.ru_utime) + secs(usage.ru_stime),
            max_rss: usage.ru_maxrss as f64 / 1024.0,
        },
    ))
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
