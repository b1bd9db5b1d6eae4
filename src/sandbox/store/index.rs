//! Contacts filed by email and by phone, so that GHL's duplicate rule costs a hash lookup and a
//! step into a small ordered set instead of a walk over the whole location.
//!
//! The store files a contact on insert, refiles it after every edit whose filing changed, and
//! unfiles it on removal; nothing else writes here. Within one bucket contacts keep the walk
//! order ([`Key`]), so "the first match" is the same contact a walk would have found.

use std::collections::{BTreeSet, HashMap};

use crate::ghl::models::Contact;

use super::{Key, phone_digits};

/// Fewer digits than this never match: too many unrelated numbers share a short suffix.
pub const MIN_PHONE_DIGITS: usize = 7;

/// What a contact is filed under. Two contacts with an equal email (or phone) part are
/// duplicates of each other under GHL's rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filing {
    pub location: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl Filing {
    pub fn of(contact: &Contact) -> Filing {
        Filing {
            location: contact.location_id.clone().unwrap_or_default(),
            email: contact.email.as_deref().and_then(email_key),
            phone: contact.phone.as_deref().and_then(phone_key),
        }
    }
}

/// The email as the duplicate rule compares it: trimmed, ASCII case folded (GHL's match is
/// `eq_ignore_ascii_case`, so `É` and `é` stay different). Blank emails match nothing.
pub fn email_key(email: &str) -> Option<String> {
    let email = email.trim();
    (!email.is_empty()).then(|| email.to_ascii_lowercase())
}

/// The phone as the duplicate rule compares it: its digits, when there are enough of them.
pub fn phone_key(phone: &str) -> Option<String> {
    let digits = phone_digits(phone);
    (digits.len() >= MIN_PHONE_DIGITS).then_some(digits)
}

/// location → key → contacts in walk order.
type Buckets = HashMap<String, HashMap<String, BTreeSet<Key>>>;

#[derive(Default)]
pub struct ContactIndex {
    by_email: Buckets,
    by_phone: Buckets,
}

fn put(buckets: &mut Buckets, location: &str, value: Option<&String>, key: &Key) {
    let Some(value) = value else { return };
    // `entry` would allocate the location's name on every insert: look it up first.
    if !buckets.contains_key(location) {
        buckets.insert(location.to_string(), HashMap::new());
    }
    if let Some(by_value) = buckets.get_mut(location) {
        by_value
            .entry(value.clone())
            .or_default()
            .insert(key.clone());
    }
}

fn take(buckets: &mut Buckets, location: &str, value: Option<&String>, key: &Key) {
    let Some(value) = value else { return };
    let Some(by_value) = buckets.get_mut(location) else {
        return;
    };
    if let Some(set) = by_value.get_mut(value) {
        set.remove(key);
        // Empty buckets would pile up as contacts change email: drop them.
        if set.is_empty() {
            by_value.remove(value);
        }
    }
}

fn first<'a>(
    buckets: &'a Buckets,
    location: &str,
    value: &str,
    except: Option<&str>,
) -> Option<&'a str> {
    buckets
        .get(location)?
        .get(value)?
        .iter()
        .map(|(_, id)| id.as_str())
        .find(|id| Some(*id) != except)
}

impl ContactIndex {
    pub fn add(&mut self, filing: &Filing, key: &Key) {
        put(
            &mut self.by_email,
            &filing.location,
            filing.email.as_ref(),
            key,
        );
        put(
            &mut self.by_phone,
            &filing.location,
            filing.phone.as_ref(),
            key,
        );
    }

    pub fn remove(&mut self, filing: &Filing, key: &Key) {
        take(
            &mut self.by_email,
            &filing.location,
            filing.email.as_ref(),
            key,
        );
        take(
            &mut self.by_phone,
            &filing.location,
            filing.phone.as_ref(),
            key,
        );
    }

    /// The id of the first contact in walk order whose [`email_key`] is `email`.
    pub fn by_email(&self, location: &str, email: &str, except: Option<&str>) -> Option<&str> {
        first(&self.by_email, location, email, except)
    }

    /// The id of the first contact in walk order whose [`phone_key`] is `digits`.
    pub fn by_phone(&self, location: &str, digits: &str, except: Option<&str>) -> Option<&str> {
        first(&self.by_phone, location, digits, except)
    }
}
