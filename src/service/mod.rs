//! `ghlsync run`: the always-on engine of one GHL location. Around the engine it runs the
//! scheduler, the HTTP listener (webhooks, `/healthz`, `/metrics`), the control socket, the
//! alert checks and their delivery, and the signals: SIGTERM/SIGINT drain (no new record
//! starts, what is in flight commits, the store flushes), SIGHUP reloads the files (a file
//! that does not load keeps the old one in force and raises an alert saying why).
//!
//! Everything here talks to the engine through its `EngineHandle`, as a front end does; the
//! one thing only the service has is the board it writes (`engine::board`).

pub mod alerts;
mod http;
pub mod metrics;
pub mod receiver;
pub mod schedule;

use crate::config::Config;
use crate::engine::board::AlertKey;
use crate::engine::{Command, EngineHandle, Reply};
use crate::sync::RunOptions;
use chrono::Utc;
use schedule::Entry;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Everything `serve` needs besides the engine.
pub struct ServiceOptions {
    pub config_path: PathBuf,
    pub config: Config,
    /// The engine's peers, in its order.
    pub peers: Vec<String>,
    pub sinks: alerts::Sinks,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Config(String),
    #[error(
        "cannot listen on {addr}: {source}; is another instance using it? change [service] listen"
    )]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot watch for signals: {0}")]
    Signals(#[source] std::io::Error),
    #[error("the control socket: {0}")]
    Socket(#[from] crate::engine::socket::SocketError),
}

/// How the service ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Drained: nothing in flight was left.
    Drained,
    /// The drain time ran out with a write in flight; the next start reconciles it.
    DrainTimedOut,
}

/// Runs the service until SIGTERM or SIGINT.
pub async fn serve(handle: EngineHandle, options: ServiceOptions) -> Result<Ended, ServiceError> {
    use tokio::signal::unix::{SignalKind, signal};
    let board = handle.board();
    let service = &options.config.service;
    board.start(&service.instance, &options.peers);
    let entries = schedule::entries(&options.config, &options.peers)
        .map_err(|err| ServiceError::Config(err.to_string()))?;
    let mut terminate = signal(SignalKind::terminate()).map_err(ServiceError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ServiceError::Signals)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(ServiceError::Signals)?;
    let socket_path = crate::engine::socket::socket_path(&options.config)?;
    let socket =
        crate::engine::socket::serve(handle.clone(), &socket_path, &service.instance).await?;

    let receiver: receiver::SharedSettings = Arc::new(std::sync::RwLock::new(
        receiver::settings_from(&service.webhooks, options.config_path.parent())
            .map_err(|err| ServiceError::Config(format!("[service.webhooks]: {err}")))?,
    ));
    // Deliveries left on disk by the last run are processed now, before new ones.
    let _ = handle
        .call(Command::ServeInbox {
            settings: (&service.webhooks).into(),
        })
        .await;
    let (stop_tx, stop_rx) = watch::channel(false);
    let listener = match &service.listen {
        Some(addr) => Some(
            http::listen(
                addr,
                handle.clone(),
                &options,
                receiver.clone(),
                stop_rx.clone(),
            )
            .await
            .map_err(|source| ServiceError::Listen {
                addr: addr.clone(),
                source,
            })?,
        ),
        None => None,
    };
    let (entries_tx, entries_rx) = watch::channel(entries);
    let scheduler = tokio::spawn(run_schedule(handle.clone(), entries_rx, stop_rx.clone()));
    let settings = alert_settings(&options.config);
    let (settings_tx, settings_rx) = watch::channel(settings);
    let checks = tokio::spawn(run_checks(handle.clone(), settings_rx, stop_rx.clone()));
    tokio::spawn(alerts::deliver(
        handle.clone(),
        Arc::new(options.sinks.clone()),
    ));
    tracing::info!(
        instance = %service.instance,
        peers = ?options.peers,
        listen = ?service.listen,
        socket = %socket_path.display(),
        "ghlsync run: started"
    );

    loop {
        tokio::select! {
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            _ = hangup.recv() => {
                reload(&handle, &options, &entries_tx, &settings_tx, &receiver).await;
            }
        }
    }

    tracing::info!(
        drain_secs = service.drain_secs,
        "ghlsync run: stopping (no new record starts; what is in flight finishes)"
    );
    let _ = stop_tx.send(true);
    let drain = Duration::from_secs(service.drain_secs.max(1));
    let ended = match tokio::time::timeout(drain, handle.call(Command::Drain)).await {
        Ok(Ok(Reply::Done)) => Ended::Drained,
        Ok(Ok(reply)) => {
            tracing::warn!(?reply, "draining did not finish cleanly");
            Ended::Drained
        }
        Ok(Err(_)) => Ended::Drained,
        Err(_) => {
            tracing::warn!(
                "the drain time ran out with a write in flight; its intent is on disk and the next start reconciles it by lookup"
            );
            Ended::DrainTimedOut
        }
    };
    let _ = scheduler.await;
    let _ = checks.await;
    if let Some(listener) = listener {
        let _ = listener.await;
    }
    // Attached consoles see the service go; they reconnect to the next one.
    socket.close();
    let _ = tokio::time::timeout(Duration::from_secs(2), handle.call(Command::Shutdown)).await;
    tracing::info!(?ended, "ghlsync run: stopped");
    Ok(ended)
}

fn alert_settings(config: &Config) -> alerts::AlertSettings {
    let silent_after = config
        .service
        .webhooks
        .silent_after
        .as_deref()
        .filter(|_| config.service.listen.is_some())
        .and_then(|text| humantime::parse_duration(text).ok());
    alerts::AlertSettings {
        alerts: config.service.alerts.clone(),
        webhooks_silent_after: silent_after,
    }
}

/// SIGHUP: the config, the mappings and the connector files read again. What does not load
/// keeps the old in force and raises a `Reload` alert naming it; a clean reload clears it.
async fn reload(
    handle: &EngineHandle,
    options: &ServiceOptions,
    entries_tx: &watch::Sender<Vec<Entry>>,
    settings_tx: &watch::Sender<alerts::AlertSettings>,
    receiver: &receiver::SharedSettings,
) {
    let board = handle.board();
    let key = AlertKey::Reload("config".into());
    tracing::info!(config = %options.config_path.display(), "SIGHUP: reloading");
    let config = match Config::load(&options.config_path) {
        Ok(Some(config)) => config,
        Ok(None) => {
            board.raise(
                key,
                format!(
                    "reload: {} is gone; the config in force stays. Put it back and reload again",
                    options.config_path.display()
                ),
            );
            return;
        }
        Err(err) => {
            board.raise(key, format!("reload: {err}; the config in force stays"));
            return;
        }
    };
    let entries = match schedule::entries(&config, &options.peers) {
        Ok(entries) => entries,
        Err(err) => {
            board.raise(key, format!("reload: {err}; the schedules in force stay"));
            return;
        }
    };
    // Webhook keys (a rotation lists the old and the new) take effect at once.
    match receiver::settings_from(&config.service.webhooks, options.config_path.parent()) {
        Ok(fresh) => {
            if let Ok(mut settings) = receiver.write() {
                *settings = fresh;
            }
        }
        Err(err) => {
            board.raise(
                key,
                format!("reload: [service.webhooks]: {err}; the keys in force stay"),
            );
            return;
        }
    }
    match handle.call(Command::Reload).await {
        Ok(Reply::Reloaded { reloaded, problems }) if problems.is_empty() => {
            let _ = entries_tx.send(entries);
            let _ = settings_tx.send(alert_settings(&config));
            tracing::info!(?reloaded, "reloaded");
            board.recover(&key, "reload: every file loaded");
        }
        Ok(Reply::Reloaded { problems, .. }) => {
            let _ = entries_tx.send(entries);
            let _ = settings_tx.send(alert_settings(&config));
            board.raise(key, format!("reload: {}", problems.join("; ")));
        }
        Ok(Reply::Error { message, .. }) => {
            board.raise(key, format!("reload: {message}; the files in force stay"));
        }
        other => tracing::warn!(?other, "reload: unexpected answer"),
    }
    if config.service.listen != options.config.service.listen
        || config.service.socket != options.config.service.socket
    {
        tracing::warn!(
            "reload: [service] listen and socket change only on restart (systemctl restart ghlsync@<instance>)"
        );
    }
}

/// Runs each schedule entry when it is due, one at a time (the engine's writer goes one at a
/// time anyway), until the service stops.
async fn run_schedule(
    handle: EngineHandle,
    mut entries_rx: watch::Receiver<Vec<Entry>>,
    mut stop: watch::Receiver<bool>,
) {
    let board = handle.board();
    let mut last: HashMap<(String, &'static str), chrono::DateTime<Utc>> = HashMap::new();
    let mut next: HashMap<(String, &'static str), chrono::DateTime<Utc>> = HashMap::new();
    loop {
        let entries = entries_rx.borrow_and_update().clone();
        let now = Utc::now();
        for entry in &entries {
            let key = (entry.peer.clone(), entry.label());
            let at = *next.entry(key.clone()).or_insert_with(|| {
                entry.next_after(now, last.get(&key).copied(), rand::random::<f64>())
            });
            board.set_next_run(&entry.peer, entry.label(), at);
        }
        let soonest = next.values().min().copied();
        let wait = soonest
            .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(Duration::from_secs(3600));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            changed = entries_rx.changed() => {
                if changed.is_err() { return; }
                // New schedules: due times counted again from each entry's last run.
                next.clear();
                continue;
            }
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let now = Utc::now();
        let due: Vec<Entry> = entries
            .iter()
            .filter(|entry| {
                next.get(&(entry.peer.clone(), entry.label()))
                    .is_some_and(|at| *at <= now)
            })
            .cloned()
            .collect();
        for entry in due {
            let key = (entry.peer.clone(), entry.label());
            let options = RunOptions {
                trigger: "schedule".into(),
                entities: entry.entity.into_iter().collect(),
                ..RunOptions::default()
            };
            let answer = handle
                .call_on(Some(&entry.peer), Command::Sync { options })
                .await;
            let finished = Utc::now();
            match &answer {
                Ok(reply) => {
                    alerts::judge_run(&board, reply);
                    if let Reply::Error { class, message } = reply {
                        if class == "stopping" {
                            return;
                        }
                        tracing::warn!(peer = %entry.peer, entity = entry.label(), %class, "scheduled run failed: {message}");
                    }
                }
                Err(_) => return,
            }
            board.record_run(&entry.peer, finished);
            last.insert(key.clone(), finished);
            next.insert(
                key,
                entry.next_after(finished, Some(finished), rand::random::<f64>()),
            );
        }
    }
}

/// The alert checks, every `check_secs`, until the service stops.
async fn run_checks(
    handle: EngineHandle,
    settings: watch::Receiver<alerts::AlertSettings>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let current = settings.borrow().clone();
        alerts::check(&handle, &current).await;
        let every = Duration::from_secs(current.alerts.check_secs.max(1));
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
