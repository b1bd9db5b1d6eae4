//! Alerts: conditions checked on a timer against the engine's status, raised on the board
//! when they start and recovered once when they end (`engine::board`), and every change sent
//! to the log, an optional Slack-compatible webhook and an optional command. A condition that
//! stays true alerts once, however many retries fail under it.

use crate::config::Secret;
use crate::config::service::AlertsSection;
use crate::engine::board::{Alert, AlertKey, AlertState, Board};
use crate::engine::protocol::Health;
use crate::engine::{Command, EngineHandle, Event, PeerState, Reply};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::broadcast::error::RecvError;

/// What the checks compare against (from config; `silent_after` from `[service.webhooks]`).
#[derive(Clone)]
pub struct AlertSettings {
    pub alerts: AlertsSection,
    /// `None`: webhooks are not expected (no listener, or no `silent_after`).
    pub webhooks_silent_after: Option<Duration>,
}

/// One round of checks over the engine's health (one cheap query for every peer).
pub async fn check(handle: &EngineHandle, settings: &AlertSettings) {
    let board = handle.board();
    let Ok(Reply::Health { health }) = handle.call(Command::Health).await else {
        return;
    };
    for peer in &health.peers {
        judge_peer(&board, peer, settings);
    }
    board.observe_rate_limited(health.rate_limited_seen);
    judge_quota(&board, &health, settings);
    let key = AlertKey::DeadOperations("all".into());
    if health.dead > 0 {
        board.raise(
            key,
            format!(
                "{} operation(s) went dead (out of retries); see `ghlsync failures list --state dead`, fix the cause, then `ghlsync failures retry`",
                health.dead
            ),
        );
    } else {
        board.recover(&key, "no dead operation is left");
    }
    if let Some(after) = settings.webhooks_silent_after {
        judge_webhooks(&board, after);
    }
}

fn judge_peer(board: &Board, peer: &PeerState, settings: &AlertSettings) {
    let key = AlertKey::PeerDown(peer.name.clone());
    let health = &peer.health;
    if health.failures_in_a_row >= settings.alerts.peer_failures.max(1) {
        board.raise(
            key,
            format!(
                "{} is not answering: {} calls failed in a row ({}); check its status page and credentials (`ghlsync doctor`)",
                peer.name,
                health.failures_in_a_row,
                health.last_error.as_deref().unwrap_or("no message")
            ),
        );
    } else if health.failures_in_a_row == 0 && health.last_ok_at.is_some() {
        board.recover(&key, format!("{} answers again", peer.name));
    }
}

/// A run's answer: auth breaks when a run is refused for it, and recovers when one goes through.
pub fn judge_run(board: &Board, reply: &Reply) {
    match reply {
        Reply::Error { class, message } if class == "auth" || class == "scope_or_config" => {
            board.raise(
                AlertKey::Auth,
                format!(
                    "GHL refused the token: {message}; renew it (`ghlsync auth login`, or a new private integration token in secrets.toml), then `systemctl reload ghlsync@<instance>`"
                ),
            );
        }
        Reply::Run { .. } | Reply::Runs { .. } => {
            board.recover(&AlertKey::Auth, "GHL accepts the token again");
        }
        _ => {}
    }
}

fn judge_quota(board: &Board, health: &Health, settings: &AlertSettings) {
    if let (Some(limit), Some(left)) = (health.daily_limit, health.daily_remaining)
        && limit > 0
    {
        let share = left as f64 / limit as f64;
        if share < settings.alerts.quota_reserve {
            board.raise(
                AlertKey::Quota,
                format!(
                    "GHL's daily quota is at {left} of {limit} requests; bulk syncs wait for the reset at midnight (the location's time), live writes continue"
                ),
            );
        } else {
            board.recover(
                &AlertKey::Quota,
                format!("daily quota back at {left} of {limit}"),
            );
        }
    }
}

fn judge_webhooks(board: &Board, after: Duration) {
    let Some(status) = board.service_status() else {
        return;
    };
    let since = status.last_webhook_at.or(status.started_at);
    let Some(since) = since else { return };
    let silent = chrono::Utc::now() - since;
    if silent.to_std().is_ok_and(|silent| silent > after) {
        board.raise(
            AlertKey::WebhooksSilent,
            format!(
                "no GHL webhook arrived for {}; check the app's webhook URL, the reverse proxy and `ghlsync doctor` (changes still arrive by polling)",
                humantime::format_duration(Duration::from_secs(silent.num_seconds().max(0) as u64))
            ),
        );
    } else if status.last_webhook_at.is_some() {
        board.recover(&AlertKey::WebhooksSilent, "webhooks arrive again");
    }
}

/// Where alerts go besides the log and the console.
#[derive(Clone, Default)]
pub struct Sinks {
    pub webhook_url: Option<Secret>,
    pub command: Vec<String>,
}

/// Sends every alert the engine announces to the log and the sinks, until the engine stops.
pub async fn deliver(handle: EngineHandle, sinks: Arc<Sinks>) {
    let mut events = handle.subscribe();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .ok();
    loop {
        let alert = match events.recv().await {
            Ok(Event::Alert { alert }) => alert,
            Ok(_) | Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => break,
        };
        match alert.state {
            AlertState::Raised => tracing::warn!(alert = ?alert.key, "alert: {}", alert.message),
            AlertState::Recovered => {
                tracing::info!(alert = ?alert.key, "recovered: {}", alert.message)
            }
        }
        if let (Some(url), Some(client)) = (&sinks.webhook_url, &client) {
            post(client, url, &alert).await;
        }
        if !sinks.command.is_empty() {
            run_command(&sinks.command, &alert).await;
        }
    }
}

/// Slack's incoming-webhook body (`text`), with the alert's fields beside it for other tools.
pub fn webhook_body(alert: &Alert) -> serde_json::Value {
    let mark = match alert.state {
        AlertState::Raised => "ghlsync alert",
        AlertState::Recovered => "ghlsync recovered",
    };
    serde_json::json!({
        "text": format!("{mark}: {}", alert.message),
        "alert": alert,
    })
}

async fn post(client: &reqwest::Client, url: &Secret, alert: &Alert) {
    let sent = client
        .post(url.expose())
        .json(&webhook_body(alert))
        .send()
        .await;
    match sent {
        Ok(answer) if answer.status().is_success() => {}
        // The URL is the credential: never in the log.
        Ok(answer) => tracing::warn!(
            status = answer.status().as_u16(),
            "the alert webhook refused an alert"
        ),
        Err(err) => tracing::warn!(
            "the alert webhook did not answer: {}",
            crate::net::scrub_token_like(&err.without_url().to_string())
        ),
    }
}

async fn run_command(argv: &[String], alert: &Alert) {
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    let spawned = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            tracing::warn!("the alert command {program:?} did not start: {err}");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let body = serde_json::to_vec(alert).unwrap_or_default();
        let _ = stdin.write_all(&body).await;
    }
    match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
        Ok(Ok(status)) if status.success() => {}
        Ok(Ok(status)) => tracing::warn!("the alert command {program:?} exited with {status}"),
        Ok(Err(err)) => tracing::warn!("the alert command {program:?} failed: {err}"),
        Err(_) => tracing::warn!("the alert command {program:?} ran over 30 s and was stopped"),
    }
}
