//! Robly members as contact records, and the change cursor.
//!
//! A member's record: `email`, each data field by its user tag (`fname`, `lname`, `phone`),
//! `sub_lists` (names, sorted), `opted_out` (unsubscribed, deleted, hard bounce, cleaned or
//! spam: what GHL's DND follows) and the raw flags. Always active: a deleted member is an
//! opted-out person, not a record to delete in GHL.
//!
//! The cursor: Robly lists members newest first by id, paged by `offset` with no total, and
//! filters by `updated_since`. A pass reads the changed members page by page; the next pass's
//! `updated_since` is the newest `updated_at` seen, less an overlap. Before it, a pass reads
//! the unfiltered list down to the member-id high-water mark, so a new member whose
//! `updated_at` is older than the watermark (an import keeping its dates) is not missed.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::peers::{EntityKind, PeerRecord};

/// Fields of a record that are not data fields (never sent as field parameters).
pub const NOT_FIELDS: &[&str] = &[
    "id",
    "member_id",
    "email",
    "sub_lists",
    "opted_out",
    "is_subscribed",
    "is_unsubscribed",
    "is_deleted",
    "is_hard_bounce",
    "is_cleaned",
    "is_spam",
    "sign_up_source",
    "subscription_date",
    "created_at",
    "updated_at",
];

const OPT_OUT_FLAGS: &[&str] = &[
    "is_unsubscribed",
    "is_deleted",
    "is_hard_bounce",
    "is_cleaned",
    "is_spam",
];

/// The member object of `{"member": {...}}` (or a bare member).
pub fn member_of(json: &Value) -> Option<&Map<String, Value>> {
    let object = json.as_object()?;
    match object.get("member") {
        Some(Value::Object(member)) => Some(member),
        Some(_) => None,
        None => object.contains_key("id").then_some(object),
    }
}

pub fn member_id(member: &Map<String, Value>) -> Option<u64> {
    match member.get("id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Data field values by user tag, from `member_details[]{member_detail:{user_tag,value}}`.
pub fn field_values(member: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for detail in member
        .get("member_details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let detail = detail.get("member_detail").unwrap_or(detail);
        let Some(tag) = detail.get("user_tag").and_then(Value::as_str) else {
            continue;
        };
        if tag == "email" {
            continue;
        }
        if let Some(value) = detail.get("value").and_then(text).filter(|v| !v.is_empty()) {
            out.insert(tag.to_string(), Value::String(value));
        }
    }
    out
}

/// Sub-lists as `(id, name)`: `[{sub_list:{id,name}}]` or `[{id,name}]`.
pub fn sub_lists(member: &Map<String, Value>) -> Vec<(u64, String)> {
    member
        .get("sub_lists")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let item = item.get("sub_list").unwrap_or(item);
            let id = match item.get("id")? {
                Value::Number(n) => n.as_u64()?,
                Value::String(s) => s.parse().ok()?,
                _ => return None,
            };
            Some((id, item.get("name").and_then(Value::as_str)?.to_string()))
        })
        .collect()
}

pub fn opted_out(member: &Map<String, Value>) -> bool {
    OPT_OUT_FLAGS
        .iter()
        .any(|flag| member.get(*flag).and_then(Value::as_bool) == Some(true))
}

pub fn updated_at(member: &Map<String, Value>) -> Option<DateTime<Utc>> {
    let text = member.get("updated_at")?.as_str()?;
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A member as a contact record; `None` without an id.
pub fn record(member: &Map<String, Value>) -> Option<PeerRecord> {
    let id = member_id(member)?;
    let mut fields = field_values(member);
    if let Some(email) = member.get("email").and_then(Value::as_str) {
        fields.insert("email".into(), Value::String(email.to_string()));
    }
    let mut names: Vec<String> = sub_lists(member).into_iter().map(|(_, n)| n).collect();
    names.sort_by_key(|n| n.to_lowercase());
    fields.insert("sub_lists".into(), Value::from(names));
    fields.insert("opted_out".into(), Value::Bool(opted_out(member)));
    for key in NOT_FIELDS.iter().filter(|k| k.starts_with("is_")) {
        if let Some(flag) = member.get(*key) {
            fields.insert((*key).to_string(), flag.clone());
        }
    }
    for key in ["sign_up_source", "created_at", "updated_at"] {
        if let Some(value) = member.get(key) {
            fields.insert(key.to_string(), value.clone());
        }
    }
    Some(PeerRecord {
        kind: EntityKind::Contact,
        id: id.to_string(),
        parent_id: None,
        updated_at: updated_at(member),
        active: true,
        fields,
        raw: Value::Object(member.clone()),
    })
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Everything, no filter (the first pass).
    #[default]
    Full,
    /// The unfiltered list, newest first, down to the id high-water mark.
    New,
    /// The members changed since the watermark.
    Updated,
}

/// Where the member walk stands. Stored as JSON; opaque to the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(default)]
    pub phase: Phase,
    #[serde(default)]
    pub offset: u64,
    /// This pass's `updated_since` (epoch seconds).
    #[serde(default)]
    pub since: Option<i64>,
    /// The highest member id known when the pass began.
    #[serde(default)]
    pub hwm: u64,
    /// The newest `updated_at` and highest id seen so far in this pass.
    #[serde(default)]
    pub seen_since: Option<i64>,
    #[serde(default)]
    pub seen_hwm: u64,
}

impl Cursor {
    pub fn parse(text: Option<&str>) -> Result<Cursor, String> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(Cursor::default()),
            Some(text) => serde_json::from_str(text)
                .map_err(|err| format!("cursor {text:?} is not a Robly cursor: {err}")),
        }
    }

    pub fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Notes what a page held.
    pub fn saw(&mut self, records: &[PeerRecord]) {
        for record in records {
            if let Ok(id) = record.id.parse::<u64>() {
                self.seen_hwm = self.seen_hwm.max(id);
            }
            if let Some(at) = record.updated_at {
                let secs = at.timestamp();
                self.seen_since = Some(self.seen_since.map_or(secs, |s| s.max(secs)));
            }
        }
    }

    /// The cursor of the next pass, once this one read its last page.
    pub fn next_pass(&self, overlap_secs: u64) -> Cursor {
        // Never behind this pass's own watermark, or quiet passes would drift back.
        let reached = self
            .seen_since
            .map(|seen| seen.saturating_sub(overlap_secs as i64));
        let since = match (reached, self.since) {
            (Some(reached), Some(since)) => Some(reached.max(since)),
            (reached, since) => reached.or(since),
        };
        Cursor {
            phase: if since.is_some() {
                Phase::New
            } else {
                Phase::Full
            },
            offset: 0,
            since,
            hwm: self.hwm.max(self.seen_hwm),
            seen_since: None,
            seen_hwm: 0,
        }
    }
}

/// `updated_since` as the account wants it.
pub fn since_text(secs: i64, format: super::SinceFormat) -> String {
    match format {
        super::SinceFormat::Epoch => secs.to_string(),
        super::SinceFormat::Iso8601 => DateTime::<Utc>::from_timestamp(secs, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Secs, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_member_as_a_record() {
        let member = json!({"member": {
            "id": 959140, "email": "Ann@Example.com", "is_unsubscribed": false, "is_deleted": true,
            "updated_at": "2024-05-01T10:00:00-05:00",
            "member_details": [
                {"member_detail": {"user_tag": "email", "value": "Ann@Example.com"}},
                {"member_detail": {"user_tag": "fname", "value": "Ann"}},
                {"member_detail": {"user_tag": "phone", "value": null}}
            ],
            "sub_lists": [{"sub_list": {"id": 2, "name": "vip"}}, {"sub_list": {"id": 1, "name": "Alpha"}}]
        }});
        let record = record(member_of(&member).unwrap()).unwrap();
        assert_eq!(record.id, "959140");
        assert!(record.active, "a deleted member is opted out, not gone");
        assert_eq!(record.fields["fname"], json!("Ann"));
        assert!(!record.fields.contains_key("phone"));
        assert_eq!(record.fields["sub_lists"], json!(["Alpha", "vip"]));
        assert_eq!(record.fields["opted_out"], json!(true));
        assert_eq!(
            record.updated_at.unwrap().to_rfc3339(),
            "2024-05-01T15:00:00+00:00"
        );
    }

    #[test]
    fn the_next_pass_reaches_back_and_keeps_the_high_water_mark() {
        let first = Cursor::parse(None).unwrap();
        assert_eq!(first.phase, Phase::Full);
        let mut pass = first.clone();
        pass.seen_since = Some(1_000);
        pass.seen_hwm = 77;
        let next = pass.next_pass(60);
        assert_eq!(
            (next.phase, next.since, next.hwm),
            (Phase::New, Some(940), 77)
        );
        assert_eq!(Cursor::parse(Some(&next.text())).unwrap(), next);
        let quiet = next.next_pass(60);
        assert_eq!(quiet.since, Some(940), "an empty pass keeps its watermark");
        assert!(Cursor::parse(Some("12345")).is_err());
        assert_eq!(
            since_text(0, crate::peers::robly::SinceFormat::Iso8601),
            "1970-01-01T00:00:00+00:00"
        );
    }
}
