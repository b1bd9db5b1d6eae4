//! Webhook-driven sync, end to end: the sandbox as GHL (its own signed webhooks, `--service-
//! listen`), the release `ghlsync run`, and Repsly's emulation as the peer.
//!
//! Latency: at RATES events per second (default 1, 5, 10) for EVENTS_SECS (30) each, the bench
//! changes one linked contact's `city` through GHL's API (`PUT /contacts/{id}`; a contact is
//! changed once per rate) and times from GHL's answer to the service's log entry for that
//! contact's write into Repsly (`Event::Log`, read over the control socket: the peer's write is
//! committed). GHL's limit is time-compressed (100/1s) so the bench's own writes do not eat the
//! service's reads; the peer's own latency is Repsly's emulation (an import job, polled every
//! 20 ms).
//!
//! Receiver: signed `ContactUpdate` deliveries (a key pair made here) posted by CONCURRENCY
//! (16) clients for BLAST_SECS (10) with `queue_limit = QUEUE_LIMIT` (10,000, the default): durable
//! acknowledgements per second, how many got 429 past the limit, and whether every accepted
//! event was processed (the inbox drains to 0).

use super::{Processes, env_or, free_port, start_sandbox, start_service, wait_first_runs};
use ghlsync::engine::{Command, Event, Reply};
use ghlsync::store::{Action, Direction, Outcome};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The token and location `--write-config` wrote.
fn credentials(root: &Path) -> (String, String) {
    let secrets = std::fs::read_to_string(root.join("secrets.toml")).unwrap();
    let secrets: toml::Table = toml::from_str(&secrets).unwrap();
    let config = std::fs::read_to_string(root.join("ghlsync.toml")).unwrap();
    let config: toml::Table = toml::from_str(&config).unwrap();
    (
        secrets["ghl_token"].as_str().unwrap().to_string(),
        config["ghl"]["location_id"].as_str().unwrap().to_string(),
    )
}

/// Linked GHL contact ids, from the service over its socket.
async fn linked(engine: &ghlsync::engine::EngineHandle) -> Vec<String> {
    let Ok(Reply::Contacts { list }) = engine.call(Command::Contacts { limit: None }).await else {
        panic!("no contact list from the service");
    };
    list.rows
        .into_iter()
        .filter(|row| row.peer_id.is_some())
        .filter_map(|row| row.ghl_id)
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// A figure of `/metrics`.
async fn metric(http: &reqwest::Client, url: &str, name: &str) -> Option<f64> {
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Waits until the inbox has been empty for two seconds; returns the webhooks taken so far and
/// how long that took.
async fn inbox_drained(http: &reqwest::Client, url: &str) -> (u64, Duration) {
    let started = Instant::now();
    let mut empty_since: Option<Instant> = None;
    loop {
        let left = metric(http, url, "ghlsync_inbox_events")
            .await
            .unwrap_or(1.0);
        if left == 0.0 {
            let since = *empty_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(2) {
                let taken = metric(http, url, "ghlsync_webhooks_last_hour")
                    .await
                    .unwrap_or(0.0);
                return (taken as u64, started.elapsed());
            }
        } else {
            empty_since = None;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "the inbox never drained"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn latency(root: &Path) {
    let contacts: usize = env_or("CONTACTS", 1000);
    let secs: f64 = env_or("EVENTS_SECS", 30.0);
    let rates: Vec<f64> = std::env::var("RATES")
        .unwrap_or_else(|_| "1,5,10".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    let mut procs = Processes(Vec::new());
    let port = free_port();
    let base = start_sandbox(root, contacts, "100/1s", Some(port), &mut procs);
    let (url, _pid) = start_service(root, port, "[service.schedule]\nall = \"1h\"", &mut procs);
    let http = reqwest::Client::new();
    let first = wait_first_runs(&http, &url, 1).await;
    // The first sync's own writes into GHL come back as webhooks (the sandbox sends them as GHL
    // does); they are measured apart, not mixed into the first rate's figures.
    let writes = "ghlsync_writes_last_hour{peer=\"repsly\"}";
    let writes_before = metric(&http, &url, writes).await.unwrap_or(0.0);
    let backlog = inbox_drained(&http, &url).await;
    let echo_writes = metric(&http, &url, writes).await.unwrap_or(0.0) - writes_before;
    let socket = root.join("runtime/ghlsync/bench.sock");
    let engine = ghlsync::engine::socket::connect(&socket).await.unwrap();
    let ids = linked(&engine).await;
    let (token, _) = credentials(root);
    println!(
        "  the first sync's echoes: {} webhooks (its own writes into GHL) taken and synced in {:.1} s after the sync, {echo_writes} writes",
        backlog.0,
        backlog.1.as_secs_f64()
    );
    println!(
        "webhook-driven latency, GHL change → Repsly write committed ({} linked contacts, first sync {:.0} s, load {})",
        ids.len(),
        first.as_secs_f64(),
        super::probe::load_average()
    );
    let mut next_contact = 0usize;
    for rate in rates {
        let events = (rate * secs).round() as usize;
        assert!(
            events <= ids.len(),
            "CONTACTS too small for {events} events"
        );
        let pending: Arc<std::sync::Mutex<HashMap<String, Instant>>> = Arc::default();
        let done: Arc<std::sync::Mutex<Vec<f64>>> = Arc::default();
        let mut log = engine.subscribe();
        let (pending_w, done_w) = (pending.clone(), done.clone());
        let watcher = tokio::spawn(async move {
            while let Ok(event) = log.recv().await {
                let Event::Log { entry } = event else {
                    continue;
                };
                if entry.direction != Direction::ToPeer
                    || entry.outcome != Outcome::Ok
                    || !matches!(entry.action, Action::Update)
                {
                    continue;
                }
                let Some(id) = entry.ghl_id else { continue };
                if let Some(t0) = pending_w.lock().unwrap().remove(&id) {
                    done_w.lock().unwrap().push(t0.elapsed().as_secs_f64());
                }
            }
        });
        let started = Instant::now();
        for i in 0..events {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
            let id = ids[next_contact % ids.len()].clone();
            next_contact += 1;
            let answer = http
                .put(format!("{base}/contacts/{id}"))
                .bearer_auth(&token)
                .header("Version", "2021-07-28")
                .json(&serde_json::json!({"city": format!("Bench City {next_contact}")}))
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success(), "PUT {}", answer.status());
            pending.lock().unwrap().insert(id, Instant::now());
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while !pending.lock().unwrap().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        watcher.abort();
        let mut times = done.lock().unwrap().clone();
        times.sort_by(f64::total_cmp);
        let missing = pending.lock().unwrap().len();
        println!(
            "  {rate:>4} events/s × {secs:.0} s: {} arrived, p50 {:.3} s, p95 {:.3} s, max {:.3} s, {missing} not arrived in 60 s (goal p95 ≤ 2 s + the peer's latency)",
            times.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times.last().copied().unwrap_or(f64::NAN),
        );
    }
}

pub async fn receiver(root: &Path) {
    use ed25519_dalek::Signer;
    use ed25519_dalek::pkcs8::EncodePublicKey;
    let contacts: usize = env_or("CONTACTS", 1000);
    let concurrency: usize = env_or("CONCURRENCY", 16);
    let blast = Duration::from_secs(env_or("BLAST_SECS", 10));
    let queue_limit: usize = env_or("QUEUE_LIMIT", 10_000);
    let mut procs = Processes(Vec::new());
    let port = free_port();
    start_sandbox(root, contacts, "100/1s", None, &mut procs);
    let mut seed = [0u8; 32];
    seed.iter_mut().for_each(|b| *b = rand::random::<u8>());
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let pem = key
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    std::fs::write(root.join("bench-ed25519.pem"), pem).unwrap();
    let (url, _pid) = start_service(
        root,
        port,
        &format!(
            "[service.schedule]\nall = \"1h\"\n\n[service.webhooks]\ned25519_keys = [\"bench-ed25519.pem\"]\nqueue_limit = {queue_limit}\n"
        ),
        &mut procs,
    );
    let http = reqwest::Client::new();
    wait_first_runs(&http, &url, 1).await;
    let socket = root.join("runtime/ghlsync/bench.sock");
    let engine = ghlsync::engine::socket::connect(&socket).await.unwrap();
    let ids = Arc::new(linked(&engine).await);
    let (_, location) = credentials(root);
    let key = Arc::new(key);
    let (ok, busy, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, ids, key, location) = (
            http.clone(),
            url.clone(),
            ids.clone(),
            key.clone(),
            location.clone(),
        );
        let (ok, busy, other, counter) = (ok.clone(), busy.clone(), other.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < blast {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let id = &ids[n as usize % ids.len()];
                let body = serde_json::to_vec(&serde_json::json!({
                    "type": "ContactUpdate",
                    "locationId": location,
                    "id": id,
                    "city": format!("Blast {n}"),
                    "webhookId": format!("bench-{n}"),
                    "timestamp": chrono::Utc::now().to_rfc3339(),
                }))
                .unwrap();
                let signature = base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    key.sign(&body).to_bytes(),
                );
                let status = http
                    .post(format!("{url}/webhooks/ghl"))
                    .header("X-GHL-Signature", signature)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map(|a| a.status().as_u16())
                    .unwrap_or(0);
                match status {
                    200 => ok.fetch_add(1, Ordering::Relaxed),
                    429 => busy.fetch_add(1, Ordering::Relaxed),
                    _ => other.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let accepted = ok.load(Ordering::Relaxed);
    // Every accepted event is processed: the inbox drains to 0.
    let drain_started = Instant::now();
    let mut left = u64::MAX;
    while drain_started.elapsed() < Duration::from_secs(600) {
        left = metric(&http, &url, "ghlsync_inbox_events")
            .await
            .map_or(u64::MAX, |v| v as u64);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "webhook receiver, {concurrency} clients × {secs:.1} s, queue_limit {queue_limit} (load {})",
        super::probe::load_average()
    );
    println!(
        "  {accepted} acknowledged (200, durable) = {:.0} acks/s; {} answered 429 past the queue limit; {} other",
        accepted as f64 / secs,
        busy.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed)
    );
    println!(
        "  inbox drained to {left} in {:.1} s after the blast (events for one contact share one targeted run)",
        drain_started.elapsed().as_secs_f64()
    );
}
