//! Every failure of a GHL call, classified so callers know what to do next (ARCHITECTURE.md,
//! "GhlError classes"). Messages name the method and path (never the query string, which can
//! carry e-mail addresses and phone numbers) and end with a hint for the operator.

use std::time::Duration;

use super::models::ErrorMessage;
use crate::net::ErrorClass;

/// Which call failed: method and path only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub method: String,
    pub path: String,
}

impl std::fmt::Display for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// GHL answered with an error status and (usually) a NestJS error body.
#[derive(Debug)]
pub struct ApiError {
    pub ctx: RequestContext,
    pub status: u16,
    pub class: ErrorClass,
    pub message: Option<ErrorMessage>,
    /// GHL's message (arrays joined by ", ") or the status reason when there was none.
    pub summary: String,
    pub trace_id: Option<String>,
    pub hint: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: HTTP {}: {}{}",
            self.ctx,
            self.status,
            self.summary,
            hint_suffix(&self.hint)
        )
    }
}

/// An answer that is not the JSON we expected (HTML error page, malformed JSON, no wrapping key).
#[derive(Debug)]
pub struct DecodeError {
    pub ctx: RequestContext,
    pub status: u16,
    pub content_type: String,
    /// At most 200 characters, with anything that looks like a token scrubbed.
    pub excerpt: String,
    pub detail: String,
    pub trace_id: Option<String>,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: HTTP {}: could not understand the response ({}); content-type {}, body starts {:?} — report this with the traceId if any",
            self.ctx, self.status, self.detail, self.content_type, self.excerpt
        )
    }
}

/// Every failure of a call. The big variants are boxed so `Result<_, GhlError>` stays small.
#[derive(Debug, thiserror::Error)]
pub enum GhlError {
    #[error("{0}")]
    Api(Box<ApiError>),
    /// No HTTP answer: connect failure, timeout, dropped connection, unreadable body.
    #[error("{ctx}: {detail}{}", hint_suffix(.hint))]
    Network {
        ctx: RequestContext,
        class: ErrorClass,
        detail: String,
        hint: Option<String>,
    },
    #[error("{0}")]
    Decode(Box<DecodeError>),
    #[error("{}rate limited: {reason}", ctx_prefix(.ctx))]
    RateLimited {
        ctx: Option<RequestContext>,
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },
    #[error("{}{detail}", ctx_prefix(.ctx))]
    Auth {
        ctx: Option<RequestContext>,
        status: Option<u16>,
        detail: String,
    },
    /// Settings that cannot work (bad base URL, missing location id, token for another location).
    #[error("configuration: {detail}")]
    Config { detail: String },
    /// An argument refused locally before sending (an empty id, a limit out of range).
    #[error("invalid argument: {detail}")]
    InvalidArgument { detail: String },
    /// A body refused locally before sending (`--body` JSON).
    #[error("invalid body for {dto}: {detail}")]
    InvalidBody {
        dto: String,
        unknown_fields: Vec<String>,
        detail: String,
    },
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!(" — {h}")).unwrap_or_default()
}

fn ctx_prefix(ctx: &Option<RequestContext>) -> String {
    ctx.as_ref().map(|c| format!("{c}: ")).unwrap_or_default()
}

impl GhlError {
    pub fn class(&self) -> ErrorClass {
        match self {
            GhlError::Api(api) => api.class,
            GhlError::Network { class, .. } => *class,
            GhlError::Decode(_) => ErrorClass::Decode,
            GhlError::RateLimited { .. } => ErrorClass::RateLimited,
            GhlError::Auth { .. } => ErrorClass::Auth,
            GhlError::Config { .. } => ErrorClass::ScopeOrConfig,
            GhlError::InvalidBody { .. } | GhlError::InvalidArgument { .. } => {
                ErrorClass::Validation
            }
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            GhlError::Api(api) => Some(api.status),
            GhlError::Decode(decode) => Some(decode.status),
            GhlError::RateLimited { status, .. } | GhlError::Auth { status, .. } => *status,
            _ => None,
        }
    }

    pub fn trace_id(&self) -> Option<&str> {
        match self {
            GhlError::Api(api) => api.trace_id.as_deref(),
            GhlError::Decode(decode) => decode.trace_id.as_deref(),
            _ => None,
        }
    }

    fn context(&self) -> Option<&RequestContext> {
        match self {
            GhlError::Api(api) => Some(&api.ctx),
            GhlError::Decode(decode) => Some(&decode.ctx),
            GhlError::Network { ctx, .. } => Some(ctx),
            GhlError::RateLimited { ctx, .. } | GhlError::Auth { ctx, .. } => ctx.as_ref(),
            GhlError::Config { .. }
            | GhlError::InvalidBody { .. }
            | GhlError::InvalidArgument { .. } => None,
        }
    }

    pub fn method(&self) -> Option<&str> {
        self.context().map(|c| c.method.as_str())
    }

    pub fn path(&self) -> Option<&str> {
        self.context().map(|c| c.path.as_str())
    }

    /// GHL's own `message` (string or array), when the error body had one.
    pub fn ghl_message(&self) -> Option<&ErrorMessage> {
        match self {
            GhlError::Api(api) => api.message.as_ref(),
            _ => None,
        }
    }

    /// How long GHL asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GhlError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What kind of 401 GHL sent: the scope message needs a fix in the app, the others a new token.
pub(crate) fn is_scope_message(message: &str) -> bool {
    message.to_ascii_lowercase().contains("scope")
}

/// Classify an error status. `is_create` marks non-idempotent creates, whose 5xx and 422 leave
/// the outcome unknown (GHL has been seen to answer 422 and create anyway).
pub(crate) fn classify_status(status: u16, message: &str, is_create: bool) -> ErrorClass {
    match status {
        429 => ErrorClass::RateLimited,
        401 if is_scope_message(message) => ErrorClass::ScopeOrConfig,
        401 => ErrorClass::Auth,
        403 => ErrorClass::ScopeOrConfig,
        404 => ErrorClass::NotFound,
        422 if is_create => ErrorClass::Ambiguous,
        408 | 500..=599 if is_create => ErrorClass::Ambiguous,
        408 | 500..=599 => ErrorClass::Transient,
        _ => ErrorClass::Validation,
    }
}

/// What to tell the operator for an error answer.
pub(crate) fn hint_for(
    class: ErrorClass,
    status: u16,
    scope: &str,
    location_id: &str,
) -> Option<String> {
    let hint = match (class, status) {
        (ErrorClass::ScopeOrConfig, 401) => format!(
            "this call needs scope `{scope}`; add it to the Private Integration / app and reinstall"
        ),
        (ErrorClass::ScopeOrConfig, _) => format!(
            "the configured location id is `{location_id}`; check the location id and that the token belongs to that sub-account"
        ),
        (ErrorClass::Auth, _) => "the token is invalid or expired; create a new Private Integration token (GHL: Settings → Private Integrations) and set GHLSYNC_GHL_TOKEN or ghl_token in secrets.toml; with OAuth, authorise the app again and write its new token pair to the token file".to_string(),
        (ErrorClass::NotFound, _) => "the record does not exist (deleted, or a wrong id)".to_string(),
        (ErrorClass::Ambiguous, 422) => "GHL sometimes creates the record despite a 422; look it up before retrying".to_string(),
        (ErrorClass::Ambiguous, _) => "the record may have been created; look it up before retrying".to_string(),
        (ErrorClass::Transient, _) => "GHL had a server error; retry later".to_string(),
        (ErrorClass::Validation, _) => "fix the data sent (see GHL's message)".to_string(),
        (ErrorClass::RateLimited, _) => "wait; the client already paused this location".to_string(),
        (ErrorClass::Decode, _) => return None,
    };
    Some(hint)
}

#[cfg(test)]
mod tests;
