//! Peer apps behind one trait. Each connector declares what it can do per entity, reads changes
//! as pages behind an opaque cursor, and writes by its natural upsert key.

pub mod file;
pub mod growbots;
pub mod health;
pub mod http;
pub mod model;
mod named;
pub mod push;
pub mod registry;
pub mod repsly;
pub mod rest;
pub mod rezora;
pub mod robly;

pub use health::{HealthRecorder, PeerHealth};
pub use model::{EntityKind, PeerRecord, WriteOutcome};
pub use named::NamedPeer;

use serde::{Deserialize, Serialize};

use crate::net::ErrorClass;

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

/// Every peer failure, classified like GHL's so the failed queue treats both sides alike. The
/// class decides what happens next (retry, look up, fix the data, fix the config); the message
/// says it in words.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub struct PeerError {
    pub peer: String,
    /// What was being done ("GET clients", "import/client"); empty when the failure is about the
    /// peer as a whole (an unsupported entity, a missing setting).
    pub operation: String,
    pub class: ErrorClass,
    pub detail: String,
    /// The field a refusal is about (a required field left empty, the key of Repsly's
    /// `ModelState`), when it names one.
    pub field: Option<String>,
    /// A reason code of the connector's own, when the refusal's data says more than its class
    /// (`sync::reason::ReasonCode::classify` keeps it).
    pub reason: Option<crate::sync::reason::ReasonCode>,
    /// Set by a create that found the peer already holding the record (by its natural key, as
    /// an app with no upsert must look): its id there. Nothing was written; whether to adopt
    /// it is the sync's decision (`sync::send`), since only the store knows whether another
    /// GHL contact already owns it.
    pub existing: Option<Box<str>>,
}

impl PeerError {
    pub fn new(
        peer: impl Into<String>,
        operation: impl Into<String>,
        class: ErrorClass,
        detail: impl Into<String>,
    ) -> Self {
        PeerError {
            peer: peer.into(),
            operation: operation.into(),
            class,
            detail: detail.into(),
            field: None,
            reason: None,
            existing: None,
        }
    }

    /// A create that found the record already there as `id` (by `key`, e.g. "email"), and
    /// wrote nothing.
    pub fn exists(
        peer: impl Into<String>,
        operation: impl Into<String>,
        id: impl Into<String>,
        key: &str,
    ) -> Self {
        let id = id.into();
        let mut err = PeerError::new(
            peer,
            operation,
            ErrorClass::Validation,
            format!("the app already holds this record as {id} (same {key})"),
        );
        err.existing = Some(id.into_boxed_str());
        err
    }

    /// Names the field the failure is about, so the failed queue files it under that field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Files the failure under `reason` rather than the code its class and field give.
    pub fn with_reason(mut self, reason: crate::sync::reason::ReasonCode) -> Self {
        self.reason = Some(reason);
        self
    }

    /// Something the peer cannot do, or is not set up to do: fix the config.
    pub fn unsupported(peer: impl Into<String>, detail: impl Into<String>) -> Self {
        PeerError::new(peer, "", ErrorClass::ScopeOrConfig, detail)
    }

    pub fn class(&self) -> ErrorClass {
        self.class
    }

    /// The field a refusal names, when it names one.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// What failed and what to do about it, worded by class.
    pub fn message(&self) -> String {
        let PeerError {
            peer,
            operation,
            detail,
            ..
        } = self;
        let at = if operation.is_empty() {
            peer.clone()
        } else {
            format!("{peer} {operation}")
        };
        match self.class {
            ErrorClass::Ambiguous => format!(
                "{at}: the outcome is unknown ({detail}); look the record up before retrying"
            ),
            ErrorClass::Auth => {
                format!("{at}: authentication failed ({detail}); check the peer's API credentials")
            }
            ErrorClass::RateLimited => {
                format!("{at}: rate limited ({detail}); wait, then run again")
            }
            ErrorClass::Validation => format!("{at}: rejected: {detail}"),
            ErrorClass::NotFound => format!("{at}: not found: {detail}"),
            ErrorClass::Decode => format!(
                "{at}: could not understand the answer: {detail}; check that base_url is the app's API (a proxy or a login page answers otherwise), or report it with this excerpt"
            ),
            ErrorClass::Transient | ErrorClass::ScopeOrConfig => format!("{at}: {detail}"),
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
    /// Called once the page whose `next_cursor` is `cursor` is committed and that cursor saved
    /// (never in a dry run, nor for a page a `--limit` cut short). A peer that consumes its
    /// source as it reads it (the file peer moves an inbox file to `done/`) lets go of the page
    /// here; for the others there is nothing to do.
    async fn page_committed(&self, kind: EntityKind, cursor: &str) -> Result<(), PeerError> {
        let _ = (kind, cursor);
        Ok(())
    }
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
    /// Deletes a record by its peer id. A peer that cannot delete says so (class scope_or_config).
    async fn delete(&self, kind: EntityKind, id: &str) -> Result<(), PeerError> {
        let _ = id;
        Err(PeerError::unsupported(
            self.name(),
            format!("{kind}s cannot be deleted through this connector"),
        ))
    }
    /// How the peer's API has been answering this process's calls.
    fn health(&self) -> PeerHealth {
        PeerHealth::default()
    }
    /// An event the app pushed to `POST /webhooks/peer/<name>`: verified (and, for a peer that
    /// keeps its own events, stored durably) before this returns. `None`: this peer takes no
    /// pushes. May block on file I/O: the engine calls it on a blocking thread.
    fn accept_push(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Option<Result<push::PushAccepted, push::Refused>> {
        let _ = (headers, body);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message says what to do next in the class's words; a peer-wide failure has no
    /// operation to name.
    #[test]
    fn messages_are_worded_by_class() {
        let err = |class| PeerError::new("repsly", "import/client", class, "HTTP 503").to_string();
        assert_eq!(
            err(ErrorClass::Ambiguous),
            "repsly import/client: the outcome is unknown (HTTP 503); look the record up before retrying"
        );
        assert!(err(ErrorClass::Auth).contains("check the peer's API credentials"));
        assert_eq!(
            err(ErrorClass::Validation),
            "repsly import/client: rejected: HTTP 503"
        );
        assert_eq!(err(ErrorClass::Transient), "repsly import/client: HTTP 503");
        let unsupported = PeerError::unsupported("repsly", "tasks are not synced");
        assert_eq!(unsupported.to_string(), "repsly: tasks are not synced");
        assert_eq!(unsupported.class(), ErrorClass::ScopeOrConfig);
        let refused =
            PeerError::new("file", "upsert", ErrorClass::Validation, "empty").with_field("email");
        assert_eq!(
            (refused.field(), refused.class()),
            (Some("email"), ErrorClass::Validation)
        );
    }
}
