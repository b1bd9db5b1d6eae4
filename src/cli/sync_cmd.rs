//! `ghlsync sync`: one run through the engine, a live counter on a terminal, a summary table.

use super::CliError;
use super::args::SyncArgs;
use super::engine_setup;
use super::output::print_json;
use crate::engine::{Command, Event, Reply};
use crate::peers::EntityKind;
use crate::sync::{RunOptions, RunReport};
use std::io::IsTerminal;
use std::path::Path;

pub async fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    policy: engine_setup::BindingPolicy,
    args: SyncArgs,
) -> Result<(), CliError> {
    let entities = args
        .entities
        .iter()
        .map(|e| e.parse::<EntityKind>().map_err(CliError::Usage))
        .collect::<Result<Vec<_>, _>>()?;
    let engine = engine_setup::engine(config, store, &args.peer, policy)?;
    let progress = (std::io::stderr().is_terminal() && !args.json).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let mut events = engine.subscribe();
    let counter = progress.clone().map(|bar| {
        tokio::spawn(async move {
            let (mut ok, mut failed) = (0u64, 0u64);
            while let Ok(event) = events.recv().await {
                if let Event::Log { entry } = event {
                    match entry.outcome {
                        crate::store::Outcome::Failed | crate::store::Outcome::Retrying => {
                            failed += 1
                        }
                        _ => ok += 1,
                    }
                    bar.set_message(format!(
                        "{ok} written, {failed} failed — last: {} {} {}",
                        entry.action.as_str(),
                        entry.kind,
                        entry.peer_id.unwrap_or_default()
                    ));
                }
            }
        })
    });
    let options = RunOptions {
        trigger: "cli".into(),
        dry_run: args.dry_run,
        limit: args.limit,
        full: args.full,
        entities,
    };
    let reply = engine
        .call(Command::Sync { options })
        .await
        .map_err(|err| CliError::Usage(err.to_string()))?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(counter) = counter {
        counter.abort();
    }
    let _ = engine.call(Command::Shutdown).await;
    match reply {
        Reply::Run { report } if args.json => print_json(&report, true),
        Reply::Run { report } => {
            print!("{}", render_report(&report));
            Ok(())
        }
        // A mapping the location cannot take (custom fields it lacks) refuses the run: exit 3.
        Reply::Error { class, message } if class == "config" => {
            Err(CliError::Config(crate::config::ConfigError::Invalid {
                path: engine_setup::load_config(config)?.0,
                message: format!("sync refused: {message}"),
            }))
        }
        Reply::Error { class, message } => {
            Err(CliError::Usage(format!("sync failed [{class}]: {message}")))
        }
        other => Err(CliError::Usage(format!(
            "unexpected engine reply: {other:?}"
        ))),
    }
}

/// The summary table (and, for a dry run, the plan).
pub fn render_report(report: &RunReport) -> String {
    let run = &report.run;
    let mut out = String::new();
    if run.dry_run {
        out.push_str(&format!(
            "Dry run: {} change(s) planned, nothing written.\n\n",
            report.plan.len()
        ));
        for change in &report.plan {
            out.push_str(&format!(
                "{:<7} {:<11} {:<7} {:<24} {}\n",
                change.action.as_str(),
                change.kind.as_str(),
                change.direction.as_str(),
                change.source_id,
                change.target_id.as_deref().unwrap_or("(new)")
            ));
            for (field, values) in &change.diff {
                out.push_str(&format!("        {field}: {values}\n"));
            }
        }
        out.push('\n');
    }
    let took = run
        .ended_at
        .map(|end| (end - run.started_at).num_milliseconds() as f64 / 1000.0)
        .unwrap_or_default();
    out.push_str(&format!(
        "Run {} ({}, {}) took {took:.1} s\n",
        run.id, run.peer, run.trigger
    ));
    out.push_str(&format!(
        "{:<10} {:<10} {:>8}\n",
        "action", "outcome", "records"
    ));
    for (key, count) in &run.counts {
        let (action, outcome) = key.split_once('/').unwrap_or((key.as_str(), ""));
        out.push_str(&format!("{action:<10} {outcome:<10} {count:>8}\n"));
    }
    if run.counts.is_empty() {
        out.push_str("(nothing to do)\n");
    }
    out
}
