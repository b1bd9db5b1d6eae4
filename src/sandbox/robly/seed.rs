//! A small, deterministic Robly account that overlaps the GHL seed:
//! - up to [`FROM_GHL`] of the GHL location's people with an email (about half of the first
//!   ones by email): same email (sometimes recased), same names, the phone as GHL has it
//!   or written `(415) 555-0123`; a few **conflicting** (another first name) and a few
//!   **dirty** (padded names);
//! - some of them unsubscribed, bounced, cleaned or deleted (→ DND in GHL);
//! - a few **Robly-only** people, one with a `+` in the address;
//! - data fields `email`, `fname`, `lname`, `phone` and one `data4` (`company`) the default
//!   mapping does not use; sub-lists named like some GHL tags, one private.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::store::{Data, Field, Member};
use crate::sandbox::seed_data::{DOMAINS, FIRST_NAMES, LAST_NAMES};
use crate::sandbox::store::Store as GhlStore;

/// At most this many members come from the GHL seed.
pub const FROM_GHL: usize = 24;
const DAY: i64 = 86_400;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedFigures {
    pub from_ghl: usize,
    /// Of those, seeded with another first name than GHL's.
    pub conflicting: usize,
    /// Members seeded unsubscribed, deleted, bounced or cleaned.
    pub opted_out: usize,
    pub robly_only: usize,
}

const SUB_LISTS: &[(&str, bool)] = &[
    ("newsletter", true),
    ("customer", true),
    ("vip", true),
    ("webinar-2024", true),
    ("Staff Picks", false),
];

fn fields() -> Vec<Field> {
    [
        ("Email", "Emailfield", "email", "data0"),
        ("First Name", "Textfield", "fname", "data1"),
        ("Last Name", "Textfield", "lname", "data2"),
        ("Phone", "Textfield", "phone", "data3"),
        ("Company", "Textfield", "company", "data4"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (label, kind, user, default))| Field {
        id: 100 + i as u64,
        label: (*label).into(),
        tag_type: (*kind).into(),
        user_tag: (*user).into(),
        default_tag: (*default).into(),
    })
    .collect()
}

fn app_phone(rng: &mut StdRng, phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if phone.starts_with("+1") && digits.len() == 11 && rng.random_bool(0.5) {
        format!("({}) {}-{}", &digits[1..4], &digits[4..7], &digits[7..])
    } else {
        phone.to_string()
    }
}

pub fn data(ghl: &GhlStore, location: &str, seed: u64, anchor_ms: i64) -> (Data, SeedFigures) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5208_1E57);
    let anchor = anchor_ms / 1000;
    let mut figures = SeedFigures::default();
    let mut data = Data {
        fields: fields(),
        next_member: 959_100,
        next_sub_list: 4_400,
        ..Data::default()
    };
    for (name, public) in SUB_LISTS {
        data.add_sub_list(name, *public, anchor - 90 * DAY);
    }
    let list_ids: Vec<u64> = data.sub_lists.keys().copied().collect();
    let mut people = Vec::new();
    // By email, not walk order: GHL's seeded ids are random, so its order is not the seed's.
    let mut contacts: Vec<_> = ghl.walk(location, None).map(|r| &r.contact).collect();
    contacts.sort_by_key(|c| c.email.as_deref().map(str::to_lowercase));
    for contact in contacts {
        if figures.from_ghl >= FROM_GHL {
            break;
        }
        let Some(email) = contact.email.as_deref().filter(|e| !e.trim().is_empty()) else {
            continue;
        };
        if !rng.random_bool(0.5) {
            continue;
        }
        let email = if rng.random_bool(0.2) {
            email.to_uppercase()
        } else {
            email.to_string()
        };
        let mut member = blank(email);
        let mut first = contact.first_name.clone().unwrap_or_default();
        if rng.random_bool(0.15) {
            first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())].to_string();
            figures.conflicting += 1;
        } else if rng.random_bool(0.15) {
            first = format!("  {first} ");
        }
        set(&mut member, "fname", Some(first));
        set(&mut member, "lname", contact.last_name.clone());
        let phone = contact.phone.as_deref().map(|p| app_phone(&mut rng, p));
        set(&mut member, "phone", phone);
        opt_out(&mut rng, &mut member, &mut figures);
        people.push(member);
        figures.from_ghl += 1;
    }
    let only = (figures.from_ghl / 6).max(2);
    for k in 0..only {
        let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
        let domain = DOMAINS[rng.random_range(0..DOMAINS.len())];
        // The first Robly-only person has a `+` address: it must travel as %2B.
        let email = if k == 0 {
            format!("{}+news@{domain}", first.to_lowercase())
        } else {
            format!(
                "{}.{}.r{k}@{domain}",
                first.to_lowercase(),
                last.to_lowercase()
            )
        };
        let mut member = blank(email);
        set(&mut member, "fname", Some(first.to_string()));
        set(&mut member, "lname", Some(last.to_string()));
        set(&mut member, "company", Some("Robly Seed Co".to_string()));
        people.push(member);
        figures.robly_only += 1;
    }
    let count = people.len() as i64;
    for (k, mut member) in people.into_iter().enumerate() {
        member.created_at = anchor - 60 * DAY + (k as i64) * (50 * DAY / count.max(1));
        member.updated_at = member.created_at + rng.random_range(0..5 * DAY);
        for id in &list_ids {
            if rng.random_bool(0.3) {
                member.sub_lists.insert(*id);
            }
        }
        data.add_member(member);
    }
    data.clock = anchor;
    (data, figures)
}

fn blank(email: String) -> Member {
    Member {
        id: 0,
        email,
        fields: Default::default(),
        sub_lists: Default::default(),
        is_unsubscribed: false,
        is_deleted: false,
        is_hard_bounce: false,
        is_cleaned: false,
        is_spam: false,
        sign_up_source: "List Import".into(),
        created_at: 0,
        updated_at: 0,
    }
}

fn set(member: &mut Member, tag: &str, value: Option<String>) {
    if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
        member.fields.insert(tag.to_string(), value);
    }
}

fn opt_out(rng: &mut StdRng, member: &mut Member, figures: &mut SeedFigures) {
    if !rng.random_bool(0.2) {
        return;
    }
    match rng.random_range(0..4) {
        0 => member.is_unsubscribed = true,
        1 => member.is_deleted = true,
        2 => member.is_hard_bounce = true,
        _ => {
            member.is_cleaned = true;
            member.is_spam = true;
        }
    }
    figures.opted_out += 1;
}
