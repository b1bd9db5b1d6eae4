//! `GET export/*`: the cursor and date-window reads.
//!
//! Paged exports answer at most 50 rows strictly after the cursor, oldest first, in
//! `{"MetaCollectionResult": {...}, "<Entity>": [...]}`. `TotalCount` is the number of rows in
//! *this* response (so `0` means the walk is done) **[verify]**: the docs do not say whether it
//! counts the page or everything after the cursor. On an empty page `First…`/`Last…` echo the
//! cursor, so a client that stores `LastTimeStamp` unconditionally never moves backwards.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::http::{Refusal, message, ok};
use crate::sandbox::state::{AppState, lock};

/// A long path parameter, as Web API binds it.
fn long(raw: &str, name: &'static str) -> Result<i64, Refusal> {
    raw.trim()
        .parse()
        .map_err(|_| Refusal::Param(name, "System.Int64"))
}

fn page<T: serde::Serialize>(
    key: &str,
    rows: &[&T],
    cursor: i64,
    first_last: (&str, &str),
    id_of: impl Fn(&T) -> i64,
) -> Response {
    let first = rows.first().map_or(cursor, |r| id_of(r));
    let last = rows.last().map_or(cursor, |r| id_of(r));
    let mut meta = serde_json::Map::new();
    meta.insert("TotalCount".into(), json!(rows.len()));
    meta.insert(first_last.0.into(), json!(first));
    meta.insert(first_last.1.into(), json!(last));
    let mut body = serde_json::Map::new();
    body.insert("MetaCollectionResult".into(), Value::Object(meta));
    body.insert(key.into(), json!(rows));
    ok(Value::Object(body))
}

const BY_TIMESTAMP: (&str, &str) = ("FirstTimeStamp", "LastTimeStamp");

pub async fn clients(
    State(st): State<Arc<AppState>>,
    Path(raw): Path<String>,
) -> Result<Response, Refusal> {
    let cursor = long(&raw, "lastTimeStamp")?;
    let data = lock(&st.repsly.data);
    let rows = data.clients_after(cursor);
    Ok(page("Clients", &rows, cursor, BY_TIMESTAMP, |c| {
        c.time_stamp
    }))
}

/// One client by code, as the bare client object (not wrapped in `Clients`) **[verify]**.
pub async fn client(State(st): State<Arc<AppState>>, Path(code): Path<String>) -> Response {
    match lock(&st.repsly.data).client(&code) {
        Some(client) => ok(json!(client)),
        None => message(
            StatusCode::NOT_FOUND,
            format!("Client with code '{code}' was not found."),
        ),
    }
}

pub async fn client_notes(
    State(st): State<Arc<AppState>>,
    Path(raw): Path<String>,
) -> Result<Response, Refusal> {
    let cursor = long(&raw, "lastClientNoteID")?;
    let data = lock(&st.repsly.data);
    let rows = data.notes_after(cursor);
    Ok(page(
        "ClientNotes",
        &rows,
        cursor,
        ("FirstID", "LastID"),
        |n| n.client_note_id,
    ))
}

pub async fn visits(
    State(st): State<Arc<AppState>>,
    Path(raw): Path<String>,
) -> Result<Response, Refusal> {
    let cursor = long(&raw, "lastTimestamp")?;
    let data = lock(&st.repsly.data);
    let rows = data.visits_after(cursor);
    Ok(page("Visits", &rows, cursor, BY_TIMESTAMP, |v| {
        v.time_stamp
    }))
}

/// `YYYY-MM-DD` (a time part, as in `2024-11-25T00:00:00`, is ignored).
fn day(raw: &str, name: &'static str) -> Result<String, Refusal> {
    raw.trim()
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| d.format("%Y-%m-%d").to_string())
        .ok_or(Refusal::Param(name, "System.DateTime"))
}

fn window(begin: &str, end: &str) -> Result<(String, String), Refusal> {
    Ok((day(begin, "beginDateTime")?, day(end, "endDateTime")?))
}

/// Extended schedules in `[begin, end]` (inclusive, by `ScheduledDate`), unpaged, no meta.
/// A repeating schedule appears once, on its first date; occurrences are not expanded.
pub async fn schedules(
    State(st): State<Arc<AppState>>,
    Path((begin, end)): Path<(String, String)>,
) -> Result<Response, Refusal> {
    let (begin, end) = window(&begin, &end)?;
    let data = lock(&st.repsly.data);
    let rows = data.schedules_between(&begin, &end);
    Ok(ok(json!({"VisitSchedules": rows})))
}

/// The legacy shape: `ScheduleDateAndTime`, `ClientCode`, `RepresentativeCode`, `VisitNote`,
/// `DueDate`; no `ScheduleCode`.
pub async fn visit_schedules(
    State(st): State<Arc<AppState>>,
    Path((begin, end)): Path<(String, String)>,
) -> Result<Response, Refusal> {
    let (begin, end) = window(&begin, &end)?;
    let data = lock(&st.repsly.data);
    let rows: Vec<Value> = data
        .schedules_between(&begin, &end)
        .into_iter()
        .map(|s| s.legacy())
        .collect();
    Ok(ok(json!({"VisitSchedules": rows})))
}

/// The full list, unpaged, as `export/representatives` does.
pub async fn representatives() -> Response {
    let reps: Vec<Value> = super::model::REPS
        .iter()
        .map(|r| {
            json!({
                "Code": r.code,
                "Name": r.name,
                "Note": null,
                "Email": format!("{}@fieldteam.example", r.code.to_lowercase()),
                "Phone": null,
                "Territories": [],
                "Active": true,
                "Address1": null, "Address2": null, "City": null, "State": null,
                "ZipCode": null, "ZipCodeExt": null, "Country": null, "CountryCode": null,
                "Password": "", "Mobile": "",
                "Attributes": [],
            })
        })
        .collect();
    ok(json!({"Representatives": reps}))
}
