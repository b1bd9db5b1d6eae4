//! The export downloads and `/_sandbox/growbots/*`: a user of the Growbots app editing
//! prospects, prospects replying, prospects qualified — each through the bridge.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Fault, PREFIX, seed};
use crate::sandbox::body::JsonBody;
use crate::sandbox::state::{AppState, lock};

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"message": message.into()})),
    )
        .into_response()
}

fn download(st: &AppState, headers: &HeaderMap, csv: impl FnOnce() -> String) -> Response {
    let growbots = &st.growbots;
    let expected = format!("Bearer {}", growbots.token.expose());
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == expected);
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized", "message": "log in to Growbots to download exports"})),
        )
            .into_response();
    }
    if growbots.take_fault(Fault::Html) {
        return (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response();
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv(),
    )
        .into_response()
}

pub async fn prospects_export(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    download(&st, &headers, || st.growbots.prospects_csv())
}

pub async fn companies_export(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    download(&st, &headers, || st.growbots.companies_csv())
}

pub async fn info(State(st): State<Arc<AppState>>) -> Json<Value> {
    let growbots = &st.growbots;
    let data = lock(&growbots.data);
    Json(json!({
        "baseUrl": format!("{}{PREFIX}", st.base_url),
        "exports": ["/exports/prospects.csv", "/exports/companies.csv"],
        "bridge": *lock(&growbots.bridge),
        "seed": {"fromGhl": data.from_ghl, "prospects": data.prospects.len(), "companies": data.companies.len()},
        "events": data.events.len(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bridge {
    url: Option<String>,
}

/// `{"url": "http://…"}` (or null: events are recorded, not sent).
pub async fn set_bridge(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    match serde_json::from_value::<Bridge>(body) {
        Ok(bridge) => {
            *lock(&st.growbots.bridge) = bridge.url.clone();
            Json(json!({"url": bridge.url})).into_response()
        }
        Err(err) => bad(err.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Faults {
    next: Vec<Fault>,
}

/// `{"next": ["badSignature" | "duplicate" | "html", …]}`: queued, each used once.
pub async fn set_faults(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    match serde_json::from_value::<Faults>(body) {
        Ok(faults) => {
            let mut queue = lock(&st.growbots.faults);
            queue.extend(faults.next);
            Json(json!({"queued": queue.len()})).into_response()
        }
        Err(err) => bad(err.to_string()),
    }
}

fn same_email(row: &Map<String, Value>, email: &str) -> bool {
    row.get("Email")
        .and_then(Value::as_str)
        .is_some_and(|e| e.trim().eq_ignore_ascii_case(email.trim()))
}

/// `{"Email": …, "<header>": …}`: edits the prospect with that email (a null clears a cell) or
/// adds one, which the bridge reports as `created`.
pub async fn put_prospect(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let Value::Object(cells) = body else {
        return bad("post an object of export headers");
    };
    let Some(email) = cells
        .get("Email")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return bad("\"Email\" is required: it names the prospect");
    };
    if let Some(unknown) = cells
        .keys()
        .find(|k| !seed::PROSPECT_HEADERS.contains(&k.as_str()))
    {
        return bad(format!("{unknown:?} is not a prospects export header"));
    }
    let (created, prospect) = {
        let mut data = lock(&st.growbots.data);
        let at = data
            .prospects
            .iter()
            .position(|row| same_email(row, &email));
        let created = at.is_none();
        let index = at.unwrap_or_else(|| {
            data.prospects.push(Map::new());
            data.prospects.len() - 1
        });
        let row = &mut data.prospects[index];
        for (header, value) in cells {
            if value.is_null() {
                row.shift_remove(&header);
            } else {
                row.insert(header, value);
            }
        }
        (created, row.clone())
    };
    if !created {
        return Json(json!({"created": false, "prospect": prospect})).into_response();
    }
    let delivery = st.growbots.emit("created", &prospect, None).await;
    Json(json!({"created": true, "prospect": prospect, "bridge": delivery})).into_response()
}

/// The prospect (by email) as a status change leaves it; `None` when there is none.
fn set_status(st: &AppState, email: &str, status: &str) -> Option<Map<String, Value>> {
    let mut data = lock(&st.growbots.data);
    let row = data
        .prospects
        .iter_mut()
        .find(|row| same_email(row, email))?;
    row.insert("Status".into(), json!(status));
    Some(row.clone())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    email: String,
    #[serde(default)]
    subject: Option<String>,
    body: String,
}

/// `{"email", "subject"?, "body"}`: the prospect replied; its campaign pauses.
pub async fn reply(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let reply: ReplyBody = match serde_json::from_value(body) {
        Ok(reply) => reply,
        Err(err) => return bad(err.to_string()),
    };
    let Some(prospect) = set_status(&st, &reply.email, "Paused - new reply") else {
        return bad(format!("no prospect has the email {:?}", reply.email));
    };
    let text = json!({"subject": reply.subject, "body": reply.body});
    Json(st.growbots.emit("replied", &prospect, Some(text)).await).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Qualify {
    email: String,
    qualified: bool,
}

/// `{"email", "qualified": true|false}`: the prospect marked Qualified or Unqualified.
pub async fn qualify(State(st): State<Arc<AppState>>, JsonBody(body): JsonBody) -> Response {
    let qualify: Qualify = match serde_json::from_value(body) {
        Ok(qualify) => qualify,
        Err(err) => return bad(err.to_string()),
    };
    let (status, kind) = if qualify.qualified {
        ("Qualified", "qualified")
    } else {
        ("Unqualified", "unqualified")
    };
    let Some(prospect) = set_status(&st, &qualify.email, status) else {
        return bad(format!("no prospect has the email {:?}", qualify.email));
    };
    Json(st.growbots.emit(kind, &prospect, None).await).into_response()
}
