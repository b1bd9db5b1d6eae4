//! The sandbox held to a contract: GHL's official OpenAPI files (`../shared/ghl-api/apps/`,
//! loaded at test time) for every operation it emulates, and hand-written JSON Schemas
//! (`peers/*.json`) for the peer emulations. Valid requests are drawn from the request schemas
//! (proptest) and every answer must match the spec's schema for its status; invalid requests
//! (wrong types, bad enums and dates, missing or unknown properties, non-object bodies) must get
//! GHL's 400/422 with a NestJS-style error body. Known, justified differences are listed in
//! `waivers.toml`; a waiver that matches nothing fails the test.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;
mod coverage;
mod generate;
mod ghl;
mod ghl_ctx;
mod ghl_ops;
mod peers;
mod schema;
mod spec;
mod waivers;

use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

/// Valid cases per operation. Fixed seed: CI runs the same cases every time; set
/// `CONTRACT_SEED` to explore others.
pub const CASES: u32 = 64;

/// A runner seeded by `CONTRACT_SEED` and `salt` (the operation): two operations drawing from
/// alike schemas must not draw the same values (a second contact with the same email is a
/// duplicate the location refuses).
pub fn runner(cases: u32, salt: &str) -> TestRunner {
    let seed: u64 = std::env::var("CONTRACT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
    let salt = salt.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    bytes[8..16].copy_from_slice(&salt.to_le_bytes());
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            // Shrinking replays cases against a server whose state moved on (a shrunk email
            // meets its own earlier copy); the first failing case is the one to read.
            max_shrink_iters: 0,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// Every string in an error body's `message`, joined.
pub fn messages(answer: &Value) -> String {
    match &answer["message"] {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        other => other.as_str().unwrap_or_default().to_string(),
    }
}

/// Words only Rust's serde (or a Rust type name) would put in a message; GHL's NestJS pipes
/// and the peers' servers never do.
pub fn serde_words(text: &str) -> Option<&'static str> {
    [
        "invalid type:",
        "missing field `",
        "unknown field `",
        "expected struct",
        "unknown variant",
        "while parsing",
        "trailing characters",
        "`",
    ]
    .into_iter()
    .find(|w| text.contains(w))
}

/// Fails with every problem found, one per line, so one run shows them all.
pub fn report(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s)\n{}",
        problems.len(),
        problems.join("\n")
    );
}
