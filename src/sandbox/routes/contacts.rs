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
    Contact, ContactEnvelope, CreateContactDto, Succeded, TagsDto, TagsResponse, UpdateContactDto,
    UpsertContactDto, UpsertContactResponse,
};

use crate::sandbox::auth::{Caller, check_location};
use crate::sandbox::body::{JsonBody, Kind, req, validate};
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::ids;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::{ContactRec, Store, fmt_ms, now_ms};

use super::contact_write::{apply, normalize_tags, parse_write};
use super::{contact_checks, lock_contact};

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

fn new_contact(store: &mut Store, location: &str, dto: &UpsertContactDto) -> Contact {
    let now = now_ms();
    let mut contact = Contact {
        id: ids::new_id(),
        location_id: Some(location.to_string()),
        contact_type: Some("lead".into()),
        date_added: Some(fmt_ms(now)),
        ..Contact::default()
    };
    apply(&mut contact, dto, &store.field_keys(location), false);
    store.insert_contact(ContactRec {
        contact: contact.clone(),
        added_ms: now,
    });
    contact
}

/// The body's custom field values against the types of `location`'s fields.
fn check_field_types(store: &Store, location: &str, body: &Value) -> Result<(), ApiError> {
    let fields: Vec<_> = store
        .custom_fields
        .iter()
        .filter(|f| f.location_id.as_deref() == Some(location))
        .collect();
    contact_checks::field_types(body, &fields)
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
    check_field_types(&store, &location, &body)?;
    if !st.allow_duplicates.load(Ordering::Relaxed)
        && let Some((rec, field)) =
            store.find_duplicate(&location, dto.email.as_deref(), dto.phone.as_deref(), None)
    {
        return Err(duplicate_error(rec, field));
    }
    let contact = new_contact(&mut store, &location, &dto);
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
    check_field_types(&store, &caller.location_id, &body)?;
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
    let fields = store.field_keys(&caller.location_id);
    let contact = store.edit_contact(&id, &caller.location_id, |contact| {
        apply(contact, &dto, &fields, false);
        contact.clone()
    })?;
    answer(StatusCode::OK, contact, Some(true))
}

pub async fn upsert(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let (dto, location) = parse_located::<UpsertContactDto>(&body, &caller)?;
    let mut store = lock(&st.data);
    check_field_types(&store, &location, &body)?;
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
            let fields = store.field_keys(&location);
            let contact = store.edit_contact(&id, &location, |contact| {
                apply(contact, &dto, &fields, drop_phone);
                contact.clone()
            })?;
            (false, contact)
        }
        None => (true, new_contact(&mut store, &location, &dto)),
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
    let tags = store.edit_contact(&id, &caller.location_id, |contact| {
        contact.tags = normalize_tags(contact.tags.iter().chain(dto.tags.iter()));
        contact.date_updated = Some(fmt_ms(now_ms()));
        contact.tags.clone()
    })?;
    ok(
        StatusCode::CREATED,
        TagsResponse {
            tags,
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
    let tags = store.edit_contact(&id, &caller.location_id, |contact| {
        contact.tags.retain(|t| !gone.contains(&t.to_lowercase()));
        contact.date_updated = Some(fmt_ms(now_ms()));
        contact.tags.clone()
    })?;
    ok(
        StatusCode::OK,
        TagsResponse {
            tags,
            trace_id: None,
        },
    )
}
