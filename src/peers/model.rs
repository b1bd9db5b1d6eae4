//! The common model every peer produces and accepts: one record shape for contacts, tasks, notes
//! and appointments, with the peer's own field names. The mapping engine turns these fields into
//! GHL DTO fields and back; nothing upstream of it knows a peer's schema.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Contact,
    Task,
    Note,
    Appointment,
}

impl EntityKind {
    pub const ALL: [EntityKind; 4] = [
        EntityKind::Contact,
        EntityKind::Task,
        EntityKind::Note,
        EntityKind::Appointment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Contact => "contact",
            EntityKind::Task => "task",
            EntityKind::Note => "note",
            EntityKind::Appointment => "appointment",
        }
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EntityKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EntityKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text || format!("{}s", kind.as_str()) == text)
            .ok_or_else(|| {
                format!("unknown entity {text:?}; expected contact, task, note or appointment")
            })
    }
}

/// One record as a peer holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerRecord {
    pub kind: EntityKind,
    /// The peer's stable key for the record (Repsly: a client's `Code`, a note's `ClientNoteID`).
    pub id: String,
    /// For tasks, notes and appointments: the owning contact's peer id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// When the peer last changed it, if the peer says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// False for records the peer deactivated or deleted (a tombstone).
    #[serde(default = "yes")]
    pub active: bool,
    /// Normalised fields with the peer's names (dates as ISO-8601 UTC strings).
    pub fields: Map<String, Value>,
    /// The payload exactly as the peer sent it, for inspection.
    #[serde(default)]
    pub raw: Value,
}

fn yes() -> bool {
    true
}

/// What a peer write did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteOutcome {
    /// The peer's id of the written record.
    pub id: String,
    pub created: bool,
    /// The peer's job or request reference (Repsly import job id), for the sync log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}
