//! Reading a contact write body (create, update, upsert share one field set) and applying it
//! to a contact the way GHL does: empty strings leave a field alone, names are recomputed,
//! tags are normalised, unknown custom fields are ignored.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::ghl::models::{Contact, CustomFieldValue, UpsertContactDto};
use crate::sandbox::body::{Kind, Rule, deserialize, judge, opt, req};

use super::contact_checks;
use crate::sandbox::errors::ApiError;
use crate::sandbox::store::{fmt_ms, now_ms};

const CONTACT_RULES: &[Rule] = &[
    req("locationId", Kind::Str),
    opt("firstName", Kind::Str),
    opt("lastName", Kind::Str),
    opt("name", Kind::Str),
    opt("email", Kind::Str),
    opt("phone", Kind::Str),
    opt("address1", Kind::Str),
    opt("city", Kind::Str),
    opt("state", Kind::Str),
    opt("postalCode", Kind::Str),
    opt("website", Kind::Str),
    opt("timezone", Kind::Str),
    opt("dnd", Kind::Bool),
    opt("dndSettings", Kind::Object),
    opt("inboundDndSettings", Kind::Object),
    opt("tags", Kind::StrArray),
    opt("customFields", Kind::Array),
    opt("source", Kind::Str),
    opt("country", Kind::Str),
    opt("assignedTo", Kind::Str),
    opt("gender", Kind::Str),
    opt("companyName", Kind::Str),
    opt("createNewIfDuplicateAllowed", Kind::Bool),
    opt("dateOfBirth", Kind::Any),
];

/// Validates against the endpoint's DTO `T`, then reads the body as the widest DTO (upsert's),
/// which every contact write body is a subset of.
pub fn parse_write<T: DeserializeOwned>(body: &Value) -> Result<UpsertContactDto, ApiError> {
    judge::<T>(body, CONTACT_RULES, contact_checks::check)?;
    deserialize(&contact_checks::without_valueless_fields(body))
}

pub fn normalize_tags<'a>(tags: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if !tag.is_empty() && !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

fn non_empty(value: &Option<String>) -> Option<Option<String>> {
    value.as_ref().map(|v| (!v.is_empty()).then(|| v.clone()))
}

/// `fields` are the location's custom fields as `(id, fieldKey)` (`Store::field_keys`): an entry
/// naming none of them by id or key is ignored, as GHL does.
pub fn apply(
    contact: &mut Contact,
    dto: &UpsertContactDto,
    fields: &[(String, String)],
    drop_phone: bool,
) {
    let set = |field: &mut Option<String>, value: &Option<String>| {
        if let Some(v) = non_empty(value) {
            *field = v;
        }
    };
    set(&mut contact.first_name, &dto.first_name);
    set(&mut contact.last_name, &dto.last_name);
    let name_only = dto.first_name.is_none() && dto.last_name.is_none();
    if let Some(name) = dto
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| name_only && !n.is_empty())
    {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        contact.first_name = Some(first.to_string());
        contact.last_name = (!last.is_empty()).then(|| last.trim().to_string());
    }
    let full = [contact.first_name.as_deref(), contact.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    contact.name = (!full.is_empty()).then_some(full.clone());
    contact.first_name_lower_case = contact.first_name.as_ref().map(|s| s.to_lowercase());
    contact.last_name_lower_case = contact.last_name.as_ref().map(|s| s.to_lowercase());
    contact.full_name_lower_case = (!full.is_empty()).then(|| full.to_lowercase());
    set(&mut contact.email, &dto.email);
    contact.email_lower_case = contact.email.as_ref().map(|e| e.to_lowercase());
    if !drop_phone {
        set(&mut contact.phone, &dto.phone);
    }
    set(&mut contact.address1, &dto.address1);
    set(&mut contact.city, &dto.city);
    set(&mut contact.state, &dto.state);
    set(&mut contact.postal_code, &dto.postal_code);
    set(&mut contact.website, &dto.website);
    set(&mut contact.timezone, &dto.timezone);
    set(&mut contact.source, &dto.source);
    set(&mut contact.country, &dto.country);
    set(&mut contact.assigned_to, &dto.assigned_to);
    set(&mut contact.company_name, &dto.company_name);
    if let Some(dnd) = dto.dnd {
        contact.dnd = Some(dnd);
    }
    if let Some(settings) = &dto.dnd_settings {
        contact.dnd_settings = serde_json::to_value(settings).ok();
    }
    if let Some(inbound) = &dto.inbound_dnd_settings {
        contact
            .extra
            .insert("inboundDndSettings".into(), inbound.clone());
    }
    if let Some(gender) = &dto.gender {
        contact.extra.insert("gender".into(), json!(gender));
    }
    if let Some(dob) = &dto.date_of_birth {
        contact.date_of_birth = Some(dob.clone());
    }
    if let Some(tags) = &dto.tags {
        contact.tags = normalize_tags(tags);
    }
    for input in dto.custom_fields.iter().flatten() {
        let known = fields.iter().find(|(id, key)| {
            input.id.as_deref() == Some(id.as_str())
                || input
                    .key
                    .as_deref()
                    .is_some_and(|k| k == key || Some(k) == key.strip_prefix("contact."))
        });
        let Some((id, _)) = known else { continue };
        contact.custom_fields.retain(|f| &f.id != id);
        contact.custom_fields.push(CustomFieldValue {
            id: id.clone(),
            value: input.field_value.clone(),
        });
    }
    contact.date_updated = Some(fmt_ms(now_ms()));
}
