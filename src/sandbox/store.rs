//! The in-memory records and the one ordering every contact walk uses.
//!
//! Contacts are ordered newest `dateAdded` first, ties broken by id ascending. A cursor is the
//! `(dateAdded ms, id)` of the last item seen and the next page starts *strictly after* it, so a
//! walk never skips or repeats a contact even when hundreds share one millisecond.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};

use crate::ghl::models::{Appointment, Calendar, Contact, Note, Task};

use super::errors::ApiError;

pub struct ContactRec {
    pub contact: Contact,
    pub added_ms: i64,
}

pub struct ApptRec {
    /// Calendar-event shape (`CalendarEventDTO`): ISO times with offset.
    pub event: Appointment,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

pub type Key = (Reverse<i64>, String);

#[derive(Default)]
pub struct Store {
    pub contacts: HashMap<String, ContactRec>,
    order: HashMap<String, BTreeSet<Key>>,
    pub tasks: HashMap<String, Vec<Task>>,
    pub notes: HashMap<String, Vec<Note>>,
    pub appts: HashMap<String, ApptRec>,
    pub appts_by_contact: HashMap<String, Vec<String>>,
    pub calendars: Vec<Calendar>,
}

impl Store {
    pub fn insert_contact(&mut self, rec: ContactRec) {
        let location = rec.contact.location_id.clone().unwrap_or_default();
        self.order
            .entry(location)
            .or_default()
            .insert((Reverse(rec.added_ms), rec.contact.id.clone()));
        self.contacts.insert(rec.contact.id.clone(), rec);
    }

    /// Removes the contact with its tasks and notes; its appointments stay, as calendar events
    /// outlive the contact record in GHL.
    pub fn remove_contact(&mut self, id: &str) -> Option<ContactRec> {
        let rec = self.contacts.remove(id)?;
        let location = rec.contact.location_id.clone().unwrap_or_default();
        if let Some(set) = self.order.get_mut(&location) {
            set.remove(&(Reverse(rec.added_ms), rec.contact.id.clone()));
        }
        self.tasks.remove(id);
        self.notes.remove(id);
        Some(rec)
    }

    pub fn count_in(&self, location: &str) -> usize {
        self.order.get(location).map_or(0, BTreeSet::len)
    }

    /// Contacts of `location` in walk order, strictly after `cursor`.
    pub fn walk<'a>(
        &'a self,
        location: &str,
        cursor: Option<Key>,
    ) -> impl Iterator<Item = &'a ContactRec> + 'a {
        let lower = match cursor {
            Some(key) => Bound::Excluded(key),
            None => Bound::Unbounded,
        };
        self.order
            .get(location)
            .into_iter()
            .flat_map(move |set| set.range((lower.clone(), Bound::Unbounded)))
            .filter_map(|(_, id)| self.contacts.get(id))
    }

    /// The contact `id`, if the caller's location may see it: 404 when missing, 403 when it
    /// belongs to another location.
    pub fn owned(&self, id: &str, location: &str) -> Result<&ContactRec, ApiError> {
        let rec = self
            .contacts
            .get(id)
            .ok_or_else(|| ApiError::not_found("Contact"))?;
        if rec.contact.location_id.as_deref() != Some(location) {
            return Err(ApiError::location());
        }
        Ok(rec)
    }

    pub fn owned_mut(&mut self, id: &str, location: &str) -> Result<&mut ContactRec, ApiError> {
        self.owned(id, location)?;
        self.contacts
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("Contact"))
    }

    /// Duplicate rule of a location that disallows duplicates: email case-insensitively first,
    /// then phone by its digits.
    pub fn find_duplicate(
        &self,
        location: &str,
        email: Option<&str>,
        phone: Option<&str>,
        except: Option<&str>,
    ) -> Option<(&ContactRec, &'static str)> {
        let candidates = || {
            self.walk(location, None)
                .filter(move |rec| Some(rec.contact.id.as_str()) != except)
        };
        if let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) {
            let found = candidates().find(|rec| {
                rec.contact
                    .email
                    .as_deref()
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(email))
            });
            if let Some(rec) = found {
                return Some((rec, "email"));
            }
        }
        let digits = phone.map(phone_digits).filter(|d| d.len() >= 7)?;
        candidates()
            .find(|rec| rec.contact.phone.as_deref().map(phone_digits).as_deref() == Some(&digits))
            .map(|rec| (rec, "phone"))
    }
}

pub fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

pub fn fmt_ms(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// class-validator's `IsISO8601` accepts dates, date-times with or without an offset; a missing
/// offset is read as `default_offset`.
pub fn parse_iso(s: &str, default_offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt);
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, format) {
            return default_offset.from_local_datetime(&naive).single();
        }
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    default_offset
        .from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .single()
}

pub fn utc() -> FixedOffset {
    chrono::Offset::fix(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(times: &[i64]) -> Store {
        let mut store = Store::default();
        for (i, ms) in times.iter().enumerate() {
            let contact = Contact {
                id: format!("c{i:03}"),
                location_id: Some("L".into()),
                ..Contact::default()
            };
            store.insert_contact(ContactRec {
                contact,
                added_ms: *ms,
            });
        }
        store
    }

    #[test]
    fn paging_with_tied_timestamps_has_no_gap_and_no_repeat() {
        // 3 items per page over runs of equal milliseconds that straddle page boundaries.
        let times = [5, 5, 5, 5, 5, 4, 4, 9, 9, 9, 9, 1, 5, 5, 0, 9, 9];
        let store = store_with(&times);
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page: Vec<&ContactRec> = store.walk("L", cursor.clone()).take(3).collect();
            let Some(last) = page.last() else { break };
            cursor = Some((Reverse(last.added_ms), last.contact.id.clone()));
            seen.extend(page.iter().map(|r| (r.added_ms, r.contact.id.clone())));
        }
        assert_eq!(seen.len(), times.len());
        let mut expected = seen.clone();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        expected.dedup();
        assert_eq!(
            seen, expected,
            "newest first, id ascending on ties, each once"
        );
        assert_eq!(store.walk("other", None).count(), 0);
    }

    #[test]
    fn iso_parsing_is_lenient_like_class_validator() {
        assert!(parse_iso("2021-07-08T02:30:00.000Z", utc()).is_some());
        assert!(parse_iso("2021-07-08T02:30:00+05:30", utc()).is_some());
        assert!(parse_iso("2021-07-08T02:30:00", utc()).is_some());
        assert!(parse_iso("2021-07-08", utc()).is_some());
        assert!(parse_iso("tomorrow", utc()).is_none());
        assert_eq!(fmt_ms(0), "1970-01-01T00:00:00.000Z");
    }
}
