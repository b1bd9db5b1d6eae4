//! `ghlsync sync`: one run through the engine, a live counter on a terminal, a summary table.

use super::CliError;
use super::args::SyncArgs;
use super::engine_setup;
use super::output::print_json;
use super::progress::Progress;
use crate::engine::{Command, ContactRef, Reply};
use crate::peers::EntityKind;
use crate::store::Direction;
use crate::sync::{PlannedChange, RunOptions, RunReport};
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
    let contact = args.contact.as_deref().map(contact_ref).transpose()?;
    let engine = engine_setup::attach_or_start(config, store, args.peer.as_deref(), policy).await?;
    // The run's total is not known before its pages are read: a count, not an ETA.
    let progress = Progress::start(&engine, "sync", None);
    let command = match contact {
        Some(contact) => Command::SyncContact { contact },
        None => Command::Sync {
            options: RunOptions {
                trigger: "cli".into(),
                dry_run: args.dry_run,
                limit: args.limit,
                full: args.full,
                entities,
                ghl_contacts: Vec::new(),
            },
        },
    };
    let reply = engine.call(command).await;
    if let Some(progress) = progress {
        progress.finish();
    }
    let _ = engine.call(Command::Shutdown).await;
    match engine_setup::answer(reply)? {
        Reply::Run { report } if args.json => print_json(&report, true),
        Reply::Run { report } => out!("{}", render_report(&report)),
        Reply::Runs { reports } if args.json => print_json(&reports, true),
        Reply::Runs { reports } => {
            // One summary per peer, in the engine's order (each run names its peer).
            for (index, report) in reports.iter().enumerate() {
                if index > 0 {
                    out!("\n")?;
                }
                out!("{}", render_report(report))?;
            }
            Ok(())
        }
        other => Err(engine_setup::unexpected(&other)),
    }
}

/// `--contact ID`: a GHL id (bare or `ghl:ID`), or `peer:ID` for a peer record's id.
pub fn contact_ref(text: &str) -> Result<ContactRef, CliError> {
    let text = text.trim();
    let (peer, id) = match text.split_once(':') {
        Some((prefix, id)) if prefix.eq_ignore_ascii_case("peer") => (true, id.trim()),
        Some((prefix, id)) if prefix.eq_ignore_ascii_case("ghl") => (false, id.trim()),
        _ => (false, text),
    };
    if id.is_empty() {
        return Err(CliError::Usage(format!(
            "--contact {text:?} names no contact; give a GHL contact id, or peer:ID for a peer record's id"
        )));
    }
    Ok(if peer {
        ContactRef::Peer(id.to_string())
    } else {
        ContactRef::Ghl(id.to_string())
    })
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
            out.push_str(&plan_details(change));
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

/// The lines under a planned change: why it would fail (reason code, field, what to do, the
/// message), then what it writes — a write to the peer in the peer's field names, a write to
/// GHL as GHL's field diff.
fn plan_details(change: &PlannedChange) -> String {
    let mut out = String::new();
    if let Some(failure) = &change.failure {
        let field = failure
            .field
            .as_deref()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "        would fail: {}{field}: {}\n        {}\n",
            failure.reason, failure.advice, failure.message
        ));
    }
    match change.direction {
        Direction::ToPeer if !change.fields.is_empty() => {
            for (field, value) in &change.fields {
                out.push_str(&format!("        {field}: {value}\n"));
            }
        }
        _ => {
            for (field, values) in &change.diff {
                out.push_str(&format!("        {field}: {values}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_ids_read_as_ghl_unless_prefixed_peer() {
        assert_eq!(contact_ref("abc").unwrap(), ContactRef::Ghl("abc".into()));
        assert_eq!(
            contact_ref("ghl:abc").unwrap(),
            ContactRef::Ghl("abc".into())
        );
        assert_eq!(
            contact_ref("PEER: 42").unwrap(),
            ContactRef::Peer("42".into())
        );
        assert!(contact_ref("peer:").is_err());
        assert!(contact_ref("  ").is_err());
    }
}
