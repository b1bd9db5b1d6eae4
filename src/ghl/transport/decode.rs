//! Reading answers: a 2xx into its type (checking the wrapping key), an error status into a
//! classified [`GhlError`]. Pure functions over a received [`Answer`].

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Secret;
use crate::ghl::error::{
    ApiError, DecodeError, GhlError, RequestContext, classify_status, hint_for,
};
use crate::ghl::models::{ErrorBody, ErrorMessage};
use crate::net::{excerpt, scrub_token_like};

/// An answer with its body read.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_string()
}

pub(super) fn body_trace_id(body: &[u8]) -> Option<String> {
    /// Only the trace id; every other field is skipped without being built.
    #[derive(serde::Deserialize)]
    struct Traced {
        #[serde(rename = "traceId")]
        trace_id: Option<String>,
    }
    serde_json::from_slice::<Traced>(body).ok()?.trace_id
}

/// Whether the body is an object with `key` at its top level (values are skipped, not built).
fn has_key(body: &[u8], key: &str) -> bool {
    serde_json::from_slice::<std::collections::HashMap<String, serde::de::IgnoredAny>>(body)
        .is_ok_and(|map| map.contains_key(key))
}

fn exposed(secrets: &[Secret]) -> Vec<&str> {
    secrets.iter().map(Secret::expose).collect()
}

/// A 2xx answer into `T`; a missing wrapping key is named. `T` itself refuses an answer
/// without `key` unless `check_key_first` says it would default it.
pub(crate) fn decode<T: DeserializeOwned>(
    ctx: &RequestContext,
    answer: &Answer,
    key: Option<&str>,
    check_key_first: bool,
    secrets: &[Secret],
) -> Result<T, GhlError> {
    // Most answers have the expected shape: read them straight into `T`. Only when that fails
    // is the body read again through `Value`, to name what is wrong.
    if (!check_key_first || key.is_none_or(|key| has_key(&answer.body, key)))
        && let Ok(decoded) = serde_json::from_slice::<T>(&answer.body)
    {
        return Ok(decoded);
    }
    let decode_error = |detail: String, trace_id: Option<String>| {
        GhlError::Decode(Box::new(DecodeError {
            ctx: ctx.clone(),
            status: answer.status,
            content_type: content_type(&answer.headers),
            excerpt: excerpt(&answer.body, &exposed(secrets)),
            detail,
            trace_id,
        }))
    };
    // An empty body is "nothing found" for lookups without a wrapping key (duplicate search).
    let text = String::from_utf8_lossy(&answer.body);
    let value: Value = if text.trim().is_empty() && key.is_none() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(&text).map_err(|err| {
            decode_error(
                format!(
                    "not JSON: {:?} error at line {} column {}",
                    err.classify(),
                    err.line(),
                    err.column()
                ),
                None,
            )
        })?
    };
    let trace_id = value
        .get("traceId")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(key) = key
        && value.get(key).is_none()
    {
        return Err(decode_error(format!("the answer has no `{key}`"), trace_id));
    }
    serde_json::from_value(value).map_err(|err| {
        decode_error(
            format!("unexpected shape: {}", scrub_token_like(&err.to_string())),
            trace_id,
        )
    })
}

/// An error status into a classified [`GhlError`].
pub(crate) fn error_from_answer(
    ctx: &RequestContext,
    answer: &Answer,
    is_create: bool,
    scope: &str,
    location_id: &str,
    secrets: &[Secret],
) -> GhlError {
    let status = answer.status;
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    let is_empty = answer.body.iter().all(u8::is_ascii_whitespace);
    let parsed: Option<ErrorBody> = serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .filter(Value::is_object)
        .and_then(|value| serde_json::from_value(value).ok());
    let (message, trace_id) = match parsed {
        Some(body) => (Some(body.message), body.trace_id),
        None => (None, None),
    };
    // A 4xx we cannot read (HTML page from a wrong base URL, a proxy) means nothing was understood;
    // 5xx, 408 and 429 keep their class so retries and the rate gate still work.
    let status_decides = status >= 500 || status == 408 || status == 429;
    if message.is_none() && !is_empty && !status_decides {
        return GhlError::Decode(Box::new(DecodeError {
            ctx: ctx.clone(),
            status,
            content_type: content_type(&answer.headers),
            excerpt: excerpt(&answer.body, &exposed(secrets)),
            detail: "the error answer is not GHL's JSON error body".to_string(),
            trace_id: None,
        }));
    }
    let text = message
        .as_ref()
        .map(ErrorMessage::to_string)
        .unwrap_or_default();
    let class = classify_status(status, &text, is_create);
    let summary = match (&message, text.trim().is_empty()) {
        (Some(_), false) => text.clone(),
        _ if is_empty => reason.to_string(),
        _ => format!(
            "{reason} ({}: {:?})",
            content_type(&answer.headers),
            excerpt(&answer.body, &exposed(secrets))
        ),
    };
    GhlError::Api(Box::new(ApiError {
        ctx: ctx.clone(),
        status,
        class,
        message: message.filter(|_| !text.trim().is_empty()),
        summary,
        trace_id,
        hint: hint_for(class, status, scope, location_id),
    }))
}
