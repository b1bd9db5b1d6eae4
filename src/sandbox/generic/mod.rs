//! A generic REST app under `/generic`, for `connector = "rest"`: contacts and notes whose API
//! shape comes from options — paging style, auth style, incremental (`updated_since`) or not,
//! numeric or string ids — changeable live through `/_sandbox/generic/settings`. Seeded to
//! overlap the GHL seed (and some of Repsly's), so two peers can know the same person.
//!
//! The wire format (`api.rs`):
//! - `GET /generic/contacts`, `/generic/notes`: `{"data": [...], "meta": {"total": N}}`, plus
//!   `meta.next_cursor` in cursor mode and a `Link: <…>; rel="next"` header in link mode;
//!   paging parameters by style: `limit`+`offset`, `page`+`per_page`, `limit`+`cursor`,
//!   `page`+`per_page` with Link. `updated_since` (RFC 3339, inclusive) when incremental, else
//!   refused; `email` filters contacts. An unknown parameter is 400 naming the known ones.
//! - `GET|PUT|DELETE /generic/{contacts|notes}/{id}`, `POST /generic/{contacts|notes}`:
//!   `{"data": {...}}` (201 and a `Location` for a create, 204 for a delete); unknown fields and
//!   a malformed email are 422 `{"message", "errors": {field: [...]}}`, a taken email 409.
//! - Auth: `Authorization: Bearer`, HTTP Basic, `X-Api-Key`, or `?api_key=`; else 401.
//!   Requests go through the sandbox's pipeline: latency, queued faults, stats.

mod admin;
mod api;
mod list;
mod seed;
pub(crate) mod store;

use std::sync::Mutex;

use axum::Router;
use axum::routing::{get, post};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Secret;
use crate::sandbox::ids;
use crate::sandbox::repsly::RepslyState;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::Store as GhlStore;

pub use seed::SeedFigures;

/// Where the generic app is mounted on the sandbox server.
pub const PREFIX: &str = "/generic";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenericPaging {
    /// `limit` + `offset`.
    #[default]
    Offset,
    /// `page` (from 1) + `per_page`.
    PageNumber,
    /// `limit` + `cursor`; the next one in `meta.next_cursor`.
    Cursor,
    /// `page` + `per_page`; the next page's URL in a `Link` header.
    LinkHeader,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenericAuth {
    /// `Authorization: Bearer <token>`.
    #[default]
    Bearer,
    /// HTTP Basic with the username and password.
    Basic,
    /// `X-Api-Key: <token>`.
    Header,
    /// `?api_key=<token>`.
    Query,
}

/// The app's shape (`SandboxOptions::generic`, `POST /_sandbox/generic/settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenericOptions {
    pub paging: GenericPaging,
    pub auth: GenericAuth,
    /// Lists take `updated_since`; otherwise a client must read everything.
    pub incremental: bool,
    /// Ids like `ct_k3j…` instead of numbers.
    pub string_ids: bool,
    /// The largest page a list serves; larger asks are 400.
    pub max_page_size: usize,
}

impl Default for GenericOptions {
    fn default() -> Self {
        GenericOptions {
            paging: GenericPaging::Offset,
            auth: GenericAuth::Bearer,
            incremental: true,
            string_ids: false,
            max_page_size: 100,
        }
    }
}

pub struct GenericState {
    /// The token of bearer, header and query auth.
    pub token: Secret,
    pub username: String,
    pub password: Secret,
    pub options: Mutex<GenericOptions>,
    pub data: Mutex<store::Data>,
    pub figures: Mutex<SeedFigures>,
}

/// The credentials: the same seed always yields the same ones.
pub fn credentials(seed: u64) -> (String, String, String) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6E4E_0A17);
    (
        ids::alnum(&mut rng, 32),
        format!("gen_{}", ids::alnum(&mut rng, 8).to_lowercase()),
        ids::alnum(&mut rng, 24),
    )
}

impl GenericState {
    pub fn new(
        ghl: &GhlStore,
        repsly: &RepslyState,
        location: &str,
        seed: u64,
        anchor_ms: i64,
        options: GenericOptions,
    ) -> Self {
        let (token, username, password) = credentials(seed);
        let (data, figures) = seed::data(ghl, repsly, location, seed, anchor_ms);
        GenericState {
            token: Secret::new(token),
            username,
            password: Secret::new(password),
            options: Mutex::new(options),
            data: Mutex::new(data),
            figures: Mutex::new(figures),
        }
    }

    /// Seeds again (after `/_sandbox/reset`); the shape and credentials stay.
    pub fn reseed(
        &self,
        ghl: &GhlStore,
        repsly: &RepslyState,
        location: &str,
        seed: u64,
        anchor_ms: i64,
    ) {
        let (data, figures) = seed::data(ghl, repsly, location, seed, anchor_ms);
        *lock(&self.data) = data;
        *lock(&self.figures) = figures;
    }

    pub fn options(&self) -> GenericOptions {
        lock(&self.options).clone()
    }

    /// The `generic` object of `GET /_sandbox/stats`.
    pub fn counts(&self) -> Value {
        let data = lock(&self.data);
        json!({
            "contacts": data.count(store::Kind::Contact),
            "notes": data.count(store::Kind::Note),
        })
    }

    /// The `generic` object of `GET /_sandbox/dump`: every record as the API shows it, by id.
    pub fn dump(&self) -> Value {
        let string_ids = self.options().string_ids;
        let data = lock(&self.data);
        let all = |kind| -> Vec<Value> {
            data.rows(kind)
                .map(|row| data.render(kind, row, string_ids))
                .collect()
        };
        json!({
            "contacts": all(store::Kind::Contact),
            "notes": all(store::Kind::Note),
        })
    }
}

/// The API routes, relative to [`PREFIX`].
pub fn router(state: std::sync::Arc<AppState>) -> Router<std::sync::Arc<AppState>> {
    Router::new()
        .route(
            "/contacts",
            get(api::list_contacts).post(api::create_contact),
        )
        .route(
            "/contacts/{id}",
            get(api::get_contact)
                .put(api::update_contact)
                .delete(api::delete_contact),
        )
        .route("/notes", get(api::list_notes).post(api::create_note))
        .route(
            "/notes/{id}",
            get(api::get_note)
                .put(api::update_note)
                .delete(api::delete_note),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, api::guard))
        .fallback(api::not_found)
}

/// `/_sandbox/generic/*`: no auth, not faulted, not counted.
pub fn admin_router() -> Router<std::sync::Arc<AppState>> {
    Router::new()
        .route("/_sandbox/generic/info", get(admin::info))
        .route(
            "/_sandbox/generic/settings",
            get(admin::get_settings).post(admin::set_settings),
        )
        .route("/_sandbox/generic/contacts", post(admin::put_contact))
        .route("/_sandbox/generic/notes", post(admin::put_note))
}

#[cfg(test)]
mod tests;
