//! Records the planner holds back without sending anything: one that cannot be matched, one that
//! would duplicate a person the other side already has, a child whose contact is not synced.
//! Each becomes an operation in the failed queue with a stable reason code and a sentence that
//! names the record it waits for and what to do — `Failed` when a person must act, `Parked` when
//! it comes back by itself once the other record syncs.

use super::context::SyncError;
use super::reason::ReasonCode;
use super::run::{PlannedChange, PlannedFailure, Run};
use crate::net::ErrorClass;
use crate::peers::EntityKind;
use crate::store::{Action, Direction, LogEntry, OpError, OpState, Operation, Outcome};
use chrono::Utc;
use serde_json::{Map, Value};

/// Why a record was held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Nothing to match it by on the other side (no email, no phone, no external id).
    NoMatchKey,
    /// A child whose contact is not linked; the text says which contact and why.
    ParentNotSynced { parent: String, why: String },
    /// The same person's write in the other direction has not gone through yet.
    SamePersonPending {
        other: String,
        op: u64,
        detail: String,
    },
    /// The target already holds this person as a record that is not linked (inactive, its own
    /// sync skipped or failed).
    TargetHasPerson { other: String, detail: String },
    /// The person is held twice on one side: this record and one already linked to the other
    /// side's record.
    Duplicate { detail: String },
}

impl Reason {
    /// The stable code (`reason::ReasonCode`): screens filter by it, and `failures retry
    /// --reason` takes it.
    pub fn code(&self) -> ReasonCode {
        match self {
            Reason::NoMatchKey => ReasonCode::NoMatchKey,
            Reason::ParentNotSynced { .. } => ReasonCode::ParentNotSynced,
            Reason::SamePersonPending { .. } => ReasonCode::SamePersonPending,
            Reason::TargetHasPerson { .. } => ReasonCode::TargetHasPerson,
            Reason::Duplicate { .. } => ReasonCode::Duplicate,
        }
    }

    /// Whether it waits for a person (`Failed`) or for another record (`Parked`).
    fn state(&self) -> OpState {
        match self {
            Reason::NoMatchKey | Reason::Duplicate { .. } => OpState::Failed,
            Reason::ParentNotSynced { .. }
            | Reason::SamePersonPending { .. }
            | Reason::TargetHasPerson { .. } => OpState::Parked,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Reason::NoMatchKey => {
                "no usable email or phone to match the contact in GHL; fix the record or the mapping"
                    .into()
            }
            Reason::ParentNotSynced { parent, why } => format!(
                "waits for its contact {parent}, which is not synced: {why}; it syncs by itself once the contact does"
            ),
            Reason::SamePersonPending { other, op, detail } => format!(
                "waits for {other}, the same person ({detail}), whose write is not done yet (operation {op}); creating it now would make a duplicate"
            ),
            Reason::TargetHasPerson { other, detail } => format!(
                "the other side already has this person as {other} ({detail}); not created again"
            ),
            Reason::Duplicate { detail } => detail.clone(),
        }
    }
}

/// What is held, and where it came from.
pub struct Held<'r> {
    pub kind: EntityKind,
    pub direction: Direction,
    /// The record's id on its own side.
    pub source_id: &'r str,
    /// The record as read (a `PeerRecord` or GHL JSON): a retry plans it again from this.
    pub source: Value,
    pub parent_id: Option<String>,
    pub reason: Reason,
}

impl Run<'_> {
    /// A dry run's entry for a record it would hold back: its reason, in the plan.
    fn plan_held(&self, kind: EntityKind, direction: Direction, source_id: &str, error: &OpError) {
        let failure = PlannedFailure::of(error, direction);
        self.plan_create(kind, direction, source_id, Some(failure));
    }

    /// A dry run's create of a held record: with the failure it would meet, or none when what
    /// it waits for is planned in the same run.
    fn plan_create(
        &self,
        kind: EntityKind,
        direction: Direction,
        source_id: &str,
        failure: Option<PlannedFailure>,
    ) {
        self.add_to_plan(PlannedChange {
            kind,
            direction,
            action: Action::Create,
            source_id: source_id.to_string(),
            target_id: None,
            diff: Map::new(),
            fields: Map::new(),
            failure,
        });
    }

    /// Puts a record in the failed queue without sending anything. A record already held for
    /// the same reason stays as it is (no new operation each run).
    pub(super) fn hold(&self, held: Held<'_>) -> Result<(), SyncError> {
        let Held {
            kind,
            direction,
            source_id,
            source,
            parent_id,
            reason,
        } = held;
        let state = reason.state();
        let outcome = if state == OpState::Parked {
            Outcome::Parked
        } else {
            Outcome::Failed
        };
        let message = reason.message();
        let error = OpError {
            class: ErrorClass::Validation,
            status: None,
            message: message.clone(),
            trace_id: None,
            reason: Some(reason.code().as_str().to_string()),
            field: None,
        };
        let replayed = self.take_replayed(direction, kind, source_id);
        let is_replayed = replayed.is_some();
        let earlier = match replayed {
            Some(op) => Some(op),
            None => match self.take_open(direction, kind, source_id) {
                // Held before for the same reason: it waits as it is, no new entry each run.
                Some(op)
                    if op.payload.is_null()
                        && op.state == state
                        && op.error.as_ref().map(|e| &e.message) == Some(&message) =>
                {
                    self.count(Action::Create, Outcome::Queued);
                    if self.dry_run {
                        self.plan_held(kind, direction, source_id, &error);
                    }
                    return Ok(());
                }
                // Held before for another reason: the same operation says the new one.
                Some(op) if op.payload.is_null() => Some(op),
                // A write waited in the queue, and the record can no longer be sent at all.
                Some(op) => {
                    self.supersede_queued(op.id)?;
                    None
                }
                None => None,
            },
        };
        if self.dry_run {
            // A child whose contact this dry run plans to write waits for nothing in a real run.
            let contact_planned = reason.code() == ReasonCode::ParentNotSynced
                && parent_id.as_deref().is_some_and(|p| self.plans_contact(p));
            if contact_planned {
                self.count(Action::Create, Outcome::DryRun);
                self.plan_create(kind, direction, source_id, None);
            } else {
                self.count(Action::Create, outcome);
                self.plan_held(kind, direction, source_id, &error);
            }
            return Ok(());
        }
        self.count(Action::Create, outcome);
        let now = Utc::now();
        let op = match earlier {
            Some(mut op) => {
                op.state = state;
                op.error = Some(error);
                op.updated_at = now;
                op.source = source;
                op.parent_id = parent_id;
                op
            }
            None => Operation {
                id: self.ctx.store.new_op_id()?,
                peer: self.ctx.peer_name().to_string(),
                kind,
                direction,
                action: Action::Create,
                source_id: source_id.to_string(),
                target_id: None,
                target_parent_id: None,
                payload: Value::Null,
                source,
                mapping_fingerprint: self.ctx.mapping.fingerprint(),
                planned_against: None,
                source_hash: None,
                parent_id,
                upsert_by: None,
                state,
                attempts: 0,
                error: Some(error),
                created_at: now,
                updated_at: now,
                run_id: Some(self.run_id),
            },
        };
        if is_replayed {
            self.replay_ended(super::execute::Ended::Failed);
        }
        let (peer_id, ghl_id) = match direction {
            Direction::ToGhl => (Some(source_id.to_string()), None),
            Direction::ToPeer => (None, Some(source_id.to_string())),
        };
        let entry = LogEntry {
            at: now,
            trigger: self.trigger.to_string(),
            peer: op.peer.clone(),
            direction,
            kind,
            peer_id,
            ghl_id,
            action: Action::Create,
            outcome,
            error_class: Some(ErrorClass::Validation),
            status: None,
            trace_id: None,
            message: Some(message),
            duration_ms: 0,
            diff: Map::new(),
            op_id: Some(op.id),
            run_id: Some(self.run_id),
        };
        self.ctx.store.update_operation(&op, Some(&entry))?;
        self.ctx.announce(&entry);
        Ok(())
    }
}
