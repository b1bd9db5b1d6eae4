//! The values the store keeps: the schema of ghlsync's durable state. Each type's tree and key
//! layout is in ARCHITECTURE.md ("The store").

use crate::net::ErrorClass;
use crate::peers::EntityKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which way a record travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    ToGhl,
    ToPeer,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToGhl => "to_ghl",
            Direction::ToPeer => "to_peer",
        }
    }

    /// For people: `→ GHL`, `→ peer` (where the write goes).
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ToGhl => "→ GHL",
            Direction::ToPeer => "→ peer",
        }
    }
}

/// What a write does on the target side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Delete policy "tag": mark instead of delete.
    Tag,
    Skip,
    /// Linked to a record the target already held (found by its match keys or, for a child,
    /// by what it says and when), which already agreed: nothing was sent.
    Link,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Tag => "tag",
            Action::Skip => "skip",
            Action::Link => "link",
        }
    }
}

/// The lifecycle of `sync-design.md` §2.8.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum OpState {
    /// Intent persisted; the request may be in flight. Found at start-up, it means "reconcile".
    InFlight {
        owner: String,
        since: DateTime<Utc>,
    },
    /// Waiting for `next_at` on the retry ladder.
    RetryScheduled {
        next_at: DateTime<Utc>,
    },
    /// Needs a person: no automatic retry.
    Failed,
    /// Past the attempt/age cap: manual only.
    Dead,
    /// Waits for something outside it, not for a retry: a child whose contact is not linked
    /// (skipped, unmatchable, or its own write failed). The error names that parent and why.
    /// Every run looks at parked operations again and sends those whose wait is over; nothing
    /// counts as an attempt meanwhile.
    Parked,
    Done,
    Skipped,
    Resolved,
}

impl OpState {
    /// The short name used in the `ops_by_state` index and on screens.
    pub fn name(&self) -> &'static str {
        match self {
            OpState::InFlight { .. } => "in_flight",
            OpState::RetryScheduled { .. } => "retry_scheduled",
            OpState::Failed => "failed",
            OpState::Dead => "dead",
            OpState::Parked => "parked",
            OpState::Done => "done",
            OpState::Skipped => "skipped",
            OpState::Resolved => "resolved",
        }
    }
}

/// The last error an operation met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpError {
    pub class: ErrorClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// The failure's stable reason code (`sync::reason::ReasonCode`: `no_match_key`,
    /// `ghl_rejected_field`, `transient`, …), set where the failure is recorded; `None` only in
    /// operations recorded before every failure had one (`failed::reason_code` falls back to the
    /// class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The field the refusal named (GHL's validation message, the peer's missing field), when it
    /// named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// One outbound write, persisted before it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub id: u64,
    pub peer: String,
    pub kind: EntityKind,
    pub direction: Direction,
    pub action: Action,
    /// The record's id on the side it came from.
    pub source_id: String,
    /// The record's id on the target side, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// For children: the parent's id on the target side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_parent_id: Option<String>,
    /// Exactly what is (or was) sent.
    pub payload: Value,
    /// The source record as read, so a retry can re-map it with the current mapping. Null (and
    /// not written) in the intent of a peer → GHL write: it joins the operation when the
    /// operation fails (`sync::execute::Source`).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub source: Value,
    /// Which mapping produced `payload`.
    pub mapping_fingerprint: String,
    /// For an update: the hash of the target record as the payload was planned against it, as
    /// GHL-side fields (a peer record mapped to GHL; a GHL contact projected on the mapping's GHL
    /// fields, as the baseline's `ghl_hash`). A write sent later than planned (found in flight
    /// after a crash, or retried from the queue) goes out only if the target still hashes the
    /// same, or already holds what the write makes it; otherwise it would overwrite a newer edit
    /// with older values. `None`: nothing to check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_against: Option<String>,
    /// For a write whose intent leaves its source record out (`source` null): the hash of the
    /// GHL-side fields that record mapped to when the payload was planned. An operation found in
    /// flight after a crash takes the peer's record as its source again only if it still hashes
    /// the same; a newer edit must not become the baseline of a write that did not carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_hash: Option<String>,
    /// For tasks, notes and appointments: the peer id of the contact they belong to. Kept in the
    /// intent itself, so a child's link names its contact even when the operation is finished
    /// after a crash and the peer cannot read the child again (Repsly notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// For a GHL contact update: the key (`email` or `phone`, with the contact's value) that
    /// GHL held on this contact alone when the update was planned, so the whole update goes as
    /// one upsert by it (PUT cannot carry `companyName`). `None`: PUT, and an upsert by a key
    /// looked up first for what PUT cannot carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upsert_by: Option<UpsertKey>,
    pub state: OpState,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<OpError>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<u64>,
}

/// A key an upsert finds one GHL contact by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertKey {
    /// `email` or `phone`.
    pub field: String,
    pub value: String,
}

/// A link between a peer record and its GHL twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdLink {
    pub ghl_id: String,
    pub linked_at: DateTime<Utc>,
    /// For tasks, notes and appointments: the peer id of the contact they belong to, so the
    /// console can list children across contacts without asking the peer. Absent in links
    /// written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// For contacts: the sort name its `contact_list` entry is filed under, so a rename finds
    /// the entry to remove. Kept on the link (which every list change writes or reads anyway)
    /// rather than in a tree of its own: one read and one write fewer per commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_as: Option<String>,
}

/// What both sides looked like after the last successful sync of a record: the base of the
/// three-way comparison that makes unchanged records free and detects conflicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Hash of the peer record's mapped (GHL-side) fields at the last sync.
    pub peer_hash: String,
    /// Hash of the GHL record's mapped (GHL-side) fields at the last sync.
    pub ghl_hash: String,
    /// The GHL-side field values agreed at the last sync (for per-field conflict decisions).
    pub fields: serde_json::Map<String, Value>,
    pub synced_at: DateTime<Utc>,
}

/// One record outcome in the sync log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub at: DateTime<Utc>,
    pub trigger: String,
    pub peer: String,
    pub direction: Direction,
    pub kind: EntityKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ghl_id: Option<String>,
    pub action: Action,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<ErrorClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub duration_ms: u64,
    /// Field → [before, after] for what changed.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub diff: serde_json::Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Unchanged,
    Conflict,
    Failed,
    Retrying,
    /// Already waiting in the failed queue; not sent again this run.
    Queued,
    /// Held back until something else syncs first (its contact, the same person's other write).
    Parked,
    DryRun,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Unchanged => "unchanged",
            Outcome::Conflict => "conflict",
            Outcome::Failed => "failed",
            Outcome::Retrying => "retrying",
            Outcome::Queued => "queued",
            Outcome::Parked => "parked",
            Outcome::DryRun => "dry_run",
        }
    }
}

/// One sync run: when, why, and counts by action × outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: u64,
    pub trigger: String,
    pub peer: String,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// "create/ok" → count.
    pub counts: std::collections::BTreeMap<String, u64>,
    pub dry_run: bool,
}

/// A saved mapping version (the editor's undo history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingVersion {
    pub version: u32,
    pub text: String,
    pub saved_at: DateTime<Utc>,
    pub fingerprint: String,
}
