//! Changes → GHL's webhook events, in one place: a middleware on the API routes that notes the
//! touched record before the handler and reads it again after a 2xx, then emits the events
//! GHL documents (`../shared/ghl-api/docs/webhook-events/`) with their payload shapes: flat
//! contact, task and note events, appointments nested under `appointment`.
//!
//! A handler that a fault replaces never runs, so it emits nothing; one that writes and then
//! answers a fault (`write422`, `dropAfter`) returns 2xx to this layer, as the change happened.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::sandbox::auth::Caller;
use crate::sandbox::body::BODY_LIMIT;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::Store;

const CONTACT_KEYS: &[&str] = &[
    "id",
    "address1",
    "city",
    "state",
    "companyName",
    "country",
    "source",
    "dateAdded",
    "dateOfBirth",
    "dnd",
    "email",
    "name",
    "firstName",
    "lastName",
    "phone",
    "postalCode",
    "tags",
    "website",
    "attachments",
    "assignedTo",
    "customFields",
];
const TASK_KEYS: &[&str] = &[
    "id",
    "assignedTo",
    "body",
    "contactId",
    "title",
    "dateAdded",
    "dueDate",
];
const NOTE_KEYS: &[&str] = &["id", "body", "contactId", "dateAdded"];
const APPOINTMENT_KEYS: &[&str] = &[
    "id",
    "address",
    "title",
    "calendarId",
    "contactId",
    "groupId",
    "appointmentStatus",
    "assignedUserId",
    "users",
    "notes",
    "source",
    "startTime",
    "endTime",
    "dateAdded",
    "dateUpdated",
];

/// The record a write touches.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Contact(String),
    Task(String, String),
    Note(String, String),
    Appointment(String),
}

/// A write route, what it touches when its path names it, and whether the created record's
/// id must be read from the answer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    ContactCreate,
    ContactUpsert,
    ContactUpdate,
    ContactDelete,
    ContactTags,
    TaskCreate,
    TaskEdit,
    TaskDelete,
    NoteCreate,
    NoteUpdate,
    NoteDelete,
    AppointmentCreate,
    AppointmentUpdate,
    AppointmentDelete,
}

impl Op {
    fn creates(self) -> bool {
        matches!(
            self,
            Op::ContactCreate
                | Op::ContactUpsert
                | Op::TaskCreate
                | Op::NoteCreate
                | Op::AppointmentCreate
        )
    }
}

/// The `{name}` segments of `template` matched against `path`.
fn path_params<'a>(template: &'a str, path: &'a str) -> HashMap<&'a str, &'a str> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(t, p)| Some((t.strip_prefix('{')?.strip_suffix('}')?, p)))
        .collect()
}

fn classify(method: &Method, template: &str, path: &str) -> Option<(Op, Option<Target>)> {
    let params = path_params(template, path);
    let param = |name: &str| params.get(name).map(|v| (*v).to_string());
    let contact = || param("contactId");
    let op = match (method.as_str(), template) {
        ("POST", "/contacts/" | "/contacts") => (Op::ContactCreate, None),
        ("POST", "/contacts/upsert") => (Op::ContactUpsert, None),
        ("PUT", "/contacts/{contactId}") => (Op::ContactUpdate, contact().map(Target::Contact)),
        ("DELETE", "/contacts/{contactId}") => (Op::ContactDelete, contact().map(Target::Contact)),
        ("POST" | "DELETE", "/contacts/{contactId}/tags") => {
            (Op::ContactTags, contact().map(Target::Contact))
        }
        ("POST", "/contacts/{contactId}/tasks") => (Op::TaskCreate, contact().map(Target::Contact)),
        ("PUT", "/contacts/{contactId}/tasks/{taskId}")
        | ("PUT", "/contacts/{contactId}/tasks/{taskId}/completed") => (
            Op::TaskEdit,
            Some(Target::Task(contact()?, param("taskId")?)),
        ),
        ("DELETE", "/contacts/{contactId}/tasks/{taskId}") => (
            Op::TaskDelete,
            Some(Target::Task(contact()?, param("taskId")?)),
        ),
        ("POST", "/contacts/{contactId}/notes") => (Op::NoteCreate, contact().map(Target::Contact)),
        ("PUT", "/contacts/{contactId}/notes/{id}") => {
            (Op::NoteUpdate, Some(Target::Note(contact()?, param("id")?)))
        }
        ("DELETE", "/contacts/{contactId}/notes/{id}") => {
            (Op::NoteDelete, Some(Target::Note(contact()?, param("id")?)))
        }
        ("POST", "/calendars/events/appointments") => (Op::AppointmentCreate, None),
        ("PUT", "/calendars/events/appointments/{eventId}") => (
            Op::AppointmentUpdate,
            param("eventId").map(Target::Appointment),
        ),
        ("DELETE", "/calendars/events/{eventId}") => (
            Op::AppointmentDelete,
            param("eventId").map(Target::Appointment),
        ),
        _ => return None,
    };
    Some(op)
}

/// The record as JSON (its API field names), if it exists.
fn read(store: &Store, target: &Target) -> Option<Value> {
    match target {
        Target::Contact(id) => serde_json::to_value(&store.contact(id)?.contact).ok(),
        Target::Task(contact, id) => store
            .tasks
            .get(contact)?
            .iter()
            .find(|t| &t.id == id)
            .and_then(|t| serde_json::to_value(t).ok()),
        Target::Note(contact, id) => store
            .notes
            .get(contact)?
            .iter()
            .find(|n| &n.id == id)
            .and_then(|n| serde_json::to_value(n).ok()),
        Target::Appointment(id) => serde_json::to_value(&store.appts.get(id)?.event).ok(),
    }
}

/// The record a create made, from its answer.
fn created(op: Op, path_target: Option<&Target>, answer: &Value) -> Option<Target> {
    let id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_string);
    let contact = || match path_target {
        Some(Target::Contact(c)) => Some(c.clone()),
        _ => None,
    };
    match op {
        Op::ContactCreate | Op::ContactUpsert => id(answer.get("contact")?).map(Target::Contact),
        Op::TaskCreate => Some(Target::Task(contact()?, id(answer.get("task")?)?)),
        Op::NoteCreate => Some(Target::Note(contact()?, id(answer.get("note")?)?)),
        Op::AppointmentCreate => id(answer).map(Target::Appointment),
        _ => None,
    }
}

/// `type`, `locationId`, then `keys` of `record` that it has (nulls left out).
fn flat(kind: &str, location: &str, record: &Value, keys: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("type".into(), Value::String(kind.into()));
    out.insert("locationId".into(), Value::String(location.into()));
    for key in keys {
        if let Some(v) = record.get(*key).filter(|v| !v.is_null()) {
            out.insert((*key).into(), v.clone());
        }
    }
    out
}

fn contact_event(kind: &str, location: &str, record: &Value) -> Map<String, Value> {
    let mut event = flat(kind, location, record, CONTACT_KEYS);
    if kind == "ContactDndUpdate"
        && let Some(settings) = record.get("dndSettings").filter(|v| !v.is_null())
    {
        event.insert("dndSettings".into(), settings.clone());
    }
    event
}

fn appointment_event(kind: &str, location: &str, record: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("type".into(), Value::String(kind.into()));
    out.insert("locationId".into(), Value::String(location.into()));
    let inner = flat("", "", record, APPOINTMENT_KEYS)
        .into_iter()
        .filter(|(k, _)| k != "type" && k != "locationId")
        .collect();
    out.insert("appointment".into(), Value::Object(inner));
    out
}

fn differs(before: Option<&Value>, after: &Value, keys: &[&str]) -> bool {
    keys.iter()
        .any(|k| before.and_then(|b| b.get(*k)) != after.get(*k))
}

/// The events one write makes, from the record before and after it. `body_keys`: the top-level
/// keys of an upsert's body (an upsert's match is not known before it runs).
fn events(
    op: Op,
    location: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    upsert_new: bool,
    body_keys: &[String],
) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    let contact_changes = |out: &mut Vec<_>, after: &Value, tags: bool, dnd: bool| {
        out.push(contact_event("ContactUpdate", location, after));
        if tags {
            out.push(contact_event("ContactTagUpdate", location, after));
        }
        if dnd {
            out.push(contact_event("ContactDndUpdate", location, after));
        }
    };
    match (op, before, after) {
        (Op::ContactCreate, _, Some(after)) => {
            out.push(contact_event("ContactCreate", location, after))
        }
        (Op::ContactUpsert, _, Some(after)) if upsert_new => {
            out.push(contact_event("ContactCreate", location, after))
        }
        (Op::ContactUpsert, _, Some(after)) => {
            let has = |k: &str| body_keys.iter().any(|b| b == k);
            contact_changes(
                &mut out,
                after,
                has("tags"),
                has("dnd") || has("dndSettings"),
            );
        }
        (Op::ContactUpdate, before, Some(after)) => contact_changes(
            &mut out,
            after,
            differs(before, after, &["tags"]),
            differs(before, after, &["dnd", "dndSettings"]),
        ),
        (Op::ContactTags, before, Some(after)) if differs(before, after, &["tags"]) => {
            out.push(contact_event("ContactTagUpdate", location, after))
        }
        (Op::ContactDelete, Some(before), _) => {
            out.push(contact_event("ContactDelete", location, before))
        }
        (Op::TaskCreate, _, Some(after)) => {
            out.push(flat("TaskCreate", location, after, TASK_KEYS))
        }
        // GHL has no TaskUpdate event: only a task becoming completed is told.
        (Op::TaskEdit, before, Some(after)) => {
            let done = |v: Option<&Value>| {
                v.and_then(|v| v.get("completed"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            };
            if done(Some(after)) && !done(before) {
                out.push(flat("TaskComplete", location, after, TASK_KEYS));
            }
        }
        (Op::TaskDelete, Some(before), _) => {
            out.push(flat("TaskDelete", location, before, TASK_KEYS))
        }
        (Op::NoteCreate, _, Some(after)) => {
            out.push(flat("NoteCreate", location, after, NOTE_KEYS))
        }
        (Op::NoteUpdate, _, Some(after)) => {
            out.push(flat("NoteUpdate", location, after, NOTE_KEYS))
        }
        (Op::NoteDelete, Some(before), _) => {
            out.push(flat("NoteDelete", location, before, NOTE_KEYS))
        }
        (Op::AppointmentCreate, _, Some(after)) => {
            out.push(appointment_event("AppointmentCreate", location, after))
        }
        (Op::AppointmentUpdate, _, Some(after)) => {
            out.push(appointment_event("AppointmentUpdate", location, after))
        }
        (Op::AppointmentDelete, Some(before), _) => {
            out.push(appointment_event("AppointmentDelete", location, before))
        }
        _ => {}
    }
    out
}

/// The middleware (inside the API pipeline, so it sees the caller and only requests that
/// reach their handler). When webhooks are off it costs one uncontended lock.
pub async fn layer(
    State(st): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::GET || !st.webhooks.active() {
        return next.run(req).await;
    }
    let classified = matched
        .as_ref()
        .and_then(|m| classify(req.method(), m.as_str(), req.uri().path()));
    let location = req
        .extensions()
        .get::<Caller>()
        .map(|c| c.location_id.clone());
    let (Some((op, target)), Some(location)) = (classified, location) else {
        return next.run(req).await;
    };
    let (req, body_keys) = if op == Op::ContactUpsert {
        let (parts, body) = req.into_parts();
        let bytes = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
        let keys = serde_json::from_slice::<Map<String, Value>>(&bytes)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        (Request::from_parts(parts, Body::from(bytes)), keys)
    } else {
        (req, Vec::new())
    };
    let before = target.as_ref().and_then(|t| read(&lock(&st.data), t));
    let response = next.run(req).await;
    if !response.status().is_success() {
        return response;
    }
    let (response, answer) = if op.creates() {
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
        let answer = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null);
        (Response::from_parts(parts, Body::from(bytes)), answer)
    } else {
        (response, Value::Null)
    };
    let target = if op.creates() {
        created(op, target.as_ref(), &answer)
    } else {
        target
    };
    let after = target.as_ref().and_then(|t| read(&lock(&st.data), t));
    let upsert_new = answer.get("new").and_then(Value::as_bool) == Some(true);
    for event in events(
        op,
        &location,
        before.as_ref(),
        after.as_ref(),
        upsert_new,
        &body_keys,
    ) {
        st.webhooks.emit(&location, event);
    }
    response
}

#[cfg(test)]
mod tests;
