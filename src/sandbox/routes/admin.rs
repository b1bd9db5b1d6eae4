//! `/_sandbox/*`: no auth, not rate limited, not faulted, not counted in stats.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::sandbox::auth::{AGENCY_SCOPES, ALL_SCOPES, Scopes, scopes_of};
use crate::sandbox::body::JsonBody;
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::faults::FaultsUpdate;
use crate::sandbox::limits::{BurstLimit, WindowKind};
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::{seed, seed_anchor_ms};

fn parse<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Tells "absent" (keep) from `null` (turn off).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn primary_count(st: &AppState) -> usize {
    lock(&st.data).count_in(&st.ids.location_id)
}

pub async fn stats(State(st): State<Arc<AppState>>) -> Json<Value> {
    let contacts = primary_count(&st);
    let mut stats = lock(&st.stats).to_json(contacts);
    stats["repsly"] = st.repsly.counts();
    stats["generic"] = st.generic.counts();
    Json(stats)
}

pub async fn info(State(st): State<Arc<AppState>>) -> Json<Value> {
    let ids = &st.ids;
    let data = lock(&st.data);
    let calendars: Vec<Value> = data
        .calendars
        .iter()
        .map(|c| json!({"id": c.id, "name": c.name, "locationId": c.location_id}))
        .collect();
    let custom_fields: Vec<Value> = data
        .field_keys(&ids.location_id)
        .into_iter()
        .map(|(id, key)| json!({"id": id, "key": key}))
        .collect();
    drop(data);
    Json(json!({
        "baseUrl": st.base_url,
        "locationId": ids.location_id,
        "otherLocationId": ids.other_location_id,
        "companyId": ids.company_id,
        "userIds": ids.user_ids,
        "clientId": ids.client_id,
        "calendars": calendars,
        "customFields": custom_fields,
        "scopes": ALL_SCOPES,
        "seed": st.opts.seed,
    }))
}

/// Re-seeds the data and clears counters and the fault queue. Tokens, runtime limits and fault
/// rates stay as they are.
pub async fn reset(State(st): State<Arc<AppState>>) -> Json<Value> {
    let anchor = seed_anchor_ms();
    let mut fresh = seed::data(&st.ids, st.opts.seed, st.opts.contacts, anchor);
    st.repsly
        .reseed(&fresh, &st.ids.location_id, st.opts.seed, anchor);
    st.generic.reseed(
        &fresh,
        &st.repsly,
        &st.ids.location_id,
        st.opts.seed,
        anchor,
    );
    st.rezora
        .reseed(&fresh, &st.ids.location_id, st.opts.seed, anchor);
    st.growbots
        .reseed(&fresh, &st.ids.location_id, st.opts.seed);
    st.robly
        .reseed(&fresh, &st.ids.location_id, st.opts.seed, anchor);
    let mut data = lock(&st.data);
    // Custom fields are the location's set-up, not its data: created ones survive a reset.
    fresh.custom_fields = std::mem::take(&mut data.custom_fields);
    *data = fresh;
    drop(data);
    st.anchor_ms.store(anchor, Ordering::Relaxed);
    *lock(&st.stats) = Default::default();
    lock(&st.limiter).clear_counters();
    lock(&st.faults).next.clear();
    Json(json!({"reset": true, "contacts": primary_count(&st)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenRequest {
    scopes: Option<Vec<String>>,
    ttl_ms: Option<u64>,
    location_id: Option<String>,
    /// `"Company"`: an agency token for the sandbox's company.
    user_type: Option<String>,
}

pub async fn tokens(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> ApiResult {
    let request: TokenRequest = parse(body)?;
    let scopes = request
        .scopes
        .map_or_else(|| scopes_of(ALL_SCOPES), |s| scopes_of(&s));
    let ttl = request
        .ttl_ms
        .map_or(st.opts.token_ttl, Duration::from_millis);
    let company = request.user_type.as_deref() == Some("Company");
    let (scopes, location) = if company {
        (agency_scopes(scopes), st.ids.company_id.clone())
    } else {
        let location = request
            .location_id
            .unwrap_or_else(|| st.ids.location_id.clone());
        (scopes, location)
    };
    let minted = lock(&st.tokens).mint_kind(&location, scopes, ttl, company);
    let scope: Vec<&str> = minted.scopes.iter().map(String::as_str).collect();
    ok(
        StatusCode::OK,
        json!({
            "access_token": minted.access_token,
            "refresh_token": minted.refresh_token,
            "expires_in": minted.expires_in.as_secs(),
            "locationId": minted.location_id,
            "scope": scope.join(" "),
        }),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CodeRequest {
    scopes: Option<Vec<String>>,
    location_id: Option<String>,
    /// `"Company"`: an agency's code (its token lists and mints location tokens).
    user_type: Option<String>,
}

/// An agency token's scopes: the ones asked for plus `oauth.readonly` and `oauth.write`.
fn agency_scopes(scopes: Scopes) -> Scopes {
    let mut all: Vec<String> = scopes.iter().cloned().collect();
    all.extend(AGENCY_SCOPES.iter().map(|s| s.to_string()));
    scopes_of(&all)
}

pub async fn auth_codes(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> ApiResult {
    let request: CodeRequest = parse(body)?;
    let scopes = request
        .scopes
        .map_or_else(|| scopes_of(ALL_SCOPES), |s| scopes_of(&s));
    if request.user_type.as_deref() == Some("Company") {
        let company = st.ids.company_id.clone();
        let code = lock(&st.tokens).mint_code_kind(&company, agency_scopes(scopes), true);
        return ok(StatusCode::OK, json!({"code": code, "companyId": company}));
    }
    let location = request
        .location_id
        .unwrap_or_else(|| st.ids.location_id.clone());
    let code = lock(&st.tokens).mint_code(&location, scopes);
    ok(
        StatusCode::OK,
        json!({"code": code, "locationId": location}),
    )
}

pub async fn get_faults(State(st): State<Arc<AppState>>) -> ApiResult {
    ok(StatusCode::OK, &*lock(&st.faults))
}

pub async fn set_faults(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> ApiResult {
    let update: FaultsUpdate = parse(body)?;
    let mut faults = lock(&st.faults);
    faults.update(update);
    ok(StatusCode::OK, &*faults)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LimitsUpdate {
    #[serde(default, deserialize_with = "present")]
    max: Option<Option<u32>>,
    interval_ms: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    daily: Option<Option<u64>>,
    window: Option<String>,
    /// Answer every GHL request 429 for this long from now (0 ends a throttle).
    throttle_for_ms: Option<u64>,
}

impl LimitsUpdate {
    /// Whether the update changes a limit (and so restarts the counters), rather than only
    /// starting or ending a throttle, which must leave the windows as they are.
    fn changes_limits(&self) -> bool {
        self.max.is_some()
            || self.interval_ms.is_some()
            || self.daily.is_some()
            || self.window.is_some()
    }
}

fn limits_json(st: &AppState) -> Value {
    let limiter = lock(&st.limiter);
    let throttle_left = limiter.throttle_left(Instant::now());
    json!({
        "max": limiter.burst.map(|b| b.max),
        "intervalMs": limiter.burst.map(|b| b.interval.as_millis() as u64),
        "daily": limiter.daily,
        "window": if limiter.kind == WindowKind::Fixed { "fixed" } else { "sliding" },
        "throttledForMs": u64::try_from(throttle_left.as_millis()).unwrap_or(u64::MAX),
    })
}

pub async fn get_limits(State(st): State<Arc<AppState>>) -> ApiResult {
    ok(StatusCode::OK, limits_json(&st))
}

/// `{"max":100,"intervalMs":1000,"daily":200000,"window":"fixed","throttleForMs":5000}`; `null`
/// turns a limit off, an absent field keeps it. Counters restart when a limit is set, so a test
/// starts from a full window; a throttle alone leaves them.
pub async fn set_limits(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> ApiResult {
    let update: LimitsUpdate = parse(body)?;
    {
        let mut limiter = lock(&st.limiter);
        if let Some(ms) = update.throttle_for_ms
            && !update.changes_limits()
        {
            limiter.throttle(Duration::from_millis(ms), Instant::now());
            drop(limiter);
            return ok(StatusCode::OK, limits_json(&st));
        }
        let interval = update
            .interval_ms
            .map(Duration::from_millis)
            .or(limiter.burst.map(|b| b.interval))
            .unwrap_or(BurstLimit::default().interval);
        if interval.is_zero() {
            return Err(ApiError::bad_request("intervalMs must be positive"));
        }
        let max = match update.max {
            Some(max) => max,
            None => limiter.burst.map(|b| b.max),
        };
        if max == Some(0) {
            return Err(ApiError::bad_request("max must be positive"));
        }
        limiter.burst = max.map(|max| BurstLimit { max, interval });
        if let Some(daily) = update.daily {
            limiter.daily = daily;
        }
        match update.window.as_deref() {
            None => {}
            Some("fixed") => limiter.kind = WindowKind::Fixed,
            Some("sliding") => limiter.kind = WindowKind::Sliding,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "window must be fixed or sliding, not {other}"
                )));
            }
        }
        if let Some(ms) = update.throttle_for_ms {
            limiter.throttle(Duration::from_millis(ms), Instant::now());
        }
        limiter.clear_counters();
    }
    ok(StatusCode::OK, limits_json(&st))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Delay {
    ms: u64,
}

pub async fn oauth_delay(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> ApiResult {
    let delay: Delay = parse(body)?;
    st.oauth_delay_ms.store(delay.ms, Ordering::Relaxed);
    ok(StatusCode::OK, json!({"ms": delay.ms}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    allow_duplicate_contacts: Option<bool>,
}

pub async fn settings(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> ApiResult {
    let settings: Settings = parse(body)?;
    if let Some(allow) = settings.allow_duplicate_contacts {
        st.allow_duplicates.store(allow, Ordering::Relaxed);
    }
    ok(
        StatusCode::OK,
        json!({"allowDuplicateContacts": st.allow_duplicates.load(Ordering::Relaxed)}),
    )
}

pub async fn contact_count(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"locationId": st.ids.location_id, "count": primary_count(&st)}))
}
