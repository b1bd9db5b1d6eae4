//! `POST /oauth/token`: form-encoded, authorization-code and refresh-token grants, for a
//! location's token or an agency's (a code minted with `userType: "Company"`).
//!
//! Error bodies carry both the OAuth pair (`error`, `error_description`) and the NestJS
//! `statusCode`/`message`, since GHL's exact shape for a refused grant is undocumented.
//! The sandbox is stricter than a NestJS body parser on one point: a body that is not
//! `application/x-www-form-urlencoded` is refused, because the spec says form and a client that
//! sends JSON should find out here.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::ghl::models::{TokenRequestForm, unknown_properties};
use crate::sandbox::auth::GrantError;
use crate::sandbox::body::read_limited;
use crate::sandbox::errors::ApiError;
use crate::sandbox::state::{AppState, lock};

fn oauth_error(error: &'static str, description: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, description, Some(error))
        .with("error_description", json!(description))
}

/// A form-encoded OAuth body (`/oauth/token`, `/oauth/locationToken`): refused unless it is
/// `application/x-www-form-urlencoded`; with GHL's 422 lines for properties `Dto` does not
/// have and for `required` ones missing or empty, for the caller to add its own to.
pub(super) async fn read_form<Dto: serde::de::DeserializeOwned>(
    req: Request,
    required: &[&str],
) -> Result<(Map<String, Value>, Vec<String>), ApiError> {
    let form_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_body {
        return Err(ApiError::bad_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = read_limited(req).await?;
    let form: Map<String, Value> = url::form_urlencoded::parse(&bytes)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    let mut problems: Vec<String> = unknown_properties::<Dto>(&Value::Object(form.clone()))
        .into_iter()
        .map(|p| format!("property {p} should not exist"))
        .collect();
    for name in required {
        if form
            .get(*name)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            problems.push(format!("{name} must be a string"));
        }
    }
    Ok((form, problems))
}

pub async fn token(State(st): State<Arc<AppState>>, req: Request) -> Response {
    match grant(&st, req).await {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn grant(st: &AppState, req: Request) -> Result<Value, ApiError> {
    let (form, mut problems) =
        read_form::<TokenRequestForm>(req, &["client_id", "client_secret", "grant_type"]).await?;
    let field = |name: &str| {
        form.get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let grant_type = field("grant_type").unwrap_or_default();
    let refresh = match grant_type {
        "refresh_token" => true,
        "authorization_code" => false,
        "" => true,
        _ => {
            problems.push(
                "grant_type must be one of the following values: authorization_code, refresh_token"
                    .into(),
            );
            true
        }
    };
    if field("user_type").is_some_and(|t| !["Company", "Location"].contains(&t)) {
        problems.push("user_type must be one of the following values: Company, Location".into());
    }
    let secret_field = if refresh { "refresh_token" } else { "code" };
    if !grant_type.is_empty() && field(secret_field).is_none() {
        problems.push(format!("{secret_field} must be a string"));
    }
    if !problems.is_empty() {
        return Err(ApiError::unprocessable(problems));
    }
    if field("client_id") != Some(st.ids.client_id.as_str())
        || field("client_secret") != Some(st.ids.client_secret.as_str())
    {
        return Err(oauth_error(
            "invalid_client",
            "Invalid client: client credentials are invalid",
        ));
    }
    let secret = field(secret_field).unwrap_or_default();
    let minted = lock(&st.tokens).redeem(refresh, secret, st.opts.token_ttl);
    let minted = match minted {
        Ok(minted) => minted,
        Err(why) => {
            if refresh {
                lock(&st.stats).refreshes_rejected += 1;
            }
            let what = if refresh {
                "refresh token"
            } else {
                "authorization code"
            };
            let reason = match why {
                GrantError::Unknown | GrantError::Used => "is invalid",
                GrantError::Expired => "has expired",
            };
            return Err(oauth_error(
                "invalid_grant",
                &format!("Invalid grant: {what} {reason}"),
            ));
        }
    };
    if refresh {
        lock(&st.stats).refreshes += 1;
    }
    let scope: Vec<&str> = minted.scopes.iter().map(String::as_str).collect();
    let mut answer = json!({
        "access_token": minted.access_token,
        "token_type": "Bearer",
        "expires_in": minted.expires_in.as_secs(),
        "refresh_token": minted.refresh_token,
        "scope": scope.join(" "),
        "userType": if minted.company { "Company" } else { "Location" },
        "companyId": st.ids.company_id,
        "userId": st.ids.user_ids.first(),
    });
    // An agency token names no location (ghl-api.md §4: sub-account tokens only).
    if !minted.company {
        answer["locationId"] = json!(minted.location_id);
    }
    Ok(answer)
}
