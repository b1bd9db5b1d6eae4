//! Contact reads by id and every contact write: create, update, upsert, delete, tags.
//!
//! Writes follow GHL's observed rules: `tags` on update/upsert overwrite; tags are stored trimmed
//! and lower-cased; duplicate protection matches email case-insensitively, then phone by digits;
//! upsert matches by email first and then ignores a phone that belongs to another contact
//! (GoHighLevel/highlevel-api-docs#37). Custom-field writes naming an unknown field are ignored.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::ghl::models::{
    Contact, ContactEnvelope, CreateContactDto, CustomFieldValue, Succeded, TagsDto, TagsResponse,
    UpdateContactDto, UpsertContactDto, UpsertContactResponse,
};

use crate::sandbox::auth::{Caller, check_location};
use crate::sandbox::body::{JsonBody, Kind, Rule, opt, req, validate};
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::ids;
use crate::sandbox::seed::Identities;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::{ContactRec, Store, fmt_ms, now_ms};

use super::lock_contact;

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
fn parse_write<T: DeserializeOwned>(body: &Value) -> Result<UpsertContactDto, ApiError> {
    validate::<T>(body, CONTACT_RULES)?;
    serde_json::from_value(body.clone()).map_err(|e| ApiError::unprocessable(vec![e.to_string()]))
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

fn apply(contact: &mut Contact, dto: &UpsertContactDto, ids: &Identities, drop_phone: bool) {
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
        let known = ids.custom_fields.iter().find(|(id, key)| {
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

fn duplicate_error(rec: &ContactRec, field: &str) -> ApiError {
    let meta = json!({
        "contactName": rec.contact.name,
        "contactId": rec.contact.id,
        "matchingField": field,
    });
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "This location does not allow duplicated contacts.",
        None,
    )
    .with("meta", meta)
}

fn new_contact(
    store: &mut Store,
    location: &str,
    dto: &UpsertContactDto,
    ids: &Identities,
) -> Contact {
    let now = now_ms();
    let mut contact = Contact {
        id: ids::new_id(),
        location_id: Some(location.to_string()),
        contact_type: Some("lead".into()),
        date_added: Some(fmt_ms(now)),
        ..Contact::default()
    };
    apply(&mut contact, dto, ids, false);
    store.insert_contact(ContactRec {
        contact: contact.clone(),
        added_ms: now,
    });
    contact
}

/// `{contact}`, with `succeded` on update.
fn answer(status: StatusCode, contact: Contact, succeded: Option<bool>) -> ApiResult {
    ok(
        status,
        ContactEnvelope {
            contact,
            succeded,
            trace_id: None,
        },
    )
}

/// [`parse_write`] for a body that names the contact's location (create, upsert), which must
/// be the token's.
fn parse_located<T: DeserializeOwned>(
    body: &Value,
    caller: &Caller,
) -> Result<(UpsertContactDto, String), ApiError> {
    let dto = parse_write::<T>(body)?;
    let location = dto.location_id.clone().unwrap_or_default();
    check_location(caller, &location)?;
    Ok((dto, location))
}

pub async fn get_one(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let store = lock(&st.data);
    let rec = store.owned(&id, &caller.location_id)?;
    answer(StatusCode::OK, rec.contact.clone(), None)
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let (dto, location) = parse_located::<CreateContactDto>(&body, &caller)?;
    let mut store = lock(&st.data);
    if !st.allow_duplicates.load(Ordering::Relaxed)
        && let Some((rec, field)) =
            store.find_duplicate(&location, dto.email.as_deref(), dto.phone.as_deref(), None)
    {
        return Err(duplicate_error(rec, field));
    }
    let contact = new_contact(&mut store, &location, &dto, &st.ids);
    answer(StatusCode::CREATED, contact, None)
}

pub async fn update(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = parse_write::<UpdateContactDto>(&body)?;
    let mut store = lock_contact(&st, &caller, &id)?;
    if !st.allow_duplicates.load(Ordering::Relaxed) {
        let found = store.find_duplicate(
            &caller.location_id,
            dto.email.as_deref(),
            dto.phone.as_deref(),
            Some(&id),
        );
        if let Some((rec, field)) = found {
            return Err(duplicate_error(rec, field));
        }
    }
    let rec = store.owned_mut(&id, &caller.location_id)?;
    apply(&mut rec.contact, &dto, &st.ids, false);
    answer(StatusCode::OK, rec.contact.clone(), Some(true))
}

pub async fn upsert(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let (dto, location) = parse_located::<UpsertContactDto>(&body, &caller)?;
    let mut store = lock(&st.data);
    let allow_new = dto.create_new_if_duplicate_allowed == Some(true)
        && st.allow_duplicates.load(Ordering::Relaxed);
    let matched = if allow_new {
        None
    } else {
        let by_email = store.find_duplicate(&location, dto.email.as_deref(), None, None);
        let by_phone = store.find_duplicate(&location, None, dto.phone.as_deref(), None);
        match (by_email, by_phone) {
            (Some((rec, _)), phone) => {
                let phone_elsewhere = phone.is_some_and(|(p, _)| p.contact.id != rec.contact.id);
                Some((rec.contact.id.clone(), phone_elsewhere))
            }
            (None, Some((rec, _))) => Some((rec.contact.id.clone(), false)),
            (None, None) => None,
        }
    };
    let (is_new, contact) = match matched {
        Some((id, drop_phone)) => {
            let rec = store.owned_mut(&id, &location)?;
            apply(&mut rec.contact, &dto, &st.ids, drop_phone);
            (false, rec.contact.clone())
        }
        None => (true, new_contact(&mut store, &location, &dto, &st.ids)),
    };
    ok(
        StatusCode::OK,
        UpsertContactResponse {
            is_new,
            contact,
            trace_id: None,
        },
    )
}

pub async fn delete(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let mut store = lock_contact(&st, &caller, &id)?;
    store.remove_contact(&id);
    ok(
        StatusCode::OK,
        Succeded {
            succeded: true,
            trace_id: None,
        },
    )
}

fn tags_body(body: &Value) -> Result<TagsDto, ApiError> {
    validate::<TagsDto>(body, &[req("tags", Kind::StrArray)])
}

pub async fn add_tags(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = tags_body(&body)?;
    let mut store = lock(&st.data);
    let rec = store.owned_mut(&id, &caller.location_id)?;
    let contact = &mut rec.contact;
    contact.tags = normalize_tags(contact.tags.iter().chain(dto.tags.iter()));
    contact.date_updated = Some(fmt_ms(now_ms()));
    ok(
        StatusCode::CREATED,
        TagsResponse {
            tags: contact.tags.clone(),
            trace_id: None,
        },
    )
}

pub async fn remove_tags(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = tags_body(&body)?;
    let gone = normalize_tags(&dto.tags);
    let mut store = lock(&st.data);
    let rec = store.owned_mut(&id, &caller.location_id)?;
    rec.contact
        .tags
        .retain(|t| !gone.contains(&t.to_lowercase()));
    rec.contact.date_updated = Some(fmt_ms(now_ms()));
    ok(
        StatusCode::OK,
        TagsResponse {
            tags: rec.contact.tags.clone(),
            trace_id: None,
        },
    )
}
