//! The in-memory records and the one ordering every contact walk uses.
//!
//! Contacts are ordered newest `dateAdded` first, ties broken by id ascending. A cursor is the
//! `(dateAdded ms, id)` of the last item seen and the next page starts *strictly after* it, so a
//! walk never skips or repeats a contact even when hundreds share one millisecond.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};

use crate::ghl::models::{Appointment, Calendar, Contact, CustomField, Note, Task};

use super::errors::ApiError;

mod index;

use index::{ContactIndex, Filing, email_key, phone_key};

/// A contact and its walk-order timestamp. Only the store hands out `&mut` to the contact (see
/// [`Store::edit_contact`]), so its order and email/phone filings cannot go stale.
pub struct ContactRec {
    pub contact: Contact,
    pub added_ms: i64,
}

impl ContactRec {
    pub fn key(&self) -> Key {
        (Reverse(self.added_ms), self.contact.id.clone())
    }
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
    contacts: HashMap<String, ContactRec>,
    order: HashMap<String, BTreeSet<Key>>,
    index: ContactIndex,
    pub tasks: HashMap<String, Vec<Task>>,
    pub notes: HashMap<String, Vec<Note>>,
    pub appts: HashMap<String, ApptRec>,
    pub appts_by_contact: HashMap<String, Vec<String>>,
    pub calendars: Vec<Calendar>,
    /// Every location's custom fields, seeded and created (`POST /locations/:id/customFields`),
    /// in creation order.
    pub custom_fields: Vec<CustomField>,
}

impl Store {
    /// Files `key` under `filing`: the location's walk order and the duplicate index.
    fn file(&mut self, filing: &Filing, key: &Key) {
        match self.order.get_mut(&filing.location) {
            Some(set) => {
                set.insert(key.clone());
            }
            None => {
                self.order
                    .insert(filing.location.clone(), BTreeSet::from([key.clone()]));
            }
        }
        self.index.add(filing, key);
    }

    fn unfile(&mut self, filing: &Filing, key: &Key) {
        if let Some(set) = self.order.get_mut(&filing.location) {
            set.remove(key);
        }
        self.index.remove(filing, key);
    }

    /// Adds (or replaces) the contact with `rec`'s id.
    pub fn insert_contact(&mut self, rec: ContactRec) {
        // A replaced record must leave its old filings, or lookups would find a ghost.
        self.take_contact(&rec.contact.id);
        self.file(&Filing::of(&rec.contact), &rec.key());
        self.contacts.insert(rec.contact.id.clone(), rec);
    }

    fn take_contact(&mut self, id: &str) -> Option<ContactRec> {
        let rec = self.contacts.remove(id)?;
        self.unfile(&Filing::of(&rec.contact), &rec.key());
        Some(rec)
    }

    /// Removes the contact with its tasks and notes; its appointments stay, as calendar events
    /// outlive the contact record in GHL.
    pub fn remove_contact(&mut self, id: &str) -> Option<ContactRec> {
        let rec = self.take_contact(id)?;
        self.tasks.remove(id);
        self.notes.remove(id);
        Some(rec)
    }

    /// Changes the contact `id` of `location` (404 when missing, 403 when it belongs to another
    /// location) through `edit`, then refiles it if its location, email or phone changed. The
    /// one way to mutate a stored contact, so no path can forget the index. `edit` must not
    /// change the id, which is the contact's key in the store.
    pub fn edit_contact<R>(
        &mut self,
        id: &str,
        location: &str,
        edit: impl FnOnce(&mut Contact) -> R,
    ) -> Result<R, ApiError> {
        self.owned(id, location)?;
        let rec = self
            .contacts
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("Contact"))?;
        let before = Filing::of(&rec.contact);
        let out = edit(&mut rec.contact);
        debug_assert_eq!(rec.contact.id, id, "an edit changed the contact's id");
        let after = Filing::of(&rec.contact);
        if after != before {
            let key = rec.key();
            self.unfile(&before, &key);
            self.file(&after, &key);
        }
        Ok(out)
    }

    pub fn contact(&self, id: &str) -> Option<&ContactRec> {
        self.contacts.get(id)
    }

    /// Every contact of every location, in no particular order.
    pub fn contacts(&self) -> impl ExactSizeIterator<Item = &ContactRec> {
        self.contacts.values()
    }

    pub fn reserve_contacts(&mut self, additional: usize) {
        self.contacts.reserve(additional);
    }

    /// `(id, key)` of `location`'s custom fields, the key as `fieldKey` has it
    /// (`contact.repsly_code`): what a contact write may name a field by.
    pub fn field_keys(&self, location: &str) -> Vec<(String, String)> {
        self.custom_fields
            .iter()
            .filter(|field| field.location_id.as_deref() == Some(location))
            .map(|field| (field.id.clone(), field.field_key.clone()))
            .collect()
    }

    pub fn count_in(&self, location: &str) -> usize {
        self.order.get(location).map_or(0, BTreeSet::len)
    }

    /// How many contacts of `location` a walk from `cursor` would yield, without visiting the
    /// records themselves.
    pub fn count_after(&self, location: &str, cursor: Option<Key>) -> usize {
        self.order.get(location).map_or(0, |set| {
            set.range((lower(cursor), Bound::Unbounded)).count()
        })
    }

    /// Contacts of `location` in walk order, strictly after `cursor`.
    pub fn walk<'a>(
        &'a self,
        location: &str,
        cursor: Option<Key>,
    ) -> impl Iterator<Item = &'a ContactRec> + 'a {
        let lower = lower(cursor);
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

    /// Duplicate rule of a location that disallows duplicates: email case-insensitively first,
    /// then phone by its digits. Among several matches the first in walk order wins (newest
    /// `dateAdded`, then smallest id), as a walk of the location would find it.
    pub fn find_duplicate(
        &self,
        location: &str,
        email: Option<&str>,
        phone: Option<&str>,
        except: Option<&str>,
    ) -> Option<(&ContactRec, &'static str)> {
        let found = |id: Option<&str>| id.and_then(|id| self.contacts.get(id));
        if let Some(email) = email.and_then(email_key)
            && let Some(rec) = found(self.index.by_email(location, &email, except))
        {
            return Some((rec, "email"));
        }
        let digits = phone.and_then(phone_key)?;
        found(self.index.by_phone(location, &digits, except)).map(|rec| (rec, "phone"))
    }
}

fn lower(cursor: Option<Key>) -> Bound<Key> {
    match cursor {
        Some(key) => Bound::Excluded(key),
        None => Bound::Unbounded,
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
mod tests;
