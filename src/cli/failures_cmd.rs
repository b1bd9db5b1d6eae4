//! `ghlsync failures …`: the failed queue from the command line.

use super::CliError;
use super::args::{FailuresCommand, Which};
use super::engine_setup;
use super::exit_code_for_class;
use super::output::print_json;
use super::progress::Progress;
use crate::engine::{Command, EngineHandle, Reply};
use crate::net::ErrorClass;
use crate::store::Operation;
use crate::sync::{ReasonCode, RetryMode, Selection, reason_advice, reason_code, reason_field};
use std::collections::BTreeMap;
use std::path::Path;

pub async fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    policy: engine_setup::BindingPolicy,
    command: FailuresCommand,
) -> Result<(), CliError> {
    let peer = match &command {
        FailuresCommand::List { peer, .. }
        | FailuresCommand::Show { peer, .. }
        | FailuresCommand::Retry { peer, .. }
        | FailuresCommand::Skip { peer, .. }
        | FailuresCommand::Resolve { peer, .. } => peer.clone(),
    };
    let engine = engine_setup::attach_or_start(config, store, peer.as_deref(), policy).await?;
    let result = dispatch(&engine, peer.as_deref(), command).await;
    let _ = engine.call(Command::Shutdown).await;
    result
}

async fn call(engine: &EngineHandle, command: Command) -> Result<Reply, CliError> {
    engine_setup::answer(engine.call(command).await)
}

/// The failed queue, of peer `only` when one is named (the store holds every peer's).
async fn queue(engine: &EngineHandle, only: Option<&str>) -> Result<Vec<Operation>, CliError> {
    let Reply::FailedQueue { mut operations } = call(engine, Command::FailedQueue).await? else {
        return Err(CliError::Usage("unexpected engine reply".into()));
    };
    if let Some(peer) = only {
        operations.retain(|op| op.peer == peer);
    }
    Ok(operations)
}

async fn dispatch(
    engine: &EngineHandle,
    peer: Option<&str>,
    command: FailuresCommand,
) -> Result<(), CliError> {
    match command {
        FailuresCommand::List { json, reason, .. } => {
            let only = reason.as_deref().map(parse_reason).transpose()?;
            let operations: Vec<Operation> = queue(engine, peer)
                .await?
                .into_iter()
                .filter(|op| only.is_none_or(|code| reason_code(op) == code))
                .collect();
            if json {
                let rows: Vec<serde_json::Value> = operations.iter().map(json_row).collect();
                return print_json(&rows, true);
            }
            out!("{}", render_list(&operations, only))?;
            Ok(())
        }
        FailuresCommand::Show { id, .. } => {
            let Reply::FailedQueue { operations } = call(engine, Command::FailedQueue).await?
            else {
                return Err(CliError::Usage("unexpected engine reply".into()));
            };
            let op = operations
                .into_iter()
                .find(|op| op.id == id)
                .ok_or_else(|| {
                    CliError::Usage(format!("operation {id} is not in the failed queue"))
                })?;
            print_json(&op, false)
        }
        FailuresCommand::Retry {
            which, original, ..
        } => {
            let mode = if original {
                RetryMode::OriginalPayload
            } else {
                RetryMode::CurrentMapping
            };
            let selection = selection(&which)?;
            // The total for the progress bar: what the selection holds now.
            let total = match call(engine, Command::FailedQueue).await? {
                Reply::FailedQueue { operations } => {
                    operations.iter().filter(|op| selection.matches(op)).count() as u64
                }
                _ => 0,
            };
            let progress = Progress::start(engine, "retry", Some(total));
            let reply = call(engine, Command::Retry { selection, mode }).await;
            if let Some(progress) = progress {
                progress.finish();
            }
            let Reply::Retried { report } = reply? else {
                return Err(CliError::Usage("unexpected engine reply".into()));
            };
            outln!(
                "retried: {} succeeded, {} failed again, {} not claimed (someone else has them, or not retryable)",
                report.succeeded.len(),
                report.failed.len(),
                report.not_claimed.len()
            )?;
            if report.failed.is_empty() {
                return Ok(());
            }
            still_failing(engine, &report.failed).await
        }
        FailuresCommand::Skip { which, .. } => close(engine, &which, false).await,
        FailuresCommand::Resolve { which, .. } => close(engine, &which, true).await,
    }
}

async fn close(engine: &EngineHandle, which: &Which, resolved: bool) -> Result<(), CliError> {
    let reply = call(
        engine,
        Command::Close {
            selection: selection(which)?,
            resolved,
        },
    )
    .await?;
    match reply {
        Reply::Closed { ids } => {
            outln!(
                "{} {} operation(s): {ids:?}",
                if resolved { "resolved" } else { "skipped" },
                ids.len()
            )?;
            Ok(())
        }
        _ => Err(CliError::Usage("unexpected engine reply".into())),
    }
}

/// Failures left after a retry: the exit code is their class's (README "Exit codes"), the most
/// frequent one when they differ, so a script can tell "fix the mapping" from "try later".
async fn still_failing(engine: &EngineHandle, ids: &[u64]) -> Result<(), CliError> {
    let mut by_class: BTreeMap<String, usize> = BTreeMap::new();
    if let Reply::FailedQueue { operations } = call(engine, Command::FailedQueue).await? {
        for op in operations.iter().filter(|op| ids.contains(&op.id)) {
            let class = op.error.as_ref().map_or("unknown", |e| e.class.as_str());
            *by_class.entry(class.to_string()).or_default() += 1;
        }
    }
    let class = by_class
        .iter()
        .max_by_key(|(class, count)| (**count, std::cmp::Reverse(exit_code_for_class(class))))
        .map_or_else(|| "unknown".to_string(), |(class, _)| class.clone());
    let counts = by_class
        .iter()
        .map(|(class, count)| format!("{count} {class}"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(CliError::Classed {
        class,
        message: format!(
            "{} operation(s) still failing ({counts}): {ids:?}; `ghlsync failures list` says why",
            ids.len()
        ),
    })
}

pub fn selection(which: &Which) -> Result<Selection, CliError> {
    if which.all {
        return Ok(Selection::All);
    }
    if let Some(code) = &which.reason {
        return Ok(Selection::Reason(parse_reason(code)?.as_str().to_string()));
    }
    if let Some(class) = &which.class {
        let parsed: ErrorClass = serde_json::from_value(serde_json::Value::from(class.as_str())).map_err(|_| {
            CliError::Usage(format!(
                "unknown error class {class:?}; expected rate_limited, transient, ambiguous, auth, scope_or_config, validation, not_found or decode"
            ))
        })?;
        return Ok(Selection::Class(parsed));
    }
    if which.ids.is_empty() {
        return Err(CliError::Usage(
            "name operation ids, or --class CLASS, or --reason CODE, or --all".into(),
        ));
    }
    Ok(Selection::Ids(which.ids.clone()))
}

/// A reason code from the command line; an unknown one is a usage error listing the valid ones.
fn parse_reason(code: &str) -> Result<ReasonCode, CliError> {
    code.parse::<ReasonCode>()
        .map_err(|err| CliError::Usage(err.to_string()))
}

/// An operation as `failures list --json` prints it: the operation, plus its reason code, what
/// to do about it and whether a mapping change can fix it.
fn json_row(op: &Operation) -> serde_json::Value {
    let code = reason_code(op);
    let mut row = serde_json::to_value(op).unwrap_or_default();
    if let Some(object) = row.as_object_mut() {
        object.insert("reason".into(), code.as_str().into());
        object.insert("advice".into(), reason_advice(op).into());
        object.insert(
            "fixable_by_mapping".into(),
            code.fixable_by_mapping().into(),
        );
    }
    row
}

/// The queue grouped by class, then by reason code (each group with what to do), one line per
/// operation naming its reason and direction.
fn render_list(operations: &[Operation], only: Option<ReasonCode>) -> String {
    if operations.is_empty() {
        return match only {
            Some(code) => format!("No failure has reason {code}.\n"),
            None => "The failed queue is empty.\n".to_string(),
        };
    }
    // Several peers' failures: each line names its peer.
    let several_peers = operations.iter().any(|op| op.peer != operations[0].peer);
    let mut groups: BTreeMap<&str, BTreeMap<ReasonCode, Vec<&Operation>>> = BTreeMap::new();
    for op in operations {
        let class = op.error.as_ref().map_or("unknown", |e| e.class.as_str());
        groups
            .entry(class)
            .or_default()
            .entry(reason_code(op))
            .or_default()
            .push(op);
    }
    let mut out = String::new();
    for (class, reasons) in groups {
        let count: usize = reasons.values().map(Vec::len).sum();
        out.push_str(&format!("{class} ({count})\n"));
        for (code, ops) in reasons {
            let fix = if code.fixable_by_mapping() {
                " [a mapping fix can clear it]"
            } else {
                ""
            };
            // The group's advice names the field when every failure in it names the same one.
            let first = ops.first().and_then(|op| reason_field(op));
            let shared = first.filter(|f| ops.iter().all(|op| reason_field(op) == Some(*f)));
            out.push_str(&format!(
                "  {code} ({}){fix}: {}\n",
                ops.len(),
                code.advice(shared)
            ));
            for op in ops {
                let field = reason_field(op)
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default();
                let message = op.error.as_ref().map_or("", |e| e.message.as_str());
                out.push_str(&format!(
                    "    {:>6}  {:<15} {:<6} {:<7} {:<11} {:<20} attempts {}  {code}{field}  {}\n",
                    op.id,
                    op.state.name(),
                    op.direction.arrow(),
                    op.action.as_str(),
                    op.kind.as_str(),
                    if several_peers {
                        format!("{}: {}", op.peer, op.source_id)
                    } else {
                        op.source_id.clone()
                    },
                    op.attempts,
                    truncate(message, 100)
                ));
            }
        }
    }
    out
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}
