//! The failed queue: operations waiting on the retry ladder, failed ones waiting for a person,
//! dead ones. Retries keep the operation's id (so reconciliation still applies) and are claimed
//! by compare-and-swap, so a person and the scheduler never run the same one twice.

use super::context::{SyncContext, SyncError};
use super::execute::{Bookkeeping, Ended};
use super::reason::ReasonCode;
use super::run::{Driver, Run, RunOptions};
use crate::net::ErrorClass;
use crate::peers::{EntityKind, PeerRecord};
use crate::store::{Action, Direction, LogEntry, OpState, Operation, Outcome};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryMode {
    /// Map the source record again with the mapping as it is now (after a fix).
    CurrentMapping,
    /// Send exactly what was sent before.
    OriginalPayload,
}

/// Which operations a manual action applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    Ids(Vec<u64>),
    Class(ErrorClass),
    /// Every operation whose reason code (`reason_code`) is this one.
    Reason(String),
    All,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetryReport {
    pub succeeded: Vec<u64>,
    pub failed: Vec<u64>,
    /// Claimed by someone else first, or not in a retryable state.
    pub not_claimed: Vec<u64>,
}

const RETRYABLE: [&str; 4] = ["retry_scheduled", "failed", "dead", "parked"];

pub fn select(ctx: &SyncContext, selection: &Selection) -> Result<Vec<Operation>, SyncError> {
    let queue = ctx.failed_queue()?;
    Ok(queue
        .into_iter()
        .filter(|op| selection.matches(op))
        .collect())
}

impl Selection {
    /// Whether `op` is one of the selection (front ends count a retry's total with it).
    pub fn matches(&self, op: &Operation) -> bool {
        match self {
            Selection::All => true,
            Selection::Ids(ids) => ids.contains(&op.id),
            Selection::Class(class) => op.error.as_ref().is_some_and(|e| e.class == *class),
            Selection::Reason(code) => reason_code(op) == *code,
        }
    }
}

/// The stable code a failure is filed under (`reason::ReasonCode`): the one recorded with its
/// error, else (an operation recorded before every failure had one) the finest its error's data
/// gives, from its class. Screens group and filter by it, and `failures retry --reason` takes it.
/// The one accessor of an operation's code: screens, the CLI and `select` ask it, never
/// `OpError::reason` directly.
pub fn reason_code(op: &Operation) -> ReasonCode {
    match &op.error {
        Some(error) => ReasonCode::classify(error, op.direction),
        // Every failure is recorded with its error; one without has nothing to act on but
        // time, like a transient one.
        None => ReasonCode::Transient,
    }
}

/// The field the failure's refusal named, if any (`OpError::field`).
pub fn reason_field(op: &Operation) -> Option<&str> {
    op.error.as_ref().and_then(|error| error.field.as_deref())
}

/// What to do about a failure, in one sentence: its reason's advice, naming the field.
pub fn reason_advice(op: &Operation) -> String {
    reason_code(op).advice(reason_field(op))
}

/// Manual retry of a selection (the console's and `ghlsync failures retry`'s path). Each
/// operation is claimed, then planned again like a record of a run (`Run::replay`): a record
/// that still cannot be matched fails again for the same reason, and nothing is created
/// without the planner's identity checks.
pub async fn retry(
    ctx: &SyncContext,
    selection: &Selection,
    mode: RetryMode,
    owner: &str,
) -> Result<RetryReport, SyncError> {
    let resolved = ctx.with_location_fields().await?;
    let ctx = &resolved;
    let run = Run::new(
        ctx,
        RunOptions {
            trigger: "manual_retry".into(),
            ..RunOptions::default()
        },
        Driver {
            trigger: "manual_retry",
            owner: "manual",
        },
    )?;
    let mut report = RetryReport::default();
    for op in select(ctx, selection)? {
        let Some(mut claimed) = ctx.store.claim(op.id, &RETRYABLE, owner)? else {
            report.not_claimed.push(op.id);
            continue;
        };
        // A manual retry starts the ladder again.
        claimed.attempts = 0;
        claimed.created_at = Utc::now();
        match run.replay(claimed, mode).await? {
            Ended::Ok => report.succeeded.push(op.id),
            _ => report.failed.push(op.id),
        }
    }
    Ok(report)
}

/// The peer contact whose change a contact update to GHL carries. Once such an update is
/// superseded, that change is still to sync, but the peer's pages may never bring it again (the
/// cursor moved past it when the operation was queued), so the run must offer it itself
/// (`Run::superseded_peer_contacts`); otherwise flow 4 would take the peer record for
/// unchanged and overwrite it with GHL's side.
pub(super) fn peer_contact_change(op: &Operation) -> Option<String> {
    let carries = op.direction == Direction::ToGhl
        && op.kind == EntityKind::Contact
        && op.action == Action::Update;
    carries.then(|| op.source_id.clone())
}

/// A peer → GHL intent is written without its source record (`execute::Source`): read it again
/// from the peer, so that the commit's baseline and a later retry with the current mapping have
/// it. A record the peer no longer returns leaves the source empty; the original payload is all
/// the resumed operation needs to finish.
pub(super) async fn reread_source(ctx: &SyncContext, op: &mut Operation, unchanged_only: bool) {
    let wanted = op.source.is_null()
        && op.direction == Direction::ToGhl
        && matches!(op.action, Action::Create | Action::Update);
    if !wanted {
        return;
    }
    match ctx.peer.get(op.kind, &op.source_id).await {
        Ok(Some(record)) => {
            // Resumed with its original payload, the operation may adopt only the record it was
            // planned from; re-mapped, it is planned anew from whatever the peer holds now.
            let same = match (ctx.mapping.entity(op.kind), &op.source_hash) {
                (Some(entity), Some(planned)) => {
                    super::hash::hash_fields(&entity.to_ghl(&record).fields) == *planned
                }
                _ => false,
            };
            if same || !unchanged_only {
                op.source = serde_json::to_value(&record).unwrap_or(Value::Null);
            }
        }
        Ok(None) => {}
        Err(err) => tracing::warn!(
            op = op.id,
            "reading the source record of an operation found in flight: {err}"
        ),
    }
}

/// Skip (won't fix) or resolve (fixed by hand) a selection; returns the ids changed.
pub fn close(
    ctx: &SyncContext,
    selection: &Selection,
    resolved: bool,
    owner: &str,
) -> Result<Vec<u64>, SyncError> {
    let mut closed = Vec::new();
    for op in select(ctx, selection)? {
        let Some(claimed) = ctx.store.claim(op.id, &RETRYABLE, owner)? else {
            continue;
        };
        let id = claimed.id;
        let why = if resolved {
            "marked resolved"
        } else {
            "skipped"
        };
        close_one(ctx, claimed, owner, why, resolved)?;
        closed.push(id);
    }
    Ok(closed)
}

/// Ends one claimed operation without sending it: resolved (in sync after all, or fixed by
/// hand) or skipped (nothing to send it to, or won't fix). `trigger` is who ended it.
pub(super) fn close_one(
    ctx: &SyncContext,
    mut op: Operation,
    trigger: &str,
    why: &str,
    resolved: bool,
) -> Result<(), SyncError> {
    op.state = if resolved {
        OpState::Resolved
    } else {
        OpState::Skipped
    };
    op.updated_at = Utc::now();
    let entry = LogEntry {
        at: op.updated_at,
        trigger: trigger.to_string(),
        peer: op.peer.clone(),
        direction: op.direction,
        kind: op.kind,
        peer_id: Some(op.source_id.clone()),
        ghl_id: op.target_id.clone(),
        action: Action::Skip,
        outcome: Outcome::Ok,
        error_class: None,
        status: None,
        trace_id: None,
        message: Some(why.to_string()),
        duration_ms: 0,
        diff: Map::new(),
        op_id: Some(op.id),
        run_id: None,
    };
    ctx.store.update_operation(&op, Some(&entry))?;
    ctx.announce(&entry);
    Ok(())
}

/// Refreshes what an operation needs from the store and the mapping: target and parent ids that
/// may have been linked since, and (for `CurrentMapping`) the payload mapped anew.
pub(super) fn rebuild(
    ctx: &SyncContext,
    op: &mut Operation,
    mode: RetryMode,
) -> Result<Bookkeeping, SyncError> {
    let peer = op.peer.clone();
    let keys = ctx.ghl_keys(op.kind).unwrap_or_default();
    if op.direction == Direction::ToPeer {
        if mode == RetryMode::CurrentMapping
            && let Some(entity) = ctx.mapping.entity(op.kind)
            && op.source.is_object()
        {
            op.payload = Value::Object(entity.to_peer(&op.source).fields);
            op.mapping_fingerprint = ctx.mapping.fingerprint();
        }
        return Ok(Bookkeeping {
            peer_id: op.target_id.clone(),
            ghl_fields: op
                .source
                .as_object()
                .map(|_| super::send::project(&op.source, &keys)),
            ghl_keys: keys,
            ..Bookkeeping::default()
        });
    }
    let record: Option<PeerRecord> = serde_json::from_value(op.source.clone()).ok();
    if op.action != Action::Tag {
        if op.target_id.is_none() {
            op.target_id = ctx
                .store
                .link(&peer, op.kind, &op.source_id)?
                .map(|l| l.ghl_id);
            if op.target_id.is_some() && op.action == Action::Create {
                op.action = Action::Update;
            }
        }
        if op.kind != EntityKind::Contact
            && op.target_parent_id.is_none()
            && let Some(parent) = record.as_ref().and_then(|r| r.parent_id.clone())
        {
            op.target_parent_id = ctx
                .store
                .link(&peer, EntityKind::Contact, &parent)?
                .map(|l| l.ghl_id);
        }
    }
    let mut peer_fields = Map::new();
    if let (Some(record), Some(entity)) = (&record, ctx.mapping.entity(op.kind))
        && op.action != Action::Tag
    {
        peer_fields = entity.to_ghl(record).fields;
        if let Some(calendar) = op.payload.get("calendarId") {
            peer_fields.entry("calendarId").or_insert(calendar.clone());
        }
        if mode == RetryMode::CurrentMapping || op.payload.is_null() {
            op.payload = Value::Object(peer_fields.clone());
            op.mapping_fingerprint = ctx.mapping.fingerprint();
            // Planned anew: the baseline's peer side is what was just mapped.
            op.source_hash = None;
        }
    }
    Ok(Bookkeeping {
        peer_id: (op.action != Action::Tag).then(|| op.source_id.clone()),
        peer_fields,
        ghl_keys: keys,
        ..Bookkeeping::default()
    })
}
