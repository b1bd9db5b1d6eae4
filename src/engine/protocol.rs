//! The engine protocol: commands in, events out, as serde enums so the in-process channel and the
//! Unix-socket transport (for attaching to `ghlsync run`) carry the same values.

use crate::store::{LogEntry, Operation, RunRecord};
use crate::sync::{RetryMode, RetryReport, RunOptions, RunReport, Selection};
use serde::{Deserialize, Serialize};

/// A request to the engine; `id` pairs it with its `Event::Reply`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub id: u64,
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
    /// Stop after the current command.
    Shutdown,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum Reply {
    Run { report: RunReport },
    Retried { report: RetryReport },
    Closed { ids: Vec<u64> },
    FailedQueue { operations: Vec<Operation> },
    Status { status: Box<Status> },
    Log { entries: Vec<LogEntry> },
    Done,
    Error { class: String, message: String },
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
}
