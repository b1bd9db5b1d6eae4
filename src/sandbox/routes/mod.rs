//! GHL's endpoints. Handlers get the caller (token location and scopes) from the pipeline;
//! they check the location of every record they touch.

pub mod admin;
pub mod appointments;
pub mod contacts;
pub mod notes;
pub mod oauth;
pub mod queries;
pub mod search_filters;
pub mod tasks;

use std::collections::HashMap;

use super::auth::{Caller, check_location};
use super::errors::ApiError;

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
    let value: i64 = raw.trim().parse().map_err(|_| {
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
