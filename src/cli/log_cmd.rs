//! `ghlsync log`: the sync log, as lines for people, JSON Lines, or CSV.

use super::CliError;
use super::args::LogArgs;
use super::engine_setup;
use crate::store::{LogEntry, Store};
use std::path::Path;

pub async fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    args: LogArgs,
) -> Result<(), CliError> {
    let (_, config) = engine_setup::load_config(config)?;
    let store = engine_setup::open_store(store, &config)?;
    if args.csv {
        return write_csv(&store, args.limit);
    }
    let tail = store.log_tail_keyed(args.limit)?;
    let mut last = None;
    for (key, entry) in tail {
        print_entry(&entry, args.json)?;
        last = Some(key);
    }
    if !args.follow {
        return Ok(());
    }
    // Polls the store: cheap (a range scan from the last key) and needs nothing else running.
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
        }
        for (key, entry) in store.log_after(last.as_ref().map(|k| &k[..]), 10_000)? {
            print_entry(&entry, args.json)?;
            last = Some(key);
        }
    }
}

fn print_entry(entry: &LogEntry, json: bool) -> Result<(), CliError> {
    let line = if json {
        serde_json::to_string(entry).unwrap_or_default()
    } else {
        human(entry)
    };
    outln!("{line}")
}

/// `12:03:04 to_ghl contact create ok C-0001 → abc… 12 ms` plus the error when there is one.
pub fn human(entry: &LogEntry) -> String {
    let mut line = format!(
        "{} {:<7} {:<11} {:<6} {:<9} {} → {} {} ms",
        entry.at.format("%Y-%m-%d %H:%M:%S"),
        entry.direction.as_str(),
        entry.kind.as_str(),
        entry.action.as_str(),
        entry.outcome.as_str(),
        entry.peer_id.as_deref().unwrap_or("-"),
        entry.ghl_id.as_deref().unwrap_or("-"),
        entry.duration_ms
    );
    if let Some(class) = entry.error_class {
        line.push_str(&format!(" [{}]", class.as_str()));
    }
    if let Some(message) = &entry.message {
        line.push_str(&format!(" {message}"));
    }
    line
}

/// The last `limit` entries as CSV (a header line, then one line per entry, oldest first).
fn write_csv(store: &Store, limit: usize) -> Result<(), CliError> {
    let entries = store.log_tail_keyed(limit)?;
    let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
    let csv_err = |err: csv::Error| match err.into_kind() {
        csv::ErrorKind::Io(source) => CliError::io("writing CSV", source),
        other => CliError::Usage(format!("writing CSV: {other:?}")),
    };
    writer
        .write_record([
            "at",
            "trigger",
            "peer",
            "direction",
            "entity",
            "peer_id",
            "ghl_id",
            "action",
            "outcome",
            "error_class",
            "status",
            "trace_id",
            "duration_ms",
            "message",
            "diff",
        ])
        .map_err(csv_err)?;
    for (_, e) in entries {
        writer
            .write_record([
                e.at.to_rfc3339(),
                e.trigger.clone(),
                e.peer.clone(),
                e.direction.as_str().into(),
                e.kind.as_str().into(),
                e.peer_id.clone().unwrap_or_default(),
                e.ghl_id.clone().unwrap_or_default(),
                e.action.as_str().into(),
                e.outcome.as_str().into(),
                e.error_class
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
                e.status.map(|s| s.to_string()).unwrap_or_default(),
                e.trace_id.clone().unwrap_or_default(),
                e.duration_ms.to_string(),
                e.message.clone().unwrap_or_default(),
                if e.diff.is_empty() {
                    String::new()
                } else {
                    serde_json::Value::Object(e.diff.clone()).to_string()
                },
            ])
            .map_err(csv_err)?;
    }
    writer
        .flush()
        .map_err(|source| CliError::io("writing CSV", source))
}
