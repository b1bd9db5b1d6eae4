//! An emulated GHL API v2 on 127.0.0.1: seeded data, tokens and scopes, GHL's rate-limit headers
//! and 429s, injected faults, and an admin surface under `/_sandbox/`.
//!
//! It follows `../shared/ghl-api/` (the official OpenAPI files), not the client's assumptions:
//! wrapping keys, status codes, the `succeded` spelling, 422 arrays for unknown properties.

mod auth;
mod body;
mod errors;
mod faults;
pub mod generic;
pub mod growbots;
mod ids;
mod limits;
mod pipeline;
pub mod repsly;
pub mod rezora;
pub mod robly;
mod routes;
mod seed;
mod seed_data;
mod seed_records;
mod state;
mod stats;
mod store;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Secret;
use crate::ghl::models::{Note, Task};

pub use faults::{FaultKind, QueuedFault};
pub use limits::{BurstLimit, WindowKind};

use auth::{ALL_SCOPES, TokenStore, scopes_of};
use limits::Limiter;
use routes::{
    admin, appointments, calendar_events, children, contacts, custom_fields, dump, notes, oauth,
    oauth_agency, queries, tasks,
};
use state::AppState;

#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// 0 = ephemeral.
    pub port: u16,
    pub seed: u64,
    pub contacts: usize,
    /// `None` = no burst limit (headers still sent).
    pub rate_limit: Option<BurstLimit>,
    /// `None` = no daily quota (headers still sent).
    pub daily_limit: Option<u64>,
    /// Probability in 0..=1 that an API request meets a random fault.
    pub fault_rate: f64,
    /// Sleep uniformly in `[min, max]` before each non-admin response.
    pub latency: Option<(Duration, Duration)>,
    /// Lifetime of access tokens minted by `/oauth/token` and `/_sandbox/tokens`.
    pub token_ttl: Duration,
    /// The shape of the generic REST app under `/generic` (changeable live).
    pub generic: generic::GenericOptions,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: 0,
            seed: 42,
            contacts: 2000,
            rate_limit: Some(BurstLimit::default()),
            daily_limit: Some(200_000),
            fault_rate: 0.0,
            latency: None,
            token_ttl: Duration::from_secs(86_399),
            generic: generic::GenericOptions::default(),
        }
    }
}

/// `"MIN..MAX"` such as `"5ms..50ms"`; a single duration means a fixed latency.
pub fn parse_latency(s: &str) -> Result<(Duration, Duration), String> {
    let parse = |part: &str| {
        humantime::parse_duration(part.trim())
            .map_err(|e| format!("latency {s:?}: bad duration {part:?}: {e}"))
    };
    let (min, max) = match s.split_once("..") {
        Some((min, max)) => (parse(min)?, parse(max)?),
        None => {
            let d = parse(s)?;
            (d, d)
        }
    };
    if min > max {
        return Err(format!("latency {s:?}: MIN is greater than MAX"));
    }
    Ok((min, max))
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot bind the sandbox to {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the sandbox's bound address: {0}")]
    LocalAddr(#[source] std::io::Error),
}

pub struct RunningSandbox {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    pub location_id: String,
    /// Every scope, for `location_id`, valid for a year.
    pub token: Secret,
    pub oauth_client_id: String,
    pub oauth_client_secret: Secret,
    /// A valid (single-use) refresh token for `location_id`, every scope.
    pub refresh_token: Secret,
    /// `{base_url}/repsly/v3`: the emulated Repsly API v3 on the same server.
    pub repsly_base_url: String,
    /// Repsly's HTTP Basic credentials (deterministic from the seed).
    pub repsly_username: String,
    pub repsly_password: Secret,
    /// `{base_url}/generic`: the generic REST app (`connector = "rest"`).
    pub generic_base_url: String,
    /// The generic app's token for bearer, header (`X-Api-Key`) and query (`api_key`) auth.
    pub generic_token: Secret,
    /// The generic app's HTTP Basic credentials.
    pub generic_username: String,
    pub generic_password: Secret,
    /// The emulated Rezora v1 API (`{base_url}/rezora/v1`) and its credentials.
    pub rezora: rezora::Access,
    /// The emulated Growbots: its exports and Zapier bridge (`/growbots`, `/_sandbox/growbots`).
    pub growbots: growbots::Access,
    /// The emulated Robly API v1 (`{base_url}/robly/api/v1`) and its credentials.
    pub robly: robly::Access,
    /// The sandbox as GHL's webhook sender (`/_sandbox/webhooks`).
    webhooks: Arc<webhooks::Webhooks>,
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningSandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Points the sandbox's webhooks at `settings.url` (what `POST /_sandbox/webhooks` does);
    /// answers the public keys of its test pair.
    pub async fn configure_webhooks(
        &self,
        settings: webhooks::WebhookSettings,
    ) -> Result<webhooks::PublicKeys, String> {
        self.webhooks.configure(settings).await
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

const PRINTED_TOKEN_TTL: Duration = Duration::from_secs(365 * 86_400);

pub async fn start(opts: SandboxOptions) -> Result<RunningSandbox, SandboxError> {
    let requested = SocketAddr::from(([127, 0, 0, 1], opts.port));
    let listener = tokio::net::TcpListener::bind(requested)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: requested,
            source,
        })?;
    let addr = listener.local_addr().map_err(SandboxError::LocalAddr)?;
    let base_url = format!("http://{addr}");
    let state = Arc::new(new_state(opts, base_url.clone()));
    let ids = state.ids.clone();
    let repsly_base_url = format!("{base_url}{}", repsly::PREFIX);
    let repsly_username = state.repsly.username.clone();
    let repsly_password = state.repsly.password.clone();
    let generic_base_url = format!("{base_url}{}", generic::PREFIX);
    let generic_token = state.generic.token.clone();
    let generic_username = state.generic.username.clone();
    let generic_password = state.generic.password.clone();
    let rezora = state.rezora.access(&base_url);
    let growbots = state.growbots.access(&base_url);
    let robly = state.robly.access(&base_url);
    let webhooks = state.webhooks.clone();
    let app = router(state);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // Dropping the RunningSandbox also closes the channel, which stops the server too.
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    Ok(RunningSandbox {
        base_url,
        location_id: ids.location_id,
        token: Secret::new(ids.access_token),
        oauth_client_id: ids.client_id,
        oauth_client_secret: Secret::new(ids.client_secret),
        refresh_token: Secret::new(ids.refresh_token),
        repsly_base_url,
        repsly_username,
        repsly_password,
        generic_base_url,
        generic_token,
        generic_username,
        generic_password,
        rezora,
        growbots,
        robly,
        webhooks,
        addr,
        shutdown: tx,
        task,
    })
}

/// The seeded state of a sandbox serving at `base_url`.
fn new_state(opts: SandboxOptions, base_url: String) -> AppState {
    let ids = seed::identities(opts.seed);
    let started = std::time::Instant::now();
    // One anchor for both sides, so a start at midnight cannot seed them on different days.
    let anchor = seed_anchor_ms();
    let data = seed::data(&ids, opts.seed, opts.contacts, anchor);
    let repsly = repsly::RepslyState::new(&data, &ids.location_id, opts.seed, anchor);
    let generic = generic::GenericState::new(
        &data,
        &repsly,
        &ids.location_id,
        opts.seed,
        anchor,
        opts.generic.clone(),
    );
    let rezora = rezora::RezoraState::new(&data, &ids.location_id, opts.seed, anchor);
    let growbots = growbots::GrowbotsState::new(&data, &ids.location_id, opts.seed);
    let robly = robly::RoblyState::new(&data, &ids.location_id, opts.seed, anchor);
    tracing::debug!(contacts = opts.contacts, elapsed = ?started.elapsed(), "sandbox seeded");
    let mut tokens = TokenStore::default();
    let all = scopes_of(ALL_SCOPES);
    tokens.insert_access(
        ids.access_token.clone(),
        &ids.location_id,
        all.clone(),
        PRINTED_TOKEN_TTL,
    );
    tokens.insert_refresh(ids.refresh_token.clone(), &ids.location_id, all);
    AppState {
        base_url,
        data: Mutex::new(data),
        tokens: Mutex::new(tokens),
        limiter: Mutex::new(Limiter::new(opts.rate_limit, opts.daily_limit)),
        faults: Mutex::new(faults::Faults::new(opts.fault_rate)),
        stats: Mutex::default(),
        oauth_delay_ms: AtomicU64::new(0),
        allow_duplicates: AtomicBool::new(false),
        anchor_ms: AtomicI64::new(anchor),
        ids,
        repsly,
        generic,
        rezora,
        growbots,
        robly,
        webhooks: Arc::default(),
        opts,
    }
}

/// Seeded dates are relative to today's UTC midnight: recent-looking data, yet the same seed
/// gives the same data all day.
pub(crate) fn seed_anchor_ms() -> i64 {
    let now = store::now_ms();
    now - now.rem_euclid(86_400_000)
}

fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/contacts/", get(queries::list).post(contacts::create))
        .route("/contacts", get(queries::list).post(contacts::create))
        .route("/contacts/search", post(queries::search))
        .route("/contacts/search/duplicate", get(queries::duplicate))
        .route("/contacts/business/{businessId}", get(queries::by_business))
        .route("/contacts/upsert", post(contacts::upsert))
        .route(
            "/contacts/{contactId}",
            get(contacts::get_one)
                .put(contacts::update)
                .delete(contacts::delete),
        )
        .route(
            "/contacts/{contactId}/tags",
            post(contacts::add_tags).delete(contacts::remove_tags),
        )
        .route(
            "/contacts/{contactId}/tasks",
            get(children::list::<Task>).post(tasks::create),
        )
        .route(
            "/contacts/{contactId}/tasks/{taskId}",
            get(children::get_one::<Task>)
                .put(tasks::update)
                .delete(children::delete::<Task>),
        )
        .route(
            "/contacts/{contactId}/tasks/{taskId}/completed",
            put(tasks::completed),
        )
        .route(
            "/contacts/{contactId}/notes",
            get(children::list::<Note>).post(notes::create),
        )
        .route(
            "/contacts/{contactId}/notes/{id}",
            get(children::get_one::<Note>)
                .put(notes::update)
                .delete(children::delete::<Note>),
        )
        .route(
            "/contacts/{contactId}/appointments",
            get(appointments::for_contact),
        )
        .route(
            "/locations/{locationId}/customFields",
            get(custom_fields::list).post(custom_fields::create),
        )
        .route("/calendars/", get(calendar_events::calendars))
        .route("/calendars", get(calendar_events::calendars))
        .route("/calendars/events", get(calendar_events::list))
        .route("/calendars/events/appointments", post(appointments::create))
        .route(
            "/calendars/events/appointments/{eventId}",
            get(appointments::get_one).put(appointments::update),
        )
        .route(
            "/calendars/events/{eventId}",
            axum::routing::delete(appointments::delete),
        )
        // Inside the pipeline: it sees the caller, and only requests that reach a handler.
        .route_layer(from_fn_with_state(state.clone(), webhooks::layer))
        .route_layer(from_fn_with_state(state.clone(), pipeline::api));
    let oauth = Router::new()
        .route("/oauth/token", post(oauth::token))
        .route(
            "/oauth/installedLocations",
            get(oauth_agency::installed_locations),
        )
        .route("/oauth/locationToken", post(oauth_agency::location_token))
        .route_layer(from_fn_with_state(state.clone(), pipeline::plain));
    let admin = Router::new()
        .route("/_sandbox/stats", get(admin::stats))
        .route("/_sandbox/info", get(admin::info))
        .route("/_sandbox/dump", get(dump::dump))
        .route("/_sandbox/reset", post(admin::reset))
        .route("/_sandbox/tokens", post(admin::tokens))
        .route("/_sandbox/auth-codes", post(admin::auth_codes))
        .route(
            "/_sandbox/faults",
            get(admin::get_faults).post(admin::set_faults),
        )
        .route(
            "/_sandbox/limits",
            get(admin::get_limits).post(admin::set_limits),
        )
        .route("/_sandbox/oauth-delay", post(admin::oauth_delay))
        .route("/_sandbox/settings", post(admin::settings))
        .route("/_sandbox/contacts/count", get(admin::contact_count));
    api.merge(oauth)
        .merge(admin)
        .merge(repsly::admin_router())
        .merge(generic::admin_router())
        .merge(rezora::admin_router())
        .merge(growbots::admin_router())
        .merge(robly::admin_router())
        .merge(webhooks::admin_router())
        .nest(repsly::PREFIX, repsly::router(state.clone()))
        .nest(generic::PREFIX, generic::router(state.clone()))
        .nest(rezora::PREFIX, rezora::router(state.clone()))
        .nest(growbots::PREFIX, growbots::router())
        .nest(robly::PREFIX, robly::router(state.clone()))
        .fallback(pipeline::not_found)
        .layer(DefaultBodyLimit::max(body::BODY_LIMIT))
        .with_state(state)
}

#[cfg(test)]
mod switch_tests;
#[cfg(test)]
mod tests;
