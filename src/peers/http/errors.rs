//! Turning a peer's answers into `PeerError`s: the default status → class table, a peer's own
//! overrides, and a short, secret-free summary of whatever body came back (a JSON message, an
//! HTML page's title, the start of plain text).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::net::{ErrorClass, excerpt};
use crate::peers::PeerError;

/// A `PeerError` of `class`, naming the refused field when there is one: how the shared client
/// and the connectors on it build theirs.
pub(crate) fn peer_error(
    peer: &str,
    operation: &str,
    class: ErrorClass,
    detail: String,
    field: Option<String>,
) -> PeerError {
    let error = PeerError::new(peer, operation, class, detail);
    match field {
        Some(field) => error.with_field(field),
        None => error,
    }
}

/// Status → class, as a peer's connector file may override it (`[errors] 409 = "not_found"`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusClasses {
    overrides: BTreeMap<u16, ErrorClass>,
}

impl StatusClasses {
    pub fn new(overrides: BTreeMap<u16, ErrorClass>) -> Self {
        StatusClasses { overrides }
    }

    /// The class of a non-2xx answer. Defaults: 401/403 auth, 404 and 410 not found,
    /// 400/409/422 (and other 4xx) validation, 429 rate limited, 408 and 5xx transient — except
    /// that a write answered 408 or 5xx may have happened, so it is ambiguous.
    pub fn class(&self, status: u16, write: bool) -> ErrorClass {
        if let Some(class) = self.overrides.get(&status) {
            return *class;
        }
        match status {
            401 | 403 => ErrorClass::Auth,
            404 | 410 => ErrorClass::NotFound,
            429 => ErrorClass::RateLimited,
            408 | 500..=599 if write => ErrorClass::Ambiguous,
            408 | 500..=599 => ErrorClass::Transient,
            _ => ErrorClass::Validation,
        }
    }
}

/// What a peer's own reading makes of a JSON error body; each part left `None` is read the
/// shared way (`body_message`, `refused_field`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorBody {
    /// The refusal in a sentence, unscrubbed (the client scrubs and shortens it).
    pub message: Option<String>,
    /// The field the refusal is about; kept only on a `Validation` answer.
    pub field: Option<String>,
}

/// A peer's reader of its JSON error bodies, for shapes the shared reading does not know (an
/// app's own `Code`, ASP.NET's `ModelState`). Set in `HttpSettings::error_reader`.
pub type ErrorReader = fn(&Value) -> ErrorBody;

/// The summary and refused field of a non-2xx body: `reader`'s reading first, the shared one
/// for what it leaves out. The field only on a `Validation` answer.
pub(crate) fn explain(
    body: &[u8],
    class: ErrorClass,
    reader: Option<ErrorReader>,
    secrets: &[&str],
) -> (String, Option<String>) {
    let own = reader
        .zip(serde_json::from_slice::<Value>(body).ok())
        .map(|(read, json)| read(&json))
        .unwrap_or_default();
    let message = match own.message {
        Some(message) => scrub(&message, secrets),
        None => body_message(body, secrets),
    };
    let field = (class == ErrorClass::Validation)
        .then(|| own.field.or_else(|| refused_field(body)))
        .flatten();
    (message, field)
}

/// What a body says, briefly: a JSON body's message (`message`, `error`, `detail`, …, with the
/// field errors it lists), an HTML page's title, else the start of the text. ≤ 200 characters,
/// scrubbed of `secrets` and of anything token-like.
pub(crate) fn body_message(body: &[u8], secrets: &[&str]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return "(empty body)".to_string();
    }
    let message = match serde_json::from_str::<Value>(trimmed) {
        Ok(json) => json_message(&json).unwrap_or_else(|| trimmed.to_string()),
        Err(_) if looks_like_html(trimmed) => format!("HTML page: {}", html_text(trimmed)),
        Err(_) => trimmed.to_string(),
    };
    scrub(&message, secrets)
}

/// `text` without any of `secrets` (whatever their length) and token-like words, ≤ 200 chars.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_string();
    for secret in secrets.iter().filter(|secret| secret.chars().count() >= 3) {
        text = text.replace(secret, "[redacted]");
    }
    excerpt(text.as_bytes(), secrets)
}

/// The field a refusal names: the first key of an `errors`/`fields` object, or the `field` of
/// the first item of an `errors` list.
pub(crate) fn refused_field(body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let object = json.as_object()?;
    for key in ["errors", "fields", "field_errors"] {
        match object.get(key) {
            Some(Value::Object(fields)) => {
                if let Some(name) = fields.keys().next() {
                    return Some(name.clone());
                }
            }
            Some(Value::Array(items)) => {
                let named = items.iter().find_map(|item| {
                    ["field", "param", "path"]
                        .iter()
                        .find_map(|name| item.get(*name).and_then(Value::as_str))
                });
                if let Some(name) = named {
                    return Some(name.to_string());
                }
            }
            _ => {}
        }
    }
    object
        .get("field")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            ["message", "Message", "error"]
                .iter()
                .find_map(|name| object.get(*name).and_then(Value::as_str))
                .and_then(crate::sync::reason::field_in_peer_message)
        })
}

pub(crate) fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .trim_start()
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with('<')
        && (head.contains("<html")
            || head.contains("<!doctype")
            || head.contains("<head")
            || head.contains("<body"))
}

fn json_message(json: &Value) -> Option<String> {
    let object = json.as_object()?;
    let text = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        Value::Object(inner) => inner
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string),
        other => Some(other.to_string()),
    };
    let message = [
        "message",
        "Message",
        "error_description",
        "error",
        "detail",
        "title",
    ]
    .iter()
    .find_map(|name| object.get(*name).and_then(text));
    let details = ["errors", "fields"]
        .iter()
        .find_map(|name| object.get(*name))
        .map(|errors| match errors {
            Value::Object(fields) => fields
                .iter()
                .map(|(field, why)| format!("{field}: {}", flat(why)))
                .collect::<Vec<_>>()
                .join("; "),
            Value::Array(items) => items.iter().map(flat).collect::<Vec<_>>().join("; "),
            other => flat(other),
        })
        .filter(|text| !text.is_empty());
    match (message, details) {
        (Some(message), Some(details)) => Some(format!("{message} ({details})")),
        (Some(message), None) => Some(message),
        (None, Some(details)) => Some(details),
        (None, None) => None,
    }
}

fn flat(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(flat).collect::<Vec<_>>().join(", "),
        Value::Object(object) => object
            .get("message")
            .map(flat)
            .unwrap_or_else(|| value.to_string()),
        other => other.to_string(),
    }
}

/// The `<title>` of a page, else its text without tags, whitespace collapsed.
fn html_text(page: &str) -> String {
    let lower = page.to_ascii_lowercase();
    let title = lower.find("<title").and_then(|start| {
        let open_end = start + lower[start..].find('>')? + 1;
        let close = open_end + lower[open_end..].find("</title")?;
        page.get(open_end..close)
    });
    let source = title
        .filter(|title| !title.trim().is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| strip_tags(page));
    source.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn strip_tags(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_classes_for_reads_and_writes() {
        let classes = StatusClasses::default();
        assert_eq!(classes.class(401, false), ErrorClass::Auth);
        assert_eq!(classes.class(403, true), ErrorClass::Auth);
        assert_eq!(classes.class(404, false), ErrorClass::NotFound);
        for status in [400, 409, 422] {
            assert_eq!(classes.class(status, true), ErrorClass::Validation);
        }
        assert_eq!(classes.class(429, true), ErrorClass::RateLimited);
        assert_eq!(classes.class(503, false), ErrorClass::Transient);
        assert_eq!(classes.class(503, true), ErrorClass::Ambiguous);
        let overridden = StatusClasses::new(BTreeMap::from([
            (409, ErrorClass::NotFound),
            (503, ErrorClass::Transient),
        ]));
        assert_eq!(overridden.class(409, true), ErrorClass::NotFound);
        assert_eq!(overridden.class(503, true), ErrorClass::Transient);
        assert_eq!(overridden.class(400, true), ErrorClass::Validation);
    }

    #[test]
    fn classes_map_onto_peer_errors() {
        let err = peer_error(
            "acme",
            "POST /contacts",
            ErrorClass::Validation,
            "bad".into(),
            Some("email".into()),
        );
        assert_eq!(err.class(), ErrorClass::Validation);
        assert_eq!(err.field(), Some("email"));
        let rate = peer_error(
            "acme",
            "GET /x",
            ErrorClass::RateLimited,
            "429".into(),
            None,
        );
        // The class is kept as it is: the retry ladder knows a rate limit from an outage.
        assert_eq!(rate.class(), ErrorClass::RateLimited);
        let config = peer_error("acme", "", ErrorClass::ScopeOrConfig, "no".into(), None);
        assert_eq!(config.class(), ErrorClass::ScopeOrConfig);
    }

    #[test]
    fn a_peer_reader_comes_first_and_the_shared_reading_fills_its_gaps() {
        fn reader(json: &Value) -> ErrorBody {
            ErrorBody {
                message: json.get("Msg").and_then(Value::as_str).map(str::to_string),
                field: None,
            }
        }
        let body = br#"{"Msg": "bad key s3cret-k", "errors": {"email": "taken"}}"#;
        let (message, field) = explain(body, ErrorClass::Validation, Some(reader), &["s3cret-k"]);
        assert_eq!(message, "bad key [redacted]");
        assert_eq!(field.as_deref(), Some("email"));
        let (message, field) = explain(body, ErrorClass::Auth, None, &[]);
        assert_eq!((message.as_str(), field), ("email: taken", None));
    }

    #[test]
    fn bodies_are_summarised_and_scrubbed() {
        let json = br#"{"message": "validation failed", "errors": {"email": ["is invalid"]}}"#;
        assert_eq!(
            body_message(json, &[]),
            "validation failed (email: is invalid)"
        );
        assert_eq!(refused_field(json), Some("email".into()));
        let list = br#"{"errors": [{"field": "phone", "message": "too short"}]}"#;
        assert_eq!(refused_field(list), Some("phone".into()));
        let html = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>";
        assert_eq!(body_message(html, &[]), "HTML page: 502 Bad Gateway");
        let leaky = br#"{"error": "token abc123 is wrong"}"#;
        let message = body_message(leaky, &["abc123"]);
        assert!(!message.contains("abc123"), "{message}");
        assert_eq!(body_message(b"  ", &[]), "(empty body)");
    }
}
