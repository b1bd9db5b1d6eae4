//! `/_sandbox/generic/*`: the app's shape, changed live, and test hooks that change its data as
//! a user of the app would (a real change moves `updated_at`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::store::Kind;
use super::{GenericAuth, GenericPaging, PREFIX};
use crate::sandbox::body::JsonBody;
use crate::sandbox::state::{AppState, lock};

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"message": message.into()})),
    )
        .into_response()
}

pub async fn info(State(st): State<Arc<AppState>>) -> Json<Value> {
    let generic = &st.generic;
    Json(json!({
        "baseUrl": format!("{}{PREFIX}", st.base_url),
        "username": generic.username,
        "options": generic.options(),
        "seed": *lock(&generic.figures),
        "counts": generic.counts(),
    }))
}

pub async fn get_settings(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(json!(st.generic.options()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    paging: Option<GenericPaging>,
    auth: Option<GenericAuth>,
    incremental: Option<bool>,
    string_ids: Option<bool>,
    max_page_size: Option<usize>,
}

/// `{"paging", "auth", "incremental", "stringIds", "maxPageSize"}`; absent fields stay.
pub async fn set_settings(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let settings: Settings = match serde_json::from_value(body) {
        Ok(settings) => settings,
        Err(err) => return bad(err.to_string()),
    };
    let mut options = lock(&st.generic.options);
    if let Some(paging) = settings.paging {
        options.paging = paging;
    }
    if let Some(auth) = settings.auth {
        options.auth = auth;
    }
    if let Some(incremental) = settings.incremental {
        options.incremental = incremental;
    }
    if let Some(string_ids) = settings.string_ids {
        options.string_ids = string_ids;
    }
    if let Some(size) = settings.max_page_size {
        options.max_page_size = size.max(1);
    }
    Json(json!(*options)).into_response()
}

/// A contact as a user of the app would write it: `{"id"?: …, fields…}` updates that contact
/// (or adds one when `id` is absent). No validation, so tests can plant dirty values.
pub async fn put_contact(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    put(&st, Kind::Contact, body)
}

/// A note: `{"id"?: …, "contact_id": …, "body": …}`.
pub async fn put_note(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    put(&st, Kind::Note, body)
}

fn put(st: &AppState, kind: Kind, body: Value) -> Response {
    let Some(object) = body.as_object() else {
        return bad("the body must be an object");
    };
    let string_ids = st.generic.options().string_ids;
    let mut data = lock(&st.generic.data);
    let mut fields: Map<String, Value> = object
        .iter()
        .filter(|(key, _)| key.as_str() != "id")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if let Some(contact) = fields.get("contact_id").cloned() {
        let id = contact
            .as_str()
            .map_or_else(|| contact.to_string(), str::to_string);
        match data.find(Kind::Contact, &id, string_ids) {
            Some(num) => {
                fields.insert("contact_id".into(), json!(num));
            }
            None => return bad(format!("contact_id {id} names no contact")),
        }
    }
    let num = match object.get("id") {
        Some(id) => {
            let id = id.as_str().map_or_else(|| id.to_string(), str::to_string);
            let Some(num) = data.find(kind, &id, string_ids) else {
                return bad(format!("no {} {id}", kind.name()));
            };
            data.update(kind, num, &fields);
            num
        }
        None => {
            fields.retain(|_, value| !value.is_null());
            data.insert(kind, fields, None)
        }
    };
    match data.get(kind, num) {
        Some(row) => Json(json!({"data": data.render(kind, row, string_ids)})).into_response(),
        None => bad("the record vanished"),
    }
}
