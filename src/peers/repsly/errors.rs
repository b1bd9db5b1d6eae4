//! Turning Repsly's answers into `PeerError`s: status codes, `{Code, Message}` JSON bodies and
//! the HTML error pages malformed input can produce. No message ever carries the password.

use serde_json::Value;

use crate::net::excerpt;
use crate::peers::PeerError;

pub(crate) const PEER: &str = "repsly";

/// Repsly's failures use the shared classes; the short name keeps call sites readable.
pub(crate) use crate::net::ErrorClass as Class;

pub(crate) fn error(class: Class, operation: &str, detail: impl Into<String>) -> PeerError {
    PeerError::new(PEER, operation, class, detail)
}

/// A refusal about one field (`field` required and empty, or invalid): the failed queue files it
/// under that field (`sync::reason`).
pub(crate) fn field_error(operation: &str, field: &str, detail: impl Into<String>) -> PeerError {
    PeerError::new(PEER, operation, Class::Validation, detail).with_field(field)
}

pub(crate) fn unsupported(detail: impl Into<String>) -> PeerError {
    PeerError::unsupported(PEER, detail)
}

/// Whether the status is worth another attempt. A write is retried only on 429 (Repsly refused
/// it without doing it); any other failure of a write may have started an import job.
pub(crate) fn retryable(status: u16, write: bool) -> bool {
    match status {
        429 => true,
        408 | 500..=599 => !write,
        _ => false,
    }
}

/// The class of a non-2xx answer once retries are spent.
pub(crate) fn class_of_status(status: u16, write: bool) -> Class {
    match status {
        401 | 403 => Class::Auth,
        404 => Class::NotFound,
        429 => Class::Transient,
        408 | 500..=599 if write => Class::Ambiguous,
        408 | 500..=599 => Class::Transient,
        _ => Class::Validation,
    }
}

/// The error for a non-2xx answer: `HTTP {status}: {Repsly's message or a page excerpt}`.
pub(crate) fn from_answer(
    status: u16,
    body: &[u8],
    write: bool,
    operation: &str,
    password: &str,
) -> PeerError {
    let detail = format!("HTTP {status}: {}", body_message(body, password));
    let mut err = error(class_of_status(status, write), operation, detail);
    if err.class == Class::Validation {
        err.field = refused_field(body);
    }
    err
}

/// The field a Repsly refusal is about: the first key of ASP.NET's `ModelState`
/// (`client.Name` → `Name`), else a `Message` of the form `Name is required`.
fn refused_field(body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let object = json.as_object()?;
    let from_state = object
        .get("ModelState")
        .and_then(Value::as_object)
        .and_then(|state| state.keys().next())
        .map(|key| key.rsplit('.').next().unwrap_or(key).to_string())
        .filter(|key| !key.is_empty());
    from_state.or_else(|| {
        ["Message", "message"]
            .iter()
            .find_map(|name| object.get(*name).and_then(Value::as_str))
            .and_then(crate::sync::reason::field_in_peer_message)
    })
}

/// What a body says, briefly: `Message` (with a non-zero `Code` and ASP.NET `ModelState`) of a
/// JSON body, the title or text of an HTML page, or the start of plain text. ≤ 200 characters,
/// with the password and token-like words scrubbed.
pub(crate) fn body_message(body: &[u8], password: &str) -> String {
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
    scrub(&message, password)
}

/// `excerpt` with the password removed first, whatever its length.
pub(crate) fn scrub(text: &str, password: &str) -> String {
    let text = if password.chars().count() >= 4 {
        text.replace(password, "[redacted]")
    } else {
        text.to_string()
    };
    excerpt(text.as_bytes(), &[password])
}

pub(crate) fn looks_like_html(text: &str) -> bool {
    let head: String = text
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
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| object.get(*name))
            .and_then(|value| match value {
                Value::String(text) => Some(text.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
    };
    let message = field(&["Message", "message", "ExceptionMessage", "error"]);
    let code = field(&["Code", "code"]).filter(|code| code != "0");
    let model_state = object
        .get("ModelState")
        .and_then(Value::as_object)
        .map(|state| {
            state
                .values()
                .flat_map(|value| match value {
                    Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>(),
                    other => vec![value_text(other)],
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|text| !text.is_empty());
    let mut out = match (code, message) {
        (Some(code), Some(message)) => format!("Code {code}: {message}"),
        (None, Some(message)) => message,
        (Some(code), None) => format!("Code {code}"),
        (None, None) => return None,
    };
    if let Some(state) = model_state {
        out.push_str(" (");
        out.push_str(&state);
        out.push(')');
    }
    Some(out)
}

pub(crate) fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
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
    use crate::net::ErrorClass;

    const HTML: &str = "<!DOCTYPE html>\n<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' Application.</h1></body></html>";

    #[test]
    fn status_classes_for_reads_and_writes() {
        let class = |status, write| from_answer(status, b"", write, "GET x", "pw").class();
        assert_eq!(class(401, false), ErrorClass::Auth);
        assert_eq!(class(403, true), ErrorClass::Auth);
        assert_eq!(class(404, false), ErrorClass::NotFound);
        assert_eq!(class(400, true), ErrorClass::Validation);
        assert_eq!(class(422, true), ErrorClass::Validation);
        assert_eq!(class(500, false), ErrorClass::Transient);
        assert_eq!(class(503, true), ErrorClass::Ambiguous);
        assert_eq!(class(429, false), ErrorClass::Transient);
        assert_eq!(class(429, true), ErrorClass::Transient);
        assert!(retryable(503, false) && !retryable(503, true) && retryable(429, true));
        assert!(!retryable(400, false) && !retryable(404, false));
    }

    #[test]
    fn json_code_and_message() {
        let body = br#"{"Code": 3, "Message": "Name is required"}"#;
        let err = from_answer(400, body, true, "POST import/client", "pw");
        assert_eq!(err.class(), ErrorClass::Validation);
        let text = err.to_string();
        assert!(
            text.contains("HTTP 400: Code 3: Name is required"),
            "{text}"
        );
        assert!(text.contains("POST import/client"), "{text}");
        let model_state = br#"{"Message":"The request is invalid.","ModelState":{"client.Code":["Code too long"]}}"#;
        assert_eq!(
            body_message(model_state, "pw"),
            "The request is invalid. (Code too long)"
        );
    }

    /// A refusal naming a field (ASP.NET's `ModelState` key, or `Name is required`) keeps it, so
    /// the failed queue files it under that field.
    #[test]
    fn a_refusal_keeps_the_field_it_names() {
        let model_state =
            br#"{"Message":"The request is invalid.","ModelState":{"client.Name":["required"]}}"#;
        let err = from_answer(400, model_state, true, "POST import/client", "pw");
        assert_eq!(err.field(), Some("Name"));
        let message = br#"{"Code": 3, "Message": "Name is required"}"#;
        let err = from_answer(400, message, true, "POST import/client", "pw");
        assert_eq!(err.field(), Some("Name"));
        let other = br#"{"Code": 3, "Message": "Code too long"}"#;
        let err = from_answer(400, other, true, "POST import/client", "pw");
        assert_eq!(err.field(), None);
        assert_eq!(
            from_answer(500, message, false, "GET x", "pw").field(),
            None
        );
    }

    #[test]
    fn html_pages_are_summarised() {
        let err = from_answer(400, HTML.as_bytes(), true, "POST import/client", "pw");
        assert_eq!(err.class(), ErrorClass::Validation);
        assert!(
            err.to_string().contains("HTML page: Runtime Error"),
            "{err}"
        );
        let untitled = format!("<html><body><p>Bad {}</p></body></html>", "x ".repeat(300));
        let message = body_message(untitled.as_bytes(), "pw");
        assert!(message.starts_with("HTML page: Bad x"), "{message}");
        assert!(message.chars().count() <= 200);
        assert!(!message.contains('<'));
    }

    #[test]
    fn the_password_never_appears() {
        let body = br#"{"Code": 1, "Message": "user api-user with password s3cr3t refused"}"#;
        let message = body_message(body, "s3cr3t");
        assert!(!message.contains("s3cr3t"), "{message}");
        assert_eq!(body_message(b"  ", "s3cr3t"), "(empty body)");
    }
}
