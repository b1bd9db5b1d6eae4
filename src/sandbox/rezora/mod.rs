//! An emulated Rezora legacy v1 API (`../shared/research/peer-apis.md` §4) under `/rezora/v1`,
//! seeded to overlap the GHL seed (`seed.rs`).
//!
//! Wire format (`wire.rs`, `api.rs`), with the research's **[verify]** points as switches:
//! - the response format is the URI's extension: `contacts.json` is JSON, `contacts` (or
//!   `.txt`) plain text `name=value&…` lines; `.xml` and `.csv` are 406 here. `Accept` is
//!   ignored, the stricter reading of "the extension wins".
//! - request bodies: `application/json` must be `{"data":{…}}` (400 otherwise); text
//!   `name=value&…` is the default.
//! - answers are arrays: rows; `[{"contact_id":"123"}]` for a create (`list_id`,
//!   `contacttolist_id`); `[{"status":"200"}]` for other writes; refusals
//!   `[{"status":"403","message":…}]` with that HTTP status.
//! - auth: HTTP Basic, or `?username=&password=` (`/_sandbox/rezora/settings {"auth"}`);
//!   company credentials for `agents`, agent credentials for contacts and lists (403 the other
//!   way round), 401 for anything else.
//! - the self contact cannot be deleted; locked contacts (synced, brokerage Master) answer
//!   PUT and DELETE 403 with Rezora's refusal; the Primary Sphere list cannot be updated or
//!   deleted; `DELETE contacts.json` wipes every contact but the self contact and `DELETE
//!   lists.json` every list but the Primary Sphere. No paging: a listing is everything.
//! - faults: the sandbox's shared queue and rate (`/_sandbox/faults`), routes named like
//!   `"PUT /rezora/v1/contacts/:id"`.

mod admin;
mod api;
mod data;
mod seed;
mod wire;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{MethodRouter, any, get, post};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Secret;
use crate::sandbox::ids;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::Store as GhlStore;

pub use data::Lock;
pub use seed::{AGENT_EMAIL, SeedFigures};

/// Where the Rezora routes are mounted on the sandbox server.
pub const PREFIX: &str = "/rezora/v1";

/// How the emulation wants credentials. **[verify]** (the docs do not show it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RezoraAuth {
    #[default]
    Basic,
    /// `?username=…&password=…`.
    Query,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RezoraOptions {
    pub auth: RezoraAuth,
}

/// Where the emulation answers and its credentials, for tests and rehearsals.
#[derive(Clone, Debug)]
pub struct Access {
    /// `{sandbox}/rezora/v1`.
    pub base_url: String,
    /// Agent-level credentials (contacts, lists).
    pub username: String,
    pub password: Secret,
    /// Company-level credentials (agents).
    pub company_username: String,
    pub company_password: Secret,
}

pub struct RezoraState {
    pub agent_username: String,
    pub agent_password: Secret,
    pub company_username: String,
    pub company_password: Secret,
    pub options: Mutex<RezoraOptions>,
    pub data: Mutex<data::Data>,
    pub figures: Mutex<SeedFigures>,
}

impl RezoraState {
    pub fn new(ghl: &GhlStore, location: &str, seed: u64, anchor_ms: i64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x4E20_C4ED);
        let (data, figures) = seed::data(ghl, location, seed, anchor_ms);
        RezoraState {
            agent_username: format!("agent_{}", ids::alnum(&mut rng, 6).to_lowercase()),
            agent_password: Secret::new(ids::alnum(&mut rng, 20)),
            company_username: format!("company_{}", ids::alnum(&mut rng, 6).to_lowercase()),
            company_password: Secret::new(ids::alnum(&mut rng, 20)),
            options: Mutex::new(RezoraOptions::default()),
            data: Mutex::new(data),
            figures: Mutex::new(figures),
        }
    }

    /// Seeds again (after `/_sandbox/reset`); credentials and options stay.
    pub fn reseed(&self, ghl: &GhlStore, location: &str, seed: u64, anchor_ms: i64) {
        let (data, figures) = seed::data(ghl, location, seed, anchor_ms);
        *lock(&self.data) = data;
        *lock(&self.figures) = figures;
    }

    pub fn options(&self) -> RezoraOptions {
        lock(&self.options).clone()
    }

    pub fn access(&self, sandbox_base_url: &str) -> Access {
        Access {
            base_url: format!("{sandbox_base_url}{PREFIX}"),
            username: self.agent_username.clone(),
            password: self.agent_password.clone(),
            company_username: self.company_username.clone(),
            company_password: self.company_password.clone(),
        }
    }

    /// The `rezora` object of `GET /_sandbox/dump`: `{contacts, lists}` by id, each contact
    /// with its lists' names and its lock.
    pub fn dump(&self) -> Value {
        lock(&self.data).dump()
    }
}

/// `path` and `path.json`, `path.txt`, `path.xml`, `path.csv`: one handler, which reads the
/// format from the URI.
fn with_formats(
    router: Router<Arc<AppState>>,
    path: &str,
    handler: MethodRouter<Arc<AppState>>,
) -> Router<Arc<AppState>> {
    ["", ".json", ".txt", ".xml", ".csv"]
        .iter()
        .fold(router, |router, ext| {
            router.route(&format!("{path}{ext}"), handler.clone())
        })
}

/// The API routes, relative to [`PREFIX`]. An id segment carries its extension (`12.json`).
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let mut router = Router::new();
    router = with_formats(router, "/agents", any(api::agents));
    router = with_formats(router, "/contacts", any(api::contacts));
    router = with_formats(router, "/lists", any(api::lists));
    router = with_formats(router, "/lists/{id}/contacts", any(api::members));
    router
        .route("/agents/{id}", any(api::agent))
        .route("/contacts/{id}", any(api::contact))
        .route("/lists/{id}", any(api::list))
        .route("/lists/{id}/contacts/{contact}", any(api::member))
        .route_layer(axum::middleware::from_fn_with_state(state, api::guard))
}

/// `/_sandbox/rezora/*`: no auth, not faulted, not counted.
pub fn admin_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_sandbox/rezora/info", get(admin::info))
        .route(
            "/_sandbox/rezora/settings",
            get(admin::get_settings).post(admin::set_settings),
        )
        .route("/_sandbox/rezora/contacts", post(admin::put_contact))
        .route("/_sandbox/rezora/memberships", post(admin::membership))
}

#[cfg(test)]
mod tests;
