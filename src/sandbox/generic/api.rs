//! The generic app's API: lists in four paging styles, reads, writes and deletes, behind one of
//! four auth styles, all through the sandbox's pipeline (latency, faults, stats).

use std::sync::Arc;

use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::store::{Data, Kind};
use super::{GenericAuth, GenericOptions, GenericPaging, PREFIX};
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

fn error(status: StatusCode, message: impl Into<String>, errors: Option<Value>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
        errors: errors.map(Box::new),
    }
}

fn bad_request(message: impl Into<String>) -> Refusal {
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

fn route(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contacts",
        Kind::Note => "notes",
    }
}

/// The parameters a list takes in the app's current shape.
fn known_params(opts: &GenericOptions, kind: Kind) -> Vec<&'static str> {
    let mut known = match opts.paging {
        GenericPaging::Offset => vec!["limit", "offset"],
        GenericPaging::PageNumber | GenericPaging::LinkHeader => vec!["page", "per_page"],
        GenericPaging::Cursor => vec!["limit", "cursor"],
    };
    if opts.incremental {
        known.push("updated_since");
    }
    if kind == Kind::Contact {
        known.push("email");
    }
    if opts.auth == GenericAuth::Query {
        known.push("api_key");
    }
    known
}

fn number(params: &[(String, String)], name: &str, default: usize) -> Result<usize, Refusal> {
    match params.iter().find(|(n, _)| n == name) {
        None => Ok(default),
        Some((_, value)) => value
            .trim()
            .parse()
            .map_err(|_| bad_request(format!("{name} must be a whole number, not {value:?}"))),
    }
}

fn list(st: &AppState, kind: Kind, params: Vec<(String, String)>) -> Response {
    let opts = st.generic.options();
    let known = known_params(&opts, kind);
    if let Some((unknown, _)) = params
        .iter()
        .find(|(name, _)| !known.contains(&name.as_str()))
    {
        return bad_request(format!(
            "unknown query parameter {unknown:?}; this list takes {}",
            known.join(", ")
        ))
        .into_response();
    }
    page(st, &opts, kind, &params).unwrap_or_else(IntoResponse::into_response)
}

fn page(
    st: &AppState,
    opts: &GenericOptions,
    kind: Kind,
    params: &[(String, String)],
) -> Result<Response, Refusal> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let since = match param("updated_since") {
        Some(text) => Some(
            chrono::DateTime::parse_from_rfc3339(text.trim())
                .map_err(|_| {
                    bad_request(format!("updated_since {text:?} is not an RFC 3339 date"))
                })?
                .timestamp_millis(),
        ),
        None => None,
    };
    let email = param("email").map(|e| e.trim().to_ascii_lowercase());
    let size_name = match opts.paging {
        GenericPaging::Offset | GenericPaging::Cursor => "limit",
        GenericPaging::PageNumber | GenericPaging::LinkHeader => "per_page",
    };
    let size = number(params, size_name, 25)?;
    if size == 0 || size > opts.max_page_size {
        return Err(bad_request(format!(
            "{size_name} must be between 1 and {}",
            opts.max_page_size
        )));
    }
    let data = lock(&st.generic.data);
    // Changes in order when incremental (what an updated_since reader needs), else by id.
    let mut rows: Vec<_> = data
        .rows(kind)
        .filter(|row| since.is_none_or(|since| row.updated_ms >= since))
        .filter(|row| {
            email.as_deref().is_none_or(|wanted| {
                row.fields
                    .get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(wanted))
            })
        })
        .collect();
    if opts.incremental {
        rows.sort_by_key(|row| (row.updated_ms, row.num));
    }
    let total = rows.len();
    let key = |row: &super::store::Row| format!("c{:x}.{:x}", row.updated_ms, row.num);
    let start = match opts.paging {
        GenericPaging::Offset => number(params, "offset", 0)?,
        GenericPaging::PageNumber | GenericPaging::LinkHeader => {
            let page = number(params, "page", 1)?;
            if page == 0 {
                return Err(bad_request("page starts at 1"));
            }
            (page - 1).saturating_mul(size)
        }
        GenericPaging::Cursor => match param("cursor").filter(|c| !c.is_empty()) {
            None => 0,
            Some(cursor) => {
                let at = rows
                    .iter()
                    .position(|row| key(row) == cursor)
                    .ok_or_else(|| {
                        bad_request(format!("cursor {cursor:?} is not one this list gave out"))
                    })?;
                at + 1
            }
        },
    };
    let slice: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(size)
        .map(|row| data.render(kind, row, opts.string_ids))
        .collect();
    let more = start + slice.len() < total;
    let mut meta = json!({"total": total});
    if opts.paging == GenericPaging::Cursor {
        let next = (more && !slice.is_empty()).then(|| key(rows[start + slice.len() - 1]));
        meta["next_cursor"] = json!(next);
    }
    let mut response = (
        StatusCode::OK,
        axum::Json(json!({"data": slice, "meta": meta})),
    )
        .into_response();
    if opts.paging == GenericPaging::LinkHeader && more {
        let page = number(params, "page", 1)?;
        let mut next = url::Url::parse(&format!("{}{PREFIX}/{}", st.base_url, route(kind)))
            .map_err(|_| bad_request("the sandbox's base URL is broken"))?;
        {
            let mut query = next.query_pairs_mut();
            for (name, value) in params.iter().filter(|(n, _)| n != "page") {
                query.append_pair(name, value);
            }
            query.append_pair("page", &(page + 1).to_string());
        }
        if let Ok(value) = header::HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
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
