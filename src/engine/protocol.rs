//! The engine protocol: commands in, events out, as serde enums so the in-process channel and the
//! Unix-socket transport (for attaching to `ghlsync run`) carry the same values.

use super::board::{Alert, ServiceStatus};
use crate::ghl::models::{Appointment, Note, Task};
use crate::peers::{EntityKind, PeerRecord};
use crate::store::{Direction, LogEntry, MappingVersion, Operation, RunRecord};
use crate::sync::mapping::FieldPreview;
use crate::sync::{RecordRef, RetryMode, RetryReport, RunOptions, RunReport, Selection};
use serde::{Deserialize, Serialize};

/// A request to the engine; `id` pairs it with its `Event::Reply` where a transport frames
/// replies as events (in process, `EngineHandle::call` returns the reply itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub id: u64,
    /// The peer the command is about; `None`: every peer for a sync, a retry or a close, the
    /// first peer for a command about one peer's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    pub command: Command,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum Command {
    /// One sync run (replies when it ends).
    Sync {
        options: RunOptions,
    },
    Retry {
        selection: Selection,
        mode: RetryMode,
    },
    /// Skip (`resolved: false`) or mark resolved.
    Close {
        selection: Selection,
        resolved: bool,
    },
    FailedQueue,
    Status,
    LogTail {
        limit: usize,
    },
    /// Contacts in name order with their sync state (the console's list): the first `limit`
    /// (a first screenful, fast), or every one the store knows.
    Contacts {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// One contact in full: both records, the mapped difference, history, children. By GHL
    /// id, a contact linked to a peer record is that record's detail; one not linked yet (a
    /// GHL → peer create that failed) is shown from GHL alone.
    ContactDetail {
        contact: ContactRef,
    },
    /// Tasks, notes or appointments of every contact, one page at a time, each with the contact
    /// it belongs to (the console's "all contacts" scope).
    Children {
        kind: EntityKind,
        offset: usize,
        limit: usize,
    },
    /// The mapping in force and its saved versions.
    Mapping,
    /// Validates mapping text without saving it.
    MappingCheck {
        text: String,
    },
    /// Applies mapping text to one real contact in the direction it syncs: a peer record's
    /// values as they would go to GHL, a GHL contact's as they would go to the peer (in the
    /// peer's field names).
    MappingPreview {
        text: String,
        record: RecordRef,
    },
    /// Validates, saves as a new version, and puts it in force for the next write.
    SaveMapping {
        text: String,
    },
    /// Puts the previous saved version back in force (as a new version).
    UndoMapping,
    /// The service's alerts: open ones and the recent history (`Reply::Alerts`).
    Alerts,
    /// What the alert checks read, cheaply (`Status` counts the whole sync log):
    /// `Reply::Health`.
    Health,
    /// Stop taking writes and wait for the one in progress: a run starts no record after this
    /// (what is in flight finishes and commits); later writers are refused. SIGTERM's first step.
    Drain,
    /// Read config, mappings and connector files again and put them in force for the next
    /// write; a peer whose files do not load keeps its old ones (`Reply::Reloaded`).
    Reload,
    /// Stop after the current command.
    Shutdown,
    // ---- webhooks (engine/inbox.rs) ----
    /// A webhook delivery the receiver took (GHL's signature already checked there): queued
    /// durably, then answered `Accepted` (or `Error {class: "busy"}`: answer 429).
    Deliver {
        delivery: Delivery,
    },
    /// Starts the inbox worker with these limits (the service, at start; else the first
    /// `Deliver` starts it with the defaults). Deliveries left from before are processed.
    ServeInbox {
        settings: InboxSettings,
    },
    /// "One contact now": its targeted run through the planner, for every peer whose flows
    /// want it. By GHL id, or by a peer's id (through its link).
    SyncContact {
        contact: ContactRef,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum Reply {
    Run {
        report: RunReport,
    },
    /// A sync of every peer: one report each, in the engine's peer order.
    Runs {
        reports: Vec<RunReport>,
    },
    Retried {
        report: RetryReport,
    },
    Closed {
        ids: Vec<u64>,
    },
    FailedQueue {
        operations: Vec<Operation>,
    },
    Status {
        status: Box<Status>,
    },
    Log {
        entries: Vec<LogEntry>,
    },
    Contacts {
        #[serde(flatten)]
        list: ContactList,
    },
    ContactDetail {
        detail: Box<ContactDetail>,
    },
    Children {
        page: ChildPage,
    },
    Mapping {
        text: String,
        origin: String,
        versions: Vec<MappingVersion>,
    },
    MappingChecked {
        problem: Option<MappingProblem>,
    },
    MappingPreview {
        rows: Vec<FieldPreview>,
        problem: Option<MappingProblem>,
        /// Which way the rows go: `to_ghl` for a peer record, `to_peer` for a GHL contact.
        direction: Direction,
    },
    MappingSaved {
        version: u32,
    },
    Alerts {
        open: Vec<Alert>,
        history: Vec<Alert>,
    },
    Health {
        health: Health,
    },
    Reloaded {
        /// Peers now running on the files just read.
        reloaded: Vec<String>,
        /// What kept old files in force, each naming the file and the fix.
        problems: Vec<String>,
    },
    Done,
    Error {
        class: String,
        message: String,
    },
    // ---- webhooks (engine/inbox.rs) ----
    /// The delivery is on disk (answer 200). `duplicate`: its id was seen before, nothing was
    /// queued; `ignored`: why an event needs no sync (another location, a type ghlsync does not
    /// use), nothing was queued.
    Accepted {
        duplicate: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ignored: Option<String>,
    },
    /// A peer refused a pushed event (its HTTP status and why; never a secret).
    Refused {
        status: u16,
        message: String,
    },
}

/// One webhook delivery as the receiver took it.
#[derive(Clone, Serialize, Deserialize)]
pub struct Delivery {
    /// `ghl`, or `peer:<name>`.
    pub source: String,
    /// The headers a peer checks (lowercase names); none for GHL, checked by the receiver.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: String,
}

impl std::fmt::Debug for Delivery {
    /// Header values hold signatures: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("source", &self.source)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// The inbox's limits (`[service.webhooks]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxSettings {
    /// Deliveries waiting before `Deliver` answers busy.
    pub queue_limit: usize,
    /// GHL's replay window; delivery ids are kept twice as long.
    pub replay_window_secs: u64,
}

impl From<&crate::config::service::WebhooksSection> for InboxSettings {
    fn from(section: &crate::config::service::WebhooksSection) -> Self {
        InboxSettings {
            queue_limit: section.queue_limit,
            replay_window_secs: section.replay_window_secs,
        }
    }
}

impl Default for InboxSettings {
    fn default() -> Self {
        InboxSettings::from(&crate::config::service::WebhooksSection::default())
    }
}

/// A contact named by the id one side knows it by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRef {
    /// The peer's id (a Repsly client's `Code`).
    Peer(String),
    /// GHL's contact id.
    Ghl(String),
}

impl ContactRef {
    pub fn id(&self) -> &str {
        match self {
            ContactRef::Peer(id) | ContactRef::Ghl(id) => id,
        }
    }
}

impl std::fmt::Display for ContactRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContactRef::Peer(id) => write!(f, "peer id {id}"),
            ContactRef::Ghl(id) => write!(f, "GHL id {id}"),
        }
    }
}

/// The console's contact list, or its first page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactList {
    pub rows: Vec<ContactRow>,
    /// False when `rows` is a first page and more contacts follow.
    pub complete: bool,
}

/// One line of the console's contact list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRow {
    /// `None` for a GHL contact not linked to a peer record yet (its GHL → peer create
    /// failed): the row is known by its GHL id alone.
    pub peer_id: Option<String>,
    pub ghl_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The contact's company (GHL's `companyName`), which the console's filter also matches.
    #[serde(default)]
    pub company: Option<String>,
    pub state: RowState,
    pub last_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl ContactRow {
    /// How the engine finds this contact: by peer id, else (not linked yet) by GHL id.
    pub fn contact(&self) -> Option<ContactRef> {
        match (&self.peer_id, &self.ghl_id) {
            (Some(peer_id), _) => Some(ContactRef::Peer(peer_id.clone())),
            (None, Some(ghl_id)) => Some(ContactRef::Ghl(ghl_id.clone())),
            (None, None) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowState {
    Synced,
    /// Waiting on the retry ladder.
    Queued,
    /// In the failed queue for a person.
    Failed,
    Conflict,
    /// Known to the store but not linked to a GHL contact.
    Unlinked,
}

/// Everything the console's contact detail shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContactDetail {
    /// `None` for a GHL contact not linked to a peer record yet.
    pub peer_id: Option<String>,
    pub ghl_id: Option<String>,
    pub peer: Option<PeerRecord>,
    pub ghl: Option<serde_json::Value>,
    /// The mapping applied to the peer record, field by field (empty without one).
    pub preview: Vec<FieldPreview>,
    /// The `target`s of the `preview` rows where the two sides disagree, by the planner's own
    /// comparison (`sync::differing_targets`): a row not named here is in sync.
    #[serde(default)]
    pub differences: Vec<String>,
    /// GHL's value now for each `preview` row's `target`, read as the planner reads it (a
    /// custom field by its resolved id): the detail's "GHL now" column.
    #[serde(default)]
    pub ghl_now: std::collections::BTreeMap<String, serde_json::Value>,
    /// This record's sync log entries, oldest first.
    pub history: Vec<LogEntry>,
    pub tasks: Vec<Task>,
    pub notes: Vec<Note>,
    pub appointments: Vec<Appointment>,
    /// Problems reading either side (shown, not fatal).
    pub problems: Vec<String>,
}

/// One page of a kind's children across all contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildPage {
    pub kind: EntityKind,
    /// Index of `rows[0]` in the whole ordered list.
    pub offset: usize,
    /// How many there are in all.
    pub total: usize,
    pub rows: Vec<ChildRow>,
    /// Problems finding the owning contacts (shown, not fatal).
    pub problems: Vec<String>,
}

/// A task, note or appointment as the store last synced it. Ordered by `at` (tasks,
/// appointments: soonest first) or by `synced_at` (notes: newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildRow {
    pub peer_id: String,
    pub ghl_id: Option<String>,
    /// The owning contact's peer id and display name, when known.
    pub contact_peer_id: Option<String>,
    pub contact_name: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
    /// Due date (tasks) or start (appointments).
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// End (appointments).
    pub end: Option<chrono::DateTime<chrono::Utc>>,
    /// Tasks only.
    pub completed: Option<bool>,
    /// Appointments only (`confirmed`, `cancelled`, …).
    pub status: Option<String>,
    pub state: RowState,
    pub synced_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A mapping error's position, for the editor to point at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingProblem {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// Everything `ghlsync status` and the console's status screen show.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub peer: String,
    pub location_id: String,
    pub cursors: Vec<(String, String)>,
    /// Failed-queue sizes by state (retry_scheduled, failed, dead) and in-flight operations.
    pub queue: std::collections::BTreeMap<String, usize>,
    pub last_runs: Vec<RunRecord>,
    pub rate_limit: RateLimitState,
    pub store_path: String,
    pub log_entries: usize,
    #[serde(default)]
    pub auth: crate::ghl::AuthInfo,
    #[serde(default)]
    pub peer_health: crate::peers::PeerHealth,
    /// Every peer of the engine, in its order (`peer` is the one this status is about).
    #[serde(default)]
    pub peers: Vec<PeerState>,
    /// Schedules, webhooks, lag and the last hour's figures, when the engine is `ghlsync run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceStatus>,
}

/// The engine's health in brief, for the service's alert checks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// Operations that went dead (out of retries), every peer's.
    pub dead: usize,
    /// Every peer, in the engine's order.
    pub peers: Vec<PeerState>,
    /// GHL 429s this process has seen.
    pub rate_limited_seen: u64,
    pub daily_limit: Option<u64>,
    pub daily_remaining: Option<u64>,
}

/// One peer of the engine, for the console's peer switcher and `status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerState {
    pub name: String,
    #[serde(default)]
    pub health: crate::peers::PeerHealth,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RateLimitState {
    pub max: u32,
    pub interval_ms: u64,
    pub tokens: f64,
    pub daily_limit: Option<u64>,
    pub daily_remaining: Option<u64>,
    pub requests_sent: u64,
    pub rate_limited_seen: u64,
    /// While a 429 holds every request back: when they may go again (unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until_ms: Option<i64>,
    /// When GHL reported `max` and `interval_ms` (its `X-RateLimit-*` headers), unix ms: in
    /// this process, or else the last run's (`Store::rate_limit_report`). `None`: nothing
    /// has reported them yet, and they are the client's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at_ms: Option<i64>,
}

/// The limits GHL last reported, kept in the store by each run so `status` in another
/// process shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitReport {
    pub max: u32,
    pub interval_ms: u64,
    #[serde(default)]
    pub daily_limit: Option<u64>,
    #[serde(default)]
    pub daily_remaining: Option<u64>,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    /// One record outcome, live.
    Log {
        entry: LogEntry,
    },
    Reply {
        id: u64,
        reply: Reply,
    },
    /// An alert raised or recovered (`engine::board`).
    Alert {
        alert: Alert,
    },
    /// The transport's own news (a socket client): the service was lost, or is back.
    Connection {
        connected: bool,
        message: String,
    },
}
