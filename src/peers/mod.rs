//! Peer apps behind one trait. Each connector declares what it can do per entity, reads changes
//! as pages behind an opaque cursor, and writes by its natural upsert key.

pub mod health;
pub mod http;
pub mod model;
pub mod repsly;
pub mod rest;

pub use health::{HealthRecorder, PeerHealth};
pub use model::{EntityKind, PeerRecord, WriteOutcome};

use serde::{Deserialize, Serialize};

/// How a peer exposes changes of one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeDetection {
    /// An opaque cursor (timestamp or last id) that only moves forward.
    Cursor,
    /// A rolling date window re-read each run and diffed locally.
    PollWindow,
    /// The whole list each run, diffed by content hash.
    FullListing,
    /// Changes arrive pushed to ghlsync.
    InboundWebhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityCapability {
    pub kind: EntityKind,
    pub read: bool,
    pub write: bool,
    pub changes: ChangeDetection,
}

/// One page of changes. `next_cursor` is saved only after every record on the page is committed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePage {
    pub records: Vec<PeerRecord>,
    /// Where the next read starts; `None` keeps the current cursor.
    pub next_cursor: Option<String>,
    /// True when the peer has nothing after this page.
    pub done: bool,
}

/// Every peer failure, classified like GHL's so the failed queue treats both sides alike.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("{peer} {operation}: {detail}")]
    Transient {
        peer: String,
        operation: String,
        detail: String,
    },
    #[error(
        "{peer} {operation}: the outcome is unknown ({detail}); look the record up before retrying"
    )]
    Ambiguous {
        peer: String,
        operation: String,
        detail: String,
    },
    #[error(
        "{peer} {operation}: authentication failed ({detail}); check the API username and password"
    )]
    Auth {
        peer: String,
        operation: String,
        detail: String,
    },
    #[error("{peer} {operation}: rejected: {detail}")]
    Validation {
        peer: String,
        operation: String,
        detail: String,
        /// The field the refusal is about (a required field left empty, the key of Repsly's
        /// `ModelState`), when it names one.
        field: Option<String>,
    },
    #[error("{peer} {operation}: not found: {detail}")]
    NotFound {
        peer: String,
        operation: String,
        detail: String,
    },
    #[error("{peer} {operation}: could not understand the answer: {detail}")]
    Decode {
        peer: String,
        operation: String,
        detail: String,
    },
    #[error("{peer}: {detail}")]
    Unsupported { peer: String, detail: String },
}

impl PeerError {
    pub fn class(&self) -> crate::net::ErrorClass {
        use crate::net::ErrorClass;
        match self {
            PeerError::Transient { .. } => ErrorClass::Transient,
            PeerError::Ambiguous { .. } => ErrorClass::Ambiguous,
            PeerError::Auth { .. } => ErrorClass::Auth,
            PeerError::Validation { .. } => ErrorClass::Validation,
            PeerError::NotFound { .. } => ErrorClass::NotFound,
            PeerError::Decode { .. } => ErrorClass::Decode,
            PeerError::Unsupported { .. } => ErrorClass::ScopeOrConfig,
        }
    }

    /// The field a refusal names, when it names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            PeerError::Validation { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

/// A peer app. Object-safe (`Box<dyn Peer>`), so connectors can be chosen from config.
#[async_trait::async_trait]
pub trait Peer: Send + Sync {
    /// Short lowercase name used in keys and logs ("repsly").
    fn name(&self) -> &str;
    fn capabilities(&self) -> Vec<EntityCapability>;
    /// Reads the page of changes of `kind` after `cursor` (`None` = from the beginning).
    async fn fetch_changes(
        &self,
        kind: EntityKind,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError>;
    /// Whether `get` can read a record of `kind` by its id. When it cannot, the engine keeps
    /// such records in their operations, so a retry can plan them again.
    fn can_get(&self, kind: EntityKind) -> bool {
        let _ = kind;
        true
    }
    /// Reads one record by its peer id; `Ok(None)` when the peer has no such record.
    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError>;
    /// Creates or updates a record by its natural key (in `record.id` / `record.fields`).
    async fn upsert(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError>;
    /// The checks `upsert` makes before any request (required fields, lengths): what a dry run
    /// reports as a write that would be refused.
    fn check(&self, record: &PeerRecord) -> Result<(), PeerError> {
        let _ = record;
        Ok(())
    }
    /// Deletes a record by its peer id. A peer that cannot delete says so (`Unsupported`).
    async fn delete(&self, kind: EntityKind, id: &str) -> Result<(), PeerError> {
        let _ = id;
        Err(PeerError::Unsupported {
            peer: self.name().to_string(),
            detail: format!("{kind}s cannot be deleted through this connector"),
        })
    }
    /// How the peer's API has been answering this process's calls.
    fn health(&self) -> PeerHealth {
        PeerHealth::default()
    }
}
