//! Deterministic Growbots data overlapping the GHL seed: about half of the location's contacts
//! with an email (at most 20) are prospects of the **same person** — the email sometimes
//! recased, the phone sometimes written `(415) 555-0123`, a first name with a stray space, and
//! a quarter of them with a **conflicting** job or last name — plus a few Growbots-only
//! prospects. Each prospect's company is in the companies export; statuses are Growbots' own.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::sandbox::seed_data::{COMPANIES, DOMAINS, FIRST_NAMES, LAST_NAMES, PLACES};
use crate::sandbox::store::Store as GhlStore;

/// Growbots' prospects export headers, in its order.
pub const PROSPECT_HEADERS: &[&str] = &[
    "First Name",
    "Last Name",
    "Email",
    "Company",
    "Job Title",
    "Phone",
    "LinkedIn",
    "Status",
    "City",
    "Country",
];

/// Growbots' companies export headers, in its order.
pub const COMPANY_HEADERS: &[&str] = &[
    "Company Name",
    "Website",
    "Industry",
    "Employees",
    "City",
    "Country",
];

const STATUSES: &[&str] = &[
    "Active",
    "Active",
    "Paused - new reply",
    "Finished",
    "Qualified",
];
const TITLES: &[&str] = &[
    "Owner",
    "Office Manager",
    "Head of Sales",
    "Marketing Director",
    "Operations Lead",
    "CEO",
];
const INDUSTRIES: &[&str] = &[
    "Health",
    "Home services",
    "Retail",
    "Real estate",
    "Automotive",
];
const SIZES: &[&str] = &["1-10", "11-50", "51-200"];

/// At most this many prospects are drawn from GHL's people: a small seed whatever its size.
const FROM_GHL_MAX: usize = 20;
const GROWBOTS_ONLY: usize = 4;

#[derive(Debug, Default, Clone)]
pub struct Data {
    /// Rows by header, in the export's order.
    pub prospects: Vec<Map<String, Value>>,
    pub companies: Vec<Map<String, Value>>,
    /// Every event the bridge was asked to send, in order (`{id, type, email, deliveries}`).
    pub events: Vec<Value>,
    pub next_event: u64,
    /// Prospects drawn from GHL's people.
    pub from_ghl: usize,
}

fn pick<T: Copy>(rng: &mut StdRng, list: &[T]) -> T {
    list[rng.random_range(0..list.len())]
}

fn row(headers: &[&str], values: &[Option<String>]) -> Map<String, Value> {
    headers
        .iter()
        .zip(values)
        .filter_map(|(header, value)| {
            let value = value.as_ref()?;
            (!value.trim().is_empty()).then(|| (header.to_string(), json!(value)))
        })
        .collect()
}

fn slug(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

pub fn data(ghl: &GhlStore, location: &str, seed: u64) -> Data {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6B07_5EED);
    let mut data = Data::default();
    let mut people = Vec::new();
    for record in ghl.walk(location, None) {
        if people.len() >= FROM_GHL_MAX {
            break;
        }
        let contact = &record.contact;
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
        let phone = contact.phone.as_deref().map(|phone| {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            if phone.starts_with("+1") && digits.len() == 11 && rng.random_bool(0.5) {
                format!("({}) {}-{}", &digits[1..4], &digits[4..7], &digits[7..])
            } else {
                phone.to_string()
            }
        });
        let first = contact.first_name.clone().map(|f| {
            if rng.random_bool(0.2) {
                format!("{f} ")
            } else {
                f
            }
        });
        let last = contact.last_name.clone().map(|last| {
            if rng.random_bool(0.25) {
                format!("{last}-{}", pick(&mut rng, LAST_NAMES))
            } else {
                last
            }
        });
        let company = contact
            .company_name
            .clone()
            .unwrap_or_else(|| pick(&mut rng, COMPANIES).to_string());
        people.push((first, last, email, company, phone, contact.city.clone()));
    }
    data.from_ghl = people.len();
    for k in 0..GROWBOTS_ONLY {
        let first = pick(&mut rng, FIRST_NAMES);
        let last = pick(&mut rng, LAST_NAMES);
        let email = format!(
            "{}.{}.gb{k}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            pick(&mut rng, DOMAINS)
        );
        let phone = format!("+1646555{:04}", 8100 + k);
        people.push((
            Some(first.to_string()),
            Some(last.to_string()),
            email,
            pick(&mut rng, COMPANIES).to_string(),
            Some(phone),
            Some(pick(&mut rng, PLACES).0.to_string()),
        ));
    }
    for (first, last, email, company, phone, city) in people {
        let linkedin = format!(
            "https://www.linkedin.com/in/{}-{}",
            slug(first.as_deref().unwrap_or("x").trim()),
            rng.random_range(100..999)
        );
        data.prospects.push(row(
            PROSPECT_HEADERS,
            &[
                first,
                last,
                Some(email),
                Some(company.clone()),
                Some(pick(&mut rng, TITLES).to_string()),
                phone,
                Some(linkedin),
                Some(pick(&mut rng, STATUSES).to_string()),
                city.clone(),
                Some("US".to_string()),
            ],
        ));
        if !data
            .companies
            .iter()
            .any(|c| c.get("Company Name") == Some(&json!(company)))
        {
            data.companies.push(row(
                COMPANY_HEADERS,
                &[
                    Some(company.clone()),
                    Some(format!("https://{}.example", slug(&company))),
                    Some(pick(&mut rng, INDUSTRIES).to_string()),
                    Some(pick(&mut rng, SIZES).to_string()),
                    city,
                    Some("US".to_string()),
                ],
            ));
        }
    }
    data
}

/// Rows as a CSV export with `headers`.
pub fn csv(headers: &[&str], rows: &[Map<String, Value>]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(headers);
    for row in rows {
        let cells = headers
            .iter()
            .map(|header| row.get(*header).and_then(Value::as_str).unwrap_or_default());
        let _ = writer.write_record(cells);
    }
    writer
        .into_inner()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}
