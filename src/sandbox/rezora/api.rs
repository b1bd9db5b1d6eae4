//! The emulated Rezora v1 API: agents (company credentials), contacts, lists and list
//! memberships (agent credentials), each at `RESOURCE[.json|.txt|…]`. Requests go through the
//! sandbox's pipeline (latency, queued and random faults, stats) behind [`Rezora`]'s admission.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::RezoraAuth;
use super::data::{CONTACT_FIELDS, CONTACT_TYPES, Data, text};
use super::wire::{Format, answer, body_fields, done, format_of, id_of, refusal};
use crate::sandbox::faults::{self, FaultKind};
use crate::sandbox::pipeline::{self, Gate};
use crate::sandbox::state::{AppState, lock};

/// A handler's result: refusals are boxed, `Response` being large.
type Answer = Result<Response, Box<Response>>;

/// Rezora's admission: the credentials of the moment's auth style (Basic, or `username` and
/// `password` query parameters), and their level: company credentials for `agents`, agent
/// credentials for the rest.
pub struct Rezora;

impl Gate for Rezora {
    type Pass = ();

    fn admit(
        st: &AppState,
        _: &Method,
        route: &str,
        req: &mut Request,
    ) -> Result<(), Box<Response>> {
        let rezora = &st.rezora;
        let format = format_of(req.uri().path());
        let given = match rezora.options().auth {
            RezoraAuth::Basic => basic_credentials(req.headers()),
            RezoraAuth::Query => req.uri().query().and_then(|query| {
                let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                    .map(|(n, v)| (n.into_owned(), v.into_owned()))
                    .collect();
                let find = |name: &str| {
                    pairs
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                };
                Some((find("username")?, find("password")?))
            }),
        };
        let Some((user, pass)) = given else {
            return Err(Box::new(refusal(
                format,
                StatusCode::UNAUTHORIZED,
                "Authentication required",
            )));
        };
        let agent = user == rezora.agent_username && pass == rezora.agent_password.expose();
        let company = user == rezora.company_username && pass == rezora.company_password.expose();
        let wants_company = route.contains("/agents");
        match (agent, company, wants_company) {
            (_, true, true) | (true, _, false) => Ok(()),
            (false, false, _) => Err(Box::new(refusal(
                format,
                StatusCode::UNAUTHORIZED,
                "Invalid username or password",
            ))),
            (_, _, true) => Err(Box::new(refusal(
                format,
                StatusCode::FORBIDDEN,
                "Agents are company resources: use company-level credentials",
            ))),
            (_, _, false) => Err(Box::new(refusal(
                format,
                StatusCode::FORBIDDEN,
                "Contacts and lists are agent resources: use agent-level credentials",
            ))),
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
    pipeline::run::<Rezora>(&st, matched.as_ref(), req, next).await
}

fn settle(result: Answer) -> Response {
    result.unwrap_or_else(|refused| *refused)
}

fn missing(format: Format, what: &str) -> Box<Response> {
    Box::new(refusal(
        format,
        StatusCode::NOT_FOUND,
        &format!("{what} not found"),
    ))
}

fn bad(format: Format, message: impl AsRef<str>) -> Box<Response> {
    Box::new(refusal(format, StatusCode::BAD_REQUEST, message.as_ref()))
}

fn forbidden(format: Format, message: &str) -> Box<Response> {
    Box::new(refusal(format, StatusCode::FORBIDDEN, message))
}

fn unsupported(format: Format, method: &Method) -> Box<Response> {
    Box::new(refusal(
        format,
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("{method} is not supported here"),
    ))
}

fn fields(
    format: Format,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Map<String, Value>, Box<Response>> {
    body_fields(headers, body).map_err(|message| bad(format, message))
}

pub async fn agents(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    let format = format_of(uri.path());
    if method != Method::GET {
        return *unsupported(format, &method);
    }
    answer(format, StatusCode::OK, lock(&st.rezora.data).agents.clone())
}

pub async fn agent(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let format = format_of(uri.path());
    if method != Method::GET {
        return *unsupported(format, &method);
    }
    let wanted = super::wire::strip_ext(&id).to_string();
    let data = lock(&st.rezora.data);
    match data.agents.iter().find(|a| a["user_id"] == wanted.as_str()) {
        Some(agent) => answer(format, StatusCode::OK, vec![agent.clone()]),
        None => *missing(format, "Agent"),
    }
}

/// Checks a contact body: known fields only, `contact_type` one of Rezora's.
fn contact_body(
    format: Format,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, Box<Response>> {
    let mut out = Map::new();
    for (name, value) in body {
        if !CONTACT_FIELDS.contains(&name.as_str()) {
            return Err(bad(
                format,
                format!("{name} is not a writable contact field"),
            ));
        }
        let value = text(value);
        if name == "contact_type" && !CONTACT_TYPES.contains(&value.as_str()) {
            return Err(bad(
                format,
                "contact_type must be Hot, Active, Inactive or empty",
            ));
        }
        if name == "contact_unsubscribe" && !matches!(value.as_str(), "0" | "1" | "") {
            return Err(bad(format, "contact_unsubscribe must be 0 or 1"));
        }
        out.insert(name.clone(), Value::String(value));
    }
    Ok(out)
}

pub async fn contacts(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let format = format_of(uri.path());
    settle((|| {
        let mut data = lock(&st.rezora.data);
        match method {
            Method::GET => {
                let rows = data
                    .contacts
                    .keys()
                    .filter_map(|id| data.render_contact(*id))
                    .collect();
                Ok(answer(format, StatusCode::OK, rows))
            }
            Method::POST => {
                let given = contact_body(format, &fields(format, &headers, &body)?)?;
                let email = given.get("contact_email").map(text).unwrap_or_default();
                if email.trim().is_empty() {
                    return Err(bad(format, "contact_email is required"));
                }
                let id = data.add_contact(given, None);
                if let Some(sphere) = data.primary_sphere() {
                    data.add_member(sphere, id);
                }
                Ok(answer(
                    format,
                    StatusCode::OK,
                    vec![json!({"contact_id": id.to_string()})],
                ))
            }
            // What the client's types cannot send: every contact but the self contact, gone.
            Method::DELETE => {
                let doomed: Vec<u64> = data
                    .contacts
                    .keys()
                    .copied()
                    .filter(|id| !data.is_self(*id))
                    .collect();
                for id in doomed {
                    data.remove_contact(id);
                }
                Ok(done(format))
            }
            other => Err(unsupported(format, &other)),
        }
    })())
}

pub async fn contact(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let format = format_of(uri.path());
    settle((|| {
        let mut data = lock(&st.rezora.data);
        let id = id_of(&segment)
            .filter(|id| data.contacts.contains_key(id))
            .ok_or_else(|| missing(format, "Contact"))?;
        match method {
            Method::GET => Ok(answer(
                format,
                StatusCode::OK,
                data.render_contact(id).into_iter().collect(),
            )),
            Method::PUT => {
                let given = contact_body(format, &fields(format, &headers, &body)?)?;
                let contact = data
                    .contacts
                    .get_mut(&id)
                    .ok_or_else(|| missing(format, "Contact"))?;
                if let Some(lock) = contact.lock {
                    return Err(forbidden(format, lock.refusal()));
                }
                contact.fields.extend(given);
                Ok(done(format))
            }
            Method::DELETE => {
                if data.is_self(id) {
                    return Err(forbidden(format, "The self contact cannot be deleted"));
                }
                if let Some(lock) = data.contacts.get(&id).and_then(|c| c.lock) {
                    return Err(forbidden(format, lock.refusal()));
                }
                data.remove_contact(id);
                Ok(done(format))
            }
            other => Err(unsupported(format, &other)),
        }
    })())
}

fn name_taken(data: &Data, name: &str, except: Option<u64>) -> bool {
    data.lists
        .iter()
        .any(|(id, list)| Some(*id) != except && list.name.trim().eq_ignore_ascii_case(name.trim()))
}

fn list_name(format: Format, given: &Map<String, Value>) -> Result<String, Box<Response>> {
    let name = given.get("list_name").map(text).unwrap_or_default();
    if name.trim().is_empty() {
        return Err(bad(format, "list_name is required"));
    }
    Ok(name.trim().to_string())
}

pub async fn lists(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let format = format_of(uri.path());
    settle((|| {
        let mut data = lock(&st.rezora.data);
        match method {
            Method::GET => {
                let rows = data
                    .lists
                    .keys()
                    .filter_map(|id| data.render_list(*id))
                    .collect();
                Ok(answer(format, StatusCode::OK, rows))
            }
            Method::POST => {
                let name = list_name(format, &fields(format, &headers, &body)?)?;
                if name_taken(&data, &name, None) {
                    return Err(bad(format, "list_name must be unique"));
                }
                let id = data.add_list(&name, 0);
                Ok(answer(
                    format,
                    StatusCode::OK,
                    vec![json!({"list_id": id.to_string()})],
                ))
            }
            Method::DELETE => {
                let doomed: Vec<u64> = data
                    .lists
                    .iter()
                    .filter(|(_, list)| list.list_type != 1)
                    .map(|(id, _)| *id)
                    .collect();
                for id in doomed {
                    data.remove_list(id);
                }
                Ok(done(format))
            }
            other => Err(unsupported(format, &other)),
        }
    })())
}

pub async fn list(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let format = format_of(uri.path());
    settle((|| {
        let mut data = lock(&st.rezora.data);
        let id = id_of(&segment)
            .filter(|id| data.lists.contains_key(id))
            .ok_or_else(|| missing(format, "List"))?;
        let primary = data.lists.get(&id).is_some_and(|l| l.list_type == 1);
        match method {
            Method::GET => Ok(answer(
                format,
                StatusCode::OK,
                data.render_list(id).into_iter().collect(),
            )),
            Method::PUT | Method::DELETE if primary => Err(forbidden(
                format,
                "The Primary Sphere cannot be updated or deleted",
            )),
            Method::PUT => {
                let name = list_name(format, &fields(format, &headers, &body)?)?;
                if name_taken(&data, &name, Some(id)) {
                    return Err(bad(format, "list_name must be unique"));
                }
                if let Some(list) = data.lists.get_mut(&id) {
                    list.name = name;
                }
                Ok(done(format))
            }
            Method::DELETE => {
                data.remove_list(id);
                Ok(done(format))
            }
            other => Err(unsupported(format, &other)),
        }
    })())
}

pub async fn members(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let format = format_of(uri.path());
    settle((|| {
        let mut data = lock(&st.rezora.data);
        let list = id_of(&segment)
            .filter(|id| data.lists.contains_key(id))
            .ok_or_else(|| missing(format, "List"))?;
        match method {
            Method::GET => {
                let rows = data
                    .members
                    .iter()
                    .filter(|(_, m)| m.list_id == list)
                    .filter_map(|(id, _)| data.render_member(*id))
                    .collect();
                Ok(answer(format, StatusCode::OK, rows))
            }
            Method::POST => {
                let given = fields(format, &headers, &body)?;
                let contact = given
                    .get("contact_id")
                    .map(text)
                    .and_then(|id| id.trim().parse::<u64>().ok())
                    .filter(|id| data.contacts.contains_key(id))
                    .ok_or_else(|| bad(format, "contact_id names no contact"))?;
                match data.add_member(list, contact) {
                    Some(id) => Ok(answer(
                        format,
                        StatusCode::OK,
                        vec![json!({"contacttolist_id": id.to_string()})],
                    )),
                    None => Err(bad(format, "contact_id must be unique in the list")),
                }
            }
            other => Err(unsupported(format, &other)),
        }
    })())
}

pub async fn member(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    Path((list, contact)): Path<(String, String)>,
) -> Response {
    let format = format_of(uri.path());
    let mut data = lock(&st.rezora.data);
    let found = id_of(&list)
        .zip(id_of(&contact))
        .and_then(|(list, contact)| data.member_id(list, contact));
    let Some(id) = found else {
        return *missing(format, "List member");
    };
    match method {
        Method::GET => answer(
            format,
            StatusCode::OK,
            data.render_member(id).into_iter().collect(),
        ),
        Method::DELETE => {
            data.members.remove(&id);
            done(format)
        }
        other => *unsupported(format, &other),
    }
}

/// `Authorization: Basic …` as (user, password).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
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
