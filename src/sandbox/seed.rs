//! Deterministic data from a seed: the same seed (and anchor day) gives the same location, ids,
//! contacts, tasks, notes and appointments, so a failing test can be replayed.
//!
//! About 4% of contacts are deliberately dirty (untrimmed names, upper-case or invalid emails,
//! non-E.164 phones, a 5,000-char company, emoji and non-Latin names, same person twice with a
//! differently cased email), and one bulk import shares a single `dateAdded` millisecond across
//! more contacts than a page holds, so cursor ties are always exercised.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::ghl::models::{Contact, CustomField};

use super::ids;
use super::seed_data::*;
use super::store::{ContactRec, Store, fmt_ms};

/// Identities that survive `/_sandbox/reset`: the same seed always yields the same ones.
#[derive(Clone, Debug)]
pub struct Identities {
    pub location_id: String,
    pub other_location_id: String,
    pub company_id: String,
    pub user_ids: Vec<String>,
    /// (id, key) of the seeded custom fields.
    pub custom_fields: Vec<(String, String)>,
    pub client_id: String,
    pub client_secret: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub fn identities(seed: u64) -> Identities {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x1D5_1D5);
    Identities {
        location_id: ids::firestore_id(&mut rng),
        other_location_id: ids::firestore_id(&mut rng),
        company_id: ids::firestore_id(&mut rng),
        user_ids: (0..4).map(|_| ids::firestore_id(&mut rng)).collect(),
        custom_fields: CUSTOM_FIELDS
            .iter()
            .map(|(key, _)| (ids::firestore_id(&mut rng), (*key).to_string()))
            .collect(),
        client_id: format!(
            "{}-{}",
            ids::mongo_id(&mut rng),
            ids::alnum(&mut rng, 8).to_lowercase()
        ),
        client_secret: ids::uuid_like(&mut rng),
        access_token: format!("sbxat_{}", ids::alnum(&mut rng, 40)),
        refresh_token: format!("sbxrt_{}", ids::alnum(&mut rng, 40)),
    }
}

pub(super) const DAY_MS: i64 = 86_400_000;
/// Seeded events read as a US Eastern location (no tz database needed).
const LOCATION_OFFSET_SECS: i32 = -5 * 3600;

pub fn location_offset() -> FixedOffset {
    FixedOffset::east_opt(LOCATION_OFFSET_SECS).unwrap_or_else(super::store::utc)
}

pub fn fmt_event_time(t: &DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

pub(super) struct Gen<'a> {
    pub(super) rng: StdRng,
    pub(super) ids: &'a Identities,
    pub(super) anchor_ms: i64,
    businesses: Vec<(String, &'static str)>,
    created: Vec<String>,
    pub(super) store: Store,
}

/// Seeds `contacts` contacts in the main location and a handful in the other one. `anchor_ms`
/// is "now" for the data (dates spread over the two years before it).
pub fn data(ids: &Identities, seed: u64, contacts: usize, anchor_ms: i64) -> Store {
    let mut rng = StdRng::seed_from_u64(seed);
    let businesses = (0..(contacts / 25).max(1))
        .map(|_| {
            (
                ids::mongo_id(&mut rng),
                COMPANIES[rng.random_range(0..COMPANIES.len())],
            )
        })
        .collect();
    let mut g = Gen {
        rng,
        ids,
        anchor_ms,
        businesses,
        created: Vec::with_capacity(contacts),
        store: Store::default(),
    };
    g.store.reserve_contacts(contacts + 8);
    let main_calendars = g.calendars(&ids.location_id, CALENDARS);
    let other_calendars = g.calendars(&ids.other_location_id, &CALENDARS[..1]);
    let batch_start = contacts / 20;
    let batch = batch_start..batch_start + (contacts / 4).min(120);
    let batch_ms = anchor_ms - 3 * DAY_MS - 12_345;
    let mut prev_ms = anchor_ms;
    for i in 0..contacts {
        let added_ms = if batch.contains(&i) {
            batch_ms
        } else if g.rng.random_bool(0.04) {
            prev_ms
        } else {
            anchor_ms - g.rng.random_range(0..730 * DAY_MS)
        };
        prev_ms = added_ms;
        g.contact(i, &ids.location_id, added_ms, &main_calendars);
    }
    for i in 0..5 {
        let added_ms = anchor_ms - g.rng.random_range(0..30 * DAY_MS);
        g.contact(
            contacts + i,
            &ids.other_location_id,
            added_ms,
            &other_calendars,
        );
    }
    g.store.calendars.sort_by(|a, b| a.name.cmp(&b.name));
    g.store.custom_fields = seeded_custom_fields(ids);
    g.store
}

/// The primary location's seeded custom fields, as `GET /locations/:id/customFields` lists them.
fn seeded_custom_fields(ids: &Identities) -> Vec<CustomField> {
    ids.custom_fields
        .iter()
        .zip(CUSTOM_FIELDS)
        .enumerate()
        .map(|(position, ((id, key), (_, kind)))| {
            let short = key.strip_prefix("contact.").unwrap_or(key);
            CustomField {
                id: id.clone(),
                name: short.replace('_', " "),
                field_key: key.clone(),
                data_type: match *kind {
                    "number" => "NUMERICAL",
                    "multi" => "MULTIPLE_OPTIONS",
                    _ => "TEXT",
                }
                .to_string(),
                position: Some(position as f64 * 50.0),
                location_id: Some(ids.location_id.clone()),
                model: Some("contact".into()),
                ..CustomField::default()
            }
        })
        .collect()
}

impl Gen<'_> {
    pub(super) fn pick<T: Copy>(&mut self, list: &[T]) -> T {
        list[self.rng.random_range(0..list.len())]
    }

    pub(super) fn user(&mut self) -> String {
        let k = self.rng.random_range(0..self.ids.user_ids.len());
        self.ids.user_ids[k].clone()
    }

    fn contact(&mut self, i: usize, location: &str, added_ms: i64, calendars: &[(String, i64)]) {
        let roll = self.rng.random_range(0..1000);
        let (mut first, mut last) = if (25..35).contains(&roll) {
            let (f, l) = self.pick(UNICODE_NAMES);
            (f.to_string(), l.to_string())
        } else {
            (
                self.pick(FIRST_NAMES).to_string(),
                self.pick(LAST_NAMES).to_string(),
            )
        };
        let local: String = format!("{}.{}", first, last)
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let local = if local.len() < 3 {
            format!("user{i}")
        } else {
            format!("{local}{i}")
        };
        let mut email = Some(format!("{local}@{}", self.pick(DOMAINS)));
        if self.rng.random_bool(0.05) {
            email = None;
        }
        let mut phone = if self.rng.random_bool(0.1) {
            None
        } else if self.rng.random_bool(0.12) {
            Some(format!(
                "+447{:09}",
                self.rng.random_range(0..1_000_000_000u64)
            ))
        } else {
            let area = self.pick(&[212, 303, 305, 312, 415, 512, 617, 206, 720, 786]);
            Some(format!(
                "+1{area}{}{:04}",
                self.rng.random_range(200..1000),
                i % 10_000
            ))
        };
        let mut company = self
            .rng
            .random_bool(0.4)
            .then(|| self.pick(COMPANIES).to_string());
        match roll {
            0..6 => {
                first = format!("  {first} ");
                last = format!("{last}  ");
            }
            6..12 => email = email.map(|e| e.to_uppercase()),
            12..17 => email = Some(format!("{}@", first.to_lowercase())),
            17..23 => {
                phone = Some(format!(
                    "(555) 01{}-{:04}",
                    self.rng.random_range(0..10),
                    i % 10_000
                ))
            }
            23..25 => {
                company = Some("Very Long Company Name Inc. ".repeat(180)[..5000].to_string())
            }
            35..45 => {
                // Same person entered twice: the second copy's email differs only in case.
                // Picked from creation order, not HashMap order, so the seed stays deterministic.
                let earlier = match self.created.len() {
                    0 => None,
                    n => {
                        let k = self.rng.random_range(0..n);
                        self.store.contact(&self.created[k])
                    }
                };
                let earlier = earlier.filter(|r| {
                    r.contact.location_id.as_deref() == Some(location) && r.contact.email.is_some()
                });
                if let Some(rec) = earlier {
                    first = rec.contact.first_name.clone().unwrap_or_default();
                    last = rec.contact.last_name.clone().unwrap_or_default();
                    email = rec.contact.email.as_ref().map(|e| {
                        let mut chars = e.chars();
                        chars
                            .next()
                            .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
                    });
                }
            }
            _ => {}
        }
        let id = ids::firestore_id(&mut self.rng);
        let (city, state, postal, country) = self.pick(PLACES);
        let mut tags: Vec<String> = Vec::new();
        for _ in 0..self.rng.random_range(0..4) {
            let tag = self.pick(TAGS).to_string();
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let business = self.rng.random_bool(0.3).then(|| {
            let k = self.rng.random_range(0..self.businesses.len());
            self.businesses[k].clone()
        });
        if let Some((_, name)) = &business {
            company.get_or_insert_with(|| (*name).to_string());
        }
        let updated_ms = if self.rng.random_bool(0.5) {
            added_ms
        } else {
            added_ms
                + self
                    .rng
                    .random_range(0..=(self.anchor_ms - added_ms).max(0))
        };
        let contact = Contact {
            id: id.clone(),
            location_id: Some(location.to_string()),
            name: Some(format!("{first} {last}")),
            first_name_lower_case: Some(first.to_lowercase()),
            last_name_lower_case: Some(last.to_lowercase()),
            full_name_lower_case: Some(format!("{first} {last}").to_lowercase()),
            first_name: Some(first),
            last_name: Some(last),
            email_lower_case: email.as_ref().map(|e| e.to_lowercase()),
            email,
            phone,
            company_name: company,
            timezone: Some(self.pick(TIMEZONES).to_string()),
            address1: Some(format!(
                "{} {}",
                self.rng.random_range(1..9999),
                self.pick(STREETS)
            )),
            city: Some(city.into()),
            state: Some(state.into()),
            country: Some(country.into()),
            postal_code: Some(postal.into()),
            dnd: Some(self.rng.random_bool(0.03)),
            contact_type: Some(
                if self.rng.random_bool(0.3) {
                    "customer"
                } else {
                    "lead"
                }
                .into(),
            ),
            source: Some(self.pick(SOURCES).into()),
            assigned_to: self.rng.random_bool(0.5).then(|| self.user()),
            tags,
            date_added: Some(fmt_ms(added_ms)),
            date_updated: Some(fmt_ms(updated_ms)),
            custom_fields: self.custom_fields(),
            business_id: business.map(|(id, _)| id),
            ..Contact::default()
        };
        self.store.insert_contact(ContactRec { contact, added_ms });
        self.created.push(id.clone());
        self.tasks_and_notes(&id, added_ms);
        self.appointments(&id, location, calendars);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANCHOR: i64 = 1_780_000_000_000;

    #[test]
    fn same_seed_same_data() {
        let a_ids = identities(42);
        let a = data(&a_ids, 42, 300, ANCHOR);
        let b = data(&identities(42), 42, 300, ANCHOR);
        let first = |s: &Store, loc: &str| s.walk(loc, None).next().map(|r| r.contact.clone());
        assert_eq!(first(&a, &a_ids.location_id), first(&b, &a_ids.location_id));
        assert_eq!(a.contacts().len(), 305);
        assert_eq!(a.count_in(&a_ids.location_id), 300);
        let c_ids = identities(7);
        assert_ne!(a_ids.location_id, c_ids.location_id);
        assert_eq!(a_ids.location_id.len(), 20);
    }

    #[test]
    fn seeds_ties_and_dirt_quickly() {
        let ids = identities(42);
        let started = std::time::Instant::now();
        let store = data(&ids, 42, 10_000, ANCHOR);
        println!("seeded 10k contacts in {:?}", started.elapsed());
        let mut per_ms = std::collections::HashMap::<i64, usize>::new();
        for rec in store.contacts() {
            *per_ms.entry(rec.added_ms).or_default() += 1;
        }
        assert!(
            per_ms.values().any(|n| *n > 100),
            "a bulk import larger than a page"
        );
        let long = store.contacts().filter(|r| {
            r.contact
                .company_name
                .as_ref()
                .is_some_and(|c| c.len() == 5000)
        });
        assert!(long.count() > 0);
        assert!(
            store
                .contacts()
                .any(|r| r.contact.email.as_deref().is_some_and(|e| e.ends_with('@')))
        );
        assert!(!store.tasks.is_empty() && !store.notes.is_empty() && !store.appts.is_empty());
    }
}
