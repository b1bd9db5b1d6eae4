//! The one translation between the console's `Request`/`Answer` and the engine protocol, and
//! the executor that runs a request on a task and posts the answer back as a `Msg`. Headless
//! tests use `perform` directly, with no terminal.

use crate::console::engine_api::{Command, Reply};
use crate::console::msg::{Answer, Msg, PreviewTarget, Request};
use crate::engine::EngineHandle;
use crate::sync::RunOptions;
use tokio::sync::mpsc::UnboundedSender;

pub fn command_for(request: &Request) -> Command {
    match request.clone() {
        Request::Contacts { limit } => Command::Contacts { limit },
        Request::ContactDetail { contact } => Command::ContactDetail { contact },
        Request::Children {
            kind,
            offset,
            limit,
        } => Command::Children {
            kind,
            offset,
            limit,
        },
        Request::FailedQueue => Command::FailedQueue,
        Request::Status => Command::Status,
        Request::LogTail { limit } => Command::LogTail { limit },
        Request::SyncNow => Command::Sync {
            options: RunOptions {
                trigger: "console".into(),
                ..RunOptions::default()
            },
        },
        Request::Retry { selection, mode } => Command::Retry { selection, mode },
        Request::Close {
            selection,
            resolved,
        } => Command::Close {
            selection,
            resolved,
        },
        Request::Mapping => Command::Mapping,
        Request::MappingCheck { text, .. } => Command::MappingCheck { text },
        Request::MappingPreview { text, target, .. } => Command::MappingPreview {
            text,
            record: match target {
                PreviewTarget::Peer(id) => crate::sync::RecordRef::Peer(id),
                PreviewTarget::Ghl(id) => crate::sync::RecordRef::Ghl(id),
            },
        },
        Request::SaveMapping { text } => Command::SaveMapping { text },
        Request::UndoMapping => Command::UndoMapping,
        Request::Alerts => Command::Alerts,
        Request::SyncContact { contact } => Command::SyncContact { contact },
        Request::SyncPeer => Command::Sync {
            options: RunOptions {
                trigger: "console".into(),
                ..RunOptions::default()
            },
        },
    }
}

pub fn answer_for(request: &Request, reply: Reply) -> Answer {
    let unexpected = |reply: &Reply| Answer::Failed {
        request: request.label(),
        class: "protocol".into(),
        message: format!("unexpected reply {reply:?}")
            .chars()
            .take(200)
            .collect(),
    };
    match (request, reply) {
        (_, Reply::Error { class, message }) => Answer::Failed {
            request: request.label(),
            class,
            message,
        },
        (_, Reply::Contacts { list }) => Answer::Contacts(list),
        (_, Reply::ContactDetail { detail }) => Answer::Detail(detail),
        (_, Reply::Children { page }) => Answer::Children(page),
        (_, Reply::FailedQueue { operations }) => Answer::FailedQueue(operations),
        (_, Reply::Status { status }) => Answer::Status(status),
        (_, Reply::Alerts { open, history }) => Answer::Alerts { open, history },
        (_, Reply::Log { entries }) => Answer::Log(entries),
        (_, Reply::Run { report }) => Answer::Ran(Box::new(report)),
        (_, Reply::Retried { report }) => Answer::Retried(report),
        (Request::Close { resolved, .. }, Reply::Closed { ids }) => Answer::Closed {
            ids,
            resolved: *resolved,
        },
        (
            _,
            Reply::Mapping {
                text,
                origin,
                versions,
            },
        ) => Answer::Mapping {
            text,
            origin,
            versions,
        },
        (Request::MappingCheck { generation, .. }, Reply::MappingChecked { problem }) => {
            Answer::MappingChecked {
                generation: *generation,
                problem,
            }
        }
        (
            Request::MappingPreview { generation, .. },
            Reply::MappingPreview { rows, problem, .. },
        ) => Answer::MappingPreview {
            generation: *generation,
            rows,
            problem,
        },
        (Request::UndoMapping, Reply::MappingSaved { version }) => Answer::MappingSaved {
            version,
            undo: true,
        },
        (_, Reply::MappingSaved { version }) => Answer::MappingSaved {
            version,
            undo: false,
        },
        (Request::SyncNow | Request::SyncPeer, Reply::Runs { reports }) if !reports.is_empty() => {
            Answer::Ran(Box::new(merged(reports)))
        }
        (Request::SyncContact { contact }, Reply::Runs { reports }) => Answer::ContactSynced {
            contact: contact.clone(),
            report: Box::new(merged(reports)),
        },
        (_, other) => unexpected(&other),
    }
}

/// Runs one request against the engine (about its first peer) and returns the answer.
pub async fn perform(engine: &EngineHandle, request: &Request) -> Answer {
    perform_on(engine, None, request).await
}

/// Runs one request about peer `peer` (`None`: the engine's first, or every peer for a request
/// about every peer) and returns the answer.
pub async fn perform_on(engine: &EngineHandle, peer: Option<&str>, request: &Request) -> Answer {
    let peer = peer.filter(|_| !request.is_about_every_peer());
    match engine.call_on(peer, command_for(request)).await {
        Ok(reply) => answer_for(request, reply),
        Err(err) => Answer::Failed {
            request: request.label(),
            class: "engine".into(),
            message: err.to_string(),
        },
    }
}

/// Runs a request on its own task; the answer comes back on `answers`. Writes (a sync may take
/// minutes) never block the screen.
pub fn spawn(
    engine: &EngineHandle,
    peer: Option<String>,
    request: Request,
    answers: &UnboundedSender<Msg>,
) {
    let (engine, answers) = (engine.clone(), answers.clone());
    tokio::spawn(async move {
        let answer = perform_on(&engine, peer.as_deref(), &request).await;
        // The receiver is gone only when the console is quitting.
        let _ = answers.send(Msg::Answer(answer));
    });
}

/// One report for a sync of every peer: the counts added up, the peers named together, the
/// plans one after the other (the console's summary line and its failure count add up).
fn merged(reports: Vec<crate::sync::RunReport>) -> crate::sync::RunReport {
    let mut reports = reports.into_iter();
    let mut all = reports.next().unwrap_or_else(|| crate::sync::RunReport {
        run: crate::store::RunRecord {
            id: 0,
            trigger: String::new(),
            peer: String::new(),
            started_at: chrono::Utc::now(),
            ended_at: None,
            counts: Default::default(),
            dry_run: false,
        },
        plan: Vec::new(),
    });
    for report in reports {
        all.run.peer = format!("{}, {}", all.run.peer, report.run.peer);
        for (key, count) in report.run.counts {
            *all.run.counts.entry(key).or_default() += count;
        }
        all.run.ended_at = all.run.ended_at.max(report.run.ended_at);
        all.plan.extend(report.plan);
    }
    all
}
