//! The generic app's API: lists in four paging styles, reads, writes and deletes, behind one of
//! four auth styles, all through the sandbox's pipeline (latency, faults, stats).

use std::sync::Arc;

use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::list::{list, route};
use super::store::{Data, Kind};
use super::{GenericAuth, PREFIX};
use crate::sandbox::body::read_limited;
use crate::sandbox::faults::{self, FaultKind};
use crate::sandbox::pipeline::{self, Gate, record};
use crate::sandbox::state::{AppState, lock};

/// A refusal: `{"message": …}` with a status, plus `errors` when fields are named. Small, so it
/// travels by `?`.
pub(super) struct Refusal {
    status: StatusCode,
    message: String,
    errors: Option<Box<Value>>,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = json!({"message": self.message});
        if let Some(errors) = self.errors {
            body["errors"] = *errors;
        }
        (self.status, axum::Json(body)).into_response()
    }
}

pub(super) fn error(
    status: StatusCode,
    message: impl Into<String>,
    errors: Option<Value>,
) -> Refusal {
    Refusal {
        status,
        message: message.into(),
        errors: errors.map(Box::new),
    }
}

pub(super) fn bad_request(message: impl Into<String>) -> Refusal {
    error(StatusCode::BAD_REQUEST, message, None)
}

fn not_found_record(kind: Kind) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("{} not found", kind.name()),
        None,
    )
    .into_response()
}

/// The generic app's admission: the auth style of the moment.
pub struct Generic;

impl Gate for Generic {
    type Pass = ();

    fn admit(st: &AppState, _: &Method, _: &str, req: &mut Request) -> Result<(), Box<Response>> {
        let generic = &st.generic;
        let auth = lock(&generic.options).auth;
        let token = generic.token.expose();
        let headers = req.headers();
        let header_text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let ok = match auth {
            GenericAuth::Bearer => header_text(header::AUTHORIZATION)
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|v| v.trim() == token),
            GenericAuth::Basic => basic_credentials(headers).is_some_and(|(user, pass)| {
                user == generic.username && pass == generic.password.expose()
            }),
            GenericAuth::Header => headers
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim() == token),
            GenericAuth::Query => req.uri().query().is_some_and(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .any(|(name, value)| name == "api_key" && value == token)
            }),
        };
        if ok {
            Ok(())
        } else {
            Err(Box::new(
                error(StatusCode::UNAUTHORIZED, "unauthorized", None).into_response(),
            ))
        }
    }

    fn replacement(kind: FaultKind) -> Option<Response> {
        faults::replacement(kind)
    }
}

pub async fn guard(
    State(st): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    pipeline::run::<Generic>(&st, matched.as_ref(), req, next).await
}

pub async fn not_found(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    let response = error(
        StatusCode::NOT_FOUND,
        format!("no route for {method} {}", uri.path()),
        None,
    )
    .into_response();
    record(&st, &method, "<unmatched>", &response);
    response
}

type Params = Query<Vec<(String, String)>>;

pub async fn list_contacts(State(st): State<Arc<AppState>>, Query(q): Params) -> Response {
    list(&st, Kind::Contact, q)
}

pub async fn list_notes(State(st): State<Arc<AppState>>, Query(q): Params) -> Response {
    list(&st, Kind::Note, q)
}

pub async fn get_contact(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    get_one(&st, Kind::Contact, &id)
}

pub async fn get_note(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    get_one(&st, Kind::Note, &id)
}

pub async fn create_contact(State(st): State<Arc<AppState>>, req: Request) -> Response {
    write(&st, Kind::Contact, None, req).await
}

pub async fn create_note(State(st): State<Arc<AppState>>, req: Request) -> Response {
    write(&st, Kind::Note, None, req).await
}

pub async fn update_contact(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    write(&st, Kind::Contact, Some(id), req).await
}

pub async fn update_note(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    write(&st, Kind::Note, Some(id), req).await
}

pub async fn delete_contact(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    delete(&st, Kind::Contact, &id)
}

pub async fn delete_note(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    delete(&st, Kind::Note, &id)
}

fn get_one(st: &AppState, kind: Kind, id: &str) -> Response {
    let string_ids = st.generic.options().string_ids;
    let data = lock(&st.generic.data);
    match data
        .find(kind, id, string_ids)
        .and_then(|num| data.get(kind, num))
    {
        Some(row) => {
            axum::Json(json!({"data": data.render(kind, row, string_ids)})).into_response()
        }
        None => not_found_record(kind),
    }
}

fn delete(st: &AppState, kind: Kind, id: &str) -> Response {
    let string_ids = st.generic.options().string_ids;
    let mut data = lock(&st.generic.data);
    match data.find(kind, id, string_ids) {
        Some(num) => {
            data.remove(kind, num);
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found_record(kind),
    }
}

/// The fields of a write body, checked: known fields only, a well-formed email, a note's
/// contact present. A note's `contact_id` is stored as the contact's number.
pub(super) fn checked_fields(
    data: &Data,
    kind: Kind,
    body: &Value,
    string_ids: bool,
) -> Result<Map<String, Value>, Refusal> {
    let Some(object) = body.as_object() else {
        return Err(bad_request("the body must be a JSON object"));
    };
    let mut errors = Map::new();
    let mut fields = Map::new();
    for (key, value) in object {
        if !kind.fields().contains(&key.as_str()) {
            errors.insert(
                key.clone(),
                json!(["is not a field of a ".to_string() + kind.name()]),
            );
            continue;
        }
        if !(value.is_string() || value.is_null() || key == "contact_id") {
            errors.insert(key.clone(), json!(["must be text"]));
            continue;
        }
        if key == "email"
            && let Some(email) = value.as_str()
        {
            let parts: Vec<&str> = email.trim().split('@').collect();
            let valid = parts.len() == 2 && !parts[0].is_empty() && parts[1].contains('.');
            if !valid && !email.trim().is_empty() {
                errors.insert(key.clone(), json!(["is not a valid email address"]));
                continue;
            }
        }
        if key == "contact_id" {
            let id = match value {
                Value::String(text) => text.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            match data.find(Kind::Contact, &id, string_ids) {
                Some(num) => {
                    fields.insert(key.clone(), json!(num));
                }
                None => {
                    errors.insert(key.clone(), json!(["names no contact"]));
                }
            }
            continue;
        }
        fields.insert(key.clone(), value.clone());
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation failed",
            Some(Value::Object(errors)),
        ))
    }
}

async fn write(st: &AppState, kind: Kind, id: Option<String>, req: Request) -> Response {
    let bytes = match read_limited(req).await {
        Ok(bytes) => bytes,
        Err(_) => return bad_request("the body could not be read").into_response(),
    };
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(err) => return bad_request(format!("the body is not JSON: {err}")).into_response(),
    };
    let string_ids = st.generic.options().string_ids;
    let mut data = lock(&st.generic.data);
    let fields = match checked_fields(&data, kind, &body, string_ids) {
        Ok(fields) => fields,
        Err(refusal) => return refusal.into_response(),
    };
    let existing = match &id {
        Some(id) => match data.find(kind, id, string_ids) {
            Some(num) => Some(num),
            None => return not_found_record(kind),
        },
        None => None,
    };
    if kind == Kind::Note && existing.is_none() {
        let missing: Vec<&str> = ["contact_id", "body"]
            .into_iter()
            .filter(|f| fields.get(*f).is_none_or(Value::is_null))
            .collect();
        if !missing.is_empty() {
            let errors: Map<String, Value> = missing
                .iter()
                .map(|f| ((*f).to_string(), json!(["is required"])))
                .collect();
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation failed",
                Some(Value::Object(errors)),
            )
            .into_response();
        }
    }
    if let Some(email) = fields.get("email").and_then(Value::as_str)
        && !email.trim().is_empty()
        && data.email_taken(email, existing)
    {
        return error(
            StatusCode::CONFLICT,
            "a contact with this email exists",
            Some(json!({"email": ["is taken"]})),
        )
        .into_response();
    }
    let (num, status) = match existing {
        Some(num) => {
            data.update(kind, num, &fields);
            (num, StatusCode::OK)
        }
        None => (data.insert(kind, fields, None), StatusCode::CREATED),
    };
    let Some(row) = data.get(kind, num) else {
        return not_found_record(kind);
    };
    let rendered = data.render(kind, row, string_ids);
    let mut response = (status, axum::Json(json!({"data": rendered}))).into_response();
    if status == StatusCode::CREATED {
        let location = format!(
            "{}{PREFIX}/{}/{}",
            st.base_url,
            route(kind),
            rendered["id"].to_string().trim_matches('"')
        );
        if let Ok(value) = header::HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    response
}

/// `user:pass` from `Authorization: Basic …`, if well formed.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (user, pass) = String::from_utf8(decoded)
        .ok()?
        .split_once(':')
        .map(|(u, p)| (u.to_string(), p.to_string()))?;
    Some((user, pass))
}
