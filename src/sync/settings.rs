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
    /// Lanes of one change page written at once (`pages.rs`); 1 = one record at a time. GHL's
    /// rate limit is kept by the client's limiter whatever this is.
    #[serde(default = "default_lanes")]
    pub lanes: usize,
    /// How long a write that failed for a passing reason (5xx, timeout, 429, auth) waits before
    /// each later attempt, across runs; the last step repeats. Past 10 attempts or 24 hours the
    /// operation is dead and waits for a person.
    #[serde(default)]
    pub retry_ladder: RetryLadder,
}

/// The waits of the retry ladder, written as durations (`["5m", "30m", "1h", "3h", "6h"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryLadder(pub Vec<std::time::Duration>);

impl Default for RetryLadder {
    /// Zapier-like (sync-design.md §2.8): support staff act on a CRM sync the same day.
    fn default() -> Self {
        RetryLadder(
            [5, 30, 60, 180, 360]
                .map(|minutes| std::time::Duration::from_secs(minutes * 60))
                .to_vec(),
        )
    }
}

impl RetryLadder {
    /// The wait after failed attempt number `attempt` (1 for the first).
    pub fn wait(&self, attempt: u32) -> std::time::Duration {
        let step = (attempt.saturating_sub(1) as usize).min(self.0.len().saturating_sub(1));
        self.0.get(step).copied().unwrap_or_default()
    }
}

impl Serialize for RetryLadder {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .iter()
                .map(|wait| humantime::format_duration(*wait).to_string()),
        )
    }
}

impl<'de> Deserialize<'de> for RetryLadder {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        if texts.is_empty() {
            return Err(serde::de::Error::custom(
                "retry_ladder needs at least one wait, like [\"5m\", \"30m\", \"1h\"]",
            ));
        }
        texts
            .iter()
            .map(|text| {
                humantime::parse_duration(text).map_err(|err| {
                    serde::de::Error::custom(format!(
                        "retry_ladder: {text:?} is not a duration ({err}); write waits like \"5m\" or \"1h\""
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(RetryLadder)
    }
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
            retry_ladder: RetryLadder::default(),
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
