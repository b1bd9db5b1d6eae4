//! `GET /metrics`: the status screen's figures in Prometheus' text format (off unless
//! `[service] metrics = true`). Per-minute series become counters of the last hour and the
//! current minute's gauge; scrapers that want rates compute them from the totals.

use crate::engine::board::ServiceStatus;
use crate::engine::{Command, EngineHandle, Reply, Status};
use std::fmt::Write;

/// The engine's status, rendered. One `Status` holds every figure: the queue, the limiter and
/// the log are the location's, each peer's health is in `peers`, the series in `service`.
pub async fn render(handle: &EngineHandle) -> String {
    match handle.call(Command::Status).await {
        Ok(Reply::Status { status }) => text(Some(&status)),
        _ => text(None),
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text for a status (`None`: the engine did not answer).
pub fn text(status: Option<&Status>) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, rows: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP ghlsync_{name} {help}");
        let _ = writeln!(out, "# TYPE ghlsync_{name} {kind}");
        for (labels, value) in rows {
            let _ = writeln!(out, "ghlsync_{name}{labels} {value}");
        }
    };
    let peer_label = |peer: &str| format!("{{peer=\"{}\"}}", escape(peer));
    let Some(first) = status else {
        metric(
            "up",
            "gauge",
            "Whether the engine answered.",
            vec![(String::new(), 0.0)],
        );
        return out;
    };
    metric(
        "up",
        "gauge",
        "Whether the engine answered.",
        vec![(String::new(), 1.0)],
    );
    metric(
        "queue_operations",
        "gauge",
        "Operations in the failed queue by state (in_flight, retry_scheduled, failed, dead).",
        first
            .queue
            .iter()
            .map(|(state, n)| (format!("{{state=\"{}\"}}", escape(state)), *n as f64))
            .collect(),
    );
    let rate = &first.rate_limit;
    metric(
        "ghl_requests_total",
        "counter",
        "GHL requests sent by this process.",
        vec![(String::new(), rate.requests_sent as f64)],
    );
    metric(
        "ghl_rate_limited_total",
        "counter",
        "GHL 429 answers seen by this process.",
        vec![(String::new(), rate.rate_limited_seen as f64)],
    );
    if let Some(left) = rate.daily_remaining {
        metric(
            "ghl_daily_remaining",
            "gauge",
            "GHL's daily quota left, as last reported.",
            vec![(String::new(), left as f64)],
        );
    }
    metric(
        "peer_failures_in_a_row",
        "gauge",
        "Failed calls to the peer since its last success.",
        first
            .peers
            .iter()
            .map(|p| (peer_label(&p.name), f64::from(p.health.failures_in_a_row)))
            .collect(),
    );
    metric(
        "sync_log_entries",
        "gauge",
        "Entries in the sync log.",
        vec![(String::new(), first.log_entries as f64)],
    );
    if let Some(service) = &first.service {
        service_metrics(&mut metric, service, &peer_label);
    }
    out
}

fn service_metrics(
    metric: &mut impl FnMut(&str, &str, &str, Vec<(String, f64)>),
    service: &ServiceStatus,
    peer_label: &impl Fn(&str) -> String,
) {
    let hour = |series: &[u32]| f64::from(series.iter().sum::<u32>());
    metric(
        "writes_last_hour",
        "gauge",
        "Record writes (both directions) in the last hour.",
        service
            .peers
            .iter()
            .map(|p| (peer_label(&p.name), hour(&p.writes)))
            .collect(),
    );
    metric(
        "errors_last_hour",
        "gauge",
        "Failed record outcomes in the last hour.",
        service
            .peers
            .iter()
            .map(|p| (peer_label(&p.name), hour(&p.errors)))
            .collect(),
    );
    metric(
        "rate_limited_last_hour",
        "gauge",
        "GHL 429s in the last hour.",
        vec![(String::new(), hour(&service.rate_limited))],
    );
    metric(
        "webhooks_last_hour",
        "gauge",
        "Webhook events accepted in the last hour.",
        vec![(String::new(), hour(&service.webhooks))],
    );
    metric(
        "inbox_events",
        "gauge",
        "Webhook events accepted but not yet synced.",
        vec![(String::new(), service.inbox_len as f64)],
    );
    metric(
        "lag_seconds",
        "gauge",
        "Age of the oldest change not yet synced.",
        vec![(String::new(), service.lag_secs.unwrap_or(0) as f64)],
    );
    metric(
        "alerts_open",
        "gauge",
        "Alerts open now.",
        vec![(String::new(), service.open_alerts as f64)],
    );
    metric(
        "last_run_timestamp_seconds",
        "gauge",
        "When each peer's last run ended.",
        service
            .peers
            .iter()
            .filter_map(|p| Some((peer_label(&p.name), p.last_run?.timestamp() as f64)))
            .collect(),
    );
}
