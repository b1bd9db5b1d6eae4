//! Planning a queued operation again: due retries, operations found in flight after a crash,
//! manual retries and parked children all come back through here, and from here through the
//! same per-record planner as a run's records (`contacts.rs`, `children.rs`), which reuses the
//! operation instead of making a new one (`Run::begin_replay`).
//!
//! What is planned again, rather than sent as it was:
//! - a create, a first write to a twin found by identity (an update of a record not linked
//!   yet), and a record held back without a payload: matching, identity and parking decide
//!   anew, so a retry never creates or links what a run would not;
//! - an update whose source record changed since it was planned: its payload carries values
//!   the source no longer holds, and sending it would put them back on the target (and the
//!   baseline would then take the loss for agreed);
//! - any write a person retries with the current mapping.
//!
//! Everything else (an update whose source is as planned, a tag, a delete) is sent as planned,
//! if its target has not changed since (`Executor::send_if_current`).

use super::context::SyncError;
use super::execute::{Bookkeeping, Ended};
use super::failed::{RetryMode, close_one, peer_contact_change, rebuild, reread_source};
use super::hash::hash_fields;
use super::pages::Arrival;
use super::run::Run;
use super::send::project;
use crate::net::ErrorClass;
use crate::peers::{EntityKind, PeerRecord};
use crate::store::{Action, Direction, OpError, OpState, Operation};
use chrono::Utc;
use std::sync::PoisonError;

/// How a replay ended.
pub(super) enum ReplayEnd {
    /// The planner wrote (or held) the record with the operation.
    Ended(Ended),
    /// The planner had nothing to write for the record: the operation, unused.
    NothingSent(Box<Operation>),
}

/// A queued operation handed to the planner: the write the planner makes for the same record
/// reuses its id (so a reconcile still finds it), and `ended` says how that went.
pub(super) struct Replay {
    pub key: (Direction, EntityKind, String),
    pub op: Option<Operation>,
    pub mode: RetryMode,
    pub ended: Option<Ended>,
}

/// A record read again for a replay.
enum Again {
    Peer(PeerRecord),
    Ghl(String),
}

impl Run<'_> {
    /// Scheduled retries whose time has come (run at the start of every sync run). Returns the
    /// peer ids of contacts whose write to GHL was superseded (`failed::peer_contact_change`).
    pub(super) async fn retry_due(&self) -> Result<Vec<String>, SyncError> {
        let now = Utc::now();
        let mut superseded = Vec::new();
        for op in self.ctx.operations_in("retry_scheduled")? {
            let due = matches!(op.state, OpState::RetryScheduled { next_at } if next_at <= now);
            if !due {
                continue;
            }
            let Some(claimed) = self
                .ctx
                .store
                .claim(op.id, &["retry_scheduled"], "engine")?
            else {
                continue;
            };
            let carried = peer_contact_change(&claimed);
            if self.replay(claimed, RetryMode::CurrentMapping).await? == Ended::Superseded {
                superseded.extend(carried);
            }
        }
        Ok(superseded)
    }

    /// Operations left in flight by a crash: each is looked up on its target first and
    /// committed if it landed; otherwise it is planned again before anything else is sent.
    /// Returns the peer ids of contacts whose write to GHL was superseded.
    pub(super) async fn recover_in_flight(&self) -> Result<Vec<String>, SyncError> {
        let mut superseded = Vec::new();
        for mut op in self.ctx.operations_in("in_flight")? {
            reread_source(self.ctx, &mut op, true).await;
            let book = rebuild(self.ctx, &mut op, RetryMode::OriginalPayload)?;
            if self.executor().landed(&op, &book).await?.is_some() {
                continue;
            }
            let carried = peer_contact_change(&op);
            if self.replay(op, RetryMode::OriginalPayload).await? == Ended::Superseded {
                superseded.extend(carried);
            }
        }
        Ok(superseded)
    }

    /// Plans a queued operation again (see the module's notes for what goes through the
    /// planner and what is sent as planned).
    pub(super) async fn replay(
        &self,
        mut op: Operation,
        mode: RetryMode,
    ) -> Result<Ended, SyncError> {
        // A create that was sent before may have landed then (an ambiguous answer, then a
        // lookup that failed): it is looked for first, as after a crash.
        if op.action == Action::Create && !op.payload.is_null() && op.error.is_some() {
            let mut probe = op.clone();
            let book = rebuild(self.ctx, &mut probe, RetryMode::OriginalPayload)?;
            if let Some(ended) = self.executor().landed(&probe, &book).await? {
                return Ok(ended);
            }
        }
        let source = match self.plans_again(&op, mode).await {
            Some(source) => source,
            None => {
                reread_source(self.ctx, &mut op, mode != RetryMode::CurrentMapping).await;
                // The key was held by this contact alone when the run that planned it looked;
                // later, a replay sends by PUT and looks the key up again first.
                op.upsert_by = None;
                let book = rebuild(self.ctx, &mut op, mode)?;
                let exec = self.executor();
                let ended = if self.by_person() {
                    // A person asked for it to go.
                    exec.attempt(op, book).await?.0
                } else {
                    exec.send_if_current(op, book).await?.0
                };
                return Ok(ended);
            }
        };
        let source = match source {
            Ok(Some(source)) => source,
            Ok(None) => {
                // Gone from its side: nothing to write any more.
                close_one(
                    self.ctx,
                    op,
                    "sync",
                    "the record no longer exists on its side",
                    false,
                )?;
                return Ok(Ended::Ok);
            }
            Err(err) => return self.executor().fail(op, err, Bookkeeping::default()),
        };
        let id = op.id;
        self.begin_replay(op, mode);
        let planned = self.plan(source).await;
        let ended = self.end_replay();
        planned?;
        match ended {
            ReplayEnd::Ended(ended) => Ok(ended),
            ReplayEnd::NothingSent(op) => {
                // The planner had nothing to send for the record: it is in sync already.
                close_one(
                    self.ctx,
                    *op,
                    "sync",
                    "nothing left to send: the record is already in sync",
                    true,
                )?;
                tracing::debug!(op = id, "replayed operation closed: nothing to send");
                Ok(Ended::Ok)
            }
        }
    }

    /// The record the planner starts from, when `op` is to be planned again; `None` when it is
    /// sent as planned.
    async fn plans_again(
        &self,
        op: &Operation,
        mode: RetryMode,
    ) -> Option<Result<Option<Again>, OpError>> {
        if matches!(op.action, Action::Tag | Action::Delete) {
            return None;
        }
        // An update to GHL of a record that is not linked yet was the first write to a twin
        // found by identity: linking is the planner's, with what comes after it (GHL's side for
        // what the peer lacks).
        let links = op.direction == Direction::ToGhl
            && self
                .ctx
                .store
                .link(&op.peer, op.kind, &op.source_id)
                .ok()
                .flatten()
                .is_none();
        let always = op.action == Action::Create
            || op.payload.is_null()
            || links
            || (self.by_person() && mode == RetryMode::CurrentMapping);
        let source = self.source_again(op).await;
        if always {
            return Some(source);
        }
        match &source {
            Ok(Some(again)) if self.moved_since_planned(op, again) => Some(source),
            // Unreadable now, or unchanged: sent as planned (a failed read of the target then
            // puts it back on the ladder).
            _ => None,
        }
    }

    /// Whether the record an update was planned from holds something else now.
    fn moved_since_planned(&self, op: &Operation, again: &Again) -> bool {
        let Some(entity) = self.ctx.mapping.entity(op.kind) else {
            return false;
        };
        match again {
            Again::Peer(record) => {
                let now = hash_fields(&entity.to_ghl(record).fields);
                let planned = match (
                    &op.source_hash,
                    serde_json::from_value::<PeerRecord>(op.source.clone()),
                ) {
                    (Some(hash), _) => hash.clone(),
                    (None, Ok(then)) => hash_fields(&entity.to_ghl(&then).fields),
                    (None, Err(_)) => return false,
                };
                now != planned
            }
            Again::Ghl(ghl_id) => {
                let keys = self.ghl_keys(op.kind).unwrap_or_default();
                match self.ghl_now(ghl_id) {
                    Ok(Some(now)) => {
                        hash_fields(&project(&now, &keys))
                            != hash_fields(&project(&op.source, &keys))
                    }
                    _ => false,
                }
            }
        }
    }

    /// The planner, for one record read again.
    async fn plan(&self, source: Again) -> Result<(), SyncError> {
        match source {
            Again::Peer(record) if record.kind == EntityKind::Contact => {
                let link =
                    self.ctx
                        .store
                        .link(self.ctx.peer_name(), EntityKind::Contact, &record.id)?;
                if let Some(link) = &link
                    && !self.knows_ghl(&link.ghl_id)
                {
                    match self.ctx.ghl.get_contact(&link.ghl_id).await {
                        Ok(found) => self.keep_ghl(&found.contact)?,
                        Err(err) if err.class() == ErrorClass::NotFound => {}
                        Err(err) => return Err(err.into()),
                    }
                }
                let mapped = self.ctx.entity(EntityKind::Contact)?.to_ghl(&record);
                self.peer_contact(Arrival {
                    record,
                    mapped: Some(mapped),
                    link,
                })
                .await
            }
            Again::Peer(record) => self.peer_child(record).await,
            Again::Ghl(ghl_id) => self.ghl_contact_to_peer(&ghl_id).await,
        }
    }

    /// The record an operation writes, read again from its side: the peer record (or, for a
    /// kind the peer cannot read by id, the one kept in the operation), or the GHL contact.
    /// `None` when it is gone.
    async fn source_again(&self, op: &Operation) -> Result<Option<Again>, OpError> {
        match op.direction {
            Direction::ToGhl => {
                if !self.ctx.peer.can_get(op.kind) {
                    let kept = serde_json::from_value::<PeerRecord>(op.source.clone()).ok();
                    return Ok(kept.map(Again::Peer));
                }
                match self.ctx.peer.get(op.kind, &op.source_id).await {
                    Ok(found) => Ok(found.map(Again::Peer)),
                    Err(err) => Err(super::execute::failed(err)),
                }
            }
            Direction::ToPeer => match self.ctx.ghl.get_contact(&op.source_id).await {
                Ok(found) => {
                    self.keep_ghl(&found.contact).map_err(|err| OpError {
                        class: ErrorClass::Decode,
                        status: None,
                        message: err.to_string(),
                        trace_id: None,
                        reason: None,
                        field: None,
                    })?;
                    Ok(Some(Again::Ghl(op.source_id.clone())))
                }
                Err(err) if err.class() == ErrorClass::NotFound => Ok(None),
                Err(err) => Err(super::execute::failed(err)),
            },
        }
    }
}

/// The replay slot: what lets the planner reuse the queued operation it was handed.
impl Run<'_> {
    /// Hands `op` to the planner: its next write for the same record reuses it.
    pub(super) fn begin_replay(&self, op: Operation, mode: RetryMode) {
        let key = (op.direction, op.kind, op.source_id.clone());
        self.take_open(op.direction, op.kind, &op.source_id);
        *self.replay.lock().unwrap_or_else(PoisonError::into_inner) = Some(Replay {
            key,
            op: Some(op),
            mode,
            ended: None,
        });
    }

    /// Ends a replay: how its operation ended, or the operation back when the planner made no
    /// write for its record (nothing left to send).
    pub(super) fn end_replay(&self) -> ReplayEnd {
        let replay = self
            .replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match replay {
            Some(Replay {
                op: Some(op),
                ended: None,
                ..
            }) => ReplayEnd::NothingSent(Box::new(op)),
            Some(Replay {
                ended: Some(ended), ..
            }) => ReplayEnd::Ended(ended),
            _ => ReplayEnd::Ended(Ended::Ok),
        }
    }

    /// The replayed operation, when the planner is about to write the record it is for.
    pub(super) fn take_replayed(
        &self,
        direction: Direction,
        kind: EntityKind,
        source_id: &str,
    ) -> Option<Operation> {
        let mut replay = self.replay.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = replay.as_mut()?;
        if slot.key != (direction, kind, source_id.to_string()) {
            return None;
        }
        slot.op.take()
    }

    pub(super) fn replay_mode(&self) -> RetryMode {
        self.replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(RetryMode::CurrentMapping, |r| r.mode)
    }

    pub(super) fn replay_ended(&self, ended: Ended) {
        if let Some(slot) = self
            .replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            slot.ended = Some(ended);
        }
    }
}
