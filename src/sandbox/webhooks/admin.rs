//! `/_sandbox/webhooks*`: settings, public keys and stats; one-shot faults; custom sends.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Scheme, WebhookFaults, WebhookSettings, Webhooks};
use crate::sandbox::body::JsonBody;
use crate::sandbox::state::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_sandbox/webhooks", get(show).post(configure))
        .route("/_sandbox/webhooks/faults", post(faults))
        .route("/_sandbox/webhooks/send", post(send))
}

fn refused(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"message": message.into()}))).into_response()
}

fn bad_body(e: serde_json::Error) -> Response {
    refused(StatusCode::BAD_REQUEST, format!("bad body: {e}"))
}

fn view(hooks: &Webhooks) -> Value {
    let settings = hooks.settings();
    json!({
        "configured": settings.is_some(),
        "url": settings.as_ref().map(|s| s.url.clone()),
        "scheme": settings.as_ref().map(|s| s.scheme),
        "retryDelayMs": settings.as_ref().map(|s| s.retry_delay.as_millis() as u64),
        "enabled": settings.as_ref().is_some_and(|s| s.enabled),
        "publicKeys": hooks.public_keys(),
        "stats": hooks.stats(),
    })
}

async fn show(State(st): State<Arc<AppState>>) -> Response {
    axum::Json(view(&st.webhooks)).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfigureBody {
    url: String,
    #[serde(default)]
    scheme: Scheme,
    #[serde(default)]
    retry_delay_ms: Option<u64>,
    #[serde(default)]
    enabled: Option<bool>,
}

async fn configure(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let body: ConfigureBody = match serde_json::from_value(body) {
        Ok(body) => body,
        Err(e) => return bad_body(e),
    };
    if url::Url::parse(&body.url).is_err() {
        return refused(
            StatusCode::BAD_REQUEST,
            format!("url {:?} is not an absolute URL", body.url),
        );
    }
    let settings = WebhookSettings {
        url: body.url,
        scheme: body.scheme,
        retry_delay: body
            .retry_delay_ms
            .map_or(super::DEFAULT_RETRY_DELAY, Duration::from_millis),
        enabled: body.enabled.unwrap_or(true),
    };
    match st.webhooks.configure(settings).await {
        Ok(_) => axum::Json(view(&st.webhooks)).into_response(),
        Err(e) => refused(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn faults(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    match serde_json::from_value::<WebhookFaults>(body) {
        Ok(faults) => axum::Json(json!({"armed": st.webhooks.arm(faults)})).into_response(),
        Err(e) => bad_body(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    event: Map<String, Value>,
}

/// A custom event, delivered in its location's order (`locationId`, else the primary one).
async fn send(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let body: SendBody = match serde_json::from_value(body) {
        Ok(body) => body,
        Err(e) => return bad_body(e),
    };
    if st.webhooks.settings().is_none() {
        return refused(
            StatusCode::CONFLICT,
            "webhooks are not configured: POST /_sandbox/webhooks {url} first",
        );
    }
    let location = body
        .event
        .get("locationId")
        .and_then(Value::as_str)
        .unwrap_or(&st.ids.location_id)
        .to_string();
    let id = st.webhooks.emit(&location, body.event);
    axum::Json(json!({"webhookId": id})).into_response()
}
