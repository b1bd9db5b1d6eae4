//! Repsly's errors: the connector's own `PeerError`s, and how its `{Code, Message}` and
//! ASP.NET `ModelState` error bodies read (`read_error_body`, the shared client's reader).
//! Statuses, retries, HTML pages and scrubbing are the shared client's (`peers::http`).

use serde_json::Value;

use crate::peers::PeerError;
use crate::peers::http::ErrorBody;

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

/// Repsly's reading of a JSON error body: the message is `Message` (with a non-zero `Code` and
/// `ModelState`'s messages), the field the first key of `ModelState` (`client.Name` → `Name`),
/// else the one a `Message` such as `Name is required` names.
pub(crate) fn read_error_body(json: &Value) -> ErrorBody {
    ErrorBody {
        message: json_message(json),
        field: refused_field(json),
    }
}

fn refused_field(json: &Value) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn code_message_and_model_state() {
        let read = read_error_body(&json!({"Code": 3, "Message": "Name is required"}));
        assert_eq!(read.message.as_deref(), Some("Code 3: Name is required"));
        assert_eq!(read.field.as_deref(), Some("Name"));
        let model_state = json!({"Message": "The request is invalid.", "ModelState": {"client.Code": ["Code too long"]}});
        let read = read_error_body(&model_state);
        assert_eq!(
            read.message.as_deref(),
            Some("The request is invalid. (Code too long)")
        );
        assert_eq!(read.field.as_deref(), Some("Code"));
        let zero = read_error_body(&json!({"Code": 0, "ExceptionMessage": "boom"}));
        assert_eq!(zero.message.as_deref(), Some("boom"));
        let other = read_error_body(&json!({"Code": 3, "Message": "Code too long"}));
        assert_eq!(other.field, None);
        assert_eq!(
            read_error_body(&json!(["not", "an object"])),
            ErrorBody::default()
        );
    }
}
