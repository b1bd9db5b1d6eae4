//! Test harness: a real sandbox on 127.0.0.1 (ephemeral port) and a real client over HTTP.
#![allow(dead_code)]
// each test binary uses a different subset
// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ghlsync::config::Secret;
use ghlsync::ghl::{AuthSettings, ClientSettings, GhlClient};
use ghlsync::net::RetryPolicy;
use ghlsync::sandbox::{self, RunningSandbox, SandboxOptions};
pub mod binary;
pub mod oracle;
pub mod pty;
pub mod scenario;
pub mod sync;

use serde_json::{Value, json};
use std::time::Duration;

pub struct Harness {
    pub sandbox: RunningSandbox,
    pub http: reqwest::Client,
}

impl Harness {
    /// A sandbox with `contacts` seeded contacts and limits off, so tests are not paced.
    pub async fn start(contacts: usize) -> Harness {
        Harness::with_options(SandboxOptions {
            contacts,
            rate_limit: None,
            daily_limit: None,
            ..SandboxOptions::default()
        })
        .await
    }

    pub async fn with_options(options: SandboxOptions) -> Harness {
        let sandbox = sandbox::start(options).await.expect("sandbox starts");
        Harness {
            sandbox,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sandbox.base_url, path)
    }

    /// Client settings with fast retries, so fault tests finish in milliseconds.
    pub fn settings(&self, auth: AuthSettings) -> ClientSettings {
        let mut settings = ClientSettings::new(
            self.sandbox.base_url.clone(),
            self.sandbox.location_id.clone(),
            auth,
        );
        settings.retry = RetryPolicy {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(50),
            ..settings.retry
        };
        settings.timeout = Duration::from_secs(5);
        settings
    }

    pub fn client(&self) -> GhlClient {
        GhlClient::new(self.settings(AuthSettings::PrivateToken(self.sandbox.token.clone())))
            .expect("client builds")
    }

    pub fn client_with_token(&self, token: &Secret) -> GhlClient {
        GhlClient::new(self.settings(AuthSettings::PrivateToken(token.clone())))
            .expect("client builds")
    }

    /// Creates the custom fields `mapping` (None: the built-in Repsly mapping) names and the
    /// location lacks, the way `ghlsync mapping check --create-fields` does: a run refuses to
    /// start without them.
    pub async fn create_mapping_fields(&self, mapping: Option<&ghlsync::sync::mapping::Mapping>) {
        let builtin;
        let mapping = match mapping {
            Some(mapping) => mapping,
            None => {
                builtin =
                    ghlsync::sync::mapping::Mapping::builtin("repsly").expect("built-in mapping");
                &builtin
            }
        };
        ghlsync::sync::mapping::create_missing_fields(mapping, &self.client())
            .await
            .expect("the mapping's custom fields are created");
        // Set-up is not the test's traffic: the counters start again from zero (a reset
        // re-seeds the same data and keeps the fields: they are the location's set-up).
        self.admin_post("reset", json!({})).await;
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.url(&format!("/_sandbox/{path}")))
            .json(&body)
            .send()
            .await
            .expect("admin request");
        assert!(
            response.status().is_success(),
            "admin {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// `GET /_sandbox/dump`: both sides' whole state.
    pub async fn dump(&self) -> Value {
        self.admin_get("dump").await
    }

    pub async fn stats(&self) -> Value {
        self.admin_get("stats").await
    }

    /// `GET /_sandbox/PATH` (`info`, `dump`, `stats`).
    pub async fn admin_get(&self, path: &str) -> Value {
        self.http
            .get(self.url(&format!("/_sandbox/{path}")))
            .send()
            .await
            .expect("admin request")
            .json()
            .await
            .expect("admin json")
    }

    /// Requests the sandbox counted for `method route` (route template), any status.
    pub async fn count(&self, method: &str, route: &str) -> u64 {
        count_in(&self.stats().await, method, route, None)
    }

    /// Zeroes the counters by resetting the whole sandbox: GHL's and Repsly's data go back to
    /// the seed too (custom fields stay). A sync after it finds every record an earlier run
    /// changed changed again, on both sides; to count what one run wrote on a sandbox as it is,
    /// take the difference of `stats` before and after.
    pub async fn reset_counters(&self) {
        self.admin_post("reset", json!({})).await;
    }

    /// Mints an access token with the given scopes (None = all) for a location (None = seeded).
    pub async fn mint_token(
        &self,
        scopes: Option<&[&str]>,
        location: Option<&str>,
        ttl_ms: Option<u64>,
    ) -> (Secret, Secret) {
        let mut body = json!({});
        if let Some(scopes) = scopes {
            body["scopes"] = json!(scopes);
        }
        if let Some(location) = location {
            body["locationId"] = json!(location);
        }
        if let Some(ttl) = ttl_ms {
            body["ttlMs"] = json!(ttl);
        }
        let minted = self.admin_post("tokens", body).await;
        (
            Secret::new(minted["access_token"].as_str().expect("access_token")),
            Secret::new(minted["refresh_token"].as_str().expect("refresh_token")),
        )
    }

    /// Queues one-shot faults for the next matching requests.
    pub async fn queue_faults(&self, faults: &[(&str, &str)]) {
        let next: Vec<Value> = faults
            .iter()
            .map(|(route, kind)| json!({"route": route, "kind": kind}))
            .collect();
        self.admin_post("faults", json!({"rate": 0.0, "next": next}))
            .await;
    }
}

pub fn count_in(stats: &Value, method: &str, route: &str, status: Option<u64>) -> u64 {
    stats["requests"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|row| row["method"] == method && row["route"] == route)
                .filter(|row| status.is_none_or(|status| row["status"].as_u64() == Some(status)))
                .filter_map(|row| row["count"].as_u64())
                .sum()
        })
        .unwrap_or(0)
}

/// Total API requests (all routes) the sandbox counted.
pub fn total_in(stats: &Value) -> u64 {
    stats["requests"]
        .as_array()
        .map(|rows| rows.iter().filter_map(|row| row["count"].as_u64()).sum())
        .unwrap_or(0)
}
