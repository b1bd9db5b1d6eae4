//! Every outbound write goes through here, once: intent persisted and flushed, the request sent,
//! then one transaction commits link + baseline + log + operation end (sync-design.md §2.8).
//! An outcome that is unknown is reconciled by lookup before anything is sent again.

use super::context::{SyncContext, SyncError};
use super::mapping::EntityMapping;
use super::reason::ReasonCode;
use super::send::{SendError, Sent, reconcile, send};
use crate::net::ErrorClass;
use crate::store::{
    Action, Baseline, Commit, Direction, LogEntry, OpError, OpState, Operation, Outcome,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Past these, an operation is Dead (the ladder's waits are `SyncSettings::retry_ladder`).
const MAX_ATTEMPTS: u32 = 10;
const MAX_AGE_HOURS: i64 = 24;

/// A write to perform, before it becomes an `Operation`.
pub struct Outbound {
    pub kind: crate::peers::EntityKind,
    pub direction: Direction,
    pub action: Action,
    pub source_id: String,
    pub target_id: Option<String>,
    pub target_parent_id: Option<String>,
    pub payload: Value,
    /// The source record as read (PeerRecord or GHL record JSON).
    pub source: Source,
    /// The peer id the link and baseline are kept under.
    pub book: Bookkeeping,
}

/// The record a write was made from. A peer record stays out of the operation's intent: it is
/// needed only once the operation fails (a retry "with the current mapping" maps it again), so
/// it is written with the failure; an intent found in flight after a crash reads it again from
/// the peer (`failed::recover_in_flight`). A GHL record (peer-bound writes) is kept in the
/// operation from the start.
#[derive(Debug, Clone)]
pub enum Source {
    Json(Value),
    Peer(Arc<crate::peers::PeerRecord>),
}

impl Source {
    pub fn peer(record: &crate::peers::PeerRecord) -> Source {
        Source::Peer(Arc::new(record.clone()))
    }

    fn to_value(&self) -> Value {
        match self {
            Source::Json(value) => value.clone(),
            Source::Peer(record) => serde_json::to_value(&**record).unwrap_or(Value::Null),
        }
    }
}

impl From<Value> for Source {
    fn from(value: Value) -> Source {
        Source::Json(value)
    }
}

/// What the commit records besides the operation: where the link and baseline live, and what
/// both sides look like afterwards.
#[derive(Debug, Clone, Default)]
pub struct Bookkeeping {
    /// The peer id the link and baseline are kept under.
    pub peer_id: Option<String>,
    /// GHL-side fields the peer record maps to (the baseline's peer hash).
    pub peer_fields: Map<String, Value>,
    /// `hash_fields(&peer_fields)`, when the caller has it already.
    pub peer_hash: Option<String>,
    /// GHL-side fields as GHL will hold them, when known before sending (GHL → peer writes).
    pub ghl_fields: Option<Map<String, Value>>,
    /// The GHL fields a read can be compared on (the mapping's standard GHL fields).
    pub ghl_keys: Vec<String>,
    pub diff: Map<String, Value>,
    pub outcome: Option<Outcome>,
    /// Kept on the operation: see `Operation::planned_against`.
    pub planned_against: Option<String>,
    /// A peer contact linked to a GHL contact that may hold fields the peer lacks: the baseline
    /// leaves those out of what is agreed, until they reach the peer (`contacts::gap_keys`).
    pub gaps_open: bool,
    /// Kept on the operation: see `Operation::upsert_by`.
    pub upsert_by: Option<crate::store::UpsertKey>,
}

/// How a write ended, for the run's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Ok,
    Retrying,
    Failed,
    /// Not sent: the target changed after the write was planned (`Executor::send_if_current`).
    Superseded,
}

pub struct Executor<'a> {
    pub ctx: &'a SyncContext,
    pub trigger: &'a str,
    pub run_id: Option<u64>,
    pub owner: &'a str,
}

impl Executor<'_> {
    /// Persists the intent and runs a new operation.
    pub async fn run(&self, out: Outbound) -> Result<(Ended, Option<Sent>), SyncError> {
        let now = Utc::now();
        let op = Operation {
            id: self.ctx.store.new_op_id()?,
            peer: self.ctx.peer_name().to_string(),
            kind: out.kind,
            direction: out.direction,
            action: out.action,
            source_id: out.source_id.clone(),
            target_id: out.target_id.clone(),
            target_parent_id: out.target_parent_id.clone(),
            payload: Value::Null,
            source: Value::Null,
            mapping_fingerprint: self.ctx.mapping.fingerprint(),
            planned_against: None,
            source_hash: None,
            parent_id: None,
            upsert_by: None,
            state: OpState::InFlight {
                owner: self.owner.to_string(),
                since: now,
            },
            attempts: 0,
            error: None,
            created_at: now,
            updated_at: now,
            run_id: self.run_id,
        };
        let (op, book, deferred) = self.fill(op, out);
        self.attempt_from(op, book, deferred, true).await
    }

    /// `run` for a write the planner made while planning a queued operation again: the
    /// operation keeps its id (so a lookup after a crash still finds it), its attempt count and
    /// age; it carries the new plan — or, with `original`, the payload sent before, when the plan
    /// is the same kind of write.
    pub async fn replay(
        &self,
        queued: Operation,
        out: Outbound,
        original: bool,
    ) -> Result<(Ended, Option<Sent>), SyncError> {
        let original_payload =
            (original && queued.action == out.action && !queued.payload.is_null())
                .then(|| queued.payload.clone());
        let (mut op, book, deferred) = self.fill(queued, out);
        if let Some(payload) = original_payload {
            op.payload = payload;
        }
        self.attempt_from(op, book, deferred, false).await
    }

    /// Puts a planned write into an operation. A peer contact's record stays out of the intent
    /// (`Source`); a child's goes in, with its contact: some peers cannot read a child again by
    /// id (Repsly notes), and its link must name its contact however the write ends.
    fn fill(&self, mut op: Operation, out: Outbound) -> (Operation, Bookkeeping, Option<Source>) {
        let (source, source_hash, deferred) = match out.source {
            Source::Json(value) => (value, None, None),
            Source::Peer(record) if out.kind != crate::peers::EntityKind::Contact => {
                op.parent_id = record.parent_id.clone();
                (
                    serde_json::to_value(&*record).unwrap_or(Value::Null),
                    None,
                    None,
                )
            }
            peer @ Source::Peer(_) => (
                Value::Null,
                Some(
                    out.book
                        .peer_hash
                        .clone()
                        .unwrap_or_else(|| super::hash::hash_fields(&out.book.peer_fields)),
                ),
                Some(peer),
            ),
        };
        op.kind = out.kind;
        op.direction = out.direction;
        op.action = out.action;
        op.source_id = out.source_id;
        op.target_id = out.target_id;
        op.target_parent_id = out.target_parent_id;
        op.payload = out.payload;
        op.source = source;
        op.source_hash = source_hash;
        op.planned_against = out.book.planned_against.clone();
        op.upsert_by = out.book.upsert_by.clone();
        op.mapping_fingerprint = self.ctx.mapping.fingerprint();
        op.error = None;
        (op, out.book, deferred)
    }

    /// A record linked to a twin the target already holds, which agrees with it: the commit of
    /// a write (link, baseline, log, and the end of `queued` if a replay handed one over), with
    /// no intent and no request.
    pub async fn settle(
        &self,
        out: Outbound,
        queued: Option<Operation>,
        sent: &Sent,
    ) -> Result<(), SyncError> {
        let now = Utc::now();
        let base = queued.unwrap_or_else(|| Operation {
            id: 0,
            peer: self.ctx.peer_name().to_string(),
            kind: out.kind,
            direction: out.direction,
            action: Action::Link,
            source_id: String::new(),
            target_id: None,
            target_parent_id: None,
            payload: Value::Null,
            source: Value::Null,
            mapping_fingerprint: String::new(),
            planned_against: None,
            source_hash: None,
            parent_id: None,
            upsert_by: None,
            state: OpState::Done,
            attempts: 0,
            error: None,
            created_at: now,
            updated_at: now,
            run_id: self.run_id,
        });
        let new = base.id == 0;
        let (mut op, book, deferred) = self.fill(base, out);
        op.action = Action::Link;
        if new {
            op.id = self.ctx.store.new_op_id()?;
        }
        self.commit(op, book, sent, 0, deferred.as_ref()).await
    }

    /// Whether an operation found in flight already landed on its target: a create is looked up
    /// there (`send::reconcile`), and committed as it is when found. When the lookup itself
    /// fails, the operation is recorded as failed (`Some` of how it ended), never sent blind.
    pub async fn landed(
        &self,
        op: &Operation,
        book: &Bookkeeping,
    ) -> Result<Option<Ended>, SyncError> {
        match reconcile(self.ctx, op).await {
            Ok(Some(found)) => {
                let mut done = op.clone();
                done.attempts += 1;
                self.commit(done, book.clone(), &found, 0, None).await?;
                Ok(Some(Ended::Ok))
            }
            Ok(None) => Ok(None),
            // A lookup that failed is not "not there": sent again now, the write could land
            // twice. It waits on the ladder, and its next attempt looks first again.
            Err(err) => Ok(Some(self.fail(
                op.clone(),
                lookup_failed(err),
                book.clone(),
            )?)),
        }
    }

    /// Records a failure of an operation that could not even be attempted (its record could not
    /// be read again): the ladder or the queue, as for a failed request.
    pub fn fail(
        &self,
        mut op: Operation,
        err: OpError,
        book: Bookkeeping,
    ) -> Result<Ended, SyncError> {
        op.attempts += 1;
        self.record_failure(op, err, book.peer_id, 0, None)
    }

    /// An attempt of an operation planned in an earlier run (stranded in flight, or due on the
    /// retry ladder). Its payload was computed from both records as they were then; if the
    /// target record has changed since, sending it would overwrite that newer edit with older
    /// values, and the baseline written afterwards would make the loss look agreed. Such an
    /// operation is closed as superseded instead: the newer edit shows up as a change of its own,
    /// and the run merges it with what this operation carried.
    pub async fn send_if_current(
        &self,
        mut op: Operation,
        book: Bookkeeping,
    ) -> Result<(Ended, Option<Sent>), SyncError> {
        match self.target_still_current(&op).await {
            Ok(true) => self.attempt(op, book).await,
            Ok(false) => {
                self.supersede(op, book.peer_id)?;
                Ok((Ended::Superseded, None))
            }
            Err(err) => {
                // Not knowing is not permission to overwrite: the operation waits on the ladder.
                op.attempts += 1;
                let ended = self.record_failure(op, err, book.peer_id, 0, None)?;
                Ok((ended, None))
            }
        }
    }

    /// Whether the target still holds what `op` was planned against, or already what `op` makes
    /// it (its own earlier attempt landed; sending again changes nothing). True when the
    /// operation recorded nothing to compare.
    async fn target_still_current(&self, op: &Operation) -> Result<bool, OpError> {
        let (Some(planned), Some(target)) =
            (op.planned_against.as_deref(), op.target_id.as_deref())
        else {
            return Ok(true);
        };
        // GHL-side, only contact updates record what they were planned against; a GHL read of
        // any other kind would not be comparable.
        if op.direction == Direction::ToGhl && op.kind != crate::peers::EntityKind::Contact {
            return Ok(true);
        }
        let Some(entity) = self.ctx.mapping.entity(op.kind) else {
            return Ok(true);
        };
        let Some(now) = self.read_target(op, entity, target).await? else {
            return Ok(false);
        };
        Ok(super::hash::hash_fields(&now) == planned
            || self.holds_payload(op, entity, target, &now, planned)?)
    }

    /// The target record as GHL-side fields, the form `planned_against` hashes: a peer record
    /// mapped to GHL, or a GHL contact projected on the mapping's GHL fields (as `commit` takes
    /// its baseline from GHL's answer). `None` when the record is gone.
    async fn read_target(
        &self,
        op: &Operation,
        entity: &EntityMapping,
        target: &str,
    ) -> Result<Option<Map<String, Value>>, OpError> {
        match op.direction {
            Direction::ToPeer => {
                let now = self.ctx.peer.get(op.kind, target).await.map_err(failed)?;
                Ok(now.map(|now| entity.to_ghl(&now).fields))
            }
            Direction::ToGhl => {
                let contact = match self.ctx.ghl.get_contact(target).await {
                    Ok(envelope) => envelope.contact,
                    Err(err) if err.class() == ErrorClass::NotFound => return Ok(None),
                    Err(err) => return Err(failed(err)),
                };
                let json = serde_json::to_value(&contact).map_err(|err| OpError {
                    class: ErrorClass::Decode,
                    status: None,
                    message: format!("GHL contact {target} as read could not be compared: {err}"),
                    trace_id: None,
                    reason: None,
                    field: None,
                })?;
                Ok(Some(super::send::project(&json, &self.ghl_keys(op))))
            }
        }
    }

    /// Whether `now` (from `read_target`) is already what `op`'s payload makes the target.
    fn holds_payload(
        &self,
        op: &Operation,
        entity: &EntityMapping,
        target: &str,
        now: &Map<String, Value>,
        planned: &str,
    ) -> Result<bool, OpError> {
        match op.direction {
            Direction::ToPeer => {
                let written =
                    entity.echo(target, op.payload.as_object().cloned().unwrap_or_default());
                Ok(super::hash::hash_fields(now) == super::hash::hash_fields(&written.fields))
            }
            Direction::ToGhl => {
                // The fields the payload leaves alone are known only while the baseline is still
                // the state the payload was planned against.
                let baseline = self
                    .ctx
                    .store
                    .baseline(&op.peer, op.kind, &op.source_id)
                    .map_err(|err| OpError {
                        class: ErrorClass::Transient,
                        status: None,
                        message: format!(
                            "reading the baseline before sending a write planned earlier: {err}"
                        ),
                        trace_id: None,
                        reason: None,
                        field: None,
                    })?
                    .filter(|baseline| baseline.ghl_hash == planned);
                Ok(ghl_holds_update(
                    &op.payload,
                    now,
                    &self.ghl_keys(op),
                    baseline.as_ref().map(|b| &b.fields),
                ))
            }
        }
    }

    /// The GHL fields a contact read is compared on (as `commit` projects GHL's answer).
    fn ghl_keys(&self, op: &Operation) -> Vec<String> {
        // Only called once `target_still_current` found the kind's mapping: never empty then.
        self.ctx.ghl_keys(op.kind).unwrap_or_default()
    }

    fn supersede(&self, mut op: Operation, peer_id: Option<String>) -> Result<(), SyncError> {
        op.state = OpState::Skipped;
        op.updated_at = Utc::now();
        op.error = None;
        let ghl_id = match op.direction {
            Direction::ToGhl => op.target_id.clone(),
            Direction::ToPeer => Some(op.source_id.clone()),
        };
        let mut entry = self.log_entry(&op, peer_id, ghl_id, Outcome::Ok, None, 0, Map::new());
        entry.action = Action::Skip;
        entry.message = Some(
            "superseded: the target record changed after this write was planned; \
             the newer edit is synced instead"
                .into(),
        );
        self.ctx.store.update_operation(&op, Some(&entry))?;
        self.ctx.announce(&entry);
        Ok(())
    }

    /// One attempt of an operation the caller already owns (new, claimed for retry, or found
    /// in flight at start-up when `reconcile_first`).
    pub async fn attempt(
        &self,
        op: Operation,
        book: Bookkeeping,
    ) -> Result<(Ended, Option<Sent>), SyncError> {
        self.attempt_from(op, book, None, false).await
    }

    /// `attempt`, with the source record kept beside the operation rather than in its intent
    /// (`Source`): it joins the operation only if the attempt fails. `new`: the operation was
    /// never written (its intent is a single insert, `Store::record_new_intent`).
    async fn attempt_from(
        &self,
        mut op: Operation,
        book: Bookkeeping,
        deferred: Option<Source>,
        new: bool,
    ) -> Result<(Ended, Option<Sent>), SyncError> {
        op.attempts += 1;
        op.updated_at = Utc::now();
        op.state = OpState::InFlight {
            owner: self.owner.to_string(),
            since: op.updated_at,
        };
        if new {
            self.ctx.store.record_new_intent(&op).await?;
        } else {
            self.ctx.store.record_intent(&op).await?;
        }
        let started = std::time::Instant::now();
        let mut result = match crate::failpoint::pass("intent").await {
            Ok(()) => send(self.ctx, &op).await,
            Err(_) => Err(failpoint_error(&op, "the request could not be sent", false)),
        };
        if result.is_ok() && crate::failpoint::pass("request").await.is_err() {
            // The target holds the write; its answer never arrives.
            result = Err(failpoint_error(&op, "the answer was lost", true));
        }
        // A write that may have reached its target anyway is looked for there before it is sent
        // again; a second send that may have landed is looked for once more.
        for resend in [true, false] {
            let Err(SendError::Failed(err)) = &result else {
                break;
            };
            if !may_have_landed(&op, err) {
                break;
            }
            let ambiguous = err.class == ErrorClass::Ambiguous;
            result = match reconcile(self.ctx, &op).await {
                Ok(Some(found)) => Ok(found),
                // A 422 on an upsert that did not land: GHL refused the data.
                Ok(None) if !ambiguous => break,
                Ok(None) if resend => {
                    tracing::info!(
                        op = op.id,
                        "ambiguous create not found on lookup; sending again"
                    );
                    send(self.ctx, &op).await
                }
                Ok(None) => refused_twice(result),
                Err(lookup) => Err(SendError::Failed(lookup_failed(lookup))),
            };
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(sent) => {
                self.commit(op, book, &sent, duration_ms, deferred.as_ref())
                    .await?;
                Ok((Ended::Ok, Some(sent)))
            }
            Err(SendError::Failed(err)) => {
                let ended =
                    self.record_failure(op, err, book.peer_id, duration_ms, deferred.as_ref())?;
                Ok((ended, None))
            }
        }
    }

    async fn commit(
        &self,
        mut op: Operation,
        book: Bookkeeping,
        sent: &Sent,
        duration_ms: u64,
        deferred: Option<&Source>,
    ) -> Result<(), SyncError> {
        let Bookkeeping {
            peer_id,
            peer_fields,
            ghl_fields,
            ghl_keys,
            diff,
            outcome,
            planned_against: _,
            peer_hash: _,
            gaps_open,
            upsert_by: _,
        } = book;
        let outcome = outcome.unwrap_or(Outcome::Ok);
        op.state = OpState::Done;
        op.target_id = Some(sent.target_id.clone());
        op.error = None;
        let (ghl_id, link_peer_id) = match op.direction {
            Direction::ToGhl => (Some(sent.target_id.clone()), peer_id.clone()),
            Direction::ToPeer => (Some(op.source_id.clone()), Some(sent.target_id.clone())),
        };
        let from_answer = sent.ghl_record.as_ref().map(|record| {
            let mut fields = super::send::project(record, &ghl_keys);
            if gaps_open
                && let (Some(Source::Peer(peer_record)), Some(entity)) =
                    (deferred, self.ctx.mapping.entity(op.kind))
            {
                for key in super::contacts::gap_keys(entity, peer_record, record, &ghl_keys) {
                    fields.remove(&key);
                }
            }
            fields
        });
        let baseline = from_answer
            .as_ref()
            .or(ghl_fields.as_ref())
            .map(|ghl_fields| {
                let fields = super::hash::normalise(ghl_fields);
                Baseline {
                    peer_hash: match (&sent.peer_fields, &op.source_hash) {
                        (Some(read_back), _) => super::hash::hash_fields(read_back),
                        (None, Some(planned)) => planned.clone(),
                        (None, None) => super::hash::hash_fields(&peer_fields),
                    },
                    ghl_hash: super::hash::hash_normalised(&fields),
                    fields,
                    synced_at: Utc::now(),
                }
            });
        let entry = self.log_entry(
            &op,
            link_peer_id.clone(),
            ghl_id.clone(),
            outcome,
            None,
            duration_ms,
            diff,
        );
        let link = match (&link_peer_id, &ghl_id) {
            (Some(p), Some(g)) if op.action != Action::Delete => Some((p.as_str(), g.as_str())),
            _ => None,
        };
        let baseline_ref = match (&link_peer_id, &baseline) {
            (Some(p), Some(b)) => Some((p.as_str(), b)),
            _ => None,
        };
        // Children name their contact in the source record (a PeerRecord for peer → GHL).
        let parent = (op.kind != crate::peers::EntityKind::Contact)
            .then(|| match (&op.parent_id, deferred) {
                (Some(parent), _) => Some(parent.as_str()),
                (None, Some(Source::Peer(record))) => record.parent_id.as_deref(),
                (None, Some(Source::Json(value))) => value.get("parent_id").and_then(Value::as_str),
                (None, None) => op.source.get("parent_id").and_then(Value::as_str),
            })
            .flatten();
        self.ctx.store.commit(&Commit {
            op: &op,
            link,
            parent,
            baseline: baseline_ref,
            log: &entry,
        })?;
        crate::failpoint::pass("commit")
            .await
            .map_err(|_| failpoint_store_error("commit"))?;
        self.ctx.announce(&entry);
        Ok(())
    }

    fn record_failure(
        &self,
        mut op: Operation,
        err: OpError,
        peer_id: Option<String>,
        duration_ms: u64,
        deferred: Option<&Source>,
    ) -> Result<Ended, SyncError> {
        let now = Utc::now();
        if let (true, Some(source)) = (op.source.is_null(), deferred) {
            op.source = source.to_value();
        }
        // The one place a failed write gets its reason code: from the error's own data.
        let mut err = err;
        err.reason = Some(
            ReasonCode::classify(&err, op.direction)
                .as_str()
                .to_string(),
        );
        let (state, ended, outcome) = next_state(&op, &err, now, &self.ctx.settings.retry_ladder);
        op.state = state;
        op.error = Some(err.clone());
        op.updated_at = now;
        let ghl_id = match op.direction {
            Direction::ToGhl => op.target_id.clone(),
            Direction::ToPeer => Some(op.source_id.clone()),
        };
        let entry = self.log_entry(
            &op,
            peer_id,
            ghl_id,
            outcome,
            Some(&err),
            duration_ms,
            Map::new(),
        );
        self.ctx.store.update_operation(&op, Some(&entry))?;
        self.ctx.announce(&entry);
        Ok(ended)
    }

    #[allow(clippy::too_many_arguments)]
    fn log_entry(
        &self,
        op: &Operation,
        peer_id: Option<String>,
        ghl_id: Option<String>,
        outcome: Outcome,
        err: Option<&OpError>,
        duration_ms: u64,
        diff: Map<String, Value>,
    ) -> LogEntry {
        LogEntry {
            at: Utc::now(),
            trigger: self.trigger.to_string(),
            peer: op.peer.clone(),
            direction: op.direction,
            kind: op.kind,
            peer_id,
            ghl_id,
            action: op.action,
            outcome,
            error_class: err.map(|e| e.class),
            status: err.and_then(|e| e.status),
            trace_id: err.and_then(|e| e.trace_id.clone()),
            message: err.map(|e| e.message.clone()),
            duration_ms,
            diff,
            op_id: Some(op.id),
            run_id: self.run_id,
        }
    }
}

/// A failure injected at a step of the write path (`crate::failpoint`), as the failure of a
/// request at that step: once the request `reached` its target, a create's outcome is unknown;
/// anything else is transient.
fn failpoint_error(op: &Operation, what: &str, reached: bool) -> SendError {
    let class = if reached && op.action == Action::Create {
        ErrorClass::Ambiguous
    } else {
        ErrorClass::Transient
    };
    SendError::Failed(OpError {
        class,
        status: None,
        message: format!("test failpoint: {what}"),
        trace_id: None,
        reason: None,
        field: None,
    })
}

/// A failure injected into a store step: the run stops, as it would on a failed flush.
pub(crate) fn failpoint_store_error(site: &str) -> SyncError {
    SyncError::Store(crate::store::StoreError::Io {
        context: format!("test failpoint at {site}"),
        source: std::io::Error::other("injected"),
    })
}

/// Whether a failed write may have reached its target anyway: an ambiguous create, or a 422 on
/// a contact upsert (GHL has answered 422 to writes it made: GoHighLevel/highlevel-api-docs#64;
/// an upsert is safe to send again, so it is looked up and resent like a create).
fn may_have_landed(op: &Operation, err: &OpError) -> bool {
    let upsert = op.direction == Direction::ToGhl
        && op.kind == crate::peers::EntityKind::Contact
        && op.action == Action::Create;
    err.class == ErrorClass::Ambiguous || (upsert && err.status == Some(422))
}

/// The answer to a write sent again after a lookup found nothing: a second 422 for the same
/// payload is GHL refusing the data, not losing the answer.
fn refused_twice(result: Result<Sent, SendError>) -> Result<Sent, SendError> {
    match result {
        Err(SendError::Failed(mut err)) if err.status == Some(422) => {
            err.class = ErrorClass::Validation;
            Err(SendError::Failed(err))
        }
        other => other,
    }
}

/// A failed lookup of a write that may have landed: its outcome stays unknown (`Ambiguous`),
/// so it is never superseded by a new plan, and its next attempt looks first again.
fn lookup_failed(err: SendError) -> OpError {
    let mut err = failed(err);
    err.class = ErrorClass::Ambiguous;
    // Whatever the lookup met, the write's own outcome is what is unknown.
    err.reason = None;
    err.field = None;
    err.message = format!(
        "the write may have landed, and looking for it failed: {}",
        err.message
    );
    err
}

/// A failed read of the target, as the operation's error.
pub(super) fn failed(err: impl Into<SendError>) -> OpError {
    let SendError::Failed(err) = err.into();
    err
}

/// Whether a GHL contact as read (`now`, projected on `keys`) already holds what a contact
/// update's `payload` writes. A payload is not a whole contact, only the fields to change, so
/// the contact it makes is known in full only with the fields it was planned against
/// (`planned`: the baseline, while that still hashes as planned), and then the whole contact is
/// compared. Without them (a merge is planned against a GHL state the store never kept) only the
/// fields the payload sets can be compared: a GHL edit of another field made after the payload
/// landed goes unseen, and sending again leaves that edit in GHL but the baseline takes it as
/// agreed.
///
/// The payload is mapped peer data, the read is GHL's storage: `normalise` evens out what GHL
/// is known to change (tag case and order, empty fields). An empty payload value does not count
/// as set, since GHL keeps the field on an empty write; a payload that sets none of `keys`
/// (custom fields only) leaves nothing a projected read shows, so it never counts as landed. A
/// value GHL stores in another form than sent reads as not landed: the operation is superseded
/// (the safe side: nothing is overwritten, and the next run merges).
pub(super) fn ghl_holds_update(
    payload: &Value,
    now: &Map<String, Value>,
    keys: &[String],
    planned: Option<&Map<String, Value>>,
) -> bool {
    let Some(payload) = payload.as_object() else {
        return false;
    };
    let sets = super::hash::normalise(&super::send::restrict(payload, keys));
    if sets.is_empty() {
        return false;
    }
    let now = super::hash::normalise(now);
    match planned {
        Some(planned) => {
            let mut written = planned.clone();
            written.extend(sets);
            super::hash::hash_fields(&written) == super::hash::hash_normalised(&now)
        }
        None => sets.iter().all(|(key, value)| now.get(key) == Some(value)),
    }
}

/// Where a failed attempt goes: the ladder for transient trouble, the failed queue for what a
/// person must fix, Dead past the caps. Auth and scope problems wait on the ladder too: they are
/// fixed once for the whole location, and then every queued row should go through on its own.
fn next_state(
    op: &Operation,
    err: &OpError,
    now: DateTime<Utc>,
    ladder: &super::settings::RetryLadder,
) -> (OpState, Ended, Outcome) {
    let too_old = now - op.created_at > Duration::hours(MAX_AGE_HOURS);
    if op.attempts >= MAX_ATTEMPTS || too_old {
        return (OpState::Dead, Ended::Failed, Outcome::Failed);
    }
    match err.class {
        ErrorClass::RateLimited
        | ErrorClass::Transient
        | ErrorClass::Ambiguous
        | ErrorClass::Auth
        | ErrorClass::ScopeOrConfig => {
            let wait = Duration::from_std(ladder.wait(op.attempts)).unwrap_or(Duration::hours(6));
            (
                OpState::RetryScheduled {
                    next_at: now + wait,
                },
                Ended::Retrying,
                Outcome::Retrying,
            )
        }
        ErrorClass::Validation | ErrorClass::NotFound | ErrorClass::Decode => {
            (OpState::Failed, Ended::Failed, Outcome::Failed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::EntityKind;
    use serde_json::json;

    fn op(attempts: u32, age_hours: i64) -> Operation {
        let now = Utc::now();
        Operation {
            id: 1,
            peer: "repsly".into(),
            kind: EntityKind::Contact,
            direction: Direction::ToGhl,
            action: Action::Create,
            source_id: "C-1".into(),
            target_id: None,
            target_parent_id: None,
            payload: json!({}),
            source: json!({}),
            mapping_fingerprint: "f".into(),
            planned_against: None,
            source_hash: None,
            parent_id: None,
            upsert_by: None,
            state: OpState::Failed,
            attempts,
            error: None,
            created_at: now - Duration::hours(age_hours),
            updated_at: now,
            run_id: None,
        }
    }

    fn err(class: ErrorClass) -> OpError {
        OpError {
            class,
            status: None,
            message: "x".into(),
            trace_id: None,
            reason: None,
            field: None,
        }
    }

    #[test]
    fn transient_climbs_the_ladder_validation_fails_and_caps_make_it_dead() {
        let now = Utc::now();
        match next_state(
            &op(1, 0),
            &err(ErrorClass::Transient),
            now,
            &Default::default(),
        )
        .0
        {
            OpState::RetryScheduled { next_at } => assert_eq!((next_at - now).num_minutes(), 5),
            other => panic!("{other:?}"),
        }
        match next_state(
            &op(3, 0),
            &err(ErrorClass::RateLimited),
            now,
            &Default::default(),
        )
        .0
        {
            OpState::RetryScheduled { next_at } => assert_eq!((next_at - now).num_minutes(), 60),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            next_state(
                &op(1, 0),
                &err(ErrorClass::Validation),
                now,
                &Default::default()
            )
            .0,
            OpState::Failed
        );
        assert_eq!(
            next_state(
                &op(10, 0),
                &err(ErrorClass::Transient),
                now,
                &Default::default()
            )
            .0,
            OpState::Dead
        );
        assert_eq!(
            next_state(
                &op(2, 25),
                &err(ErrorClass::Transient),
                now,
                &Default::default()
            )
            .0,
            OpState::Dead
        );
    }

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn keys() -> Vec<String> {
        ["city", "email", "tags", "website"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn a_landed_contact_update_is_recognised_and_a_ghl_edit_is_not() {
        let planned = map(json!({"city": "Oslo", "email": "a@b.co", "website": "w.no"}));
        let planned = crate::sync::hash::normalise(&planned);
        let payload = json!({"city": "Bergen", "website": "", "customFields": [{"id": "x"}]});
        let holds = |now: &Map<String, Value>, planned: Option<&Map<String, Value>>| {
            ghl_holds_update(&payload, now, &keys(), planned)
        };
        let landed = map(json!({"city": "Bergen", "email": "a@b.co", "website": "w.no"}));
        assert!(holds(&landed, Some(&planned)));
        assert!(holds(&landed, None));
        // Not sent yet: the contact is as planned (the caller's hash check lets it go).
        assert!(!holds(&planned, Some(&planned)));
        // GHL edited the field the payload sets.
        let edited = map(json!({"city": "Trondheim", "email": "a@b.co", "website": "w.no"}));
        assert!(!holds(&edited, Some(&planned)));
        assert!(!holds(&edited, None));
        // Landed, then GHL edited another field: seen only with the planned fields in hand.
        let both = map(json!({"city": "Bergen", "email": "new@b.co", "website": "w.no"}));
        assert!(!holds(&both, Some(&planned)));
        assert!(holds(&both, None));
    }

    #[test]
    fn tags_compare_as_ghl_stores_them_and_custom_fields_alone_never_count_as_landed() {
        let payload = json!({"tags": ["VIP", "ny"]});
        let now = map(json!({"tags": ["ny", "vip"], "city": "Oslo"}));
        let planned = crate::sync::hash::normalise(&map(json!({"city": "Oslo"})));
        assert!(ghl_holds_update(&payload, &now, &keys(), Some(&planned)));
        let custom_only = json!({"customFields": [{"id": "x", "value": "y"}]});
        assert!(!ghl_holds_update(&custom_only, &now, &keys(), None));
        assert!(!ghl_holds_update(&Value::Null, &now, &keys(), None));
    }
}
