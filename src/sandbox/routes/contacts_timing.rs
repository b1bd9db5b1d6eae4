//! Handler CPU per upsert at 10k contacts, without the socket or the pipeline in the way:
//! `cargo test --release --lib upsert_timing -- --ignored --nocapture`.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::extract::State;
use serde_json::json;

use crate::sandbox::auth::{ALL_SCOPES, Caller, scopes_of};
use crate::sandbox::body::JsonBody;
use crate::sandbox::state::lock;
use crate::sandbox::{SandboxOptions, new_state};

use super::contacts::upsert;

fn text(value: &serde_json::Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

#[tokio::test]
#[ignore = "timing, run by hand in release"]
async fn upsert_timing() {
    let opts = SandboxOptions {
        contacts: 10_000,
        rate_limit: None,
        daily_limit: None,
        ..SandboxOptions::default()
    };
    let st = Arc::new(new_state(opts, "http://127.0.0.1:1".into()));
    let location = st.ids.location_id.clone();
    let caller = || Caller {
        location_id: location.clone(),
        scopes: scopes_of(ALL_SCOPES),
    };
    // Half the upserts match a seeded contact by email, half create a new one.
    let existing: Vec<String> = lock(&st.data)
        .walk(&location, None)
        .filter_map(|r| r.contact.email.clone())
        .take(5_000)
        .collect();
    let bodies: Vec<_> = (0..10_000usize)
        .map(|i| {
            let email = match existing.get(i / 2) {
                Some(e) if i % 2 == 0 => e.clone(),
                _ => format!("timing{i}@example.org"),
            };
            json!({
                "locationId": location,
                "firstName": "Tim",
                "email": email,
                "phone": format!("+1555{i:07}"),
            })
        })
        .collect();
    let probes: Vec<(String, String)> = bodies
        .iter()
        .map(|b| (text(&b["email"]), text(&b["phone"])))
        .collect();
    let started = Instant::now();
    let mut found = 0;
    {
        let store = lock(&st.data);
        for (email, phone) in &probes {
            // The two lookups an upsert makes.
            found += usize::from(
                store
                    .find_duplicate(&location, Some(email), None, None)
                    .is_some(),
            );
            found += usize::from(
                store
                    .find_duplicate(&location, None, Some(phone), None)
                    .is_some(),
            );
        }
    }
    println!(
        "duplicate matching alone: {:.2} µs per upsert ({found} found)",
        started.elapsed().as_secs_f64() * 1e6 / 10_000.0
    );
    let started = Instant::now();
    let mut created = 0;
    for body in bodies {
        let response = upsert(State(st.clone()), Extension(caller()), JsonBody(body)).await;
        let Ok(response) = response else {
            panic!("upsert refused")
        };
        created += usize::from(response.status().is_success());
    }
    let elapsed = started.elapsed();
    assert_eq!(created, 10_000);
    println!(
        "10,000 upserts into 10,000 seeded contacts: {elapsed:?}, {:.1} µs per upsert; {} contacts now",
        elapsed.as_secs_f64() * 1e6 / 10_000.0,
        lock(&st.data).count_in(&location),
    );
}
