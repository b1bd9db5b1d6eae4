//! The compiled mapping's vocabulary: directions, authorities, match keys, GHL field references
//! and the per-field rule. These are what the engine and the console read; the TOML schema in
//! `file.rs` is only how they are written down.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use super::transforms::Transform;

/// Which way a field flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Peer → GHL only: the peer owns the field.
    ToGhl,
    /// GHL → peer only: GHL owns the field.
    ToPeer,
    /// Both ways; a conflict is settled by the field's [`Authority`].
    Both,
}

impl Direction {
    pub const NAMES: &'static str = "to_ghl, to_peer, both";

    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "to_ghl" => Some(Direction::ToGhl),
            "to_peer" => Some(Direction::ToPeer),
            "both" => Some(Direction::Both),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToGhl => "to_ghl",
            Direction::ToPeer => "to_peer",
            Direction::Both => "both",
        }
    }

    pub fn to_ghl(self) -> bool {
        matches!(self, Direction::ToGhl | Direction::Both)
    }

    pub fn to_peer(self) -> bool {
        matches!(self, Direction::ToPeer | Direction::Both)
    }
}

/// Who wins when both sides changed a two-way field since the last agreed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    Peer,
    Ghl,
    /// The change observed last wins (remote clocks are not trusted, see sync-design §3.1).
    Latest,
}

impl Authority {
    pub const NAMES: &'static str = "peer, ghl, latest";

    pub fn parse(text: &str) -> Option<Authority> {
        match text {
            "peer" => Some(Authority::Peer),
            "ghl" => Some(Authority::Ghl),
            "latest" => Some(Authority::Latest),
            _ => None,
        }
    }
}

/// How a peer record finds its GHL contact, tried in the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKey {
    /// The GHL custom field named by `external_id` holds the peer's id.
    ExternalId,
    Email,
    Phone,
}

impl MatchKey {
    pub const NAMES: &'static str = "external_id, email, phone";

    pub fn parse(text: &str) -> Option<MatchKey> {
        match text {
            "external_id" => Some(MatchKey::ExternalId),
            "email" => Some(MatchKey::Email),
            "phone" => Some(MatchKey::Phone),
            _ => None,
        }
    }
}

/// A GHL custom field, named the way the mapping file names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomFieldRef {
    Id(String),
    Key(String),
}

impl CustomFieldRef {
    /// The write form GHL accepts: `{id | key, field_value}`. A key whose id is known is
    /// written by id (`resolved_id`): GHL's list and object values require `id`.
    pub fn input(&self, value: Value, resolved_id: Option<&str>) -> Value {
        let mut entry = Map::new();
        match (self, resolved_id) {
            (CustomFieldRef::Id(id), _) => entry.insert("id".into(), Value::String(id.clone())),
            (CustomFieldRef::Key(_), Some(id)) => {
                entry.insert("id".into(), Value::String(id.to_string()))
            }
            (CustomFieldRef::Key(key), None) => {
                entry.insert("key".into(), Value::String(key.clone()))
            }
        };
        entry.insert("field_value".into(), value);
        Value::Object(entry)
    }

    /// True when a read-side entry (`{id, value}`, sometimes with `key`/`fieldKey`) is this field.
    /// GHL reads carry ids only; a key matches when the entry names its key, or after
    /// `Mapping::resolve_custom_field_ids` has learnt the id.
    pub fn matches(&self, entry: &Value, resolved_id: Option<&str>) -> bool {
        let text = |name: &str| entry.get(name).and_then(Value::as_str);
        match self {
            CustomFieldRef::Id(id) => text("id") == Some(id),
            CustomFieldRef::Key(key) => {
                let same_key = |found: &str| {
                    found == key || found.strip_prefix("contact.") == Some(key.as_str())
                };
                text("key").is_some_and(same_key)
                    || text("fieldKey").is_some_and(same_key)
                    || resolved_id.is_some_and(|id| text("id") == Some(id))
            }
        }
    }
}

impl fmt::Display for CustomFieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomFieldRef::Id(id) => write!(f, "customField:id:{id}"),
            CustomFieldRef::Key(key) => write!(f, "customField:key:{key}"),
        }
    }
}

/// One GHL-side field of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GhlField {
    /// A DTO property with GHL's camelCase name (`firstName`, `dueDate`, `tags`).
    Standard(String),
    Custom(CustomFieldRef),
}

impl fmt::Display for GhlField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GhlField::Standard(name) => f.write_str(name),
            GhlField::Custom(custom) => custom.fmt(f),
        }
    }
}

/// One `[[<entity>.field]]` entry, checked and with its GHL → peer chain worked out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldRule {
    /// Peer field names: the sources going to GHL, the targets coming back. Empty for a constant
    /// written to GHL.
    pub peer: Vec<String>,
    /// GHL fields: the targets going to GHL, the sources coming back. Empty for a constant
    /// written to the peer.
    pub ghl: Vec<GhlField>,
    /// A fixed value used instead of reading a source.
    pub constant: Option<Value>,
    pub direction: Direction,
    /// For `both`: the field's own authority, or the entity's `conflict` default.
    pub authority: Authority,
    pub required: bool,
    /// Peer → GHL chain (for `to_peer` rules: the GHL → peer chain as written).
    pub transforms: Vec<Transform>,
    /// GHL → peer chain of a `both` rule: `to_peer_transforms`, or the inverse of `transforms`.
    pub to_peer_transforms: Vec<Transform>,
    /// Line of the rule in its file, so the console can point at it.
    #[serde(skip)]
    pub line: usize,
    /// Line and column of the rule's `ghl` value: where a missing custom field is named.
    #[serde(skip)]
    pub ghl_at: (usize, usize),
}

impl FieldRule {
    /// `Email`, `ScheduledDate + ScheduledTime`, or `= "repsly"` for a constant.
    pub fn peer_label(&self) -> String {
        match (&self.constant, self.peer.is_empty()) {
            (Some(value), true) => format!("= {value}"),
            _ => self.peer.join(" + "),
        }
    }

    pub fn ghl_label(&self) -> String {
        match (&self.constant, self.ghl.is_empty()) {
            (Some(value), true) => format!("= {value}"),
            _ => {
                let names: Vec<String> = self.ghl.iter().map(ToString::to_string).collect();
                names.join(" + ")
            }
        }
    }

    /// The chain used in the GHL → peer direction.
    pub fn chain_to_peer(&self) -> &[Transform] {
        match self.direction {
            Direction::ToPeer => &self.transforms,
            _ => &self.to_peer_transforms,
        }
    }

    /// True when the rule reads or writes this GHL field (`email`, `customField:key:x`).
    pub fn touches_ghl(&self, name: &str) -> bool {
        self.ghl.iter().any(|field| field.to_string() == name)
    }
}

/// The result of mapping one record: the fields that mapped, and what went wrong on the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MappedRecord {
    pub fields: Map<String, Value>,
    pub problems: Vec<FieldProblem>,
}

/// A field-level problem. The record still maps; this field was dropped (or, for a truncation,
/// kept shortened) and the problem is shown in the log and the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// The target field (GHL name going to GHL, peer name coming back).
    pub field: String,
    pub message: String,
    /// True when the value was left out; false when it was kept with a change (truncation).
    pub dropped: bool,
}
