//! GHL's NestJS-style error bodies (`common/common-schemas.json`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{statusCode, message, error?, traceId?}`; `message` is a string, or an array on 422.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub message: ErrorMessage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorMessage {
    Text(String),
    List(Vec<String>),
    Other(Value),
}

impl Default for ErrorMessage {
    fn default() -> Self {
        ErrorMessage::Text(String::new())
    }
}

impl std::fmt::Display for ErrorMessage {
    /// Arrays are joined with ", ", as GHL's own SDK does.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorMessage::Text(text) => f.write_str(text),
            ErrorMessage::List(items) => f.write_str(&items.join(", ")),
            ErrorMessage::Other(value) => write!(f, "{value}"),
        }
    }
}
