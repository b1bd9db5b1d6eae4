//! Events an app pushes to `POST /webhooks/peer/<name>` (`Peer::accept_push`), and the one
//! HMAC scheme apps sign them with: `<Prefix>Timestamp` (Unix seconds) and `<Prefix>Signature:
//! sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<raw body>`), the timestamp signed with the
//! body so a captured request cannot be made fresh again.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// A pushed event the peer took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAccepted {
    /// What makes this delivery the same as another (its signature, an event id): the inbox
    /// queues it once.
    pub replay_key: Option<String>,
    /// The peer had it already; nothing new to sync.
    pub duplicate: bool,
}

/// `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`): what the bridge sends.
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let hex: String = mac(secret, timestamp, body)
        .map(|mac| mac.finalize().into_bytes())
        .iter()
        .flatten()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// HMAC takes keys of any length, so this is always `Some`.
fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// A refused request: answer `status` with `message` (it never holds the secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct Refused {
    pub status: u16,
    pub message: String,
}

impl Refused {
    pub fn new(status: u16, message: impl Into<String>) -> Refused {
        Refused {
            status,
            message: message.into(),
        }
    }

    pub fn body(&self) -> String {
        json!({"ok": false, "error": self.message}).to_string()
    }
}

/// The header names of one HMAC scheme: `<timestamp header>`, `<signature header>` carrying
/// `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<raw body>`).
#[derive(Debug, Clone, Copy)]
pub struct SignedHeaders {
    pub timestamp: &'static str,
    pub signature: &'static str,
    /// How the headers are written in messages (`X-Growbots-`).
    pub shown_prefix: &'static str,
}

/// Checks a request signed the Growbots bridge's way (the same scheme serves any app that
/// pushes): the timestamp within `tolerance` seconds of `now`, the HMAC in constant time.
/// Returns the timestamp and the signature header as sent (a replay key). 401 otherwise.
pub fn check_signed(
    names: &SignedHeaders,
    secret: &[u8],
    now: i64,
    tolerance: i64,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(i64, String), Refused> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    let prefix = names.shown_prefix;
    let (Some(timestamp), Some(sent)) = (header(names.timestamp), header(names.signature)) else {
        return Err(Refused::new(
            401,
            format!(
                "unsigned: send {prefix}Timestamp and {prefix}Signature (sha256=HMAC of \"<timestamp>.<body>\" with the shared secret)"
            ),
        ));
    };
    let Ok(at) = timestamp.parse::<i64>() else {
        return Err(Refused::new(
            401,
            format!("{prefix}Timestamp is not Unix seconds"),
        ));
    };
    if (now - at).abs() > tolerance {
        return Err(Refused::new(
            401,
            format!(
                "stale: the timestamp is {}s from now, outside the {tolerance}s window (a replay, or the sender's clock is off)",
                now - at
            ),
        ));
    }
    let Some(hex) = sent.strip_prefix("sha256=").and_then(decode_hex) else {
        return Err(Refused::new(
            401,
            format!("{prefix}Signature must be sha256=<64 hex digits>"),
        ));
    };
    // verify_slice compares in constant time.
    if mac(secret, timestamp, body).is_none_or(|mac| mac.verify_slice(&hex).is_err()) {
        return Err(Refused::new(
            401,
            "bad signature: check that the sender and ghlsync share the same secret and sign the raw body",
        ));
    }
    Ok((at, sent.to_string()))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}
