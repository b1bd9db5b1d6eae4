//! The generic app's records: contacts and notes, each with a number and a string id (which
//! one the API shows is an option), and a millisecond clock that only moves forward, so
//! `updated_since` reads are exact.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};

use crate::sandbox::ids;
use crate::sandbox::store::now_ms;

/// Fields a contact has besides its id and dates.
pub const CONTACT_FIELDS: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "city",
];
/// Fields a note has besides its id and dates.
pub const NOTE_FIELDS: &[&str] = &["contact_id", "body"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Contact,
    Note,
}

impl Kind {
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Contact => CONTACT_FIELDS,
            Kind::Note => NOTE_FIELDS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Note => "note",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub num: u64,
    pub sid: String,
    /// The fields of `Kind::fields`; a note's `contact_id` is held as the contact's number.
    pub fields: Map<String, Value>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

pub struct Data {
    rows: BTreeMap<(Kind, u64), Row>,
    next_num: BTreeMap<Kind, u64>,
    /// The last `updated_ms` given out: every change gets a later one.
    clock_ms: i64,
    ids: StdRng,
}

pub const FIRST_CONTACT: u64 = 1001;
pub const FIRST_NOTE: u64 = 5001;

impl Data {
    pub fn new(seed: u64) -> Data {
        Data {
            rows: BTreeMap::new(),
            next_num: BTreeMap::from([(Kind::Contact, FIRST_CONTACT), (Kind::Note, FIRST_NOTE)]),
            clock_ms: 0,
            ids: StdRng::seed_from_u64(seed ^ 0x6E4E_41C0),
        }
    }

    /// The next change time: now, or just after the last one.
    fn tick(&mut self) -> i64 {
        self.clock_ms = now_ms().max(self.clock_ms + 1);
        self.clock_ms
    }

    /// Adds a row; `at_ms` (seeding) or now. Returns its number.
    pub fn insert(&mut self, kind: Kind, fields: Map<String, Value>, at_ms: Option<i64>) -> u64 {
        let num = self.next_num.get(&kind).copied().unwrap_or(1);
        self.next_num.insert(kind, num + 1);
        let prefix = match kind {
            Kind::Contact => "ct_",
            Kind::Note => "nt_",
        };
        let sid = format!("{prefix}{}", ids::alnum(&mut self.ids, 10).to_lowercase());
        let at = match at_ms {
            Some(at) => {
                self.clock_ms = self.clock_ms.max(at);
                at
            }
            None => self.tick(),
        };
        self.rows.insert(
            (kind, num),
            Row {
                num,
                sid,
                fields,
                created_ms: at,
                updated_ms: at,
            },
        );
        num
    }

    /// Sets the given fields (`null` clears); the row's time moves only when something changed.
    pub fn update(&mut self, kind: Kind, num: u64, fields: &Map<String, Value>) -> Option<bool> {
        let current = self.rows.get(&(kind, num))?.fields.clone();
        let mut next = current.clone();
        for (key, value) in fields {
            if value.is_null() {
                next.remove(key);
            } else {
                next.insert(key.clone(), value.clone());
            }
        }
        if next == current {
            return Some(false);
        }
        let at = self.tick();
        let row = self.rows.get_mut(&(kind, num))?;
        row.fields = next;
        row.updated_ms = at;
        Some(true)
    }

    pub fn remove(&mut self, kind: Kind, num: u64) -> bool {
        let removed = self.rows.remove(&(kind, num)).is_some();
        if removed && kind == Kind::Contact {
            self.rows.retain(|(k, _), row| {
                *k != Kind::Note
                    || row.fields.get("contact_id").and_then(Value::as_u64) != Some(num)
            });
        }
        removed
    }

    pub fn get(&self, kind: Kind, num: u64) -> Option<&Row> {
        self.rows.get(&(kind, num))
    }

    /// The row an id names: its number (`"1001"`) or its string id (`"ct_…"`), whichever form
    /// the app shows.
    pub fn find(&self, kind: Kind, id: &str, string_ids: bool) -> Option<u64> {
        let id = id.trim();
        if string_ids {
            self.rows(kind).find(|row| row.sid == id).map(|row| row.num)
        } else {
            let num = id.parse().ok()?;
            self.rows.contains_key(&(kind, num)).then_some(num)
        }
    }

    pub fn rows(&self, kind: Kind) -> impl Iterator<Item = &Row> {
        self.rows
            .range((kind, 0)..=(kind, u64::MAX))
            .map(|(_, row)| row)
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.rows(kind).count()
    }

    /// A contact with this email (any case), other than `except`.
    pub fn email_taken(&self, email: &str, except: Option<u64>) -> bool {
        let email = email.trim();
        self.rows(Kind::Contact).any(|row| {
            Some(row.num) != except
                && row
                    .fields
                    .get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(email))
        })
    }

    /// A row as the API shows it.
    pub fn render(&self, kind: Kind, row: &Row, string_ids: bool) -> Value {
        let id = |num: u64, sid: &str| {
            if string_ids { json!(sid) } else { json!(num) }
        };
        let mut out = Map::new();
        out.insert("id".into(), id(row.num, &row.sid));
        for field in kind.fields() {
            let value = row.fields.get(*field).cloned().unwrap_or(Value::Null);
            let value = match (*field, &value) {
                ("contact_id", Value::Number(n)) => n
                    .as_u64()
                    .and_then(|num| self.get(Kind::Contact, num))
                    .map_or(Value::Null, |contact| id(contact.num, &contact.sid)),
                _ => value,
            };
            out.insert((*field).to_string(), value);
        }
        out.insert("created_at".into(), json!(rfc3339(row.created_ms)));
        out.insert("updated_at".into(), json!(rfc3339(row.updated_ms)));
        Value::Object(out)
    }
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_move_the_clock_and_no_change_does_not() {
        let mut data = Data::new(1);
        let fields = json!({"first_name": "Ann", "email": "ann@x.test"})
            .as_object()
            .cloned()
            .unwrap();
        let num = data.insert(Kind::Contact, fields.clone(), Some(1_000));
        assert_eq!(num, FIRST_CONTACT);
        assert_eq!(data.update(Kind::Contact, num, &fields), Some(false));
        assert_eq!(data.get(Kind::Contact, num).unwrap().updated_ms, 1_000);
        let change = json!({"city": "Austin", "email": null})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(data.update(Kind::Contact, num, &change), Some(true));
        let row = data.get(Kind::Contact, num).unwrap();
        assert!(row.updated_ms > 1_000);
        assert!(!row.fields.contains_key("email"));
        let sid = row.sid.clone();
        assert!(sid.starts_with("ct_"));
        assert_eq!(data.find(Kind::Contact, &sid, true), Some(num));
        assert_eq!(data.find(Kind::Contact, "1001", false), Some(num));
        assert_eq!(data.find(Kind::Contact, "1001", true), None);
        let rendered = data.render(Kind::Contact, data.get(Kind::Contact, num).unwrap(), false);
        assert_eq!(rendered["id"], 1001);
        assert_eq!(rendered["email"], Value::Null);
    }
}
