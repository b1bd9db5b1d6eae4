//! An emulated Repsly API v3 (`../shared/research/peer-apis.md` §1), served by the same axum
//! server as the GHL sandbox under `/repsly/v3`, seeded to overlap the GHL seed.
//!
//! Wire format, and where the docs leave a choice (**[verify]** against a live account):
//! - HTTP Basic auth; anything else is 401 `{"Message":"Authorization has been denied for this
//!   request."}`. No rate-limit headers (Repsly documents none).
//! - Timestamp cursors (`export/clients/{lastTimeStamp}`, `export/visits/{lastTimestamp}`) and id
//!   cursors (`export/clientnotes/{lastClientNoteID}`): ≤ 50 rows strictly after the cursor, with
//!   `MetaCollectionResult.TotalCount` = rows in this page (0 = done), see `export.rs`.
//!   `TimeStamp` is one global counter, bumped on every real change (seeds start at 1,000,000).
//! - `export/schedules/{begin}/{end}` (extended) and `export/visitschedules/{begin}/{end}`
//!   (legacy): inclusive `YYYY-MM-DD` windows, `{"VisitSchedules":[…]}`, unpaged.
//! - `export/internal/client/{clientCode}`: the bare client object; 404 `{"Message":…}`.
//! - Imports are asynchronous jobs (`import.rs`); malformed JSON is IIS's HTML 400 page.
//! - Injected faults come from the sandbox's shared queue/rate: target a route as
//!   `"GET /repsly/v3/export/clients/:lastTimeStamp"`. Requests count in the shared stats.

mod admin;
mod client_import;
mod dump;
mod export;
mod http;
mod import;
mod model;
mod outage;
mod schedule_import;
mod seed;
mod seed_activity;
mod store;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::config::Secret;
use crate::sandbox::ids;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::Store as GhlStore;

pub use seed::SeedFigures;

/// Where the Repsly routes are mounted on the sandbox server.
pub const PREFIX: &str = "/repsly/v3";

const DEFAULT_IMPORT_DELAY_MS: u64 = 50;
const FIRST_JOB_ID: u64 = 123_457;

pub struct RepslyState {
    pub username: String,
    pub password: Secret,
    pub data: Mutex<store::Data>,
    pub figures: Mutex<SeedFigures>,
    /// How long an import job stays `Pending` (`POST /_sandbox/repsly/settings`).
    pub import_delay_ms: AtomicU64,
    /// Every job ends `Failed` and applies nothing (a test knob).
    pub fail_imports: AtomicBool,
    /// A peer outage on demand (`downForMs`, `downMode`).
    pub outage: Mutex<outage::Outage>,
    /// Never reset, so a job id from before `/_sandbox/reset` stays unknown after it.
    pub next_job_id: AtomicU64,
}

/// The API username and password: the same seed always yields the same pair.
pub fn credentials(seed: u64) -> (String, String) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x0AE5_1A11);
    (
        format!("sbx_{}", ids::alnum(&mut rng, 12).to_lowercase()),
        ids::alnum(&mut rng, 32),
    )
}

impl RepslyState {
    pub fn new(ghl: &GhlStore, location: &str, seed: u64, anchor_ms: i64) -> Self {
        let (username, password) = credentials(seed);
        let (data, figures) = seed::data(ghl, location, seed, anchor_ms);
        RepslyState {
            username,
            password: Secret::new(password),
            data: Mutex::new(data),
            figures: Mutex::new(figures),
            import_delay_ms: AtomicU64::new(DEFAULT_IMPORT_DELAY_MS),
            fail_imports: AtomicBool::new(false),
            outage: Mutex::default(),
            next_job_id: AtomicU64::new(FIRST_JOB_ID),
        }
    }

    /// Re-seeds from (freshly re-seeded) GHL data; pending jobs are forgotten. Credentials and
    /// settings stay.
    pub fn reseed(&self, ghl: &GhlStore, location: &str, seed: u64, anchor_ms: i64) {
        let (data, figures) = seed::data(ghl, location, seed, anchor_ms);
        *lock(&self.data) = data;
        *lock(&self.figures) = figures;
    }

    /// Completes job `id` if it is still pending (a reset may have dropped it).
    pub fn run_job(&self, id: u64) {
        let fail = self.fail_imports.load(Ordering::Relaxed);
        let mut data = lock(&self.data);
        let Some(mut job) = data.jobs.remove(&id) else {
            return;
        };
        job.run(&mut data, fail);
        data.jobs.insert(id, job);
    }

    /// The `repsly` object of `GET /_sandbox/stats`.
    pub fn counts(&self) -> Value {
        let data = lock(&self.data);
        json!({
            "clients": data.client_count(),
            "notes": data.notes.len(),
            "schedules": data.schedules.len(),
            "visits": data.visits.len(),
            "importJobs": data.jobs.len(),
        })
    }
}

/// The API routes, relative to [`PREFIX`] (nest them there).
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/export/clients/{lastTimeStamp}", get(export::clients))
        .route("/export/internal/client/{clientCode}", get(export::client))
        .route(
            "/export/clientnotes/{lastClientNoteID}",
            get(export::client_notes),
        )
        .route("/export/visits/{lastTimestamp}", get(export::visits))
        .route(
            "/export/schedules/{beginDateTime}/{endDateTime}",
            get(export::schedules),
        )
        .route(
            "/export/visitschedules/{beginDateTime}/{endDateTime}",
            get(export::visit_schedules),
        )
        .route("/export/representatives", get(export::representatives))
        .route("/export/importStatus/{importJobID}", get(import::status))
        .route("/import/client", post(import::client))
        .route("/import/clientList", post(import::client_list))
        .route("/import/schedule", post(import::schedule))
        .route_layer(from_fn_with_state(state, http::guard))
        .fallback(http::not_found)
}

/// `/_sandbox/repsly/*`: no auth, not faulted, not counted (like the rest of `/_sandbox`).
pub fn admin_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_sandbox/repsly/info", get(admin::info))
        .route("/_sandbox/repsly/clients", post(admin::put_client))
        .route("/_sandbox/repsly/notes", post(admin::add_note))
        .route(
            "/_sandbox/repsly/settings",
            get(admin::get_settings).post(admin::set_settings),
        )
}
