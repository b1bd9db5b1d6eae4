//! `ghlsync log`: the sync log, as lines for people, JSON Lines, or CSV.

use super::CliError;
use super::args::LogArgs;
use super::attach::{Attach, attach};
use super::engine_setup;
use crate::engine::{Command, EngineHandle, Event, Reply};
use crate::store::LogEntry;
use std::path::Path;
use tokio::sync::broadcast::error::RecvError;

pub async fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    args: LogArgs,
) -> Result<(), CliError> {
    let (_, config) = engine_setup::load_config(config)?;
    // A running service holds the store: ask it, and follow its live log.
    let absent = match attach(&config, store, None).await? {
        Attach::Attached { engine, .. } => {
            let result = from_service(&engine, &args).await;
            let _ = engine.call(Command::Shutdown).await;
            return result;
        }
        Attach::Absent(absent) => absent,
    };
    let store = engine_setup::open_store(store, &config).map_err(|err| absent.explain(err))?;
    if args.csv {
        return write_csv(
            store
                .log_tail_keyed(args.limit)?
                .into_iter()
                .map(|(_, e)| e),
        );
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

/// The tail from the service, then (`--follow`) its `Event::Log`s as they happen, until Ctrl-C
/// or the service stops for good.
async fn from_service(engine: &EngineHandle, args: &LogArgs) -> Result<(), CliError> {
    // Subscribed before the tail is asked for, so nothing falls between the two.
    let mut live = engine.subscribe();
    let Reply::Log { entries } =
        engine_setup::answer(engine.call(Command::LogTail { limit: args.limit }).await)?
    else {
        return Err(CliError::Usage("unexpected engine reply".into()));
    };
    if args.csv {
        return write_csv(entries.into_iter());
    }
    let newest = entries.last().map(|entry| entry.at);
    for entry in &entries {
        print_entry(entry, args.json)?;
    }
    if !args.follow {
        return Ok(());
    }
    loop {
        let event = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            event = live.recv() => event,
        };
        match event {
            // Entries the tail already printed came in before it was read.
            Ok(Event::Log { entry }) if newest.is_none_or(|at| entry.at > at) => {
                print_entry(&entry, args.json)?
            }
            Ok(Event::Connection { message, .. }) => super::output::note(format_args!("{message}")),
            Ok(_) => {}
            Err(RecvError::Lagged(skipped)) => super::output::note(format_args!(
                "skipped {skipped} entries (too many at once); `ghlsync log` has them all"
            )),
            Err(RecvError::Closed) => return Ok(()),
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

/// Entries as CSV (a header line, then one line per entry, oldest first).
fn write_csv(entries: impl Iterator<Item = LogEntry>) -> Result<(), CliError> {
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
    for e in entries {
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
