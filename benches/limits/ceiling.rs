//! Section 1: GHL's ceiling. The same reads (`GET /contacts/:id`) by the same number of workers
//! against the sandbox's burst limit, first through ghlsync's client, then through the naive one.

use crate::naive::NaiveClient;
use crate::stats::{Delta, Stats};
use crate::{Figure, LIMIT};
use ghlsync::ghl::{AuthSettings, ClientSettings, GhlClient};
use ghlsync::sandbox::{self, SandboxOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one client achieved.
struct Outcome {
    calls: usize,
    failed: usize,
    wall: Duration,
    delta: Delta,
}

impl Outcome {
    fn fraction_of_ceiling(&self) -> f64 {
        let ceiling = f64::from(LIMIT.max) / LIMIT.interval.as_secs_f64();
        (self.calls - self.failed) as f64 / self.wall.as_secs_f64() / ceiling
    }

    fn too_many_percent(&self) -> f64 {
        100.0 * self.delta.too_many as f64 / self.delta.ghl.max(1) as f64
    }
}

pub async fn measure(calls: usize, workers: usize) -> Vec<Figure> {
    let sandbox = sandbox::start(SandboxOptions {
        contacts: 500,
        rate_limit: Some(LIMIT),
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts");
    // GHL's production assumption (100 per 10 s) to start with; the window is learnt from the
    // headers, as it would be if GHL changed its limits.
    let ours = GhlClient::new(ClientSettings::new(
        sandbox.base_url.clone(),
        sandbox.location_id.clone(),
        AuthSettings::PrivateToken(sandbox.token.clone()),
    ))
    .expect("client");
    let ids: Arc<Vec<String>> = Arc::new(
        ours.list_all_contacts(None, 100, 10)
            .await
            .expect("ids")
            .into_iter()
            .map(|c| c.id)
            .collect(),
    );
    let token = sandbox.token.expose().to_string();
    let naive = Arc::new(NaiveClient::new(
        &sandbox.base_url,
        &token,
        // GHL's window is 10 s and the sandbox's 1 s: the SDK's 1 s first wait, scaled alike.
        Duration::from_millis(100),
    ));
    let http = reqwest::Client::new();

    let mut outcomes = Vec::new();
    for client in ["ghlsync", "naive"] {
        // Each client starts on a fresh window.
        tokio::time::sleep(LIMIT.interval * 2).await;
        let before = Stats::read(&http, &sandbox.base_url).await;
        let next = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..workers {
            let (ours, naive, ids, next, failed) = (
                ours.clone(),
                naive.clone(),
                ids.clone(),
                next.clone(),
                failed.clone(),
            );
            handles.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= calls {
                        break;
                    }
                    let id = &ids[n % ids.len()];
                    let ok = if client == "ghlsync" {
                        ours.get_contact(id).await.is_ok()
                    } else {
                        let path = format!("/contacts/{id}");
                        naive.send(reqwest::Method::GET, &path, None).await.status == 200
                    };
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for handle in handles {
            let _ = handle.await;
        }
        let wall = started.elapsed();
        let after = Stats::read(&http, &sandbox.base_url).await;
        let outcome = Outcome {
            calls,
            failed: failed.load(Ordering::Relaxed),
            wall,
            delta: Delta::between(&before, &after),
        };
        println!(
            "   {client:<8} {calls} calls, {workers} workers: {:.1} s, {} HTTP requests, {} answered 429 ({:.2} %), {} calls failed → {:.3} of the ceiling",
            wall.as_secs_f64(),
            outcome.delta.ghl,
            outcome.delta.too_many,
            outcome.too_many_percent(),
            outcome.failed,
            outcome.fraction_of_ceiling(),
        );
        outcomes.push(outcome);
    }
    sandbox.shutdown().await;
    let (ours, naive) = (&outcomes[0], &outcomes[1]);
    vec![
        Figure::new(
            "GHL's ceiling used (reads, 100/10 s ÷ 10)",
            format!("{:.3}", ours.fraction_of_ceiling()),
            format!("{:.3}", naive.fraction_of_ceiling()),
            "≥ 0.95",
        ),
        Figure::new(
            "429 answers per request",
            format!("{:.2} %", ours.too_many_percent()),
            format!("{:.2} %", naive.too_many_percent()),
            "≤ 0.1 %",
        ),
    ]
}
