//! Prospect events as the Zapier bridge posts them, and as they are kept on disk: one JSONL file
//! per event in `events/prospects/` (created, qualified, unqualified) or `events/replies/`
//! (replied), which the file connector's inbox walk reads and moves to `done/` once synced.
//!
//! The body the bridge posts:
//! `{"id": "evt_1", "type": "replied", "occurred_at": "2025-01-02T10:00:00Z",
//!   "prospect": {"email": "ann@example.com", "first_name": "Ann", …},
//!   "reply": {"subject": "Re: intro", "body": "Happy to talk"}}`
//! `prospect` uses the connector's field names (those of `columns`); `reply` only for replied.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// What happened to a prospect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Replied,
    Qualified,
    Unqualified,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Replied => "replied",
            EventKind::Qualified => "qualified",
            EventKind::Unqualified => "unqualified",
        }
    }

    /// The prospect's Growbots status after the event, when the event sets one.
    pub fn status(self) -> Option<&'static str> {
        match self {
            EventKind::Qualified => Some("Qualified"),
            EventKind::Unqualified => Some("Unqualified"),
            EventKind::Created | EventKind::Replied => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub subject: Option<String>,
    pub body: String,
}

/// One event, checked: an id, a known type, a time, the prospect's email.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    pub prospect: Map<String, Value>,
    #[serde(default)]
    pub reply: Option<Reply>,
}

impl Event {
    /// Reads and checks a body; the error says what is wrong in the bridge's terms.
    pub fn parse(body: &[u8]) -> Result<Event, String> {
        let event: Event = serde_json::from_slice(body).map_err(|err| {
            format!("the body is not an event ({err}); post {{\"id\", \"type\", \"occurred_at\", \"prospect\": {{\"email\", …}}}}")
        })?;
        if event.id.trim().is_empty() || event.id.len() > 200 {
            return Err("`id` must be 1 to 200 characters: the event's own id".into());
        }
        if event.email().is_none() {
            return Err(
                "`prospect.email` is missing: every event names its prospect by email".into(),
            );
        }
        if event.kind == EventKind::Replied
            && event
                .reply
                .as_ref()
                .is_none_or(|r| r.body.trim().is_empty())
        {
            return Err("a replied event needs `reply.body`".into());
        }
        Ok(event)
    }

    pub fn email(&self) -> Option<&str> {
        self.prospect
            .get("email")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|email| !email.is_empty())
    }

    /// The JSONL line kept on disk: flat, the event's id under `event_id`.
    pub fn stored_line(&self) -> Value {
        let mut line = Map::new();
        line.insert("event_id".into(), json!(self.id));
        line.insert("event".into(), json!(self.kind.as_str()));
        line.insert("occurred_at".into(), json!(self.occurred_at.to_rfc3339()));
        match (&self.reply, self.kind) {
            (Some(reply), EventKind::Replied) => {
                line.insert("prospect_email".into(), json!(self.email()));
                line.insert("subject".into(), json!(reply.subject));
                line.insert("body".into(), json!(reply.body));
            }
            _ => {
                for (field, value) in &self.prospect {
                    if !value.is_null() && !line.contains_key(field) {
                        line.insert(field.clone(), value.clone());
                    }
                }
            }
        }
        Value::Object(line)
    }

    /// The file it is kept in: its time first, so the walk reads events in the order they
    /// happened; the same event always gets the same name.
    pub fn file_name(&self) -> String {
        let digest = Sha256::digest(self.id.as_bytes());
        let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{hash}.jsonl",
            self.occurred_at.format("%Y%m%dT%H%M%S%.3fZ")
        )
    }
}

/// Where a connection keeps its events: under the `events` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFolders {
    pub root: PathBuf,
}

impl EventFolders {
    pub fn new(root: &Path) -> EventFolders {
        EventFolders {
            root: root.to_path_buf(),
        }
    }
    /// created, qualified and unqualified events.
    pub fn prospects(&self) -> PathBuf {
        self.root.join("prospects")
    }
    /// replied events.
    pub fn replies(&self) -> PathBuf {
        self.root.join("replies")
    }
    /// The inbox an event is kept in.
    pub fn inbox_of(&self, kind: EventKind) -> PathBuf {
        match kind {
            EventKind::Replied => self.replies(),
            _ => self.prospects(),
        }
    }
    /// Every prospect event synced (the file connector's export of that inbox).
    pub fn prospects_ledger(&self) -> PathBuf {
        self.root.join("prospect-events.jsonl")
    }
    /// Every reply synced.
    pub fn replies_ledger(&self) -> PathBuf {
        self.root.join("replies.jsonl")
    }
    /// The receiver's record of what it accepted (signatures, event ids).
    pub fn received_log(&self) -> PathBuf {
        self.root.join("received.log")
    }
}
