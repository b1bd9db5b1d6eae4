//! Injected faults: the failures a GHL client meets in production, on demand.
//!
//! A fault is chosen per request on API routes (never admin, never `/oauth/token`), either from
//! the one-shot `next` queue (deterministic, what tests use) or at random with `rate`.
//! `create422`, `write422`, `dropAfter` and `slowAfter` run the handler first, so the write
//! *happens* and the client is told otherwise (or, past its timeout, nothing), which is the
//! ambiguous-create case of GoHighLevel/highlevel-api-docs#64.
//!
//! The rate is drawn for GHL's and Repsly's routes alike; `repslyRate` gives Repsly's routes
//! (`/repsly/…`) a rate of their own, so a scenario can make one side flaky and not the other.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize};

use super::errors::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    Status500,
    Status502,
    Status503,
    /// nginx's HTML 502 page, `text/html`.
    Html502,
    /// Sleep `slowMs`, then run the handler and answer normally. A client that times out first
    /// closes the connection, which cancels the request: nothing is written.
    Slow,
    /// Run the handler, then sleep `slowMs` before answering: past a client's timeout the write
    /// has happened and the client heard nothing.
    SlowAfter,
    /// Close the connection without a response; the handler does not run.
    Drop,
    /// Run the handler, then close the connection without a response.
    DropAfter,
    /// `POST /contacts/` only: create the contact, then answer 422.
    Create422,
    /// Any GHL create or upsert (contacts, tasks, notes, appointments, [`WRITE_ROUTES`]): the
    /// write happens, then 422. `create422` is the case GHL is known for; the sync creates
    /// through the other routes, and a 422 on any create is ambiguous to the client.
    Write422,
    /// 200 with an HTML page (a proxy's interstitial): not in the random set.
    Html200,
    /// 200 with truncated JSON: not in the random set.
    Malformed,
    /// 200 whose JSON body never ends (a broken proxy streaming): not in the random set.
    Endless200,
}

/// The random set (`kinds` default). `html200` and `malformed` are opt-in.
pub const ALL_KINDS: &[FaultKind] = &[
    FaultKind::Status500,
    FaultKind::Status502,
    FaultKind::Status503,
    FaultKind::Html502,
    FaultKind::Slow,
    FaultKind::SlowAfter,
    FaultKind::Drop,
    FaultKind::DropAfter,
    FaultKind::Create422,
    FaultKind::Write422,
];

pub const CREATE_CONTACT: (&str, &str) = ("POST", "/contacts/");

/// GHL's create routes (route templates as the stats name them): where `write422` applies.
pub const WRITE_ROUTES: &[(&str, &str)] = &[
    CREATE_CONTACT,
    ("POST", "/contacts/upsert"),
    ("POST", "/contacts/:contactId/tasks"),
    ("POST", "/contacts/:contactId/notes"),
    ("POST", "/calendars/events/appointments"),
];

/// Where Repsly's routes live on the sandbox (`repsly::PREFIX`'s first segment).
const REPSLY_ROUTES: &str = "/repsly/";

/// Whether `kind` can hit `method route` at all (the 422 kinds are GHL create routes only).
fn applies(kind: FaultKind, method: &str, route: &str) -> bool {
    match kind {
        FaultKind::Create422 => (method, route) == CREATE_CONTACT,
        FaultKind::Write422 => WRITE_ROUTES.contains(&(method, route)),
        _ => true,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedFault {
    /// `"*"`, `"METHOD /route/:template"`, `"METHOD *"` or just `"/route/:template"`.
    pub route: String,
    pub kind: FaultKind,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    pub rate: f64,
    /// The rate of Repsly's routes; `None` = `rate`.
    pub repsly_rate: Option<f64>,
    pub kinds: Vec<FaultKind>,
    pub next: VecDeque<QueuedFault>,
    pub slow_ms: u64,
}

/// Body of `POST /_sandbox/faults`; absent fields stay as they are, `next` replaces the queue.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultsUpdate {
    pub rate: Option<f64>,
    /// Absent keeps it, `null` makes Repsly follow `rate` again.
    #[serde(default, deserialize_with = "present")]
    pub repsly_rate: Option<Option<f64>>,
    pub kinds: Option<Vec<FaultKind>>,
    pub next: Option<Vec<QueuedFault>>,
    pub slow_ms: Option<u64>,
}

/// Tells "absent" (keep) from `null` (reset).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A probability from an admin body: clamped to 0..=1, and 0 when not a number.
fn probability(rate: f64) -> f64 {
    if rate.is_finite() {
        rate.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

impl Faults {
    pub fn new(rate: f64) -> Self {
        Faults {
            rate: rate.clamp(0.0, 1.0),
            repsly_rate: None,
            kinds: ALL_KINDS.to_vec(),
            next: VecDeque::new(),
            slow_ms: 2000,
        }
    }

    pub fn update(&mut self, update: FaultsUpdate) {
        if let Some(rate) = update.rate {
            self.rate = probability(rate);
        }
        if let Some(rate) = update.repsly_rate {
            self.repsly_rate = rate.map(probability);
        }
        if let Some(kinds) = update.kinds {
            self.kinds = kinds;
        }
        if let Some(next) = update.next {
            self.next = next.into();
        }
        if let Some(ms) = update.slow_ms {
            self.slow_ms = ms;
        }
    }

    pub fn slow(&self) -> Duration {
        Duration::from_millis(self.slow_ms)
    }

    /// The fault for this request, if any: queued one-shots first, then the random rate.
    pub fn choose(&mut self, method: &str, route: &str) -> Option<FaultKind> {
        let applies = |kind: FaultKind| applies(kind, method, route);
        if let Some(pos) = self
            .next
            .iter()
            .position(|q| applies(q.kind) && route_matches(&q.route, method, route))
        {
            return self.next.remove(pos).map(|q| q.kind);
        }
        let rate = match self.repsly_rate {
            Some(rate) if route.starts_with(REPSLY_ROUTES) => rate,
            _ => self.rate,
        };
        if rate <= 0.0 {
            return None;
        }
        let mut rng = rand::rng();
        if !rng.random_bool(rate) {
            return None;
        }
        let choices: Vec<FaultKind> = self.kinds.iter().copied().filter(|k| applies(*k)).collect();
        (!choices.is_empty()).then(|| choices[rng.random_range(0..choices.len())])
    }
}

/// Accepts axum's `{param}` and GHL-doc `:param` spellings alike.
pub fn normalize_route(route: &str) -> String {
    let mut out = String::with_capacity(route.len());
    let mut in_brace = false;
    for c in route.chars() {
        match c {
            '{' => {
                in_brace = true;
                out.push(':');
            }
            '}' if in_brace => in_brace = false,
            c => out.push(c),
        }
    }
    out
}

fn route_matches(pattern: &str, method: &str, route: &str) -> bool {
    let same_route = |p: &str| {
        p == "*" || normalize_route(p).trim_end_matches('/') == route.trim_end_matches('/')
    };
    let pattern = pattern.trim();
    match pattern.split_once(char::is_whitespace) {
        Some((m, r)) => (m == "*" || m.eq_ignore_ascii_case(method)) && same_route(r.trim()),
        None => same_route(pattern),
    }
}

const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

const HTML_200: &str = "<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>\
<body><p>Checking your browser before accessing services.leadconnectorhq.com.</p></body></html>\n";

const MALFORMED: &str = r#"{"contacts":[{"id":"sx6wyHhbFdRXh302LLNR","firstName":"Tru"#;

/// The response of a fault that replaces the handler, or `None` for slow/after-the-fact kinds.
pub fn replacement(kind: FaultKind) -> Option<Response> {
    let json = |status: StatusCode, message: &str, error: &'static str| {
        ApiError::new(status, message, Some(error)).into_response()
    };
    match kind {
        FaultKind::Status500 => Some(json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
            "Internal Server Error",
        )),
        FaultKind::Status502 => Some(json(StatusCode::BAD_GATEWAY, "Bad Gateway", "Bad Gateway")),
        FaultKind::Status503 => Some(json(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "Service Unavailable",
        )),
        FaultKind::Html502 => Some(
            (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "text/html")],
                NGINX_502,
            )
                .into_response(),
        ),
        FaultKind::Html200 => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                HTML_200,
            )
                .into_response(),
        ),
        FaultKind::Malformed => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                MALFORMED,
            )
                .into_response(),
        ),
        FaultKind::Endless200 => Some(endless()),
        FaultKind::Drop => Some(dropped()),
        FaultKind::Slow
        | FaultKind::SlowAfter
        | FaultKind::DropAfter
        | FaultKind::Create422
        | FaultKind::Write422 => None,
    }
}

/// `200 {"contacts":[{…},{…},…` without end, in 64 KB chunks, until the client hangs up.
fn endless() -> Response {
    let record = r#"{"id":"endlessXXXXXXXXXXXX","firstName":"Endless"},"#.repeat(1300);
    let chunk = Bytes::from(record);
    let head = futures::stream::once(async {
        Ok::<Bytes, std::io::Error>(Bytes::from_static(b"{\"contacts\":["))
    });
    let tail = futures::stream::repeat_with(move || Ok::<Bytes, std::io::Error>(chunk.clone()));
    let mut response = Response::new(Body::from_stream(futures::StreamExt::chain(head, tail)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// A response whose body fails before its first byte: hyper then aborts the connection, so the
/// client sees a dropped connection rather than a status.
pub fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("sandbox fault: connection dropped"))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.extensions_mut().insert(Dropped);
    response
}

/// Marks a dropped response so stats record it as status 0.
#[derive(Clone, Copy, Debug)]
pub struct Dropped;

pub fn create_422() -> Response {
    ApiError::unprocessable(vec!["Unprocessable Entity".into()]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_match_templates_once() {
        let mut f = Faults::new(0.0);
        f.update(FaultsUpdate {
            rate: None,
            repsly_rate: None,
            kinds: None,
            next: Some(vec![
                QueuedFault {
                    route: "POST /contacts/".into(),
                    kind: FaultKind::Create422,
                },
                QueuedFault {
                    route: "GET /contacts/{contactId}".into(),
                    kind: FaultKind::Status502,
                },
            ]),
            slow_ms: None,
        });
        assert_eq!(f.choose("GET", "/contacts/"), None);
        assert_eq!(
            f.choose("GET", "/contacts/:contactId"),
            Some(FaultKind::Status502)
        );
        assert_eq!(f.choose("GET", "/contacts/:contactId"), None);
        assert_eq!(f.choose("POST", "/contacts/"), Some(FaultKind::Create422));
        assert!(f.next.is_empty());
    }

    #[test]
    fn create422_never_applies_elsewhere() {
        let mut f = Faults::new(1.0);
        f.kinds = vec![FaultKind::Create422];
        assert_eq!(f.choose("GET", "/contacts/"), None);
        assert_eq!(f.choose("POST", "/contacts/"), Some(FaultKind::Create422));
        assert!(route_matches("*", "DELETE", "/x"));
        assert!(route_matches("* /x", "DELETE", "/x"));
        assert!(!route_matches("GET /x", "DELETE", "/x"));
    }

    #[test]
    fn write422_applies_to_every_ghl_create_and_nothing_else() {
        let mut f = Faults::new(1.0);
        f.kinds = vec![FaultKind::Write422];
        for (method, route) in WRITE_ROUTES {
            assert_eq!(
                f.choose(method, route),
                Some(FaultKind::Write422),
                "{route}"
            );
        }
        assert_eq!(f.choose("PUT", "/contacts/:contactId"), None);
        assert_eq!(f.choose("POST", "/repsly/v3/import/client"), None);
    }

    #[test]
    fn repsly_rate_overrides_the_rate_on_repsly_routes_only() {
        let mut f = Faults::new(0.0);
        f.update(FaultsUpdate {
            rate: None,
            repsly_rate: Some(Some(1.0)),
            kinds: Some(vec![FaultKind::Status503]),
            next: None,
            slow_ms: None,
        });
        assert_eq!(f.choose("GET", "/contacts/"), None);
        assert_eq!(
            f.choose("GET", "/repsly/v3/export/clients/:lastTimeStamp"),
            Some(FaultKind::Status503)
        );
        f.update(FaultsUpdate {
            rate: Some(1.0),
            repsly_rate: Some(Some(0.0)),
            kinds: None,
            next: None,
            slow_ms: None,
        });
        assert_eq!(f.choose("GET", "/contacts/"), Some(FaultKind::Status503));
        assert_eq!(f.choose("POST", "/repsly/v3/import/client"), None);
        // `null` hands Repsly back to the shared rate.
        f.update(FaultsUpdate {
            rate: None,
            repsly_rate: Some(None),
            kinds: None,
            next: None,
            slow_ms: None,
        });
        assert_eq!(
            f.choose("POST", "/repsly/v3/import/client"),
            Some(FaultKind::Status503)
        );
    }
}
