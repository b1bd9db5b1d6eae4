//! `ghlsync status`: what the engine knows about itself.

use super::CliError;
use super::args::StatusArgs;
use super::engine_setup;
use super::output::print_json;
use crate::engine::{Command, Reply};
use std::path::Path;

pub async fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    policy: engine_setup::BindingPolicy,
    args: StatusArgs,
) -> Result<(), CliError> {
    let engine = engine_setup::attach_or_start(config, store, args.peer.as_deref(), policy).await?;
    let reply = engine.call(Command::Status).await;
    let _ = engine.call(Command::Shutdown).await;
    let reply = engine_setup::answer(reply)?;
    let Reply::Status { status } = reply else {
        return Err(engine_setup::unexpected(&reply));
    };
    if args.json {
        return print_json(&status, true);
    }
    outln!(
        "peer {}  location {}  store {}",
        status.peer,
        status.location_id,
        status.store_path
    )?;
    if status.peers.len() > 1 {
        let names: Vec<&str> = status.peers.iter().map(|p| p.name.as_str()).collect();
        outln!("peers {} (--peer NAME for one)", names.join(", "))?;
    }
    outln!("\ncursors")?;
    if status.cursors.is_empty() {
        outln!("  (none yet: the first run reads everything)")?;
    }
    for (key, cursor) in &status.cursors {
        outln!("  {key:<28} {cursor}")?;
    }
    outln!("\nqueue")?;
    for (state, count) in &status.queue {
        outln!("  {state:<16} {count}")?;
    }
    outln!("\nlast runs")?;
    for run in &status.last_runs {
        let total: u64 = run.counts.values().sum();
        let failed: u64 = run
            .counts
            .iter()
            .filter(|(k, _)| k.ends_with("/failed") || k.ends_with("/retrying"))
            .map(|(_, v)| v)
            .sum();
        outln!(
            "  {:>6}  {}  {:<8} {:>7} records  {:>5} failed{}",
            run.id,
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            run.trigger,
            total,
            failed,
            if run.dry_run { "  (dry run)" } else { "" }
        )?;
    }
    let rate = &status.rate_limit;
    let reported = match rate
        .reported_at_ms
        .and_then(chrono::DateTime::from_timestamp_millis)
    {
        Some(at) => format!("as GHL reported it {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
        None => "the client's default: no run has heard GHL's limits yet".to_string(),
    };
    outln!(
        "\nrate limit  {} per {} ms ({reported}), daily remaining {}  (this process: {} requests, {} 429s)",
        rate.max,
        rate.interval_ms,
        rate.daily_remaining
            .map_or("unknown".to_string(), |d| d.to_string()),
        rate.requests_sent,
        rate.rate_limited_seen
    )?;
    outln!("sync log entries  {}", status.log_entries)?;
    let auth = &status.auth;
    match (auth.method, auth.expires_at) {
        (crate::ghl::AuthMethod::OAuth, Some(expires_at)) => {
            let at = chrono::DateTime::from_timestamp(expires_at, 0)
                .map_or_else(|| expires_at.to_string(), |at| at.to_rfc3339());
            outln!(
                "GHL auth          OAuth, access token expires {at} (refreshed a minute before)"
            )?;
        }
        (crate::ghl::AuthMethod::OAuth, None) => outln!("GHL auth          OAuth")?,
        (crate::ghl::AuthMethod::StaticToken, _) => {
            outln!("GHL auth          token (no expiry known)")?
        }
    }
    let health = &status.peer_health;
    match (&health.last_error, health.failures_in_a_row) {
        (Some(error), failures) if failures > 0 => outln!(
            "peer {:<12} {} ({failures} in a row, this process): {error}",
            status.peer,
            health.verdict()
        )?,
        _ => outln!(
            "peer {:<12} {} (this process)",
            status.peer,
            health.verdict()
        )?,
    }
    if let Some(until) = status
        .rate_limit
        .paused_until_ms
        .and_then(chrono::DateTime::from_timestamp_millis)
    {
        outln!("GHL paused       by a 429 until {}", until.to_rfc3339())?;
    }
    match auth
        .last_unauthorized_at
        .and_then(|at| chrono::DateTime::from_timestamp(at, 0))
    {
        Some(at) => outln!("last GHL 401     {}", at.to_rfc3339())?,
        None => outln!("last GHL 401     none since this process started")?,
    }
    match &status.service {
        Some(service) => service_lines(service),
        None => outln!(
            "\nservice          none (this status comes from the store; `ghlsync run` adds schedules, webhooks and alerts)"
        ),
    }
}

/// The running service's figures: per peer its last and next runs and the last hour.
fn service_lines(service: &crate::engine::board::ServiceStatus) -> Result<(), CliError> {
    let time = |at: &chrono::DateTime<chrono::Utc>| at.format("%H:%M:%S").to_string();
    let hour = |series: &[u32]| series.iter().sum::<u32>();
    outln!(
        "\nservice {}  up since {}  alerts open {}",
        service.instance,
        service
            .started_at
            .as_ref()
            .map_or_else(String::new, |at| at.to_rfc3339()),
        service.open_alerts
    )?;
    outln!(
        "webhooks         {} in the last hour, {} this minute, last {}",
        hour(&service.webhooks),
        service.webhooks.last().copied().unwrap_or(0),
        service
            .last_webhook_at
            .as_ref()
            .map_or_else(|| "never".into(), time)
    )?;
    outln!(
        "inbox            {} waiting, lag {}",
        service.inbox_len,
        service
            .lag_secs
            .map_or_else(|| "none".into(), |secs| format!("{secs} s"))
    )?;
    outln!(
        "GHL 429s         {} in the last hour",
        hour(&service.rate_limited)
    )?;
    for peer in &service.peers {
        let next: Vec<String> = peer
            .next_runs
            .iter()
            .map(|(entity, at)| format!("{entity} {}", time(at)))
            .collect();
        outln!(
            "  {:<12} last run {}  next {}  writes/h {}  errors/h {}",
            peer.name,
            peer.last_run.as_ref().map_or_else(|| "never".into(), time),
            if next.is_empty() {
                "none".into()
            } else {
                next.join(", ")
            },
            hour(&peer.writes),
            hour(&peer.errors)
        )?;
    }
    Ok(())
}
