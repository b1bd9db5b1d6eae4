//! Calendars and appointments: the Contacts API's `GET /contacts/:id/appointments` and the
//! Calendars API (`Version: 2021-04-15`) list, get, create and edit.
//!
//! Three shapes, as in the specs: a contact's list uses `GetEventSchema` with zone-less
//! `"2021-07-16 11:00:00"` times (rendered in UTC here), a calendar event uses `CalendarEventDTO`
//! with offset times, and create/edit answer a flat `AppointmentSchemaResponse` (status 200).
//! Every create/edit is counted by `toNotify` so tests can prove a sync never messaged anyone.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::{Map, Value, json};

use crate::ghl::models::{
    Appointment, AppointmentCreateDto, AppointmentEditDto, EventEnvelope, EventList,
    WRITABLE_APPOINTMENT_STATUSES,
};
use crate::sandbox::auth::{Caller, check_location};
use crate::sandbox::body::{JsonBody, Kind, Rule, opt, req, require_object, validate};
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::ids;
use crate::sandbox::seed::{fmt_event_time, location_offset};
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::{ApptRec, Store, parse_iso};

use super::calendar_events::booking;
use super::lock_contact;

const MEETING_TYPES: &[&str] = &[
    "custom", "zoom", "gmeet", "phone", "address", "ms_teams", "google",
];

const RULES: &[Rule] = &[
    req("calendarId", Kind::Str),
    req("locationId", Kind::Str),
    req("contactId", Kind::Str),
    req("startTime", Kind::Iso),
    opt("endTime", Kind::Iso),
    opt("title", Kind::Str),
    opt("meetingLocationType", Kind::OneOf(MEETING_TYPES)),
    opt("meetingLocationId", Kind::Str),
    opt("overrideLocationConfig", Kind::Bool),
    opt(
        "appointmentStatus",
        Kind::OneOf(WRITABLE_APPOINTMENT_STATUSES),
    ),
    opt("assignedUserId", Kind::Str),
    opt("description", Kind::Str),
    opt("address", Kind::Str),
    opt("ignoreDateRange", Kind::Bool),
    opt("toNotify", Kind::Bool),
    opt("ignoreFreeSlotValidation", Kind::Bool),
    opt("rrule", Kind::Str),
];

/// The edit DTO declares the same fields, all optional.
fn edit_rules() -> Vec<Rule> {
    RULES.iter().map(|r| opt(r.name, r.kind)).collect()
}

fn contact_time(t: &DateTime<FixedOffset>) -> Value {
    json!(
        t.with_timezone(&Utc)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    )
}

/// `GetEventSchema`: the Contacts API's view of an event.
fn contact_event(rec: &ApptRec) -> Appointment {
    let mut event = rec.event.clone();
    event.start_time = Some(contact_time(&rec.start));
    event.end_time = Some(contact_time(&rec.end));
    let as_naive = |v: &Option<Value>| {
        v.as_ref()
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| contact_time(&t))
    };
    event.date_added = as_naive(&event.date_added);
    event.date_updated = as_naive(&event.date_updated);
    let cancelled = event.appointment_status.as_deref() == Some("cancelled");
    event.extra.insert(
        "status".into(),
        json!(if cancelled { "cancelled" } else { "booked" }),
    );
    event
}

/// `AppointmentSchemaResponse`: flat, not wrapped.
fn schema_response(rec: &ApptRec) -> Value {
    let e = &rec.event;
    let mut body = Map::new();
    body.insert("id".into(), json!(e.id));
    body.insert("calendarId".into(), json!(e.calendar_id));
    body.insert("locationId".into(), json!(e.location_id));
    body.insert("contactId".into(), json!(e.contact_id));
    body.insert("startTime".into(), json!(e.start_time));
    body.insert("endTime".into(), json!(e.end_time));
    if let Some(title) = &e.title {
        body.insert("title".into(), json!(title));
    }
    for key in ["meetingLocationType", "rrule", "isRecurring"] {
        if let Some(v) = e.extra.get(key) {
            body.insert(key.into(), v.clone());
        }
    }
    body.insert("appointmentStatus".into(), json!(e.appointment_status));
    if let Some(user) = &e.assigned_user_id {
        body.insert("assignedUserId".into(), json!(user));
    }
    if let Some(address) = &e.address {
        body.insert("address".into(), json!(address));
    }
    Value::Object(body)
}

pub async fn for_contact(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(contact_id): Path<String>,
) -> ApiResult {
    let store = lock_contact(&st, &caller, &contact_id)?;
    let events = store
        .appts_by_contact
        .get(&contact_id)
        .into_iter()
        .flatten()
        .filter_map(|id| store.appts.get(id))
        .map(contact_event)
        .collect();
    ok(
        StatusCode::OK,
        EventList {
            events,
            trace_id: None,
        },
    )
}

fn owned_appt<'a>(
    store: &'a mut Store,
    id: &str,
    caller: &Caller,
) -> Result<&'a mut ApptRec, ApiError> {
    let rec = store
        .appts
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("Appointment"))?;
    check_location(caller, rec.event.location_id.as_deref().unwrap_or_default())?;
    Ok(rec)
}

pub async fn get_one(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(event_id): Path<String>,
) -> ApiResult {
    let mut store = lock(&st.data);
    let event = owned_appt(&mut store, &event_id, &caller)?.event.clone();
    ok(
        StatusCode::OK,
        EventEnvelope {
            event,
            trace_id: None,
        },
    )
}

fn parse_time(s: &str) -> Result<DateTime<FixedOffset>, ApiError> {
    parse_iso(s, location_offset())
        .ok_or_else(|| ApiError::unprocessable(vec![format!("{s} is not an ISO 8601 date")]))
}

fn now_event_time() -> Value {
    json!(fmt_event_time(
        &Utc::now().with_timezone(&location_offset())
    ))
}

fn count_notify(st: &AppState, to_notify: Option<bool>, created: bool) {
    let mut stats = lock(&st.stats);
    let quiet = to_notify == Some(false);
    let counters = if created {
        &mut stats.created_notify
    } else {
        &mut stats.updated_notify
    };
    if quiet {
        counters.0 += 1
    } else {
        counters.1 += 1
    }
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = validate::<AppointmentCreateDto>(&body, RULES)?;
    check_location(&caller, &dto.location_id)?;
    let start = parse_time(&dto.start_time)?;
    let mut store = lock(&st.data);
    let calendar = booking(&store, &dto.calendar_id, &caller)?;
    let contact_name = match store.owned(&dto.contact_id, &caller.location_id) {
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return Err(ApiError::bad_request("Contact not found"));
        }
        other => other?.contact.name.clone(),
    };
    let end = match &dto.end_time {
        Some(end) => parse_time(end)?,
        None => start + Duration::minutes(calendar.minutes),
    };
    if end < start {
        return Err(ApiError::bad_request("endTime must be after startTime"));
    }
    let mut extra = Map::new();
    extra.insert(
        "meetingLocationType".into(),
        json!(dto.meeting_location_type.as_deref().unwrap_or("default")),
    );
    extra.insert("isRecurring".into(), json!(dto.rrule.is_some()));
    extra.insert(
        "description".into(),
        json!(dto.description.clone().unwrap_or_default()),
    );
    // GHL titles an untitled booking with its calendar's event title, "{{contact.name}}" by
    // default; the spec has `title` and `assignedUserId` as strings, never null.
    let title = dto
        .title
        .clone()
        .or(contact_name.filter(|n| !n.is_empty()))
        .unwrap_or(calendar.name);
    let assigned = dto.assigned_user_id.clone().or(calendar.next_user);
    if let Some(group) = &calendar.group_id {
        extra.insert("groupId".into(), json!(group));
    }
    extra.insert("users".into(), json!(assigned.iter().collect::<Vec<_>>()));
    if let Some(rrule) = &dto.rrule {
        extra.insert("rrule".into(), json!(rrule));
    }
    let event = Appointment {
        id: ids::new_id(),
        calendar_id: Some(dto.calendar_id.clone()),
        location_id: Some(dto.location_id.clone()),
        contact_id: Some(dto.contact_id.clone()),
        title: Some(title),
        appointment_status: Some(
            dto.appointment_status
                .clone()
                .unwrap_or_else(|| "confirmed".into()),
        ),
        assigned_user_id: assigned,
        address: dto.address.clone(),
        start_time: Some(json!(fmt_event_time(&start))),
        end_time: Some(json!(fmt_event_time(&end))),
        notes: None,
        date_added: Some(now_event_time()),
        date_updated: Some(now_event_time()),
        extra,
    };
    let rec = ApptRec { event, start, end };
    let response = schema_response(&rec);
    store
        .appts_by_contact
        .entry(dto.contact_id.clone())
        .or_default()
        .push(rec.event.id.clone());
    store.appts.insert(rec.event.id.clone(), rec);
    drop(store);
    count_notify(&st, dto.to_notify, true);
    ok(StatusCode::OK, response)
}

pub async fn update(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(event_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = validate::<AppointmentEditDto>(&body, &edit_rules())?;
    let mut store = lock(&st.data);
    owned_appt(&mut store, &event_id, &caller)?;
    let calendar = match &dto.calendar_id {
        Some(calendar_id) => Some(booking(&store, calendar_id, &caller)?),
        None => None,
    };
    let rec = owned_appt(&mut store, &event_id, &caller)?;
    let length = rec.end - rec.start;
    if let Some(start) = &dto.start_time {
        rec.start = parse_time(start)?;
        rec.end = rec.start + length;
    }
    if let Some(end) = &dto.end_time {
        rec.end = parse_time(end)?;
    }
    if rec.end < rec.start {
        return Err(ApiError::bad_request("endTime must be after startTime"));
    }
    let e = &mut rec.event;
    e.start_time = Some(json!(fmt_event_time(&rec.start)));
    e.end_time = Some(json!(fmt_event_time(&rec.end)));
    let set = |field: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            field.clone_from(value);
        }
    };
    set(&mut e.calendar_id, &dto.calendar_id);
    set(&mut e.title, &dto.title);
    set(&mut e.appointment_status, &dto.appointment_status);
    set(&mut e.assigned_user_id, &dto.assigned_user_id);
    if let Some(calendar) = calendar {
        match &calendar.group_id {
            Some(group) => e.extra.insert("groupId".into(), json!(group)),
            None => e.extra.remove("groupId"),
        };
        if e.assigned_user_id.is_none() {
            e.assigned_user_id = calendar.next_user;
        }
    }
    if let Some(user) = &e.assigned_user_id {
        e.extra.insert("users".into(), json!([user]));
    }
    set(&mut e.address, &dto.address);
    if let Some(kind) = &dto.meeting_location_type {
        e.extra.insert("meetingLocationType".into(), json!(kind));
    }
    if let Some(description) = &dto.description {
        e.extra.insert("description".into(), json!(description));
    }
    if let Some(rrule) = &dto.rrule {
        e.extra.insert("rrule".into(), json!(rrule));
        e.extra.insert("isRecurring".into(), json!(true));
    }
    e.date_updated = Some(now_event_time());
    let response = schema_response(rec);
    drop(store);
    count_notify(&st, dto.to_notify, false);
    ok(StatusCode::OK, response)
}

/// `DELETE /calendars/events/:eventId`: 201 `{succeeded: true}` as the spec answers. The
/// (empty) `DeleteAppointmentSchema` body is not required: clients send none. One that is sent
/// is judged like any DTO: a non-object or any property is refused.
pub async fn delete(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(event_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let extra: Vec<String> = require_object(&body)?
        .keys()
        .map(|k| format!("property {k} should not exist"))
        .collect();
    if !extra.is_empty() {
        return Err(ApiError::unprocessable(extra));
    }
    let mut store = lock(&st.data);
    let contact = owned_appt(&mut store, &event_id, &caller)?
        .event
        .contact_id
        .clone();
    store.appts.remove(&event_id);
    if let Some(ids) = contact.and_then(|c| store.appts_by_contact.get_mut(&c)) {
        ids.retain(|id| id != &event_id);
    }
    ok(StatusCode::CREATED, json!({"succeeded": true}))
}
