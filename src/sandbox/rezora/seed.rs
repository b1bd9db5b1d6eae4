//! Deterministic Rezora data that overlaps the GHL seed (tens of people, whatever the GHL seed's
//! size):
//! - about half of the GHL location's first 60 contacts (walk order) are contacts of the **same
//!   person**: `contact_name` = "First Last" (a few with stray spaces), the email (a few
//!   upper-cased), the phone as `(415) 555-0123` in `contact_phone_mobile`, the company;
//! - ~15% of those carry a **conflict**: another company;
//! - a few **Rezora-only** people, three of them **locked** (two synced, one brokerage Master);
//! - the agent's **self contact** (`contact_self = 1`);
//! - the **Primary Sphere** list (`list_type = 1`) holding every contact, and three lists of
//!   the agent's own with some members each.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use super::data::{CONTACT_TYPES, Data, Lock};
use crate::sandbox::seed_data::{COMPANIES, DOMAINS, FIRST_NAMES, LAST_NAMES};
use crate::sandbox::store::Store as GhlStore;

/// What the seed made, for tests and `/_sandbox/rezora/info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedFigures {
    /// Contacts of a person in the GHL seed.
    pub from_ghl: usize,
    pub conflicting: usize,
    pub dirty: usize,
    /// People only Rezora has (the locked ones included, the self contact not).
    pub rezora_only: usize,
    pub locked: usize,
}

/// The agent's own address: the self contact's email.
pub const AGENT_EMAIL: &str = "agent.owner@rezora-agent.example";
pub const LISTS: &[&str] = &["Hot Leads", "Past Clients", "Open House"];

fn pick<T: Copy>(rng: &mut StdRng, list: &[T]) -> T {
    list[rng.random_range(0..list.len())]
}

fn row(pairs: &[(&str, String)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_string(), json!(value)))
        .collect()
}

/// `+14155550123` → `(415) 555-0123`; other numbers as they are.
fn rezora_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if phone.starts_with("+1") && digits.len() == 11 {
        format!("({}) {}-{}", &digits[1..4], &digits[4..7], &digits[7..])
    } else {
        phone.to_string()
    }
}

pub fn data(ghl: &GhlStore, location: &str, seed: u64, anchor_ms: i64) -> (Data, SeedFigures) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x4E20_4A5E);
    let mut figures = SeedFigures::default();
    let mut data = Data::new(anchor_ms - 90 * 86_400_000);
    let sphere = data.add_list("Primary Sphere", 1);
    let lists: Vec<u64> = LISTS.iter().map(|name| data.add_list(name, 0)).collect();
    let own = data.add_contact(
        row(&[
            ("contact_name", "Agent Owner".into()),
            ("contact_email", AGENT_EMAIL.into()),
            ("contact_self", "1".into()),
            ("contact_company", "Rezora Realty".into()),
        ]),
        None,
    );
    let mut people = vec![own];
    for record in ghl.walk(location, None).take(60) {
        let contact = &record.contact;
        let Some(email) = contact.email.as_deref().filter(|e| !e.trim().is_empty()) else {
            continue;
        };
        if !rng.random_bool(0.5) {
            continue;
        }
        let dirty = rng.random_bool(0.1);
        let conflict = rng.random_bool(0.15);
        let first = contact.first_name.clone().unwrap_or_default();
        let last = contact.last_name.clone().unwrap_or_default();
        let name = if dirty {
            format!("  {first}  {last} ")
        } else {
            format!("{first} {last}").trim().to_string()
        };
        let email = if dirty {
            email.to_uppercase()
        } else {
            email.to_string()
        };
        let company = if conflict {
            pick(&mut rng, COMPANIES).to_string()
        } else {
            contact.company_name.clone().unwrap_or_default()
        };
        let fields = row(&[
            ("contact_name", name),
            ("contact_email", email),
            (
                "contact_phone_mobile",
                contact
                    .phone
                    .as_deref()
                    .map(rezora_phone)
                    .unwrap_or_default(),
            ),
            ("contact_company", company),
            (
                "contact_business_city",
                contact.city.clone().unwrap_or_default(),
            ),
            ("contact_type", pick(&mut rng, CONTACT_TYPES).to_string()),
        ]);
        people.push(data.add_contact(fields, None));
        figures.from_ghl += 1;
        figures.dirty += usize::from(dirty);
        figures.conflicting += usize::from(conflict);
    }
    let locks = [Some(Lock::Synced), Some(Lock::Synced), Some(Lock::Master)];
    for (k, lock) in locks.into_iter().chain([None, None, None]).enumerate() {
        let first = pick(&mut rng, FIRST_NAMES);
        let last = pick(&mut rng, LAST_NAMES);
        let email = format!(
            "{}.{}.rz{k}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            pick(&mut rng, DOMAINS)
        );
        let fields = row(&[
            ("contact_name", format!("{first} {last}")),
            ("contact_email", email),
            ("contact_phone_work", format!("(303) 555-{:04}", 8100 + k)),
            ("contact_type", "Active".into()),
        ]);
        people.push(data.add_contact(fields, lock));
        figures.rezora_only += 1;
        figures.locked += usize::from(lock.is_some());
    }
    for id in &people {
        data.add_member(sphere, *id);
        for list in &lists {
            if *id != own && rng.random_bool(0.25) {
                data.add_member(*list, *id);
            }
        }
    }
    data.agents = vec![
        agent(1, "Agent", "Owner", AGENT_EMAIL, 1),
        agent(2, "Dana", "Reyes", "dana.reyes@rezora-agent.example", 2),
    ];
    (data, figures)
}

fn agent(id: u64, first: &str, last: &str, email: &str, status: u8) -> Value {
    json!({
        "user_id": id.to_string(),
        "user_fname": first,
        "user_lname": last,
        "user_email": email,
        "user_status_id": status.to_string(),
        "user_date": "2011-03-01 09:00:00",
        "brokerage_employee_id": "",
    })
}
