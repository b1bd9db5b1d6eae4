//! What a sync run does, per peer: which flows are on, delete policies, tag rules. Read from the
//! `[peers.<name>]` section of ghlsync.toml by the caller; defaults are the safe choice.

use crate::peers::EntityKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// Flow switches per entity.
    #[serde(default)]
    pub contacts: FlowSwitch,
    #[serde(default)]
    pub tasks: FlowSwitch,
    #[serde(default)]
    pub notes: FlowSwitch,
    #[serde(default)]
    pub appointments: FlowSwitch,
    /// GHL calendar that peer appointments go to (default: the location's first active one).
    #[serde(default)]
    pub calendar_id: Option<String>,
    /// Tags added to the GHL contact when activity arrives (flow 6).
    #[serde(default)]
    pub tag_rules: Vec<TagRule>,
    /// Tag written by the "tag" delete policy.
    #[serde(default = "default_deleted_tag")]
    pub deleted_tag: String,
    /// Records of one change page sent at once (a wave, `pages.rs`); 1 = one at a time. At a
    /// page's size (Repsly's 50), a page is one wave: one flush and one commit transaction. GHL's
    /// rate limit is kept by the client's limiter whatever this is.
    #[serde(default = "default_lanes")]
    pub lanes: usize,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            contacts: FlowSwitch::default(),
            tasks: FlowSwitch::default(),
            notes: FlowSwitch::default(),
            appointments: FlowSwitch::default(),
            calendar_id: None,
            tag_rules: Vec::new(),
            deleted_tag: default_deleted_tag(),
            lanes: default_lanes(),
        }
    }
}

fn default_lanes() -> usize {
    50
}

fn default_deleted_tag() -> String {
    "deleted-in-peer".to_string()
}

impl SyncSettings {
    pub fn flow(&self, kind: EntityKind) -> &FlowSwitch {
        match kind {
            EntityKind::Contact => &self.contacts,
            EntityKind::Task => &self.tasks,
            EntityKind::Note => &self.notes,
            EntityKind::Appointment => &self.appointments,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSwitch {
    /// Peer → GHL.
    #[serde(default = "yes")]
    pub to_ghl: bool,
    /// GHL → peer (only where the peer accepts writes; contacts for Repsly).
    #[serde(default = "yes")]
    pub to_peer: bool,
    #[serde(default)]
    pub delete_policy: DeletePolicy,
}

impl Default for FlowSwitch {
    fn default() -> Self {
        FlowSwitch {
            to_ghl: true,
            to_peer: true,
            delete_policy: DeletePolicy::Ignore,
        }
    }
}

fn yes() -> bool {
    true
}

/// What a deletion (or deactivation) on the peer does on GHL (flow 7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletePolicy {
    #[default]
    Ignore,
    Mirror,
    Tag,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRule {
    pub when: Activity,
    pub tag: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    NoteAdded,
    TaskCompleted,
    AppointmentBooked,
}
