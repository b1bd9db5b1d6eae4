//! How close the client's limiter gets to GHL's ceiling without 429 storms.
//!
//! Drives REQUESTS real HTTP requests through one `GhlClient` against the sandbox with a
//! time-compressed burst limit (MAX per INTERVAL; GHL's real one is 100 per 10 s) and prints the
//! achieved throughput as a fraction of the ceiling and the share of 429s.
//!
//!     cargo bench --bench limiter                       # defaults: 1500 requests, 100/1s, 8 workers
//!     cargo bench --bench limiter -- 3000 100/1s 16     # REQUESTS LIMIT WORKERS
//!
//! Targets (issue 2): ≥ 0.95 of the ceiling, ≤ 0.1 % 429s.

// Bench code: a panic is how it stops (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ghlsync::ghl::{AuthSettings, ClientSettings, GhlClient};
use ghlsync::sandbox::{self, BurstLimit, SandboxOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let requests: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1500);
    let limit: BurstLimit = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(BurstLimit {
            max: 100,
            interval: Duration::from_secs(1),
        });
    let workers: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(8);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(requests, limit, workers));
}

async fn run(requests: usize, limit: BurstLimit, workers: usize) {
    let sandbox = sandbox::start(SandboxOptions {
        contacts: 500,
        rate_limit: Some(limit),
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts");
    // The client starts with GHL's production assumption (100 per 10 s) and must learn the
    // sandbox's real window from the headers, as it would if GHL changed its limits.
    let settings = ClientSettings::new(
        sandbox.base_url.clone(),
        sandbox.location_id.clone(),
        AuthSettings::PrivateToken(sandbox.token.clone()),
    );
    let client = GhlClient::new(settings).expect("client");
    let ids: Vec<String> = client
        .list_all_contacts(None, 100, 10)
        .await
        .expect("ids")
        .into_iter()
        .map(|c| c.id)
        .collect();
    // Let the window that served the id listing expire, so the measurement starts clean.
    tokio::time::sleep(limit.interval).await;
    let stats_before = stats(&sandbox.base_url).await;

    let ids = Arc::new(ids);
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (client, ids, next, errors) =
            (client.clone(), ids.clone(), next.clone(), errors.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    break;
                }
                if client.get_contact(&ids[n % ids.len()]).await.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
    let elapsed = started.elapsed();
    let stats_after = stats(&sandbox.base_url).await;
    let sent = stats_after.0 - stats_before.0;
    let limited = stats_after.1 - stats_before.1;

    let ceiling_per_sec = limit.max as f64 / limit.interval.as_secs_f64();
    let achieved = requests as f64 / elapsed.as_secs_f64();
    println!(
        "limiter benchmark: {requests} GET /contacts/:id, {workers} workers, sandbox limit {}/{:?}",
        limit.max, limit.interval
    );
    println!("  elapsed            {:.2} s", elapsed.as_secs_f64());
    println!("  achieved           {achieved:.1} req/s (ceiling {ceiling_per_sec:.1} req/s)");
    println!(
        "  fraction of ceiling {:.3}   (target >= 0.95)",
        achieved / ceiling_per_sec
    );
    println!("  HTTP requests sent {sent} for {requests} calls");
    println!(
        "  429 responses      {limited} = {:.3} %   (target <= 0.1 %)",
        100.0 * limited as f64 / sent.max(1) as f64
    );
    println!("  failed calls       {}", errors.load(Ordering::Relaxed));
    sandbox.shutdown().await;
}

/// (total API requests, 429s) as the sandbox counted them.
async fn stats(base_url: &str) -> (u64, u64) {
    let stats: serde_json::Value = reqwest::get(format!("{base_url}/_sandbox/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats json");
    let rows = stats["requests"].as_array().cloned().unwrap_or_default();
    let total = rows.iter().filter_map(|r| r["count"].as_u64()).sum();
    let limited = rows
        .iter()
        .filter(|r| r["status"] == 429)
        .filter_map(|r| r["count"].as_u64())
        .sum();
    (total, limited)
}
