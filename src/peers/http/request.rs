//! What a request is made of: the client's settings, one request before credentials, a 2xx
//! answer, and the small helpers connectors page with (`Link` headers, path segments).

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

use super::{Auth, ErrorReader, StatusClasses};
use crate::net::RetryPolicy;

/// What a peer's client is built from.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The peer's name, for errors and logs.
    pub peer: String,
    /// `https://api.example.com/v2`: request paths are appended to it.
    pub base_url: String,
    pub auth: Auth,
    /// One request, connection included.
    pub timeout: Duration,
    /// Pacing: the least time between two requests of this client (zero: no pacing).
    pub min_interval: Duration,
    pub retry: RetryPolicy,
    pub statuses: StatusClasses,
    /// Sent on every request (`Accept: application/json` is always sent).
    pub headers: Vec<(String, String)>,
    /// The peer's own reading of its JSON error bodies, when the shared one misses its shape.
    pub error_reader: Option<ErrorReader>,
}

impl HttpSettings {
    pub fn new(peer: &str, base_url: &str, auth: Auth) -> Self {
        HttpSettings {
            peer: peer.to_string(),
            base_url: base_url.to_string(),
            auth,
            timeout: Duration::from_secs(30),
            min_interval: Duration::ZERO,
            retry: RetryPolicy::default(),
            statuses: StatusClasses::default(),
            headers: Vec::new(),
            error_reader: None,
        }
    }

    /// Pacing from a request rate (`requests_per_second`); 0 or less means none.
    pub fn per_second(rate: f64) -> Duration {
        if rate.is_finite() && rate > 0.0 {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        }
    }
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// Appended to the base URL's path; segments already percent-encoded (`/contacts/a%2Fb`).
    Path(String),
    /// A whole URL the peer handed out (a `Link: <…>; rel="next"`); it must be on the base
    /// URL's origin, or the credentials would go elsewhere.
    Url(Url),
}

/// One request, before credentials.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub target: Target,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// A form body (`application/x-www-form-urlencoded`), sent instead of `body`: for apps
    /// that read write parameters from a form (repeated names allowed: `sub_lists[]`).
    pub form: Option<Vec<(String, String)>>,
    /// How errors and logs name the call (`GET /contacts`); defaults to the method and path.
    pub operation: Option<String>,
}

impl Request {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            target: Target::Path(path.into()),
            query: Vec::new(),
            body: None,
            form: None,
            operation: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Request::new(Method::GET, path)
    }

    pub fn url(method: Method, url: Url) -> Self {
        Request {
            method,
            target: Target::Url(url),
            query: Vec::new(),
            body: None,
            form: None,
            operation: None,
        }
    }

    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn form(mut self, pairs: Vec<(String, String)>) -> Self {
        self.form = Some(pairs);
        self
    }

    pub fn operation(mut self, name: impl Into<String>) -> Self {
        self.operation = Some(name.into());
        self
    }

    pub(super) fn is_write(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD)
    }
}

/// A 2xx answer: its status, headers and JSON body (`null` when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

/// `value` as one percent-encoded path segment (`a/b c` → `a%2Fb%20c`).
pub fn encode_segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The `rel="next"` URL of a `Link` header, if any.
pub fn link_next(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            let is_next = params.split(';').any(|param| {
                let param = param.trim().to_ascii_lowercase().replace(' ', "");
                param == "rel=\"next\"" || param == "rel=next"
            });
            is_next.then(|| target.to_string())
        })
}
