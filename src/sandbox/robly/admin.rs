//! `/_sandbox/robly/*`: the emulation's switches, faults and request log, and a test hook that
//! changes a member as a person in Robly's app would (a real change moves `updated_at`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::store::Member;
use super::{ListPath, PREFIX, SinceFormat, WriteParams};
use crate::sandbox::body::JsonBody;
use crate::sandbox::faults::FaultKind;
use crate::sandbox::state::{AppState, lock};

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"message": message.into()})),
    )
        .into_response()
}

pub async fn info(State(st): State<Arc<AppState>>) -> Json<Value> {
    let robly = &st.robly;
    let data = lock(&robly.data);
    Json(json!({
        "baseUrl": format!("{}{PREFIX}", st.base_url),
        "options": robly.options(),
        "seed": *lock(&robly.figures),
        "members": data.members.len(),
        "mailRequests": data.mail_requests,
    }))
}

pub async fn get_settings(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(json!(st.robly.options()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    updated_since_format: Option<SinceFormat>,
    list_path: Option<ListPath>,
    write_params: Option<WriteParams>,
}

/// `{"updatedSinceFormat", "listPath", "writeParams"}`; absent fields stay.
pub async fn set_settings(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let settings: Settings = match serde_json::from_value(body) {
        Ok(settings) => settings,
        Err(err) => return bad(err.to_string()),
    };
    let mut options = lock(&st.robly.options);
    if let Some(format) = settings.updated_since_format {
        options.updated_since_format = format;
    }
    if let Some(path) = settings.list_path {
        options.list_path = path;
    }
    if let Some(params) = settings.write_params {
        options.write_params = params;
    }
    Json(json!(*options)).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MemberEdit {
    /// The member to change; absent: by `email`, else a new member.
    id: Option<u64>,
    email: Option<String>,
    /// Field values by user tag; `null` clears one.
    #[serde(default)]
    fields: Map<String, Value>,
    /// Replaces the member's sub-lists, by name (unknown names are created).
    sub_lists: Option<Vec<String>>,
    is_unsubscribed: Option<bool>,
    is_deleted: Option<bool>,
    is_hard_bounce: Option<bool>,
    is_cleaned: Option<bool>,
    is_spam: Option<bool>,
}

/// Changes (or adds) a member, no validation: tests plant dirty values and unsubscribes here.
pub async fn put_member(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let edit: MemberEdit = match serde_json::from_value(body) {
        Ok(edit) => edit,
        Err(err) => return bad(err.to_string()),
    };
    let mut data = lock(&st.robly.data);
    let at = data.tick();
    let existing = match (edit.id, edit.email.as_deref()) {
        (Some(id), _) => match data.members.get(&id) {
            Some(m) => Some(m.id),
            None => return bad(format!("no member {id}")),
        },
        (None, Some(email)) => data.by_email(email).map(|m| m.id),
        (None, None) => return bad("give id or email"),
    };
    let lists: Option<Vec<u64>> = edit.sub_lists.as_ref().map(|names| {
        names
            .iter()
            .map(|name| {
                let found = data
                    .sub_lists
                    .values()
                    .find(|s| s.name.eq_ignore_ascii_case(name))
                    .map(|s| s.id);
                found.unwrap_or_else(|| data.add_sub_list(name, true, at))
            })
            .collect()
    });
    let id = match existing {
        Some(id) => id,
        None => data.add_member(Member {
            id: 0,
            email: edit.email.clone().unwrap_or_default(),
            fields: Default::default(),
            sub_lists: Default::default(),
            is_unsubscribed: false,
            is_deleted: false,
            is_hard_bounce: false,
            is_cleaned: false,
            is_spam: false,
            sign_up_source: "Admin Add".into(),
            created_at: at,
            updated_at: at,
        }),
    };
    let Some(member) = data.members.get_mut(&id) else {
        return bad("member vanished");
    };
    if let (Some(email), Some(_)) = (&edit.email, edit.id) {
        member.email = email.clone();
    }
    for (tag, value) in edit.fields {
        match value.as_str() {
            Some(text) => {
                member.fields.insert(tag, text.to_string());
            }
            None => {
                member.fields.remove(&tag);
            }
        }
    }
    if let Some(lists) = lists {
        member.sub_lists = lists.into_iter().collect();
    }
    let flags = [
        (edit.is_unsubscribed, &mut member.is_unsubscribed),
        (edit.is_deleted, &mut member.is_deleted),
        (edit.is_hard_bounce, &mut member.is_hard_bounce),
        (edit.is_cleaned, &mut member.is_cleaned),
        (edit.is_spam, &mut member.is_spam),
    ];
    for (new, slot) in flags {
        if let Some(new) = new {
            *slot = new;
        }
    }
    member.updated_at = at;
    let member = member.clone();
    Json(data.render_member(&member, true, true)).into_response()
}

/// Every request recorded since the last reset: `[{method, path, params, rawQuery}]`.
pub async fn requests(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(json!(*lock(&st.robly.requests)))
}

pub async fn get_faults(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(json!(*lock(&st.robly.faults)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultsUpdate {
    rate: Option<f64>,
    kinds: Option<Vec<FaultKind>>,
    next: Option<Vec<FaultKind>>,
    slow_ms: Option<u64>,
    miss_searches: Option<u32>,
}

/// `{"rate"?, "kinds"?, "next"?, "slowMs"?, "missSearches"?}`: absent fields stay, `next` replaces the queue.
pub async fn set_faults(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let update: FaultsUpdate = match serde_json::from_value(body) {
        Ok(update) => update,
        Err(err) => return bad(err.to_string()),
    };
    let mut faults = lock(&st.robly.faults);
    if let Some(rate) = update.rate {
        faults.rate = if rate.is_finite() {
            rate.clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    if let Some(kinds) = update.kinds {
        faults.kinds = kinds;
    }
    if let Some(next) = update.next {
        faults.next = next.into();
    }
    if let Some(ms) = update.slow_ms {
        faults.slow_ms = ms;
    }
    if let Some(misses) = update.miss_searches {
        faults.miss_searches = misses;
    }
    Json(json!(*faults)).into_response()
}
