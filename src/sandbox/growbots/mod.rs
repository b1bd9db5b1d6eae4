//! An emulated Growbots. Growbots has no public API, so this emulates what ghlsync meets:
//! - the app's **CSV exports** (prospects, companies), seeded to overlap the GHL seed, served
//!   for download at `GET /growbots/exports/prospects.csv` and `/growbots/exports/companies.csv`
//!   behind `Authorization: Bearer <token>` (401 otherwise);
//! - the **Zapier bridge**: admin hooks under `/_sandbox/growbots/` change prospects as a user
//!   of the app would, and events (created, replied, qualified, unqualified) are posted, signed
//!   (`X-Growbots-Timestamp`, `X-Growbots-Signature: sha256=HMAC(secret, "<ts>.<body>")`), to
//!   the URL set with `POST /_sandbox/growbots/bridge`, retried on a non-2xx answer as Zapier
//!   does (3 attempts); the hook answers once the bridge is done;
//! - faults, one-shot, queued with `POST /_sandbox/growbots/faults {"next": [...]}`:
//!   `badSignature` (the next event's first attempt is signed with a wrong secret),
//!   `duplicate` (the next event is delivered twice), `html` (the next export download is a
//!   502 HTML page).

mod admin;
mod bridge;
pub mod seed;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Secret;
use crate::sandbox::ids;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::Store as GhlStore;

/// Where the exports are served on the sandbox server.
pub const PREFIX: &str = "/growbots";

/// A one-shot fault of the emulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Fault {
    BadSignature,
    Duplicate,
    Html,
}

/// What a client of the emulation needs: where it is, its credentials, its seeded exports.
#[derive(Debug, Clone)]
pub struct Access {
    /// `{sandbox}/growbots`.
    pub base_url: String,
    /// The export downloads' bearer token.
    pub token: Secret,
    /// The secret the bridge signs events with.
    pub webhook_secret: Secret,
    /// The seeded exports, as downloaded at start.
    pub prospects_csv: String,
    pub companies_csv: String,
}

pub struct GrowbotsState {
    pub token: Secret,
    pub webhook_secret: Secret,
    pub data: Mutex<seed::Data>,
    /// Where the bridge posts events; none: events are recorded, not sent.
    pub bridge: Mutex<Option<String>>,
    pub faults: Mutex<VecDeque<Fault>>,
    client: reqwest::Client,
}

impl GrowbotsState {
    pub fn new(ghl: &GhlStore, location: &str, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x6B07_0A17);
        GrowbotsState {
            token: Secret::new(ids::alnum(&mut rng, 32)),
            webhook_secret: Secret::new(ids::alnum(&mut rng, 40)),
            data: Mutex::new(seed::data(ghl, location, seed)),
            bridge: Mutex::new(None),
            faults: Mutex::new(VecDeque::new()),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Seeds again (after `/_sandbox/reset`); credentials and the bridge stay, faults go.
    pub fn reseed(&self, ghl: &GhlStore, location: &str, seed: u64) {
        *lock(&self.data) = seed::data(ghl, location, seed);
        lock(&self.faults).clear();
    }

    pub fn access(&self, sandbox_url: &str) -> Access {
        Access {
            base_url: format!("{sandbox_url}{PREFIX}"),
            token: self.token.clone(),
            webhook_secret: self.webhook_secret.clone(),
            prospects_csv: self.prospects_csv(),
            companies_csv: self.companies_csv(),
        }
    }

    pub fn prospects_csv(&self) -> String {
        seed::csv(seed::PROSPECT_HEADERS, &lock(&self.data).prospects)
    }

    pub fn companies_csv(&self) -> String {
        seed::csv(seed::COMPANY_HEADERS, &lock(&self.data).companies)
    }

    /// The `growbots` object of `GET /_sandbox/dump`: prospects by email, companies by name,
    /// events in order.
    pub fn dump(&self) -> Value {
        let data = lock(&self.data);
        let mut prospects = data.prospects.clone();
        let email = |row: &serde_json::Map<String, Value>| {
            row.get("Email")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_lowercase()
        };
        prospects.sort_by_key(email);
        let mut companies = data.companies.clone();
        companies.sort_by_key(|row| row.get("Company Name").map(Value::to_string));
        json!({
            "prospects": prospects,
            "companies": companies,
            "events": data.events,
        })
    }

    fn take_fault(&self, fault: Fault) -> bool {
        let mut faults = lock(&self.faults);
        match faults.iter().position(|f| *f == fault) {
            Some(at) => faults.remove(at).is_some(),
            None => false,
        }
    }
}

/// The export downloads, relative to [`PREFIX`].
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/exports/prospects.csv", get(admin::prospects_export))
        .route("/exports/companies.csv", get(admin::companies_export))
}

/// `/_sandbox/growbots/*`: no auth, loopback only.
pub fn admin_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_sandbox/growbots/info", get(admin::info))
        .route("/_sandbox/growbots/bridge", post(admin::set_bridge))
        .route("/_sandbox/growbots/faults", post(admin::set_faults))
        .route("/_sandbox/growbots/prospects", post(admin::put_prospect))
        .route("/_sandbox/growbots/replies", post(admin::reply))
        .route("/_sandbox/growbots/qualify", post(admin::qualify))
}
