//! GHL's NestJS-style error bodies as axum responses.
//!
//! Missing records: GHL answers 400 for some bad ids and 404 for others, and the spec lists only
//! 400/401/422. The sandbox picks one rule so tests can rely on it: a missing record named in the
//! *path* is 404 `{"statusCode":404,"message":"Contact not found","error":"Not Found"}`; a missing
//! record referenced from a *body* (an appointment's calendarId/contactId) is 400, because that is
//! a bad request rather than a missing resource.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::ids;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: Value,
    pub error: Option<&'static str>,
    /// Extra top-level fields (a Vec keeps the error small enough to pass around by value).
    pub extra: Vec<(String, Value)>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        message: impl Into<String>,
        error: Option<&'static str>,
    ) -> Self {
        ApiError {
            status,
            message: Value::String(message.into()),
            error,
            extra: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, Some("Bad Request"))
    }

    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Invalid token: access token is invalid",
            Some("Unauthorized"),
        )
    }

    /// Expired tokens: the message seen in the wild for a JWT GHL no longer accepts.
    pub fn expired_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Invalid JWT",
            Some("Unauthorized"),
        )
    }

    /// Exactly the body reported in GoHighLevel/highlevel-api-docs#217 (no `error` field).
    pub fn scope() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "The token is not authorized for this scope.",
            None,
        )
    }

    /// Exactly the body reported in GoHighLevel/highlevel-api-docs#213 (no `error` field).
    pub fn location() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "The token does not have access to this location.",
            None,
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("{what} not found"),
            Some("Not Found"),
        )
    }

    pub fn unprocessable(messages: Vec<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: Value::Array(messages.into_iter().map(Value::String).collect()),
            error: Some("Unprocessable Entity"),
            extra: Vec::new(),
        }
    }

    pub fn too_many() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            Some("Too Many Requests"),
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request entity too large",
            Some("Payload Too Large"),
        )
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.push((key.to_string(), value));
        self
    }

    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("statusCode".into(), json!(self.status.as_u16()));
        body.insert("message".into(), self.message.clone());
        if let Some(error) = self.error {
            body.insert("error".into(), json!(error));
        }
        for (key, value) in &self.extra {
            body.insert(key.clone(), value.clone());
        }
        body.insert("traceId".into(), json!(ids::trace_id()));
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// A success body with `traceId` appended at top level, as GHL does on (at least) search and
/// upsert; the sandbox adds it everywhere because the read models tolerate it.
pub fn ok(status: StatusCode, body: impl serde::Serialize) -> ApiResult {
    let mut value = serde_json::to_value(body)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), None))?;
    if let Value::Object(map) = &mut value {
        map.insert("traceId".into(), json!(ids::trace_id()));
    }
    Ok((status, axum::Json(value)).into_response())
}
