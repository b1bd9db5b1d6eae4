//! GHL's endpoints. Handlers get the caller (token location and scopes) from the pipeline;
//! they check the location of every record they touch.

pub mod admin;
pub mod appointments;
pub mod calendar_events;
pub mod children;
mod contact_checks;
mod contact_write;
pub mod contacts;
#[cfg(test)]
mod contacts_timing;
pub mod custom_fields;
pub mod dump;
pub mod notes;
pub mod oauth;
pub mod oauth_agency;
pub mod queries;
pub mod search_filters;
pub mod tasks;

use std::collections::HashMap;
use std::sync::MutexGuard;

use axum::Extension;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::auth::{Caller, check_location};
use super::errors::ApiError;
use super::state::{AppState, lock};
use super::store::Store;

/// The store, locked, once `contact_id` is known to be a contact of the caller's location:
/// 404 when it is missing, 403 when it belongs to another location.
pub fn lock_contact<'a>(
    st: &'a AppState,
    caller: &Caller,
    contact_id: &str,
) -> Result<MutexGuard<'a, Store>, ApiError> {
    let store = lock(&st.data);
    store.owned(contact_id, &caller.location_id)?;
    Ok(store)
}

/// The query parameters of a request that must name the token's location, and that location
/// (see [`query_location`]).
pub struct LocatedQuery(pub HashMap<String, String>, pub String);

impl<S: Send + Sync> FromRequestParts<S> for LocatedQuery {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Extension(caller) = Extension::<Caller>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let params = query_map(parts.uri.query());
        let location = query_location(&params, &caller).map_err(IntoResponse::into_response)?;
        Ok(LocatedQuery(params, location))
    }
}

/// Query parameters, decoded like NestJS does (`+` is a space, `%2B` is a plus). Never fails.
pub fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// A required `locationId` query parameter, which must be the token's location.
pub fn query_location(
    query: &HashMap<String, String>,
    caller: &Caller,
) -> Result<String, ApiError> {
    let location = query
        .get("locationId")
        .filter(|l| !l.is_empty())
        .ok_or_else(|| ApiError::unprocessable(vec!["locationId must be a string".into()]))?;
    check_location(caller, location)?;
    Ok(location.clone())
}

/// A query parameter the spec types as a number: any finite decimal form (`20`, `20.0`, `2e1`)
/// is taken, as NestJS's number conversion takes it, and read as the whole number it holds.
pub fn query_number(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if let Ok(value) = raw.parse::<i64>() {
        return Some(value);
    }
    // f64's parser also takes "inf" and "NaN"; neither is a number to class-validator.
    let value = raw.parse::<f64>().ok().filter(|v| v.is_finite())?;
    (value.abs() < 9.0e15).then_some(value.trunc() as i64)
}

/// An optional integer query parameter within `min..=max`.
pub fn query_int(
    query: &HashMap<String, String>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ApiError> {
    let Some(raw) = query.get(name).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    let value = query_number(raw).ok_or_else(|| {
        ApiError::unprocessable(vec![format!(
            "{name} must be a number conforming to the specified constraints"
        )])
    })?;
    if value < min {
        return Err(ApiError::unprocessable(vec![format!(
            "{name} must not be less than {min}"
        )]));
    }
    if value > max {
        return Err(ApiError::unprocessable(vec![format!(
            "{name} must not be greater than {max}"
        )]));
    }
    Ok(value)
}

/// An optional boolean query parameter: `true` or `false`, anything else refused.
pub fn query_bool(
    query: &HashMap<String, String>,
    name: &str,
    default: bool,
) -> Result<bool, ApiError> {
    match query.get(name).map(String::as_str) {
        None | Some("") => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(ApiError::unprocessable(vec![format!(
            "{name} must be a boolean value"
        )])),
    }
}
