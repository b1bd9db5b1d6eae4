//! Deterministic Repsly data that overlaps the GHL seed, so a sync has something to do.
//!
//! From the GHL location's contacts (in walk order, which is deterministic):
//! - ~60% become Repsly clients of the **same person**: the same email, sometimes differently
//!   cased; the same phone formatted the Repsly way (`(415) 555-0123`, `415-555-0123`, or in
//!   `Mobile`); `Name` = the company or "First Last", `ContactName` = "First Last"; the same
//!   street, city, state and ZIP, but `Country` spelled out ("United States");
//! - ~10% of those carry a **conflict**: another city (with its state and ZIP) or another phone;
//! - ~15% as many again are **Repsly-only** clients (never in GHL);
//! - ~3% of all clients are **dirty**: untrimmed names, an invalid `bob@` email, a 300-char
//!   `Note`, an emoji in the name; and a couple are inactive (`Active: false`).
//!
//! `ClientID`s and `TimeStamp`s are assigned in two different shuffles, so neither order follows
//! the other (or GHL's). Notes, schedules and visits come from `seed_activity.rs`.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::ghl::models::Contact;
use crate::sandbox::seed_data::{
    COMPANIES, DOMAINS, FIRST_NAMES, LAST_NAMES, NOTE_BODIES, PLACES, STREETS,
};
use crate::sandbox::store::Store as GhlStore;

use super::model::{Client, CustomField, PriceList, REPS};
use super::store::Data;

pub const FIRST_TIMESTAMP: i64 = 1_000_000;
const FIRST_CLIENT_ID: i64 = 15_001;
const FIRST_NOTE_ID: i64 = 700_001;

/// What the seed made, for tests and `/_sandbox/repsly/info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeedFigures {
    pub overlapping: usize,
    pub conflicting: usize,
    pub repsly_only: usize,
    pub dirty: usize,
    pub inactive: usize,
}

pub fn data(ghl: &GhlStore, location: &str, seed: u64, anchor_ms: i64) -> (Data, SeedFigures) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5EB5_17C0);
    let mut figures = SeedFigures::default();
    let mut clients: Vec<Client> = Vec::new();
    let contacts: Vec<&Contact> = ghl.walk(location, None).map(|r| &r.contact).collect();
    for contact in &contacts {
        if !rng.random_bool(0.6) {
            continue;
        }
        let conflict = rng.random_bool(0.1);
        clients.push(from_contact(&mut rng, contact, conflict));
        figures.overlapping += 1;
        figures.conflicting += usize::from(conflict);
    }
    let only = contacts.len() * 15 / 100;
    for k in 0..only {
        clients.push(repsly_only(&mut rng, k));
    }
    figures.repsly_only = only;
    clients.shuffle(&mut rng);
    for (k, client) in clients.iter_mut().enumerate() {
        client.client_id = FIRST_CLIENT_ID + k as i64;
        client.code = format!("C-{:06}", 100 + k);
        if rng.random_bool(0.03) {
            dirty(&mut rng, client);
            figures.dirty += 1;
        }
        if k % 97 == 3 || k == 10 {
            client.active = false;
            figures.inactive += 1;
        }
    }
    clients.shuffle(&mut rng);
    let mut data = Data::new(FIRST_TIMESTAMP, FIRST_CLIENT_ID, FIRST_NOTE_ID);
    for client in clients {
        data.insert_seeded(client);
        data.skip(rng.random_range(0..3));
    }
    super::seed_activity::add(&mut data, &mut rng, anchor_ms);
    (data, figures)
}

fn pick<T: Copy>(rng: &mut StdRng, list: &[T]) -> T {
    list[rng.random_range(0..list.len())]
}

pub fn country_name(code: &str) -> String {
    match code {
        "US" => "United States".into(),
        "GB" => "United Kingdom".into(),
        other => other.into(),
    }
}

/// `+14155550123` → `(415) 555-0123` or `415-555-0123`; `+447…` → `07… …`; others as they are.
fn repsly_phone(rng: &mut StdRng, phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if phone.starts_with("+1") && digits.len() == 11 {
        let (a, b, c) = (&digits[1..4], &digits[4..7], &digits[7..]);
        match rng.random_range(0..10) {
            0..5 => format!("({a}) {b}-{c}"),
            5..7 => format!("{a}-{b}-{c}"),
            _ => phone.to_string(),
        }
    } else if phone.starts_with("+44") && digits.len() == 12 {
        format!("0{} {}", &digits[2..6], &digits[6..])
    } else {
        phone.to_string()
    }
}

/// The same digits but the last four, so the phone no longer matches.
fn other_phone(rng: &mut StdRng, phone: &str) -> String {
    let keep = phone.len().saturating_sub(4);
    if !phone.is_char_boundary(keep) {
        return format!("{phone}9");
    }
    let last: String = phone[keep..].chars().filter(char::is_ascii_digit).collect();
    let mut n = rng.random_range(0..10_000);
    if format!("{n:04}") == last {
        n = (n + 1) % 10_000;
    }
    format!("{}{n:04}", &phone[..keep])
}

fn recased(rng: &mut StdRng, email: &str) -> String {
    match rng.random_range(0..10) {
        0..2 => email.to_uppercase(),
        2..4 => {
            let mut chars = email.chars();
            chars
                .next()
                .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
        }
        _ => email.to_string(),
    }
}

/// Fields every seeded client gets at random: rep, status, custom fields, price lists, ….
fn decorate(rng: &mut StdRng, c: &mut Client) {
    if rng.random_bool(0.85) {
        let rep = &REPS[rng.random_range(0..REPS.len())];
        c.representative_code = Some(rep.code.into());
        c.representative_name = Some(rep.name.into());
    }
    c.contact_title = rng
        .random_bool(0.4)
        .then(|| pick(rng, &["Owner", "Store Manager", "Buyer", "Purchasing"]).into());
    c.note = rng.random_bool(0.2).then(|| pick(rng, NOTE_BODIES).into());
    c.account_code = rng
        .random_bool(0.3)
        .then(|| format!("ACC-{:05}", rng.random_range(0..100_000)));
    if rng.random_bool(0.6) {
        c.custom_fields.push(CustomField {
            field: "Store size".into(),
            value: pick(rng, &["Small", "Medium", "Large"]).into(),
        });
    }
    if rng.random_bool(0.4) {
        c.custom_fields.push(CustomField {
            field: "Segment".into(),
            value: pick(rng, &["Grocery", "Pharmacy", "Convenience", "Hardware"]).into(),
        });
    }
    c.price_lists = match rng.random_range(0..20) {
        0..10 => None,
        10..17 => Some(vec![PriceList {
            name: "Standard".into(),
        }]),
        _ => Some(vec![PriceList {
            name: "Wholesale".into(),
        }]),
    };
    c.zip_ext = None;
}

fn from_contact(rng: &mut StdRng, contact: &Contact, conflict: bool) -> Client {
    let first = contact.first_name.as_deref().unwrap_or_default().trim();
    let last = contact.last_name.as_deref().unwrap_or_default().trim();
    let person = format!("{first} {last}").trim().to_string();
    let name = match contact.company_name.as_deref() {
        Some(company) if company.len() <= 80 && rng.random_bool(0.7) => company.to_string(),
        _ => person.clone(),
    };
    let phone = contact.phone.as_deref().map(|p| repsly_phone(rng, p));
    let (phone, mobile) = if rng.random_bool(0.2) {
        (None, phone)
    } else {
        (phone, None)
    };
    let country = contact.country.as_deref().unwrap_or("US");
    let mut c = Client {
        name,
        active: true,
        tag: (!contact.tags.is_empty()).then(|| contact.tags.join(",")),
        street_address: contact.address1.clone(),
        zip: contact.postal_code.clone(),
        city: contact.city.clone(),
        state: contact.state.clone(),
        country: Some(country_name(country)),
        email: contact.email.as_deref().map(|e| recased(rng, e)),
        phone,
        mobile,
        contact_name: Some(person),
        status: Some(
            match contact.contact_type.as_deref() {
                Some("customer") => "Customer",
                _ => "Prospect",
            }
            .into(),
        ),
        ..Client::default()
    };
    c.territory = Some(territory(&c));
    decorate(rng, &mut c);
    if conflict {
        let phone_slot = if c.phone.is_some() {
            &mut c.phone
        } else {
            &mut c.mobile
        };
        match phone_slot {
            Some(p) if rng.random_bool(0.5) => *p = other_phone(rng, p),
            _ => {
                let current = c.city.clone();
                let options: Vec<_> = PLACES
                    .iter()
                    .filter(|p| Some(p.0) != current.as_deref())
                    .collect();
                let (city, state, zip, country) = *options[rng.random_range(0..options.len())];
                c.city = Some(city.into());
                c.state = Some(state.into());
                c.zip = Some(zip.into());
                c.country = Some(country_name(country));
                c.territory = Some(territory(&c));
            }
        }
    }
    c
}

fn territory(c: &Client) -> String {
    format!(
        "{}>{}",
        c.country.as_deref().unwrap_or_default(),
        c.state.as_deref().unwrap_or_default()
    )
}

fn repsly_only(rng: &mut StdRng, k: usize) -> Client {
    let first = pick(rng, FIRST_NAMES);
    let last = pick(rng, LAST_NAMES);
    let name = match rng.random_range(0..3) {
        0 => format!("{last}'s Market"),
        1 => format!("{} #{}", pick(rng, COMPANIES), k + 1),
        _ => format!("{first} {last}"),
    };
    let local: String = format!("{first}.{last}.r{k}")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let (city, state, zip, country) = pick(rng, PLACES);
    let area = pick(rng, &[212, 303, 305, 312, 415, 512, 617]);
    let mut c = Client {
        name,
        active: true,
        street_address: Some(format!(
            "{} {}",
            rng.random_range(1..9999),
            pick(rng, STREETS)
        )),
        zip: Some(zip.into()),
        city: Some(city.into()),
        state: Some(state.into()),
        country: Some(country_name(country)),
        email: rng
            .random_bool(0.85)
            .then(|| format!("{local}@{}", pick(rng, DOMAINS))),
        phone: Some(format!(
            "({area}) {}-{:04}",
            rng.random_range(100..200),
            k % 10_000
        )),
        contact_name: Some(format!("{first} {last}")),
        status: Some("Prospect".into()),
        website: rng
            .random_bool(0.3)
            .then(|| format!("https://www.{}.example", last.to_lowercase())),
        ..Client::default()
    };
    c.territory = Some(territory(&c));
    decorate(rng, &mut c);
    c
}

fn dirty(rng: &mut StdRng, c: &mut Client) {
    match rng.random_range(0..4) {
        0 => {
            c.name = format!("  {} ", c.name);
            if let Some(n) = &mut c.contact_name {
                *n = format!("{n}  ");
            }
        }
        1 => {
            let first = c
                .contact_name
                .as_deref()
                .and_then(|n| n.split_whitespace().next())
                .unwrap_or("bob")
                .to_lowercase();
            c.email = Some(format!("{first}@"));
        }
        2 => c.note = Some("Long note from the field. ".repeat(12)[..300].to_string()),
        _ => c.name = format!("{} 🛒", c.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed as ghl_seed;

    const ANCHOR: i64 = 1_780_000_000_000 - 1_780_000_000_000 % 86_400_000;

    #[test]
    fn overlaps_ghl_deterministically_and_fast() {
        let ids = ghl_seed::identities(42);
        let ghl = ghl_seed::data(&ids, 42, 2000, ANCHOR);
        let started = std::time::Instant::now();
        let (data, figures) = data(&ghl, &ids.location_id, 42, ANCHOR);
        println!(
            "repsly seed from 2000 contacts: {:?} {figures:?}",
            started.elapsed()
        );
        let (again, same) = super::data(&ghl, &ids.location_id, 42, ANCHOR);
        assert_eq!(figures, same);
        assert_eq!(data.clients_after(0), again.clients_after(0));
        assert!((1100..1300).contains(&figures.overlapping), "{figures:?}");
        assert!((80..160).contains(&figures.conflicting), "{figures:?}");
        assert_eq!(figures.repsly_only, 300);
        assert!(figures.dirty > 20 && figures.inactive >= 2, "{figures:?}");
        assert_eq!(
            data.client_count(),
            figures.overlapping + figures.repsly_only
        );
        let ghl_emails: std::collections::HashSet<String> = ghl
            .contacts()
            .filter_map(|r| r.contact.email.as_deref().map(str::to_lowercase))
            .collect();
        let shared = data
            .clients_by_id()
            .filter(|c| {
                c.email
                    .as_deref()
                    .is_some_and(|e| ghl_emails.contains(&e.to_lowercase()))
            })
            .count();
        assert!(shared > 900, "{shared} clients share an email with GHL");
        assert!(
            data.clients_by_id()
                .any(|c| c.email.as_deref().is_some_and(|e| e.ends_with('@')))
        );
        assert!(!data.notes.is_empty() && !data.schedules.is_empty() && !data.visits.is_empty());
    }

    #[test]
    fn phones_are_reformatted_not_changed() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..20 {
            let p = repsly_phone(&mut rng, "+14155550123");
            assert!(["(415) 555-0123", "415-555-0123", "+14155550123"].contains(&p.as_str()));
        }
        assert_eq!(repsly_phone(&mut rng, "+447911123456"), "07911 123456");
        let other = other_phone(&mut rng, "(415) 555-0123");
        assert!(other.starts_with("(415) 555-") && other != "(415) 555-0123");
    }
}
