//! The webhook receiver: GHL's deliveries on `POST /webhooks/ghl`, apps' pushes on
//! `POST /webhooks/peer/{name}`, `GET /healthz`. A 200 means the event is on disk (the engine's
//! inbox, `Command::Deliver`). GHL delivers again only after a 429 — every other status loses
//! the event — so whatever keeps an event from being stored answers 429 with Retry-After;
//! only deliveries that are not GHL's (unsigned, forged, replayed, unreadable) are refused for
//! good. No signature, secret or body is ever logged.

use crate::config::service::{SignaturePolicy, WebhooksSection};
use crate::engine::{Command, Delivery, EngineHandle, Reply};
use crate::ghl::webhook::{
    GHL_SIGNATURE_HEADER, KeyError, KeySet, LEGACY_SIGNATURE_HEADER, Scheme, Verifier,
    WebhookEvent, within_window,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use std::sync::Arc;

/// The largest body taken (413 beyond): GHL's events are a few kilobytes.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// What a 429 asks the sender to wait.
pub const RETRY_AFTER_SECS: u64 = 60;

/// How the receiver judges deliveries.
#[derive(Debug, Clone)]
pub struct ReceiverSettings {
    pub verifier: Verifier,
    /// A GHL event stamped further than this from now is refused as a replay.
    pub replay_window_secs: u64,
    pub body_limit: usize,
}

/// The receiver's settings from `[service.webhooks]`; key paths are relative to `config_dir`.
/// A key that cannot be read is an error naming its entry. Disabled signatures are logged
/// loudly here, once at start (and each unsigned delivery again).
pub fn settings_from(
    section: &WebhooksSection,
    config_dir: Option<&std::path::Path>,
) -> Result<ReceiverSettings, KeyError> {
    let keys = KeySet::load(&section.ed25519_keys, &section.rsa_keys, config_dir)?;
    let required = section.signatures == SignaturePolicy::Required;
    if !required {
        tracing::warn!(
            "[service.webhooks] signatures = \"disabled\": every delivery on /webhooks/ghl is accepted UNSIGNED; use this with the sandbox only"
        );
    }
    Ok(ReceiverSettings {
        verifier: Verifier::new(keys, required),
        replay_window_secs: section.replay_window_secs,
        body_limit: DEFAULT_BODY_LIMIT,
    })
}

struct Receiver {
    engine: EngineHandle,
    /// Swapped by a reload (a key rotation takes effect without a restart).
    settings: SharedSettings,
}

/// The receiver's settings as the service holds them: `router` reads them per delivery, a
/// reload replaces them.
pub type SharedSettings = Arc<std::sync::RwLock<ReceiverSettings>>;

impl Receiver {
    fn settings(&self) -> std::sync::RwLockReadGuard<'_, ReceiverSettings> {
        // A writer panicking mid-swap leaves the old or the new settings, both whole.
        self.settings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The receiver's routes over `handle`'s engine.
/// (`/healthz` is the service's listener's, beside these: `service::http`.)
pub fn router(handle: EngineHandle, settings: SharedSettings) -> Router {
    let limit = settings
        .read()
        .map_or(DEFAULT_BODY_LIMIT, |settings| settings.body_limit);
    let state = Arc::new(Receiver {
        engine: handle,
        settings,
    });
    Router::new()
        .route("/webhooks/ghl", post(ghl))
        .route("/webhooks/peer/{name}", post(peer))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    (status, axum::Json(json!({"ok": false, "error": message}))).into_response()
}

fn busy(message: impl Into<String>) -> Response {
    let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

async fn ghl(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = match receiver.settings().verifier.verify(
        header(GHL_SIGNATURE_HEADER),
        header(LEGACY_SIGNATURE_HEADER),
        &body,
    ) {
        Ok(scheme) => scheme,
        Err(why) => {
            tracing::warn!(bytes = body.len(), "GHL webhook refused: {why}");
            return refuse(StatusCode::UNAUTHORIZED, why.to_string());
        }
    };
    if scheme == Scheme::Unchecked {
        tracing::warn!(
            "GHL webhook accepted WITHOUT a signature check (signatures = \"disabled\")"
        );
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the body is not UTF-8 JSON",
        );
    };
    let event = match WebhookEvent::parse(&body) {
        Ok(event) => event,
        Err(why) => {
            tracing::warn!("GHL webhook refused: {why}");
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, why);
        }
    };
    let webhook_id = event.webhook_id.as_deref().unwrap_or("-");
    let now = chrono::Utc::now().timestamp_millis();
    let window = receiver.settings().replay_window_secs;
    match event.timestamp_ms {
        Some(at) if !within_window(at, now, window) => {
            tracing::warn!(webhook_id, event = %event.type_name, "GHL webhook refused: timestamp outside the replay window");
            return refuse(
                StatusCode::CONFLICT,
                format!(
                    "replayed or delayed: the timestamp is {}s from now, outside the {}s window ([service.webhooks] replay_window_secs; check this host's clock)",
                    (now - at) / 1000,
                    window
                ),
            );
        }
        Some(_) => {}
        // Signed, and an event only makes the sync read GHL's current state: taken, said.
        None => tracing::info!(webhook_id, "GHL webhook without a timestamp"),
    }
    let delivery = Delivery {
        source: "ghl".into(),
        headers: Vec::new(),
        body: text.to_string(),
    };
    let answer = answer(&receiver.engine, delivery).await;
    tracing::info!(
        webhook_id,
        event = %event.type_name,
        scheme = scheme.as_str(),
        status = answer.status().as_u16(),
        "GHL webhook"
    );
    answer
}

/// The headers a peer's check may need: its own `x-…` ones and the content type.
fn forwarded(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-") || *name == header::CONTENT_TYPE)
        .filter_map(|(name, value)| {
            Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
        })
        .collect()
}

async fn peer(
    State(receiver): State<Arc<Receiver>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "the body is not UTF-8");
    };
    let delivery = Delivery {
        source: format!("peer:{name}"),
        headers: forwarded(&headers),
        body: text.to_string(),
    };
    let answer = answer(&receiver.engine, delivery).await;
    tracing::info!(peer = %name, status = answer.status().as_u16(), "peer push");
    answer
}

/// The engine's answer to a delivery, as HTTP.
async fn answer(engine: &EngineHandle, delivery: Delivery) -> Response {
    match engine.call(Command::Deliver { delivery }).await {
        Ok(Reply::Accepted { duplicate, ignored }) => (
            StatusCode::OK,
            axum::Json(json!({"ok": true, "duplicate": duplicate, "ignored": ignored})),
        )
            .into_response(),
        Ok(Reply::Refused { status, message }) => refuse(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            message,
        ),
        // Busy, a store failure, anything else: not stored, so ask for the event again.
        Ok(Reply::Error { message, .. }) => busy(message),
        Ok(other) => busy(format!("unexpected engine answer {other:?}; deliver again")),
        Err(err) => busy(format!("{err}; deliver again")),
    }
}
