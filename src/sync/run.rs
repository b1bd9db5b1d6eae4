//! One sync run for one peer: recover and retry what is due, snapshot GHL contacts, walk the
//! peer's change pages (cursor saved only after its page is committed), send GHL's changes back,
//! then the children. `--dry-run` walks the same path and writes nothing anywhere.

use super::context::{SyncContext, SyncError};
use super::execute::{Ended, Executor, Outbound};
use super::send::Sent;
use crate::ghl::ErrorClass;
use crate::peers::EntityKind;
use crate::store::{
    Action, Baseline, Direction, LogEntry, OpError, OpState, Operation, Outcome, RunRecord,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Pages read per entity at most in one run (a runaway cursor must not loop forever).
pub(super) const MAX_PAGES: usize = 100_000;
/// Baseline marker of a tombstone already handled.
const TOMBSTONE: &str = "inactive";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunOptions {
    pub trigger: String,
    pub dry_run: bool,
    /// Stop after this many writes (planned writes in a dry run).
    pub limit: Option<usize>,
    /// Read everything again from the start (cursors ignored; baselines still skip unchanged).
    pub full: bool,
    /// Entities to sync; empty = all enabled.
    pub entities: Vec<EntityKind>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            trigger: "manual".into(),
            dry_run: false,
            limit: None,
            full: false,
            entities: Vec::new(),
        }
    }
}

/// A write a dry run would have made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedChange {
    pub kind: EntityKind,
    pub direction: Direction,
    pub action: Action,
    pub source_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    pub diff: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub run: RunRecord,
    pub plan: Vec<PlannedChange>,
}

pub struct Run<'a> {
    pub(super) ctx: &'a SyncContext,
    pub(super) options: &'a RunOptions,
    pub(super) dry_run: bool,
    pub(super) run_id: u64,
    /// GHL contacts as listed at the start of the run, by id, kept as GHL sent them until one
    /// is compared (`ghl_contact`, `ghl_now`).
    pub(super) ghl_snapshot: HashMap<String, crate::ghl::models::ListedContact>,
    pub(super) calendar_id: Option<String>,
    /// Peer contacts whose write to GHL was superseded at the start of the run: their peer
    /// change is still to sync (`failed::peer_contact_change`).
    pub(super) superseded_to_ghl: Vec<String>,
    /// What the run's records change as they go. A page's records are handled concurrently
    /// (`pages.rs`), so this sits behind a lock that is never held across an `.await`.
    tally: Mutex<Tally>,
}

/// The run's mutable bookkeeping.
struct Tally {
    record: RunRecord,
    /// GHL contacts this run already reconciled with the peer.
    handled_ghl: HashSet<String>,
    plan: Vec<PlannedChange>,
    /// Operations already in the failed queue, by what they write: a record whose write failed
    /// waits for its queued operation instead of getting a new one every run.
    open: HashMap<(Direction, EntityKind, String), Operation>,
    writes: usize,
}

pub async fn run_sync(ctx: &SyncContext, options: &RunOptions) -> Result<RunReport, SyncError> {
    let id = ctx.store.new_op_id()?;
    let record = RunRecord {
        id,
        trigger: options.trigger.clone(),
        peer: ctx.peer_name().to_string(),
        started_at: Utc::now(),
        ended_at: None,
        counts: BTreeMap::new(),
        dry_run: options.dry_run,
    };
    let mut run = Run {
        ctx,
        options,
        dry_run: options.dry_run,
        run_id: id,
        ghl_snapshot: HashMap::new(),
        calendar_id: ctx.settings.calendar_id.clone(),
        superseded_to_ghl: Vec::new(),
        tally: Mutex::new(Tally {
            record,
            handled_ghl: HashSet::new(),
            plan: Vec::new(),
            open: HashMap::new(),
            writes: 0,
        }),
    };
    if !run.dry_run {
        ctx.store.put_run(&run.tally().record)?;
        let mut superseded = super::failed::recover_in_flight(ctx, &run.executor()).await?;
        superseded.extend(super::failed::retry_due(ctx, &run.executor()).await?);
        run.superseded_to_ghl = superseded;
    }
    for op in ctx.store.failed_queue()? {
        run.tally()
            .open
            .insert((op.direction, op.kind, op.source_id.clone()), op);
    }
    let result = run.steps().await;
    let tally = run
        .tally
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let mut record = tally.record;
    record.ended_at = Some(Utc::now());
    if !options.dry_run {
        ctx.store.put_run(&record)?;
    }
    result?;
    Ok(RunReport {
        run: record,
        plan: tally.plan,
    })
}

impl<'a> Run<'a> {
    fn tally(&self) -> MutexGuard<'_, Tally> {
        // A panic while the lock was held cannot leave the counts half-written in a way that
        // matters more than losing the run: keep going with what is there.
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wants(&self, kind: EntityKind) -> bool {
        (self.options.entities.is_empty() || self.options.entities.contains(&kind))
            && self.ctx.mapping.entity(kind).is_some()
            && {
                let flow = self.ctx.settings.flow(kind);
                flow.to_ghl || flow.to_peer
            }
    }

    async fn steps(&mut self) -> Result<(), SyncError> {
        if self.wants(EntityKind::Contact) {
            // One request per 100 contacts: the base for conflict detection and flow 4.
            for contact in self
                .ctx
                .ghl
                .with_priority(crate::ghl::Priority::Bulk)
                .list_all_contacts_unread(None, 100, MAX_PAGES)
                .await?
            {
                self.ghl_snapshot.insert(contact.id.clone(), contact);
            }
            if self.ctx.settings.contacts.to_ghl {
                self.peer_pages(EntityKind::Contact).await?;
                self.superseded_peer_contacts().await?;
            }
            self.ghl_contacts_to_peer().await?;
        }
        let children = [EntityKind::Note, EntityKind::Task, EntityKind::Appointment];
        if children
            .iter()
            .any(|k| self.wants(*k) && self.ctx.settings.flow(*k).to_ghl)
        {
            if self.wants(EntityKind::Appointment) && self.calendar_id.is_none() {
                self.calendar_id = self
                    .ctx
                    .ghl
                    .list_calendars()
                    .await?
                    .calendars
                    .into_iter()
                    .find(|c| c.is_active != Some(false))
                    .map(|c| c.id);
            }
            for kind in children {
                if self.wants(kind) && self.ctx.settings.flow(kind).to_ghl {
                    self.peer_pages(kind).await?;
                }
            }
        }
        Ok(())
    }

    /// A contact of the run's GHL snapshot, read in full. A contact GHL sent in a shape we cannot
    /// read stops the run, as a listing that failed to decode would.
    pub(super) fn ghl_contact(
        &self,
        ghl_id: &str,
    ) -> Result<Option<crate::ghl::models::Contact>, SyncError> {
        match self.ghl_snapshot.get(ghl_id) {
            Some(listed) => Ok(Some(listed.read()?)),
            None => Ok(None),
        }
    }

    /// `ghl_contact` as JSON, the form mappings and hashes compare.
    pub(super) fn ghl_now(&self, ghl_id: &str) -> Result<Option<Value>, SyncError> {
        Ok(self
            .ghl_contact(ghl_id)?
            .and_then(|contact| serde_json::to_value(contact).ok()))
    }

    pub(super) fn executor(&self) -> Executor<'a> {
        Executor {
            ctx: self.ctx,
            trigger: "sync",
            run_id: Some(self.run_id),
            owner: "engine",
        }
    }

    pub(super) fn count(&self, action: Action, outcome: Outcome) {
        *self
            .tally()
            .record
            .counts
            .entry(format!("{}/{}", action.as_str(), outcome.as_str()))
            .or_default() += 1;
    }

    pub(super) fn limit_reached(&self) -> bool {
        self.options
            .limit
            .is_some_and(|limit| self.tally().writes >= limit)
    }

    /// GHL contact `ghl_id` is reconciled with the peer by this run (flow 4 leaves it alone).
    pub(super) fn handled(&self, ghl_id: String) {
        self.tally().handled_ghl.insert(ghl_id);
    }

    pub(super) fn is_handled(&self, ghl_id: &str) -> bool {
        self.tally().handled_ghl.contains(ghl_id)
    }

    pub(super) fn ghl_keys(&self, kind: EntityKind) -> Result<Vec<String>, SyncError> {
        self.ctx.ghl_keys(kind)
    }

    /// True when the record already waits in the failed queue with this very payload; a changed
    /// payload supersedes the queued operation (it is skipped, and the new one goes out).
    fn already_queued(
        &self,
        direction: Direction,
        kind: EntityKind,
        source_id: &str,
        payload: &Value,
    ) -> Result<bool, SyncError> {
        let key = (direction, kind, source_id.to_string());
        let mut tally = self.tally();
        let Some(queued) = tally.open.get(&key) else {
            return Ok(false);
        };
        if &queued.payload == payload || payload.is_null() {
            return Ok(true);
        }
        let id = queued.id;
        tally.open.remove(&key);
        drop(tally);
        if !self.dry_run {
            super::failed::close(
                self.ctx,
                &super::Selection::Ids(vec![id]),
                false,
                "superseded",
            )?;
        }
        Ok(false)
    }

    /// Sends one write (or plans it, in a dry run).
    pub(super) async fn write(&self, out: Outbound) -> Result<Option<Sent>, SyncError> {
        if self.already_queued(out.direction, out.kind, &out.source_id, &out.payload)? {
            self.count(out.action, Outcome::Queued);
            return Ok(None);
        }
        self.tally().writes += 1;
        if self.dry_run {
            self.count(out.action, Outcome::DryRun);
            self.tally().plan.push(PlannedChange {
                kind: out.kind,
                direction: out.direction,
                action: out.action,
                source_id: out.source_id,
                target_id: out.target_id,
                diff: out.book.diff,
            });
            return Ok(None);
        }
        let action = out.action;
        let outcome = out.book.outcome.unwrap_or(Outcome::Ok);
        let (ended, sent) = self.executor().run(out).await?;
        match ended {
            Ended::Ok => self.count(action, outcome),
            Ended::Retrying => self.count(action, Outcome::Retrying),
            Ended::Failed => self.count(action, Outcome::Failed),
            // New operations are planned from the records as they are now: never stale.
            Ended::Superseded => self.count(Action::Skip, Outcome::Unchanged),
        }
        Ok(sent)
    }

    /// A record that cannot be sent at all: straight to the failed queue, no request.
    pub(super) fn local_failure(
        &self,
        record: &crate::peers::PeerRecord,
        message: &str,
    ) -> Result<(), SyncError> {
        let (kind, peer_id) = (record.kind, record.id.as_str());
        if self.already_queued(Direction::ToGhl, kind, peer_id, &Value::Null)? {
            self.count(Action::Create, Outcome::Queued);
            return Ok(());
        }
        self.count(Action::Create, Outcome::Failed);
        if self.dry_run {
            return Ok(());
        }
        let now = Utc::now();
        let error = OpError {
            class: ErrorClass::Validation,
            status: None,
            message: message.to_string(),
            trace_id: None,
        };
        let op = Operation {
            id: self.ctx.store.new_op_id()?,
            peer: self.ctx.peer_name().to_string(),
            kind,
            direction: Direction::ToGhl,
            action: Action::Create,
            source_id: peer_id.to_string(),
            target_id: None,
            target_parent_id: None,
            payload: Value::Null,
            source: serde_json::to_value(record).unwrap_or(Value::Null),
            mapping_fingerprint: self.ctx.mapping.fingerprint(),
            planned_against: None,
            source_hash: None,
            state: OpState::Failed,
            attempts: 0,
            error: Some(error.clone()),
            created_at: now,
            updated_at: now,
            run_id: Some(self.run_id),
        };
        let entry = LogEntry {
            at: now,
            trigger: "sync".into(),
            peer: op.peer.clone(),
            direction: Direction::ToGhl,
            kind,
            peer_id: Some(peer_id.to_string()),
            ghl_id: None,
            action: Action::Create,
            outcome: Outcome::Failed,
            error_class: Some(ErrorClass::Validation),
            status: None,
            trace_id: None,
            message: Some(message.to_string()),
            duration_ms: 0,
            diff: Map::new(),
            op_id: Some(op.id),
            run_id: Some(self.run_id),
        };
        self.ctx.store.update_operation(&op, Some(&entry))?;
        self.ctx.announce(&entry);
        Ok(())
    }

    pub(super) fn tombstone_seen(
        &self,
        kind: EntityKind,
        peer_id: &str,
    ) -> Result<bool, SyncError> {
        Ok(self
            .ctx
            .store
            .baseline(self.ctx.peer_name(), kind, peer_id)?
            .is_some_and(|b| b.peer_hash == TOMBSTONE))
    }

    pub(super) fn mark_tombstone(&self, kind: EntityKind, peer_id: &str) -> Result<(), SyncError> {
        if self.dry_run {
            return Ok(());
        }
        let seen = Baseline {
            peer_hash: TOMBSTONE.into(),
            ghl_hash: String::new(),
            fields: Map::new(),
            synced_at: Utc::now(),
        };
        self.ctx
            .store
            .set_baseline(self.ctx.peer_name(), kind, peer_id, &seen)?;
        Ok(())
    }
}
