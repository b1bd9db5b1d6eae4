//! What every Repsly request goes through, and Repsly's (ASP.NET Web API on IIS) error bodies.
//!
//! Requests go through the sandbox's one pipeline (latency, faults, stats); what is Repsly's own
//! is the [`Repsly`] gate: Basic auth and the error pages.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::sandbox::faults::{self, FaultKind};
use crate::sandbox::pipeline::{self, Gate, record};
use crate::sandbox::state::{AppState, lock};

/// HTTP.sys's own page for a request it cannot read: what Repsly sends for malformed input.
const BAD_REQUEST_HTML: &str = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n\
<HTML><HEAD><TITLE>Bad Request</TITLE>\r\n\
<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n\
<BODY><h2>Bad Request</h2>\r\n<hr><p>HTTP Error 400. The request is badly formed.</p>\r\n</BODY></HTML>\r\n";

/// IIS's runtime-error page, for injected 5xx faults.
const SERVER_ERROR_HTML: &str = "<!DOCTYPE html>\r\n<html>\r\n<head><title>Runtime Error</title></head>\r\n\
<body bgcolor=\"white\">\r\n<span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1>\r\n\
<h2> <i>Runtime Error</i> </h2></span>\r\n</body>\r\n</html>\r\n";

const MALFORMED: &str = r#"{"MetaCollectionResult":{"TotalCount":50,"FirstTimeStamp":1000"#;

pub const DENIED: &str = "Authorization has been denied for this request.";

/// `{"Message": …}` with a status, as Web API answers errors outside the import routes.
pub fn message(status: StatusCode, text: impl Into<String>) -> Response {
    (status, axum::Json(json!({"Message": text.into()}))).into_response()
}

/// Web API's answer to a path parameter that does not bind (`/export/clients/abc`).
pub fn invalid_param(name: &str, ty: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({
            "Message": "The request is invalid.",
            "MessageDetail": format!(
                "The parameters dictionary contains a null entry for parameter '{name}' of \
                 non-nullable type '{ty}'."
            ),
        })),
    )
        .into_response()
}

/// An import route's refusal: 400 `{"Code": 1, "Message": …}` (`Code` 0 means accepted).
pub fn import_refused(text: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"Code": 1, "Message": text.into()})),
    )
        .into_response()
}

pub fn bad_request_html() -> Response {
    html(StatusCode::BAD_REQUEST, BAD_REQUEST_HTML)
}

fn html(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=us-ascii")],
        body,
    )
        .into_response()
}

/// A request refused before the handler's work (small, so it travels by `?`).
#[derive(Debug)]
pub enum Refusal {
    /// A path parameter that does not bind: (name, .NET type).
    Param(&'static str, &'static str),
    /// An import body of the wrong shape: `{"Code":1,"Message":…}`.
    Import(String),
    /// A body that is not JSON at all: IIS's HTML page.
    Html,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Param(name, ty) => invalid_param(name, ty),
            Refusal::Import(text) => import_refused(text),
            Refusal::Html => bad_request_html(),
        }
    }
}

pub fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn denied() -> Response {
    let mut response = message(StatusCode::UNAUTHORIZED, DENIED);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"api.repsly.com\""),
    );
    response
}

/// `user:pass` from `Authorization: Basic …`, if well formed.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// Standard-alphabet base64 with optional padding (the crate has no base64 dependency).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = s.trim_end_matches('=').as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let [_, a, b, c] = acc.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..chunk.len() - 1]);
    }
    Some(out)
}

/// Repsly's version of an injected fault, or `None` when the handler runs (slow, slowAfter,
/// dropAfter).
fn replacement(kind: FaultKind) -> Option<Response> {
    match kind {
        FaultKind::Status500 => Some(message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An error has occurred.",
        )),
        FaultKind::Status502 => Some(html(StatusCode::BAD_GATEWAY, SERVER_ERROR_HTML)),
        FaultKind::Status503 => Some(html(
            StatusCode::SERVICE_UNAVAILABLE,
            "<h1>Service Unavailable</h1>",
        )),
        FaultKind::Malformed => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                MALFORMED,
            )
                .into_response(),
        ),
        // nginx 502, a proxy's 200 interstitial and a dropped connection look the same anywhere.
        other => faults::replacement(other),
    }
}

/// Repsly's rendering of a fault that replaces the handler (the outage's 503 too).
pub fn fault_response(kind: FaultKind) -> Response {
    replacement(kind).unwrap_or_else(|| message(StatusCode::SERVICE_UNAVAILABLE, "Unavailable"))
}

/// Repsly: HTTP Basic auth (401 with a challenge), Web API's and IIS's error bodies for faults,
/// and no rate-limit headers (Repsly documents none).
pub struct Repsly;

impl Gate for Repsly {
    type Pass = ();

    fn admit(st: &AppState, _: &Method, _: &str, req: &mut Request) -> Result<(), Box<Response>> {
        // An outage comes before everything: the server is not there to check credentials.
        if let Some(down) = lock(&st.repsly.outage).answer(Instant::now()) {
            lock(&st.stats).fault("repslyOutage");
            return Err(Box::new(down));
        }
        let authorised = basic_credentials(req.headers())
            .is_some_and(|(u, p)| u == st.repsly.username && p == st.repsly.password.expose());
        if authorised {
            Ok(())
        } else {
            Err(Box::new(denied()))
        }
    }

    fn replacement(kind: FaultKind) -> Option<Response> {
        replacement(kind)
    }
}

/// The middleware of every `/repsly/v3/*` route.
pub async fn guard(
    State(st): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    pipeline::run::<Repsly>(&st, matched.as_ref(), req, next).await
}

/// Web API's 404 for a path under `/repsly/v3` that no route matches.
pub async fn not_found(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    let response = message(
        StatusCode::NOT_FOUND,
        format!(
            "No HTTP resource was found that matches the request URI 'https://api.repsly.com{}'.",
            uri.path().trim_start_matches("/repsly")
        ),
    );
    record(&st, &method, "<unmatched>", &response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_basic_credentials() {
        assert_eq!(base64_decode("dXNlcjpwYXNz"), Some(b"user:pass".to_vec()));
        assert_eq!(base64_decode("YQ=="), Some(b"a".to_vec()));
        assert_eq!(base64_decode("YWI="), Some(b"ab".to_vec()));
        assert_eq!(base64_decode("@@@@"), None);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_static("Basic dXNlcjpwYTpzcw=="),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("user".into(), "pa:ss".into()))
        );
        headers.insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_static("Bearer dXNlcjpwYXNz"),
        );
        assert_eq!(basic_credentials(&headers), None);
    }
}
