//! Deterministic generic-app data that overlaps the other seeds, so a sync has people to match:
//! - ~50% of the GHL location's contacts (in walk order) become contacts of the **same
//!   person**: same names, the email sometimes recased, the phone as GHL has it or written
//!   `(415) 555-0123`; ~60% of those are in Repsly's seed too (Repsly draws from the same
//!   contacts), so one person can be known to GHL and both peers;
//! - a third of Repsly's own clients (people GHL does not have) are here too, by email and
//!   contact name: two peers know someone GHL does not, and must make one GHL contact;
//! - ~10% as many again are **generic-only** people;
//! - about a third of the contacts have one or two notes.
//!
//! Dates count back from the seed anchor, so the same seed gives the same data all day.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use super::store::{Data, Kind};
use crate::sandbox::repsly::RepslyState;
use crate::sandbox::seed_data::{COMPANIES, DOMAINS, FIRST_NAMES, LAST_NAMES, NOTE_BODIES, PLACES};
use crate::sandbox::state::lock;
use crate::sandbox::store::Store as GhlStore;

/// What the seed made, for tests and `/_sandbox/generic/info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedFigures {
    /// Contacts of a person in the GHL seed.
    pub from_ghl: usize,
    /// Of those, people Repsly's seed has too (same email).
    pub also_in_repsly: usize,
    /// Contacts of a person only Repsly's seed has.
    pub from_repsly_only: usize,
    pub generic_only: usize,
    pub notes: usize,
}

const DAY_MS: i64 = 86_400_000;

fn pick<T: Copy>(rng: &mut StdRng, list: &[T]) -> T {
    list[rng.random_range(0..list.len())]
}

fn fields(pairs: &[(&str, Option<String>)]) -> Map<String, Value> {
    pairs
        .iter()
        .filter_map(|(key, value)| {
            let value = value.as_ref()?.trim();
            (!value.is_empty()).then(|| ((*key).to_string(), json!(value)))
        })
        .collect()
}

/// `+14155550123` → `(415) 555-0123` half the time; other numbers as they are.
fn app_phone(rng: &mut StdRng, phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if phone.starts_with("+1") && digits.len() == 11 && rng.random_bool(0.5) {
        format!("({}) {}-{}", &digits[1..4], &digits[4..7], &digits[7..])
    } else {
        phone.to_string()
    }
}

pub fn data(
    ghl: &GhlStore,
    repsly: &RepslyState,
    location: &str,
    seed: u64,
    anchor_ms: i64,
) -> (Data, SeedFigures) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6E4E_5EED);
    let mut figures = SeedFigures::default();
    let repsly_emails: Vec<(String, Option<String>, Option<String>)> = {
        let data = lock(&repsly.data);
        data.clients_by_id()
            .filter_map(|client| {
                let email = client.email.as_deref()?.trim().to_ascii_lowercase();
                Some((email, client.contact_name.clone(), client.phone.clone()))
            })
            .collect()
    };
    let in_repsly: HashSet<&str> = repsly_emails
        .iter()
        .map(|(email, _, _)| email.as_str())
        .collect();
    let mut people: Vec<Map<String, Value>> = Vec::new();
    let mut ghl_emails = HashSet::new();
    for record in ghl.walk(location, None) {
        let contact = &record.contact;
        if let Some(email) = &contact.email {
            ghl_emails.insert(email.trim().to_ascii_lowercase());
        }
        if !rng.random_bool(0.5) {
            continue;
        }
        let email = contact.email.as_deref().map(|email| {
            if rng.random_bool(0.2) {
                email.to_uppercase()
            } else {
                email.to_string()
            }
        });
        if email
            .as_deref()
            .is_some_and(|e| in_repsly.contains(e.trim().to_ascii_lowercase().as_str()))
        {
            figures.also_in_repsly += 1;
        }
        let phone = contact.phone.as_deref().map(|p| app_phone(&mut rng, p));
        people.push(fields(&[
            ("first_name", contact.first_name.clone()),
            ("last_name", contact.last_name.clone()),
            ("email", email),
            ("phone", phone),
            ("company", contact.company_name.clone()),
            ("city", contact.city.clone()),
        ]));
        figures.from_ghl += 1;
    }
    for (email, name, phone) in &repsly_emails {
        if ghl_emails.contains(email) || !rng.random_bool(0.34) {
            continue;
        }
        let name = name.clone().unwrap_or_default();
        let (first, last) = name.trim().split_once(' ').unwrap_or((name.trim(), ""));
        people.push(fields(&[
            ("first_name", Some(first.to_string())),
            ("last_name", Some(last.to_string())),
            ("email", Some(email.clone())),
            ("phone", phone.clone()),
        ]));
        figures.from_repsly_only += 1;
    }
    let only = (figures.from_ghl / 10).max(2);
    for k in 0..only {
        let first = pick(&mut rng, FIRST_NAMES);
        let last = pick(&mut rng, LAST_NAMES);
        let place = pick(&mut rng, PLACES);
        let email = format!(
            "{}.{}.g{k}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            pick(&mut rng, DOMAINS)
        );
        let company = rng
            .random_bool(0.5)
            .then(|| pick(&mut rng, COMPANIES).to_string());
        people.push(fields(&[
            ("first_name", Some(first.to_string())),
            ("last_name", Some(last.to_string())),
            ("email", Some(email)),
            ("phone", Some(format!("+1512555{:04}", 7000 + k))),
            ("company", company),
            ("city", Some(place.0.to_string())),
        ]));
    }
    figures.generic_only = only;
    // Older records first, so the creation order and the change order agree at the start.
    let count = people.len() as i64;
    let mut data = Data::new(seed);
    let mut contacts = Vec::with_capacity(people.len());
    for (k, person) in people.into_iter().enumerate() {
        let at = anchor_ms - 60 * DAY_MS + (k as i64) * (50 * DAY_MS / count.max(1));
        contacts.push((data.insert(Kind::Contact, person, Some(at)), at));
    }
    for (num, at) in contacts {
        if !rng.random_bool(0.33) {
            continue;
        }
        for n in 0..rng.random_range(1..=2) {
            let body = json!({"contact_id": num, "body": pick(&mut rng, NOTE_BODIES)});
            let fields = body.as_object().cloned().unwrap_or_default();
            data.insert(Kind::Note, fields, Some(at + DAY_MS * (n + 1)));
            figures.notes += 1;
        }
    }
    (data, figures)
}
