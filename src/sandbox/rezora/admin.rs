//! `/_sandbox/rezora/*`: the emulation's shape, changed live, and test hooks that change its
//! data as a user of Rezora would.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::data::{CONTACT_FIELDS, Lock, text};
use super::{PREFIX, RezoraAuth};
use crate::sandbox::body::JsonBody;
use crate::sandbox::state::{AppState, lock};

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"message": message.into()})),
    )
        .into_response()
}

/// Base URL, usernames (no password), options, seed figures, counts, and the ids tests need:
/// the self contact, the Primary Sphere, the locked contacts.
pub async fn info(State(st): State<Arc<AppState>>) -> Json<Value> {
    let rezora = &st.rezora;
    let data = lock(&rezora.data);
    let self_contact = data.contacts.keys().find(|id| data.is_self(**id));
    let locked: Vec<String> = data
        .contacts
        .iter()
        .filter(|(_, c)| c.lock.is_some())
        .map(|(id, _)| id.to_string())
        .collect();
    Json(json!({
        "baseUrl": format!("{}{PREFIX}", st.base_url),
        "username": rezora.agent_username,
        "companyUsername": rezora.company_username,
        "options": rezora.options(),
        "seed": *lock(&rezora.figures),
        "selfContactId": self_contact.map(u64::to_string),
        "primarySphereId": data.primary_sphere().map(|id| id.to_string()),
        "locked": locked,
        "counts": {"contacts": data.contacts.len(), "lists": data.lists.len(), "memberships": data.members.len()},
    }))
}

pub async fn get_settings(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(json!(st.rezora.options()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    auth: Option<RezoraAuth>,
}

/// `{"auth": "basic" | "query"}`; absent fields stay.
pub async fn set_settings(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let settings: Settings = match serde_json::from_value(body) {
        Ok(settings) => settings,
        Err(err) => return bad(err.to_string()),
    };
    let mut options = lock(&st.rezora.options);
    if let Some(auth) = settings.auth {
        options.auth = auth;
    }
    Json(json!(*options)).into_response()
}

/// `{"contact_id"?: "…", "locked"?: "synced" | "master" | null, contact fields…}`: edits that
/// contact (or adds one when `contact_id` is absent), without the API's checks, so tests can
/// plant dirty values and locks. Answers the contact as the API shows it.
pub async fn put_contact(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let Some(object) = body.as_object() else {
        return bad("the body must be an object");
    };
    let lock_change: Option<Option<Lock>> = match object.get("locked") {
        None => None,
        Some(value) => match serde_json::from_value(value.clone()) {
            Ok(lock) => Some(lock),
            Err(err) => return bad(format!("locked: {err}")),
        },
    };
    let fields: Map<String, Value> = object
        .iter()
        .filter(|(name, _)| CONTACT_FIELDS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), Value::String(text(value))))
        .collect();
    let mut data = lock(&st.rezora.data);
    let id = match object.get("contact_id").map(text) {
        Some(id) => {
            let Some(contact) = id
                .trim()
                .parse::<u64>()
                .ok()
                .and_then(|id| data.contacts.get_mut(&id).map(|c| (id, c)))
            else {
                return bad(format!("no contact {id}"));
            };
            contact.1.fields.extend(fields);
            if let Some(change) = lock_change {
                contact.1.lock = change;
            }
            contact.0
        }
        None => {
            let id = data.add_contact(fields, lock_change.flatten());
            if let Some(sphere) = data.primary_sphere() {
                data.add_member(sphere, id);
            }
            id
        }
    };
    Json(data.render_contact(id).unwrap_or(Value::Null)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Membership {
    list_name: String,
    contact_id: String,
    member: bool,
}

/// `{"list_name", "contact_id", "member": true|false}`: puts the contact in the list (made when
/// missing) or takes it out.
pub async fn membership(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let wanted: Membership = match serde_json::from_value(body) {
        Ok(wanted) => wanted,
        Err(err) => return bad(err.to_string()),
    };
    let mut data = lock(&st.rezora.data);
    let Some(contact) = wanted
        .contact_id
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|id| data.contacts.contains_key(id))
    else {
        return bad(format!("no contact {}", wanted.contact_id));
    };
    let found = data
        .lists
        .iter()
        .find(|(_, l)| l.name.eq_ignore_ascii_case(wanted.list_name.trim()))
        .map(|(id, _)| *id);
    let list = match found {
        Some(id) => id,
        None => data.add_list(wanted.list_name.trim(), 0),
    };
    if wanted.member {
        data.add_member(list, contact);
    } else if let Some(id) = data.member_id(list, contact) {
        data.members.remove(&id);
    }
    Json(json!({"list_id": list.to_string(), "contact_id": contact.to_string(), "member": wanted.member}))
        .into_response()
}
