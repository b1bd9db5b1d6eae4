//! An emulated Robly API v1 under `/robly/api/v1` (peer-apis.md §2): `api_id` and `api_key` as
//! query parameters on every call (401 without, 403 wrong), members newest first by id, paged
//! by `limit`/`offset` with no total, `updated_since` in the format of the moment, writes
//! answered `{"successful", "message"}`, `sign_up/generate` answering "already exists" for a
//! known email, and HTTP 500 for a write naming a field parameter the account lacks.
//!
//! What the research marks [verify] is an option here, changeable live
//! (`POST /_sandbox/robly/settings`), so the connector's matching switch can be proven:
//! `updatedSinceFormat` (`epoch` | `iso8601`), `listPath` (`contacts/show` | `contacts`) and
//! `writeParams` (`query` | `form`: where write parameters are read from).
//!
//! Every request's parameters are recorded (credentials left out) for tests
//! (`GET /_sandbox/robly/requests`); a write asking Robly to send mail is counted in
//! `mailRequests` (the dump's). Faults of its own: `POST /_sandbox/robly/faults`.

mod admin;
mod api;
mod seed;
mod store;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Secret;
use crate::sandbox::faults::FaultKind;
use crate::sandbox::ids;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::Store as GhlStore;

pub use seed::SeedFigures;

/// Where the Robly emulation is mounted on the sandbox server.
pub const PREFIX: &str = "/robly/api/v1";

/// What a test or rehearsal needs to reach the emulation.
#[derive(Clone, Debug)]
pub struct Access {
    /// `{sandbox}/robly/api/v1`.
    pub base_url: String,
    pub api_id: Secret,
    pub api_key: Secret,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinceFormat {
    /// Seconds since the epoch (the support page).
    #[default]
    Epoch,
    /// ISO 8601 with an offset (a third-party wrapper).
    Iso8601,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListPath {
    #[default]
    #[serde(rename = "contacts/show")]
    ContactsShow,
    #[serde(rename = "contacts")]
    Contacts,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteParams {
    #[default]
    Query,
    Form,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoblyOptions {
    pub updated_since_format: SinceFormat,
    pub list_path: ListPath,
    pub write_params: WriteParams,
}

/// One request as recorded: method, route and parameters (credentials left out), and the
/// query string as it came (credentials cut out), to see how `+` was sent.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub params: Vec<(String, String)>,
    pub raw_query: String,
}

/// The emulation's own faults: drawn at `rate` from `kinds`, or the queued `next` first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoblyFaults {
    pub rate: f64,
    pub kinds: Vec<FaultKind>,
    pub next: VecDeque<FaultKind>,
    pub slow_ms: u64,
    /// The next N searches by email miss (404) although the member exists: a search index
    /// behind a sign-up, which is how a client meets "already exists".
    pub miss_searches: u32,
}

impl Default for RoblyFaults {
    fn default() -> Self {
        RoblyFaults {
            rate: 0.0,
            kinds: vec![
                FaultKind::Status500,
                FaultKind::Status502,
                FaultKind::Status503,
                FaultKind::Html502,
                FaultKind::Slow,
                FaultKind::DropAfter,
            ],
            next: VecDeque::new(),
            slow_ms: 1500,
            miss_searches: 0,
        }
    }
}

pub struct RoblyState {
    pub api_id: Secret,
    pub api_key: Secret,
    pub options: Mutex<RoblyOptions>,
    pub data: Mutex<store::Data>,
    pub figures: Mutex<SeedFigures>,
    pub requests: Mutex<Vec<Recorded>>,
    pub faults: Mutex<RoblyFaults>,
}

/// Requests kept for `GET /_sandbox/robly/requests` (the oldest dropped beyond it).
const MAX_RECORDED: usize = 20_000;

/// The credentials: the same seed always yields the same ones.
fn credentials(seed: u64) -> (String, String) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x0B1E_CAFE);
    (
        ids::alnum(&mut rng, 16).to_lowercase(),
        ids::alnum(&mut rng, 32),
    )
}

impl RoblyState {
    pub fn new(ghl: &GhlStore, location: &str, seed: u64, anchor_ms: i64) -> Self {
        let (api_id, api_key) = credentials(seed);
        let (data, figures) = seed::data(ghl, location, seed, anchor_ms);
        RoblyState {
            api_id: Secret::new(api_id),
            api_key: Secret::new(api_key),
            options: Mutex::default(),
            data: Mutex::new(data),
            figures: Mutex::new(figures),
            requests: Mutex::default(),
            faults: Mutex::default(),
        }
    }

    /// Seeds again (after `/_sandbox/reset`); options and credentials stay, the request log
    /// and the queued faults go.
    pub fn reseed(&self, ghl: &GhlStore, location: &str, seed: u64, anchor_ms: i64) {
        let (data, figures) = seed::data(ghl, location, seed, anchor_ms);
        *lock(&self.data) = data;
        *lock(&self.figures) = figures;
        lock(&self.requests).clear();
        lock(&self.faults).next.clear();
    }

    pub fn access(&self, sandbox_base_url: &str) -> Access {
        Access {
            base_url: format!("{sandbox_base_url}{PREFIX}"),
            api_id: self.api_id.clone(),
            api_key: self.api_key.clone(),
        }
    }

    pub fn options(&self) -> RoblyOptions {
        *lock(&self.options)
    }

    fn record(&self, entry: Recorded) {
        let mut log = lock(&self.requests);
        if log.len() >= MAX_RECORDED {
            log.remove(0);
        }
        log.push(entry);
    }

    /// The `robly` object of `GET /_sandbox/dump`: members by id (sub-lists by name, no
    /// clocks but `updatedAt`), sub-list names, the field tags, and `mailRequests`.
    pub fn dump(&self) -> Value {
        let data = lock(&self.data);
        let members: Vec<Value> = data.members.values().map(|m| data.dump_member(m)).collect();
        let lists: Vec<&str> = data.sub_lists.values().map(|s| s.name.as_str()).collect();
        let fields: Vec<&str> = data.fields.iter().map(|f| f.user_tag.as_str()).collect();
        json!({
            "members": members,
            "subLists": lists,
            "fields": fields,
            "mailRequests": data.mail_requests,
        })
    }
}

/// The API routes, relative to [`PREFIX`].
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/contacts/show", get(api::list_show))
        .route("/contacts", get(api::list_plain))
        .route("/contacts/search", get(api::search))
        .route("/contacts/update_full_contact", post(api::update_full))
        .route("/contacts/add_sub_list", post(api::add_to_list))
        .route("/contacts/remove_sub_list", post(api::remove_from_list))
        .route("/contacts/unsubscribe", post(api::unsubscribe))
        .route("/contacts/resubscribe", post(api::resubscribe))
        .route("/contacts/delete", post(api::delete))
        .route("/sign_up/generate", post(api::generate))
        .route("/sub_lists/show", get(api::sub_lists))
        .route("/sub_lists/add_sub_list", post(api::new_sub_list))
        .route("/fields/show", get(api::fields))
        .route_layer(axum::middleware::from_fn_with_state(state, api::guard))
        .fallback(api::not_found)
}

/// `/_sandbox/robly/*`: no auth, not faulted, not counted.
pub fn admin_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_sandbox/robly/info", get(admin::info))
        .route(
            "/_sandbox/robly/settings",
            get(admin::get_settings).post(admin::set_settings),
        )
        .route("/_sandbox/robly/members", post(admin::put_member))
        .route("/_sandbox/robly/requests", get(admin::requests))
        .route(
            "/_sandbox/robly/faults",
            get(admin::get_faults).post(admin::set_faults),
        )
}

#[cfg(test)]
mod tests;
