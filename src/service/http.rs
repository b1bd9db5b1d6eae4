//! The service's HTTP listener: the webhook receiver (`receiver.rs`: `POST /webhooks/ghl`,
//! `POST /webhooks/peer/{name}`), `GET /healthz` (for `doctor`, systemd and Kubernetes probes),
//! `GET /metrics` when `[service] metrics = true`. Loopback by default; a TLS reverse proxy in
//! front takes GHL's deliveries (README, "Webhooks").

use super::ServiceOptions;
use crate::engine::EngineHandle;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

struct Shared {
    handle: EngineHandle,
}

/// Binds `addr` and serves until `stop` turns true.
pub async fn listen(
    addr: &str,
    handle: EngineHandle,
    options: &ServiceOptions,
    receiver: super::receiver::SharedSettings,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let webhooks = super::receiver::router(handle.clone(), receiver);
    let shared = Arc::new(Shared { handle });
    let mut app = Router::new().route("/healthz", get(healthz));
    if options.config.service.metrics {
        app = app.route("/metrics", get(metrics));
    }
    let app = app.with_state(shared).merge(webhooks);
    tracing::info!(addr = %addr, "listening for webhooks");
    Ok(tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await;
        if let Err(err) = served {
            tracing::warn!("the HTTP listener stopped: {err}");
        }
    }))
}

async fn healthz(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let instance = shared
        .handle
        .board()
        .service_status()
        .map(|status| status.instance)
        .unwrap_or_default();
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({"ok": true, "instance": instance})),
    )
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let text = super::metrics::render(&shared.handle).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
