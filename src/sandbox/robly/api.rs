//! Robly's API as the emulation answers it, behind its credentials check and faults, through
//! the sandbox's pipeline (latency, the shared faults, stats).
//!
//! Robly documents no defaults for its mail switches (`welcome_email`, `double_opt_in`,
//! `include_autoresponder`, `include_automations`), so an omitted one counts here as a request
//! for mail, as a true one does: the sync must send them false.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use rand::Rng;
use serde_json::{Value, json};

use super::store::{Data, Member};
use super::{ListPath, Recorded, SinceFormat, WriteParams};
use crate::sandbox::faults::{self, FaultKind};
use crate::sandbox::pipeline::{self, Gate};
use crate::sandbox::state::{AppState, lock};

type Params = Vec<(String, String)>;

const AUTH: [&str; 2] = ["api_id", "api_key"];
/// The switches that make Robly send mail.
pub(super) const MAIL_SWITCHES: [&str; 4] = [
    "welcome_email",
    "double_opt_in",
    "include_autoresponder",
    "include_automations",
];

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn ok(body: Value) -> Response {
    answer(StatusCode::OK, body)
}

fn fail(status: StatusCode, message: &str) -> Response {
    answer(status, json!({"successful": false, "message": message}))
}

/// Rails' answer to a parameter its model has no attribute for.
fn server_error() -> Response {
    answer(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"status": 500, "error": "Internal Server Error"}),
    )
}

/// Robly's admission: both credentials in the query string.
pub struct Robly;

impl Gate for Robly {
    type Pass = ();

    fn admit(st: &AppState, _: &Method, _: &str, req: &mut Request) -> Result<(), Box<Response>> {
        let pairs: Params = req
            .uri()
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let given = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let robly = &st.robly;
        match (given("api_id"), given("api_key")) {
            (Some(id), Some(key))
                if id == robly.api_id.expose() && key == robly.api_key.expose() =>
            {
                Ok(())
            }
            (Some(_), Some(_)) => Err(Box::new(fail(
                StatusCode::FORBIDDEN,
                "Invalid API credentials",
            ))),
            _ => Err(Box::new(fail(
                StatusCode::UNAUTHORIZED,
                "api_id and api_key are required",
            ))),
        }
    }

    fn replacement(kind: FaultKind) -> Option<Response> {
        replacement(kind)
    }
}

/// A fault in Robly's clothes: JSON 5xx, an HTML page, a dropped connection.
fn replacement(kind: FaultKind) -> Option<Response> {
    let html = |status: StatusCode| {
        (
            status,
            [(header::CONTENT_TYPE, "text/html")],
            "<!DOCTYPE html><html><head><title>We're sorry, but something went wrong (500)</title></head><body></body></html>",
        )
            .into_response()
    };
    match kind {
        FaultKind::Status500 => Some(server_error()),
        FaultKind::Status502 => Some(fail(StatusCode::BAD_GATEWAY, "Bad Gateway")),
        FaultKind::Status503 => Some(fail(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")),
        FaultKind::Html502 => Some(html(StatusCode::BAD_GATEWAY)),
        FaultKind::Html200 => Some(html(StatusCode::OK)),
        FaultKind::Drop => Some(faults::dropped()),
        _ => faults::replacement(kind),
    }
}

/// The emulation's own faults first (after the credentials check), then the shared pipeline.
pub async fn guard(
    State(st): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let route = pipeline::route_name(matched.as_ref());
    let admitted = Robly::admit(&st, &method, &route, &mut req).is_ok();
    let (fault, slow) = if admitted {
        let mut faults = lock(&st.robly.faults);
        let drawn = faults.next.pop_front().or_else(|| {
            let mut rng = rand::rng();
            (faults.rate > 0.0 && !faults.kinds.is_empty() && rng.random_bool(faults.rate.min(1.0)))
                .then(|| faults.kinds[rng.random_range(0..faults.kinds.len())])
        });
        (drawn, std::time::Duration::from_millis(faults.slow_ms))
    } else {
        (None, std::time::Duration::ZERO)
    };
    if let Some(kind) = fault {
        lock(&st.stats).fault(&format!("robly:{kind:?}"));
        if kind == FaultKind::Slow {
            tokio::time::sleep(slow).await;
        } else if let Some(replaced) = replacement(kind) {
            pipeline::record(&st, &method, &route, &replaced);
            return replaced;
        }
    }
    let response = pipeline::run::<Robly>(&st, matched.as_ref(), req, next).await;
    match fault {
        Some(FaultKind::DropAfter) => faults::dropped(),
        Some(FaultKind::SlowAfter) => {
            tokio::time::sleep(slow).await;
            response
        }
        _ => response,
    }
}

pub async fn not_found(State(st): State<Arc<AppState>>, method: Method) -> Response {
    let response = fail(StatusCode::NOT_FOUND, "Not found");
    pipeline::record(&st, &method, "<unmatched>", &response);
    response
}

/// The request's parameters, recorded: the query's for a read (and for a write in `query`
/// mode), the form body's for a write in `form` mode (`member_id` may stay in the query).
fn params(st: &AppState, method: &Method, uri: &Uri, body: &[u8]) -> Params {
    let raw = uri.query().unwrap_or("");
    let query: Params = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .filter(|(k, _)| !AUTH.contains(&k.as_str()))
        .collect();
    let form = st.robly.options().write_params == WriteParams::Form;
    let params = if *method != Method::GET && form {
        let mut from_body: Params = url::form_urlencoded::parse(body).into_owned().collect();
        from_body.extend(query.into_iter().filter(|(k, _)| k == "member_id"));
        from_body
    } else {
        query
    };
    let raw_query = raw
        .split('&')
        .filter(|part| !AUTH.iter().any(|a| part.starts_with(&format!("{a}="))))
        .collect::<Vec<_>>()
        .join("&");
    st.robly.record(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        params: params.clone(),
        raw_query,
    });
    params
}

fn one<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn all<'a>(params: &'a Params, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    params
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn flag(params: &Params, name: &str) -> bool {
    one(params, name).is_some_and(|v| matches!(v, "true" | "1"))
}

/// Whether a write asks for mail: any of `switches` true or left out.
fn asks_for_mail(params: &Params, switches: &[&str]) -> bool {
    switches
        .iter()
        .any(|s| one(params, s).is_none_or(|v| matches!(v, "true" | "1")))
}

/// The first parameter that is neither the route's own nor a field tag of the account.
fn unknown_param<'a>(data: &Data, params: &'a Params, own: &[&str]) -> Option<&'a str> {
    let tags = data.field_tags();
    params
        .iter()
        .map(|(k, _)| k.as_str())
        .find(|k| !own.contains(k) && !tags.contains(k))
}

async fn list(st: Arc<AppState>, method: Method, uri: Uri, which: ListPath) -> Response {
    let params = params(&st, &method, &uri, &[]);
    if st.robly.options().list_path != which {
        return fail(StatusCode::NOT_FOUND, "Not found");
    }
    let limit = match one(&params, "limit").map(str::parse::<usize>) {
        None => 25,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        _ => return fail(StatusCode::BAD_REQUEST, "limit must be between 1 and 100"),
    };
    let Ok(offset) = one(&params, "offset").unwrap_or("0").parse::<usize>() else {
        return fail(StatusCode::BAD_REQUEST, "offset must be a number");
    };
    let since = match one(&params, "updated_since") {
        None => None,
        Some(text) => match st.robly.options().updated_since_format {
            SinceFormat::Epoch => match text.trim().parse::<i64>() {
                Ok(secs) => Some(secs),
                Err(_) => {
                    return fail(
                        StatusCode::BAD_REQUEST,
                        "updated_since must be an epoch time",
                    );
                }
            },
            SinceFormat::Iso8601 => match DateTime::parse_from_rfc3339(text.trim()) {
                Ok(at) => Some(at.timestamp()),
                Err(_) => {
                    return fail(
                        StatusCode::BAD_REQUEST,
                        "updated_since must be an ISO 8601 time with a zone",
                    );
                }
            },
        },
    };
    let list_id = one(&params, "list_id").and_then(|v| v.parse::<u64>().ok());
    let data = lock(&st.robly.data);
    let rows: Vec<Value> = data
        .members
        .values()
        .rev()
        .filter(|m| since.is_none_or(|s| m.updated_at >= s))
        .filter(|m| !flag(&params, "subscribed_only") || m.is_subscribed())
        .filter(|m| !flag(&params, "unsubscribed_only") || m.is_unsubscribed)
        .filter(|m| !flag(&params, "deleted_only") || m.is_deleted)
        .filter(|m| list_id.is_none_or(|id| m.sub_lists.contains(&id)))
        .skip(offset)
        .take(limit)
        .map(|m| {
            data.render_member(
                m,
                flag(&params, "include_fields"),
                flag(&params, "include_sub_lists"),
            )
        })
        .collect();
    ok(Value::Array(rows))
}

pub async fn list_show(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    list(st, method, uri, ListPath::ContactsShow).await
}

pub async fn list_plain(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    list(st, method, uri, ListPath::Contacts).await
}

/// The member a write or search names by `member_id`, else by `email`.
fn find<'a>(data: &'a Data, params: &Params) -> Option<&'a Member> {
    if let Some(id) = one(params, "member_id") {
        return id.trim().parse().ok().and_then(|id| data.members.get(&id));
    }
    one(params, "email").and_then(|e| data.by_email(e))
}

pub async fn search(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    let params = params(&st, &method, &uri, &[]);
    if one(&params, "member_id").is_none() {
        let mut faults = lock(&st.robly.faults);
        if faults.miss_searches > 0 {
            faults.miss_searches -= 1;
            return fail(StatusCode::NOT_FOUND, "Contact not found");
        }
    }
    let data = lock(&st.robly.data);
    match find(&data, &params) {
        Some(m) => ok(data.render_member(
            m,
            flag(&params, "include_fields"),
            flag(&params, "include_sub_lists"),
        )),
        None => fail(StatusCode::NOT_FOUND, "Contact not found"),
    }
}

fn valid_email(email: &str) -> bool {
    let email = email.trim();
    email.split_once('@').is_some_and(|(user, host)| {
        !user.is_empty() && host.contains('.') && !email.contains(char::is_whitespace)
    })
}

/// Field values by user tag from a write's parameters (`data3` → `phone`).
fn field_values(data: &Data, params: &Params) -> Vec<(String, String)> {
    params
        .iter()
        .filter_map(|(k, v)| {
            let tag = data.user_tag_of(k)?;
            (tag != "email").then(|| (tag, v.clone()))
        })
        .collect()
}

pub async fn generate(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = params(&st, &method, &uri, &body);
    let own = [
        "email",
        "sub_lists[]",
        "tags[]",
        "double_opt_in",
        "welcome_email",
        "include_autoresponder",
        "include_automations",
        "autogenerate_fields",
        "return_contact",
        "include_fields",
        "include_sub_lists",
    ];
    let mut data = lock(&st.robly.data);
    if unknown_param(&data, &params, &own).is_some() {
        return server_error();
    }
    let email = one(&params, "email").unwrap_or("").trim().to_string();
    if !valid_email(&email) {
        return ok(json!({"successful": false, "message": "Email address is invalid"}));
    }
    if data.by_email(&email).is_some() {
        return ok(json!({"successful": true, "message": "Email address already exists"}));
    }
    if asks_for_mail(&params, &MAIL_SWITCHES) {
        data.mail_requests += 1;
    }
    let at = data.tick();
    let member = Member {
        id: 0,
        email,
        fields: field_values(&data, &params).into_iter().collect(),
        sub_lists: all(&params, "sub_lists[]")
            .filter_map(|id| id.parse().ok())
            .filter(|id| data.sub_lists.contains_key(id))
            .collect(),
        is_unsubscribed: false,
        is_deleted: false,
        is_hard_bounce: false,
        is_cleaned: false,
        is_spam: false,
        sign_up_source: "API".into(),
        created_at: at,
        updated_at: at,
    };
    let id = data.add_member(member);
    let mut body = json!({"successful": true, "message": "Contact created"});
    if flag(&params, "return_contact")
        && let Some(m) = data.members.get(&id)
    {
        body["member"] =
            data.render_member(m, flag(&params, "include_fields"), true)["member"].clone();
    }
    ok(body)
}

pub async fn update_full(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = params(&st, &method, &uri, &body);
    let mut data = lock(&st.robly.data);
    if unknown_param(&data, &params, &["member_id", "email", "sub_lists[]"]).is_some() {
        return server_error();
    }
    let Some(id) = find(&data, &params).map(|m| m.id) else {
        return fail(StatusCode::NOT_FOUND, "Contact not found");
    };
    let values = field_values(&data, &params);
    let lists: Option<Vec<u64>> = params.iter().any(|(k, _)| k == "sub_lists[]").then(|| {
        all(&params, "sub_lists[]")
            .filter_map(|v| v.parse().ok())
            .collect()
    });
    let at = data.tick();
    let Some(member) = data.members.get_mut(&id) else {
        return fail(StatusCode::NOT_FOUND, "Contact not found");
    };
    if let Some(email) = one(&params, "email")
        && !email.trim().eq_ignore_ascii_case(&member.email)
    {
        return ok(json!({"successful": false, "message": "Email address cannot be changed"}));
    }
    // A full update: fields left out are cleared.
    member.fields = values.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    if let Some(lists) = lists {
        member.sub_lists = lists.into_iter().collect();
    }
    member.updated_at = at;
    ok(json!({"successful": true, "message": "Contact updated"}))
}

/// A change to one member named by `member_id` or `email`, after its own parameter check.
fn member_write(
    st: &AppState,
    params: &Params,
    own: &[&str],
    change: impl FnOnce(&mut Data, u64) -> Result<(), &'static str>,
) -> Response {
    let mut data = lock(&st.robly.data);
    if unknown_param(&data, params, own).is_some() {
        return server_error();
    }
    let Some(id) = find(&data, params).map(|m| m.id) else {
        return fail(StatusCode::NOT_FOUND, "Contact not found");
    };
    if let Err(message) = change(&mut data, id) {
        return ok(json!({"successful": false, "message": message}));
    }
    let at = data.tick();
    if let Some(member) = data.members.get_mut(&id) {
        member.updated_at = at;
    }
    ok(json!({"successful": true, "message": "Contact updated"}))
}

fn sub_list_of(data: &Data, params: &Params) -> Result<u64, &'static str> {
    one(params, "sub_list_id")
        .and_then(|v| v.parse().ok())
        .filter(|id| data.sub_lists.contains_key(id))
        .ok_or("Sub list not found")
}

const LIST_WRITE: [&str; 5] = [
    "member_id",
    "email",
    "sub_list_id",
    "include_autoresponder",
    "include_automations",
];

pub async fn add_to_list(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = params(&st, &method, &uri, &body);
    member_write(&st, &params, &LIST_WRITE, |data, id| {
        let list = sub_list_of(data, &params)?;
        if asks_for_mail(&params, &MAIL_SWITCHES[2..]) {
            data.mail_requests += 1;
        }
        if let Some(m) = data.members.get_mut(&id) {
            m.sub_lists.insert(list);
        }
        Ok(())
    })
}

pub async fn remove_from_list(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = params(&st, &method, &uri, &body);
    member_write(&st, &params, &LIST_WRITE, |data, id| {
        let list = sub_list_of(data, &params)?;
        if let Some(m) = data.members.get_mut(&id) {
            m.sub_lists.remove(&list);
        }
        Ok(())
    })
}

async fn status_write(
    st: Arc<AppState>,
    method: Method,
    uri: Uri,
    body: Bytes,
    apply: fn(&mut Member),
) -> Response {
    let params = params(&st, &method, &uri, &body);
    member_write(&st, &params, &["member_id", "email"], |data, id| {
        if let Some(m) = data.members.get_mut(&id) {
            apply(m);
        }
        Ok(())
    })
}

pub async fn unsubscribe(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    status_write(st, method, uri, body, |m| m.is_unsubscribed = true).await
}

pub async fn resubscribe(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    status_write(st, method, uri, body, |m| {
        m.is_unsubscribed = false;
        m.is_deleted = false;
    })
    .await
}

pub async fn delete(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    status_write(st, method, uri, body, |m| m.is_deleted = true).await
}

pub async fn sub_lists(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    let params = params(&st, &method, &uri, &[]);
    let include_all = flag(&params, "include_all");
    let data = lock(&st.robly.data);
    let rows: Vec<Value> = data
        .sub_lists
        .values()
        .filter(|s| include_all || s.public)
        .map(|s| data.render_sub_list(s))
        .collect();
    ok(Value::Array(rows))
}

pub async fn new_sub_list(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = params(&st, &method, &uri, &body);
    let name = one(&params, "sub_list_name")
        .unwrap_or("")
        .trim()
        .to_string();
    if name.is_empty() {
        return ok(json!({"successful": false, "message": "sub_list_name is required"}));
    }
    let mut data = lock(&st.robly.data);
    if data
        .sub_lists
        .values()
        .any(|s| s.name.eq_ignore_ascii_case(&name))
    {
        return ok(json!({"successful": false, "message": "Sub list name already exists"}));
    }
    let at = data.tick();
    let id = data.add_sub_list(&name, true, at);
    let rendered = data
        .sub_lists
        .get(&id)
        .map(|s| data.render_sub_list(s))
        .unwrap_or(Value::Null);
    ok(json!({"successful": true, "message": "Sub list created", "sub_list": rendered["sub_list"]}))
}

pub async fn fields(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    params(&st, &method, &uri, &[]);
    let data = lock(&st.robly.data);
    let rows: Vec<Value> = data
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| data.render_field(i, f))
        .collect();
    ok(Value::Array(rows))
}
