//! An agency app's OAuth routes (`apps/oauth.json`): `GET /oauth/installedLocations` and
//! `POST /oauth/locationToken` (form-encoded), both `Version: 2021-07-28`, both for an agency
//! (Company) token only, with scope `oauth.readonly` / `oauth.write`. The sandbox's company has
//! the app installed on its two locations.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::query_map;
use crate::ghl::models::{
    CONTACTS_API_VERSION, InstalledLocation, InstalledLocations, LocationTokenForm,
};
use crate::sandbox::auth::{ALL_SCOPES, bearer, check_version, scopes_of};
use crate::sandbox::errors::ApiError;
use crate::sandbox::state::{AppState, lock};

/// The marketplace app's id: the part of the client id before its `-` suffix.
fn app_id(st: &AppState) -> &str {
    st.ids
        .client_id
        .split_once('-')
        .map_or(st.ids.client_id.as_str(), |(app, _)| app)
}

/// The agency's company, once its token, the `Version` header and `scope` are accepted.
fn agency(st: &AppState, headers: &HeaderMap, scope: &str) -> Result<String, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::invalid_token)?;
    let (company, scopes) = lock(&st.tokens).agency(token)?;
    check_version(headers, CONTACTS_API_VERSION)?;
    if !scopes.contains(scope) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "The token is not authorized for this scope.",
            Some("Unauthorized"),
        ));
    }
    Ok(company)
}

fn installed(st: &AppState) -> Vec<InstalledLocation> {
    [
        (&st.ids.location_id, "Sandbox Location"),
        (&st.ids.other_location_id, "Sandbox Other Location"),
    ]
    .into_iter()
    .map(|(id, name)| InstalledLocation {
        id: id.clone(),
        name: name.into(),
        address: Some("127.0.0.1, Loopback".into()),
        is_installed: Some(true),
        installed_at: None,
        extra: Map::new(),
    })
    .collect()
}

fn answer(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}

pub async fn installed_locations(State(st): State<Arc<AppState>>, req: Request) -> Response {
    answer(list(&st, &req))
}

fn list(st: &AppState, req: &Request) -> Result<Value, ApiError> {
    let company = agency(st, req.headers(), "oauth.readonly")?;
    let query = query_map(req.uri().query());
    let mut problems = Vec::new();
    for name in ["companyId", "appId"] {
        if query.get(name).is_none_or(String::is_empty) {
            problems.push(format!("{name} must be a string"));
        }
    }
    for name in ["isInstalled", "onTrial"] {
        if query
            .get(name)
            .is_some_and(|v| !["", "true", "false"].contains(&v.as_str()))
        {
            problems.push(format!("{name} must be a boolean value"));
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::unprocessable(problems));
    }
    if query.get("companyId") != Some(&company) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "The token does not have access to this company.",
            None,
        ));
    }
    if query.get("appId").map(String::as_str) != Some(app_id(st)) {
        return Err(ApiError::bad_request("App not found"));
    }
    let skip = super::query_int(&query, "skip", 0, 0, i64::MAX)?;
    let limit = super::query_int(&query, "limit", 20, 1, 500)?;
    let all = installed(st);
    let count = all.len() as u64;
    let page = all
        .into_iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    serde_json::to_value(InstalledLocations {
        locations: page,
        count: Some(count),
        install_to_future_locations: Some(false),
    })
    .map_err(|e| ApiError::bad_request(e.to_string()))
}

pub async fn location_token(State(st): State<Arc<AppState>>, req: Request) -> Response {
    answer(mint(&st, req).await)
}

async fn mint(st: &AppState, req: Request) -> Result<Value, ApiError> {
    let company = agency(st, req.headers(), "oauth.write")?;
    let (form, problems) =
        super::oauth::read_form::<LocationTokenForm>(req, &["companyId", "locationId"]).await?;
    let field = |name: &str| {
        form.get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if !problems.is_empty() {
        return Err(ApiError::unprocessable(problems));
    }
    if field("companyId") != Some(company.as_str()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "The token does not have access to this company.",
            None,
        ));
    }
    let location = field("locationId").unwrap_or_default();
    if !installed(st).iter().any(|l| l.id == location) {
        return Err(ApiError::bad_request(
            "Location not found or the app is not installed on it",
        ));
    }
    let minted = lock(&st.tokens).mint(location, scopes_of(ALL_SCOPES), st.opts.token_ttl);
    let scope: Vec<&str> = minted.scopes.iter().map(String::as_str).collect();
    Ok(json!({
        "access_token": minted.access_token,
        "token_type": "Bearer",
        "expires_in": minted.expires_in.as_secs(),
        "refresh_token": minted.refresh_token,
        "scope": scope.join(" "),
        "userType": "Location",
        "locationId": minted.location_id,
        "companyId": company,
        "userId": st.ids.user_ids.first(),
        "appId": app_id(st),
    }))
}
