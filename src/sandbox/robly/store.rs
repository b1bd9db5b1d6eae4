//! The emulated Robly account's records: members (contacts), data fields and sub-lists, and
//! how the API renders each (`{"member": {...}}`, `{"field_tag": {...}}`, `{"sub_list": {...}}`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{FixedOffset, SecondsFormat, TimeZone};
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub id: u64,
    pub email: String,
    /// Values by the field's user tag (`fname`, `lname`, `phone`).
    pub fields: BTreeMap<String, String>,
    pub sub_lists: BTreeSet<u64>,
    pub is_unsubscribed: bool,
    pub is_deleted: bool,
    pub is_hard_bounce: bool,
    pub is_cleaned: bool,
    pub is_spam: bool,
    pub sign_up_source: String,
    /// Seconds since the epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

impl Member {
    pub fn is_subscribed(&self) -> bool {
        !(self.is_unsubscribed || self.is_deleted || self.is_hard_bounce || self.is_cleaned)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub id: u64,
    pub label: String,
    pub tag_type: String,
    pub user_tag: String,
    pub default_tag: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubList {
    pub id: u64,
    pub name: String,
    /// Non-public lists show only with `include_all=true`.
    pub public: bool,
    pub created_at: i64,
}

#[derive(Debug, Default)]
pub struct Data {
    pub members: BTreeMap<u64, Member>,
    pub fields: Vec<Field>,
    pub sub_lists: BTreeMap<u64, SubList>,
    pub next_member: u64,
    pub next_sub_list: u64,
    /// The last `updated_at` handed out: writes in one second still move forward.
    pub clock: i64,
    /// Writes that asked Robly to send mail (welcome, double opt-in, autoresponders,
    /// automations): what the sync must never cause.
    pub mail_requests: u64,
}

/// Robly renders times with the account's offset (here US Eastern standard time).
pub fn offset() -> FixedOffset {
    FixedOffset::west_opt(5 * 3600).unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc))
}

pub fn iso(secs: i64) -> String {
    offset()
        .timestamp_opt(secs, 0)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}

impl Data {
    /// A fresh `updated_at`: now, or one past the last when the clock did not move.
    pub fn tick(&mut self) -> i64 {
        let now = chrono::Utc::now().timestamp();
        self.clock = now.max(self.clock);
        self.clock
    }

    pub fn field_tags(&self) -> BTreeSet<&str> {
        self.fields
            .iter()
            .flat_map(|f| [f.user_tag.as_str(), f.default_tag.as_str()])
            .collect()
    }

    /// The field's user tag for a user or default tag (`data3` → `phone`).
    pub fn user_tag_of(&self, tag: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.user_tag == tag || f.default_tag == tag)
            .map(|f| f.user_tag.clone())
    }

    pub fn by_email(&self, email: &str) -> Option<&Member> {
        let wanted = email.trim().to_ascii_lowercase();
        self.members
            .values()
            .find(|m| m.email.to_ascii_lowercase() == wanted)
    }

    pub fn add_member(&mut self, mut member: Member) -> u64 {
        self.next_member += 1;
        member.id = self.next_member;
        self.members.insert(member.id, member);
        self.next_member
    }

    pub fn add_sub_list(&mut self, name: &str, public: bool, at: i64) -> u64 {
        self.next_sub_list += 1;
        let id = self.next_sub_list;
        self.sub_lists.insert(
            id,
            SubList {
                id,
                name: name.to_string(),
                public,
                created_at: at,
            },
        );
        id
    }

    pub fn render_member(&self, m: &Member, fields: bool, sub_lists: bool) -> Value {
        let mut member = json!({
            "id": m.id,
            "email": m.email,
            "is_subscribed": m.is_subscribed(),
            "is_unsubscribed": m.is_unsubscribed,
            "is_deleted": m.is_deleted,
            "is_hard_bounce": m.is_hard_bounce,
            "is_cleaned": m.is_cleaned,
            "is_spam": m.is_spam,
            "subscription_date": iso(m.created_at),
            "sign_up_source": m.sign_up_source,
            "created_at": iso(m.created_at),
            "updated_at": iso(m.updated_at),
        });
        if fields {
            let details: Vec<Value> = self
                .fields
                .iter()
                .enumerate()
                .map(|(position, f)| {
                    let value = if f.user_tag == "email" {
                        Some(m.email.clone())
                    } else {
                        m.fields.get(&f.user_tag).cloned()
                    };
                    json!({"member_detail": {
                        "id": f.id * 1000 + m.id,
                        "value": value,
                        "label": f.label,
                        "default_tag": f.default_tag,
                        "user_tag": f.user_tag,
                        "position": position,
                    }})
                })
                .collect();
            member["member_details"] = json!(details);
        }
        if sub_lists {
            let lists: Vec<Value> = m
                .sub_lists
                .iter()
                .filter_map(|id| self.sub_lists.get(id))
                .map(|s| self.render_sub_list(s))
                .collect();
            member["sub_lists"] = json!(lists);
        }
        json!({ "member": member })
    }

    pub fn render_sub_list(&self, s: &SubList) -> Value {
        json!({"sub_list": {
            "id": s.id,
            "name": s.name,
            "position": s.id,
            "created_at": iso(s.created_at),
            "updated_at": iso(s.created_at),
        }})
    }

    pub fn render_field(&self, position: usize, f: &Field) -> Value {
        json!({"field_tag": {
            "id": f.id,
            "label": f.label,
            "tag_type": f.tag_type,
            "is_required": f.user_tag == "email",
            "position": position,
            "default_tag": f.default_tag,
            "user_tag": f.user_tag,
        }})
    }

    /// A member as the oracle compares it: no id, no clocks; sub-lists by name, sorted.
    pub fn dump_member(&self, m: &Member) -> Value {
        let mut lists: Vec<&str> = m
            .sub_lists
            .iter()
            .filter_map(|id| self.sub_lists.get(id))
            .map(|s| s.name.as_str())
            .collect();
        lists.sort_unstable();
        json!({
            "id": m.id,
            "email": m.email,
            "fields": m.fields,
            "subLists": lists,
            "isUnsubscribed": m.is_unsubscribed,
            "isDeleted": m.is_deleted,
            "isHardBounce": m.is_hard_bounce,
            "isCleaned": m.is_cleaned,
            "isSpam": m.is_spam,
            "updatedAt": iso(m.updated_at),
        })
    }
}
