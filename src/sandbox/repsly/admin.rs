//! `/_sandbox/repsly/*`: test hooks that change Repsly data the way a user in the Repsly app
//! would (a real change bumps `TimeStamp`), the import knobs and the outage switch.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client_import::ClientRow;
use super::model::{ClientNote, ms_date, parse_ms_date, rep_name};
use super::outage::DownMode;
use super::store::Upserted;
use crate::sandbox::body::JsonBody;
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::now_ms;

pub async fn info(State(st): State<Arc<AppState>>) -> Json<Value> {
    let r = &st.repsly;
    let figures = *lock(&r.figures);
    let reps: Vec<Value> = super::model::REPS
        .iter()
        .map(|rep| json!({"code": rep.code, "name": rep.name}))
        .collect();
    Json(json!({
        "baseUrl": format!("{}{}", st.base_url, super::PREFIX),
        "username": r.username,
        "representatives": reps,
        "seed": {
            "overlapping": figures.overlapping,
            "conflicting": figures.conflicting,
            "repslyOnly": figures.repsly_only,
            "dirty": figures.dirty,
            "inactive": figures.inactive,
        },
        "counts": r.counts(),
    }))
}

/// Body: a client object with `Code` (import field names, same merge rule). Skips the import
/// validation so tests can plant dirty values; `Name` defaults to the code on insert.
pub async fn put_client(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> ApiResult {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("body must be a client object"))?;
    let row = ClientRow::parse(obj).map_err(ApiError::bad_request)?;
    let code = row
        .code
        .clone()
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("Code is required"))?;
    let mut data = lock(&st.repsly.data);
    let mut client = row.merge(data.client(&code));
    if client.name.is_empty() {
        client.name = code;
    }
    let (outcome, stored) = data.put_client(client);
    let outcome = match outcome {
        Upserted::Inserted => "inserted",
        Upserted::Updated => "updated",
        Upserted::Unchanged => "unchanged",
    };
    ok(
        StatusCode::OK,
        json!({"outcome": outcome, "client": stored}),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct NoteRequest {
    client_code: String,
    note: String,
    representative_code: Option<String>,
    /// Epoch ms or `/Date(ms+0000)/`; now when absent.
    date_and_time: Option<Value>,
    #[serde(rename = "VisitID")]
    visit_id: Option<i64>,
}

/// Adds a note with the next `ClientNoteID`, copying the client's address as Repsly does.
pub async fn add_note(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> ApiResult {
    let req: NoteRequest =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let at = match &req.date_and_time {
        None | Some(Value::Null) => now_ms(),
        Some(Value::Number(n)) => n.as_i64().unwrap_or_else(now_ms),
        Some(Value::String(s)) => parse_ms_date(s)
            .ok_or_else(|| ApiError::bad_request("DateAndTime must be /Date(ms+0000)/"))?,
        Some(_) => return Err(ApiError::bad_request("DateAndTime must be ms or a string")),
    };
    let rep = req.representative_code.unwrap_or_else(|| "REP01".into());
    let rep_name = rep_name(&rep).ok_or_else(|| ApiError::bad_request("unknown rep"))?;
    let mut data = lock(&st.repsly.data);
    let c = data
        .client(&req.client_code)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Client"))?;
    let note = ClientNote {
        client_note_id: data.new_note_id(),
        time_stamp: data.bump(),
        date_and_time: ms_date(at),
        representative_code: Some(rep),
        representative_name: Some(rep_name.into()),
        client_code: c.code,
        client_name: c.name,
        street_address: c.street_address,
        zip: c.zip,
        zip_ext: c.zip_ext,
        city: c.city,
        state: c.state,
        country: c.country,
        email: c.email,
        phone: c.phone,
        mobile: c.mobile,
        territory: c.territory,
        longitude: 0.0,
        latitude: 0.0,
        note: req.note,
        visit_id: req.visit_id,
    };
    data.notes.insert(note.client_note_id, note.clone());
    ok(StatusCode::OK, note)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    import_delay_ms: Option<u64>,
    fail_imports: Option<bool>,
    /// Down for this long from now (0 = up again).
    down_for_ms: Option<u64>,
    /// `"503"` (default) or `"drop"`.
    down_mode: Option<String>,
}

fn settings_json(st: &AppState) -> Value {
    let outage = lock(&st.repsly.outage);
    let left = outage.left(Instant::now());
    json!({
        "importDelayMs": st.repsly.import_delay_ms.load(Ordering::Relaxed),
        "failImports": st.repsly.fail_imports.load(Ordering::Relaxed),
        "downForMs": u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
        "downMode": outage.mode,
    })
}

pub async fn get_settings(State(st): State<Arc<AppState>>) -> ApiResult {
    ok(StatusCode::OK, settings_json(&st))
}

/// `{"importDelayMs": N, "failImports": bool, "downForMs": N, "downMode": "503"|"drop"}`;
/// absent fields stay as they are. `downForMs` counts from this request.
pub async fn set_settings(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> ApiResult {
    let s: Settings =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mode = s
        .down_mode
        .as_deref()
        .map(DownMode::parse)
        .transpose()
        .map_err(ApiError::bad_request)?;
    {
        let mut outage = lock(&st.repsly.outage);
        if let Some(mode) = mode {
            outage.mode = mode;
        }
        if let Some(ms) = s.down_for_ms {
            outage.start(Duration::from_millis(ms), Instant::now());
        }
    }
    if let Some(ms) = s.import_delay_ms {
        st.repsly.import_delay_ms.store(ms, Ordering::Relaxed);
    }
    if let Some(fail) = s.fail_imports {
        st.repsly.fail_imports.store(fail, Ordering::Relaxed);
    }
    ok(StatusCode::OK, settings_json(&st))
}
