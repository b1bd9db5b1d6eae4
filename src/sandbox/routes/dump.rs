//! `GET /_sandbox/dump`: the whole current state of the primary location and of the Repsly
//! emulation, for tests that compare end states (`tests/common/oracle.rs`). Admin surface: no
//! auth, not counted, never faulted.
//!
//! Every record is rendered as its API returns it: contacts as `GET /contacts/:id`, tasks and
//! notes as their contact's list, appointments as `GET /calendars/events/appointments/:id`
//! (`CalendarEventDTO`, with `contactId`). The order is stable for a given state: contacts,
//! appointments by id; tasks and notes by contact id, then id.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Value, json};

use crate::ghl::models::Contact;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::Store;

/// `{seed, seedAnchorMs, ghl: {locationId, customFields, calendars, contacts, tasks, notes,
/// appointments}, repsly: {clients, notes, schedules, visits, pendingImportJobs}}`.
/// `seedAnchorMs` is the day the seeded dates count from: dumps of two sandboxes are
/// comparable only when `seed` and it agree.
pub async fn dump(State(st): State<Arc<AppState>>) -> Json<Value> {
    // One side at a time: no handler holds both locks, and neither should this.
    let ghl = ghl(&st);
    Json(json!({
        "seed": st.opts.seed,
        "seedAnchorMs": st.anchor_ms.load(Ordering::Relaxed),
        "ghl": ghl,
        "repsly": st.repsly.dump(),
        "generic": st.generic.dump(),
        "rezora": st.rezora.dump(),
        "growbots": st.growbots.dump(),
        "robly": st.robly.dump(),
    }))
}

fn ghl(st: &AppState) -> Value {
    let location = st.ids.location_id.as_str();
    let store = lock(&st.data);
    let mut contacts: Vec<&Contact> = store.walk(location, None).map(|r| &r.contact).collect();
    contacts.sort_by(|a, b| a.id.cmp(&b.id));
    let tasks = children(&contacts, |id| store.tasks.get(id), |t| &t.id);
    let notes = children(&contacts, |id| store.notes.get(id), |n| &n.id);
    let appointments = appointments(&store, location);
    let calendars: Vec<Value> = store
        .calendars
        .iter()
        .filter(|c| c.location_id.as_deref() == Some(location))
        .map(|c| json!({"id": c.id, "name": c.name}))
        .collect();
    let custom_fields: Vec<Value> = store
        .field_keys(location)
        .into_iter()
        .map(|(id, key)| json!({"id": id, "key": key}))
        .collect();
    json!({
        "locationId": location,
        "customFields": custom_fields,
        "calendars": calendars,
        "contacts": contacts,
        "tasks": tasks,
        "notes": notes,
        "appointments": appointments,
    })
}

/// Every child of `contacts` (already in id order), each contact's sorted by id.
fn children<'a, C: Serialize + 'a>(
    contacts: &[&Contact],
    of: impl Fn(&str) -> Option<&'a Vec<C>>,
    id: impl Fn(&C) -> &str,
) -> Vec<Value> {
    let mut out = Vec::new();
    for contact in contacts {
        let mut list: Vec<&C> = of(&contact.id).into_iter().flatten().collect();
        list.sort_by(|a, b| id(a).cmp(id(b)));
        out.extend(list.into_iter().map(|c| json!(c)));
    }
    out
}

/// The location's appointments by id, those of deleted contacts too (events outlive them).
fn appointments(store: &Store, location: &str) -> Vec<Value> {
    let mut events: Vec<_> = store
        .appts
        .values()
        .map(|rec| &rec.event)
        .filter(|e| e.location_id.as_deref() == Some(location))
        .collect();
    events.sort_by(|a, b| a.id.cmp(&b.id));
    events.into_iter().map(|e| json!(e)).collect()
}
