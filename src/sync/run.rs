//! One sync run for one peer: recover and retry what is due, snapshot GHL contacts, walk the
//! peer's change pages (cursor saved only after its page is committed), send GHL's changes back,
//! then the children. `--dry-run` walks the same path and writes nothing anywhere.
//!
//! A `Run` is also how anything else writes: a manual retry, a retry due on the ladder and an
//! operation found in flight after a crash are planned again through the same per-record
//! planner (`contacts.rs`, `children.rs`) by `replay` (`failed.rs`), which hands the planner the
//! queued operation to reuse instead of a new one. There is no second way to decide a write.

use super::context::{SyncContext, SyncError};
use super::execute::{Ended, Executor, Outbound};
use super::failed::RetryMode;
use super::reason::ReasonCode;
use super::send::Sent;
use crate::peers::EntityKind;
use crate::store::{Action, Baseline, Direction, OpError, Operation, Outcome, RunRecord};
use chrono::Utc;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

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
    /// A targeted run (a webhook, "one contact now"): only these GHL contacts, each read by
    /// id and planned to the peer as a full run would (`targeted.rs`); no listing, no pages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ghl_contacts: Vec<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            trigger: "manual".into(),
            dry_run: false,
            limit: None,
            full: false,
            entities: Vec::new(),
            ghl_contacts: Vec::new(),
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
    /// Field → [before, after], in GHL's field names.
    pub diff: Map<String, Value>,
    /// A write to the peer: what it writes, in the peer's field names.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
    /// A record that would fail: held back by the planner, or refused by the checks made
    /// before any request (`send::check_locally`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<PlannedFailure>,
}

/// Why a planned write would fail, as the failed queue would file it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedFailure {
    pub reason: ReasonCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What to do (`ReasonCode::advice`).
    pub advice: String,
    /// The failure's own message.
    pub message: String,
}

impl PlannedFailure {
    /// `err`, met by a write in `direction`, classified as `record_failure` would file it.
    pub fn of(err: &OpError, direction: Direction) -> PlannedFailure {
        let reason = ReasonCode::classify(err, direction);
        PlannedFailure {
            reason,
            field: err.field.clone(),
            advice: reason.advice(err.field.as_deref()),
            message: err.message.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub run: RunRecord,
    pub plan: Vec<PlannedChange>,
}

/// Who drives a run: a sync's own steps, or one operation planned again.
#[derive(Debug, Clone, Copy)]
pub(super) struct Driver {
    /// The log entries' trigger (`sync`, `manual_retry`).
    pub trigger: &'static str,
    /// The in-flight owner of the operations it runs.
    pub owner: &'static str,
}

pub struct Run<'a> {
    pub(super) ctx: &'a SyncContext,
    pub(super) options: RunOptions,
    pub(super) dry_run: bool,
    pub(super) run_id: u64,
    pub(super) trigger: &'static str,
    owner: &'static str,
    /// GHL contacts by id, kept as GHL sent them until one is compared (`ghl_contact`,
    /// `ghl_now`): the whole location once `snapshot_complete`, else the ones a replay read.
    pub(super) ghl_snapshot: HashMap<String, crate::ghl::models::ListedContact>,
    /// True once every GHL contact was listed: a key found nowhere in it is in no contact.
    pub(super) snapshot_complete: bool,
    /// GHL contacts read one at a time (a replay's, before or without a listing).
    fetched: Mutex<HashMap<String, crate::ghl::models::ListedContact>>,
    /// The snapshot by match key, built the first time a record has no link.
    ghl_people: OnceLock<HashMap<String, Vec<String>>>,
    /// The GHL calendar peer appointments go to: `[sync] calendar_id`, else the location's
    /// first active calendar, asked for once, the first time an appointment needs it.
    calendar: tokio::sync::OnceCell<Option<String>>,
    /// Peer contacts whose write to GHL was superseded at the start of the run: their peer
    /// change is still to sync (`failed::peer_contact_change`).
    pub(super) superseded_to_ghl: Vec<String>,
    /// What the run's records change as they go. A page's records are handled concurrently
    /// (`pages.rs`), so this sits behind a lock that is never held across an `.await`.
    tally: Mutex<Tally>,
    /// The queued operation being planned again, if any (`replay`).
    pub(super) replay: Mutex<Option<super::replay::Replay>>,
    /// Children listed per (kind, GHL contact) this run, and the contacts whose survey may be
    /// marked once their kind's pages are all read (`children.rs`).
    pub(super) surveys: Mutex<Surveys>,
    /// Set when the service drains (SIGTERM): no record starts after it, as if the write
    /// limit were reached (a page left part-done is read again next run).
    stop: Option<Arc<AtomicBool>>,
}

#[derive(Default)]
pub(super) struct Surveys {
    pub listed: HashMap<(EntityKind, String), Vec<Value>>,
    pub done: Vec<(EntityKind, String)>,
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
    // Boxed: a debug build copies a future onto the stack at each level that awaits it, and a
    // run's future is large (tests run it on 2 MiB thread stacks).
    Box::pin(run_sync_until(ctx, options, None)).await
}

/// `run_sync` that starts no record once `stop` is set (what is in flight finishes).
pub async fn run_sync_until(
    ctx: &SyncContext,
    options: &RunOptions,
    stop: Option<Arc<AtomicBool>>,
) -> Result<RunReport, SyncError> {
    let resolved = ctx.with_location_fields().await?;
    let ctx = &resolved;
    let mut run = Run::new(
        ctx,
        options.clone(),
        Driver {
            trigger: "sync",
            owner: "engine",
        },
    )?;
    run.stop = stop;
    if !run.dry_run {
        ctx.store.put_run(&run.tally().record)?;
        let mut superseded = run.recover_in_flight().await?;
        superseded.extend(run.retry_due().await?);
        run.superseded_to_ghl = superseded;
        run.load_open()?;
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
    /// A run with nothing done yet. Its failed queue is loaded (`load_open`) so that it never
    /// makes a second operation for a record that already has one.
    pub(super) fn new(
        ctx: &'a SyncContext,
        options: RunOptions,
        driver: Driver,
    ) -> Result<Run<'a>, SyncError> {
        let id = if options.dry_run {
            ctx.store.next_run_id()?
        } else {
            ctx.store.reserve_run_id()?
        };
        let record = RunRecord {
            id,
            trigger: options.trigger.clone(),
            peer: ctx.peer_name().to_string(),
            started_at: Utc::now(),
            ended_at: None,
            counts: BTreeMap::new(),
            dry_run: options.dry_run,
        };
        let run = Run {
            ctx,
            dry_run: options.dry_run,
            options,
            run_id: id,
            trigger: driver.trigger,
            owner: driver.owner,
            ghl_snapshot: HashMap::new(),
            snapshot_complete: false,
            fetched: Mutex::new(HashMap::new()),
            ghl_people: OnceLock::new(),
            calendar: tokio::sync::OnceCell::new(),
            superseded_to_ghl: Vec::new(),
            tally: Mutex::new(Tally {
                record,
                handled_ghl: HashSet::new(),
                plan: Vec::new(),
                open: HashMap::new(),
                writes: 0,
            }),
            replay: Mutex::new(None),
            surveys: Mutex::new(Surveys::default()),
            stop: None,
        };
        run.load_open()?;
        Ok(run)
    }

    /// The failed queue as it is now, by what each operation writes.
    pub(super) fn load_open(&self) -> Result<(), SyncError> {
        let mut open = HashMap::new();
        for op in self.ctx.failed_queue()? {
            open.insert((op.direction, op.kind, op.source_id.clone()), op);
        }
        self.tally().open = open;
        Ok(())
    }

    /// Whether a person drives this run (a manual retry), not the engine.
    pub(super) fn by_person(&self) -> bool {
        self.owner == "manual"
    }

    pub(super) fn surveys(&self) -> MutexGuard<'_, Surveys> {
        self.surveys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a change to a dry run's plan.
    pub(super) fn add_to_plan(&self, change: PlannedChange) {
        self.tally().plan.push(change);
    }

    /// Whether this dry run plans peer contact `peer_id` to be written to GHL without failing:
    /// a real run would link it, so its children would not wait for it.
    pub(super) fn plans_contact(&self, peer_id: &str) -> bool {
        self.tally().plan.iter().any(|change| {
            change.kind == EntityKind::Contact
                && change.direction == Direction::ToGhl
                && change.source_id == peer_id
                && change.failure.is_none()
        })
    }

    fn tally(&self) -> MutexGuard<'_, Tally> {
        // A panic while the lock was held cannot leave the counts half-written in a way that
        // matters more than losing the run: keep going with what is there.
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn wants(&self, kind: EntityKind) -> bool {
        (self.options.entities.is_empty() || self.options.entities.contains(&kind))
            && self.ctx.mapping.entity(kind).is_some()
            && {
                let flow = self.ctx.settings.flow(kind);
                flow.to_ghl || flow.to_peer
            }
    }

    async fn steps(&mut self) -> Result<(), SyncError> {
        if !self.options.ghl_contacts.is_empty() {
            return self.targeted().await;
        }
        let contacts = self.wants(EntityKind::Contact);
        if contacts {
            // One request per 100 contacts: the base for conflict detection, identity and flow 4.
            for contact in self
                .ctx
                .ghl
                .with_priority(crate::ghl::Priority::Bulk)
                .list_all_contacts_unread(None, 100, MAX_PAGES)
                .await?
            {
                self.ghl_snapshot.insert(contact.id.clone(), contact);
            }
            self.snapshot_complete = true;
            if self.ctx.settings.contacts.to_ghl {
                self.peer_pages(EntityKind::Contact).await?;
                self.superseded_peer_contacts().await?;
            }
        }
        // GHL's contacts go to the peer (its import jobs, no GHL request) while the peer's
        // children go to GHL (GHL's ceiling): together, neither waits for the other. A dry
        // run's plan and a `--limit` stay in order.
        let (to_peer, children) = (self.to_peer(contacts), self.children());
        if self.dry_run || self.options.limit.is_some() {
            to_peer.await?;
            children.await
        } else {
            futures::try_join!(to_peer, children).map(|_| ())
        }
    }

    /// Flow 4, boxed, as is `children`: a debug build keeps a slot on the stack for every future
    /// a function makes, and `steps` is on the stack under every request of the run.
    fn to_peer(&self, contacts: bool) -> BoxFuture<'_, Result<(), SyncError>> {
        Box::pin(async move {
            if contacts {
                self.ghl_contacts_to_peer().await
            } else {
                Ok(())
            }
        })
    }

    fn children(&self) -> BoxFuture<'_, Result<(), SyncError>> {
        Box::pin(self.peer_children())
    }

    /// Flows 2, 3 and 6: the peer's tasks, notes and appointments to GHL.
    async fn peer_children(&self) -> Result<(), SyncError> {
        let children = [EntityKind::Note, EntityKind::Task, EntityKind::Appointment];
        if children
            .iter()
            .any(|k| self.wants(*k) && self.ctx.settings.flow(*k).to_ghl)
        {
            if !self.dry_run {
                self.unpark_children().await?;
            }
            for kind in children {
                if self.wants(kind) && self.ctx.settings.flow(kind).to_ghl {
                    self.peer_pages(kind).await?;
                }
            }
        }
        Ok(())
    }

    /// The calendar peer appointments go to (see `calendar`).
    pub(super) async fn calendar_id(&self) -> Result<Option<String>, SyncError> {
        let ctx = self.ctx;
        let found = self
            .calendar
            .get_or_try_init(|| async {
                if let Some(configured) = &ctx.settings.calendar_id {
                    return Ok::<_, SyncError>(Some(configured.clone()));
                }
                Ok(ctx
                    .ghl
                    .list_calendars()
                    .await?
                    .calendars
                    .into_iter()
                    .find(|c| c.is_active != Some(false))
                    .map(|c| c.id))
            })
            .await?;
        Ok(found.clone())
    }

    /// A contact of the run's GHL snapshot, read in full. A contact GHL sent in a shape we cannot
    /// read stops the run, as a listing that failed to decode would.
    pub(super) fn ghl_contact(
        &self,
        ghl_id: &str,
    ) -> Result<Option<crate::ghl::models::Contact>, SyncError> {
        if let Some(listed) = self.ghl_snapshot.get(ghl_id) {
            return Ok(Some(listed.read()?));
        }
        let fetched = self.fetched.lock().unwrap_or_else(PoisonError::into_inner);
        match fetched.get(ghl_id) {
            Some(listed) => Ok(Some(listed.read()?)),
            None => Ok(None),
        }
    }

    /// Whether the run holds GHL contact `ghl_id` (listed, or read on its own).
    pub(super) fn knows_ghl(&self, ghl_id: &str) -> bool {
        self.ghl_snapshot.contains_key(ghl_id)
            || self
                .fetched
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains_key(ghl_id)
    }

    /// Keeps a GHL contact read on its own for the rest of the run.
    pub(super) fn keep_ghl(&self, contact: &crate::ghl::models::Contact) -> Result<(), SyncError> {
        let listed = crate::ghl::models::ListedContact::from_contact(contact).map_err(|err| {
            SyncError::Store(crate::store::StoreError::Encode {
                detail: format!("keeping GHL contact {}: {err}", contact.id),
            })
        })?;
        self.fetched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(contact.id.clone(), listed);
        Ok(())
    }

    /// `ghl_contact` as JSON, the form mappings and hashes compare.
    pub(super) fn ghl_now(&self, ghl_id: &str) -> Result<Option<Value>, SyncError> {
        Ok(self
            .ghl_contact(ghl_id)?
            .and_then(|contact| serde_json::to_value(contact).ok()))
    }

    /// GHL contacts of the snapshot holding match key `key` (`identity::contact_keys`, and
    /// `identity::external_key` of the mapping's external-id field), oldest first. Empty until
    /// the snapshot is complete.
    pub(super) fn ghl_people_with(&self, key: &str) -> Vec<String> {
        if !self.snapshot_complete {
            return Vec::new();
        }
        let index = self.ghl_people.get_or_init(|| {
            let mut listed: Vec<&crate::ghl::models::ListedContact> =
                self.ghl_snapshot.values().collect();
            // GHL's own order of creation, then id: the same choice in every run.
            listed.sort_by(|a, b| (&a.date_added, &a.id).cmp(&(&b.date_added, &b.id)));
            let external_id = self
                .ctx
                .mapping
                .entity(EntityKind::Contact)
                .and_then(|entity| entity.external_id_field_id());
            let mut index: HashMap<String, Vec<String>> = HashMap::new();
            for contact in listed {
                let fields = contact.match_fields();
                let mut keys = super::identity::contact_keys(&fields);
                keys.extend(external_id.and_then(|id| super::identity::external_key(id, &fields)));
                for key in keys {
                    index.entry(key).or_default().push(contact.id.clone());
                }
            }
            index
        });
        index.get(key).cloned().unwrap_or_default()
    }

    pub(super) fn executor(&self) -> Executor<'a> {
        Executor {
            ctx: self.ctx,
            trigger: self.trigger,
            run_id: Some(self.run_id),
            owner: self.owner,
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
        self.stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::Relaxed))
            || self
                .options
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

    /// The queued operations that write to the same person as `keys` in `direction`, with
    /// the key they share.
    pub(super) fn open_for_person(
        &self,
        direction: Direction,
        keys: &[String],
    ) -> Vec<(Operation, String)> {
        let Some(entity) = self.ctx.mapping.entity(EntityKind::Contact) else {
            return Vec::new();
        };
        let tally = self.tally();
        let mut found = Vec::new();
        for op in tally.open.values() {
            if op.direction != direction || op.kind != EntityKind::Contact {
                continue;
            }
            let fields = match (direction, op.payload.as_object()) {
                (Direction::ToGhl, Some(payload)) => payload.clone(),
                (Direction::ToGhl, None) => serde_json::from_value(op.source.clone())
                    .map(|record| entity.to_ghl(&record).fields)
                    .unwrap_or_default(),
                (Direction::ToPeer, _) => op.source.as_object().cloned().unwrap_or_default(),
            };
            if let Some(shared) = super::identity::contact_keys(&fields)
                .into_iter()
                .find(|key| keys.contains(key))
            {
                found.push((op.clone(), shared));
            }
        }
        found.sort_by_key(|(op, _)| op.id);
        found
    }

    /// Whether GHL contact `ghl_id`'s create in the peer may have landed unseen: it was sent
    /// (it has a payload) and waits in the queue with an unknown outcome (its answer lost),
    /// unanswered (in flight when a run stopped), or held since because the peer showed the
    /// same person unlinked — which is that create, landed. A peer record of that person found
    /// now is the create, born in GHL.
    pub(super) fn peer_create_unanswered(&self, ghl_id: &str) -> bool {
        let held = super::reason::ReasonCode::TargetHasPerson.as_str();
        self.tally()
            .open
            .get(&(Direction::ToPeer, EntityKind::Contact, ghl_id.to_string()))
            .is_some_and(|op| {
                op.action == Action::Create
                    && !op.payload.is_null()
                    && op.error.as_ref().is_none_or(|err| {
                        err.class == crate::net::ErrorClass::Ambiguous
                            || err.reason.as_deref() == Some(held)
                    })
            })
    }

    /// Takes the queued operation for this record out of the run's view of the queue.
    pub(super) fn take_open(
        &self,
        direction: Direction,
        kind: EntityKind,
        source_id: &str,
    ) -> Option<Operation> {
        self.tally()
            .open
            .remove(&(direction, kind, source_id.to_string()))
    }

    /// Closes a queued operation that a newer plan for the same record replaces.
    pub(super) fn supersede_queued(&self, id: u64) -> Result<(), SyncError> {
        if !self.dry_run {
            super::failed::close(
                self.ctx,
                &super::Selection::Ids(vec![id]),
                false,
                "superseded",
            )?;
        }
        Ok(())
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
        // A create whose outcome is unknown may have landed: only its replay, which looks for
        // it first, plans it again (with the record as it is then).
        if queued.action == Action::Create
            && queued
                .error
                .as_ref()
                .is_some_and(|err| err.class == crate::net::ErrorClass::Ambiguous)
        {
            return Ok(true);
        }
        let id = queued.id;
        tally.open.remove(&key);
        drop(tally);
        self.supersede_queued(id)?;
        Ok(false)
    }

    /// Sends one write (or plans it, in a dry run).
    pub(super) async fn write(&self, out: Outbound) -> Result<Option<Sent>, SyncError> {
        if let Some(op) = self.take_replayed(out.direction, out.kind, &out.source_id) {
            let action = out.action;
            let outcome = out.book.outcome.unwrap_or(Outcome::Ok);
            // Only a person's "resend exactly what was sent" keeps the old payload over a new
            // plan; the engine's own replays send what the record says now.
            let original = self.by_person() && self.replay_mode() == RetryMode::OriginalPayload;
            self.tally().writes += 1;
            let (ended, sent) = self.executor().replay(op, out, original).await?;
            self.replay_ended(ended);
            self.count_ended(action, outcome, ended);
            return Ok(sent);
        }
        if self.already_queued(out.direction, out.kind, &out.source_id, &out.payload)? {
            self.count(out.action, Outcome::Queued);
            return Ok(None);
        }
        self.tally().writes += 1;
        if self.dry_run {
            let failure = super::send::check_locally(
                self.ctx,
                out.kind,
                out.direction,
                out.action,
                out.target_id.as_deref(),
                &out.source_id,
                &out.payload,
            )
            .err()
            .map(|err| PlannedFailure::of(&err, out.direction));
            let outcome = if failure.is_some() {
                Outcome::Failed
            } else {
                Outcome::DryRun
            };
            self.count(out.action, outcome);
            let fields = match out.direction {
                Direction::ToPeer => out.payload.as_object().cloned().unwrap_or_default(),
                Direction::ToGhl => Map::new(),
            };
            self.tally().plan.push(PlannedChange {
                kind: out.kind,
                direction: out.direction,
                action: out.action,
                source_id: out.source_id,
                target_id: out.target_id,
                diff: out.book.diff,
                fields,
                failure,
            });
            return Ok(None);
        }
        let action = out.action;
        let outcome = out.book.outcome.unwrap_or(Outcome::Ok);
        let (ended, sent) = self.executor().run(out).await?;
        self.count_ended(action, outcome, ended);
        Ok(sent)
    }

    /// Links a record to its twin found on the target, which already agrees with it: the same
    /// commit as a write's, without a request.
    pub(super) async fn settle(&self, out: Outbound, sent: Sent) -> Result<(), SyncError> {
        if self.dry_run {
            self.count(Action::Link, Outcome::DryRun);
            self.tally().plan.push(PlannedChange {
                kind: out.kind,
                direction: out.direction,
                action: Action::Link,
                source_id: out.source_id,
                target_id: out.target_id,
                diff: out.book.diff,
                fields: Map::new(),
                failure: None,
            });
            return Ok(());
        }
        let replayed = self.take_replayed(out.direction, out.kind, &out.source_id);
        let is_replayed = replayed.is_some();
        if !is_replayed
            && let Some(queued) = self.take_open(out.direction, out.kind, &out.source_id)
        {
            // The record agrees with its twin now: what waited for it is moot.
            self.supersede_queued(queued.id)?;
        }
        self.executor().settle(out, replayed, &sent).await?;
        if is_replayed {
            self.replay_ended(Ended::Ok);
        }
        self.count(Action::Link, Outcome::Ok);
        Ok(())
    }

    fn count_ended(&self, action: Action, outcome: Outcome, ended: Ended) {
        match ended {
            Ended::Ok => self.count(action, outcome),
            Ended::Retrying => self.count(action, Outcome::Retrying),
            Ended::Failed => self.count(action, Outcome::Failed),
            // New operations are planned from the records as they are now: never stale.
            Ended::Superseded => self.count(Action::Skip, Outcome::Unchanged),
        }
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
