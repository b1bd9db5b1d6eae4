//! Sandbox start-up time by seeded size (issue 2: "well under a second with 10k contacts").
//!
//!     cargo bench --bench sandbox_start

// Bench code: a panic is how it stops (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ghlsync::sandbox::{self, SandboxOptions};
use std::time::Instant;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!("sandbox start-up (seed, bind, first answer):");
        for contacts in [2_000usize, 10_000, 100_000] {
            let mut best = f64::MAX;
            for _ in 0..3 {
                let started = Instant::now();
                let running = sandbox::start(SandboxOptions {
                    contacts,
                    ..SandboxOptions::default()
                })
                .await
                .expect("sandbox starts");
                let stats = reqwest::get(format!("{}/_sandbox/stats", running.base_url))
                    .await
                    .expect("stats");
                assert!(stats.status().is_success());
                best = best.min(started.elapsed().as_secs_f64() * 1000.0);
                running.shutdown().await;
            }
            println!("  {contacts:>7} contacts: {best:8.1} ms (best of 3)");
        }
    });
}
