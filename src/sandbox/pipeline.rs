//! What every API request goes through before and after its handler, GHL's and Repsly's alike:
//! latency, the API's own admission (GHL: token, rate limit, `Version` header, scope and the
//! five `X-RateLimit-*` headers; Repsly: Basic auth), faults, and the stats.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;

use super::auth::{self, Caller};
use super::errors::ApiError;
use super::faults::{self, Dropped, FaultKind};
use super::limits::{RateInfo, Verdict};
use super::state::{AppState, lock};

/// The route template in GHL-doc form (`/contacts/:contactId`), with the slash-less aliases
/// folded into their canonical route.
pub fn route_name(matched: Option<&MatchedPath>) -> String {
    let Some(matched) = matched else {
        return "<unmatched>".into();
    };
    let route = faults::normalize_route(matched.as_str());
    match route.as_str() {
        "/contacts" | "/calendars" => format!("{route}/"),
        _ => route,
    }
}

/// What differs between the emulated APIs; everything else a request goes through (latency,
/// fault injection, the stats) is [`run`], the same for all of them.
pub trait Gate {
    /// What an admitted request carries to [`Gate::finish`].
    type Pass: Send;

    /// Authentication and the API's other refusals, before any fault is drawn. `Err` is the
    /// finished refusal, boxed as `Response` is large and refusals are the rare path. May leave
    /// what the handler needs in the request's extensions.
    fn admit(
        st: &AppState,
        method: &Method,
        route: &str,
        req: &mut Request,
    ) -> Result<Self::Pass, Box<Response>>;

    /// The API's own rendering of a fault that replaces the handler's answer; `None` when the
    /// handler runs anyway (slow, slowAfter, dropAfter, create422, write422).
    fn replacement(kind: FaultKind) -> Option<Response>;

    /// Last touches on an admitted request's response, faulted or not.
    fn finish(_pass: &Self::Pass, _response: &mut Response) {}
}

/// The one pipeline: latency, the API's [`Gate`], a fault from the shared queue or rate, the
/// handler, then the stats under the method and route template.
pub async fn run<G: Gate>(
    st: &AppState,
    matched: Option<&MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let (method, route) = arrive(st, req.method(), matched).await;
    let response = admitted::<G>(st, &method, &route, req, next).await;
    record(st, &method, &route, &response);
    response
}

async fn admitted<G: Gate>(
    st: &AppState,
    method: &Method,
    route: &str,
    mut req: Request,
    next: Next,
) -> Response {
    let pass = match G::admit(st, method, route, &mut req) {
        Ok(pass) => pass,
        Err(refused) => return *refused,
    };
    let mut response = faulted::<G>(st, method, route, req, next).await;
    G::finish(&pass, &mut response);
    response
}

async fn faulted<G: Gate>(
    st: &AppState,
    method: &Method,
    route: &str,
    req: Request,
    next: Next,
) -> Response {
    let (fault, slow) = {
        let mut faults = lock(&st.faults);
        (faults.choose(method.as_str(), route), faults.slow())
    };
    if let Some(kind) = fault {
        lock(&st.stats).fault(&format!("{kind:?}"));
    }
    if fault == Some(FaultKind::Slow) {
        tokio::time::sleep(slow).await;
    }
    if let Some(replaced) = fault.and_then(G::replacement) {
        return replaced;
    }
    let response = next.run(req).await;
    match fault {
        // `Faults::choose` draws the 422 kinds for GHL's create routes only.
        Some(FaultKind::Create422 | FaultKind::Write422) if response.status().is_success() => {
            faults::create_422()
        }
        Some(FaultKind::DropAfter) => faults::dropped(),
        Some(FaultKind::SlowAfter) => {
            tokio::time::sleep(slow).await;
            response
        }
        _ => response,
    }
}

/// The request's method and route (what its stats are recorded under), once the configured
/// latency has passed.
async fn arrive(st: &AppState, method: &Method, matched: Option<&MatchedPath>) -> (Method, String) {
    let route = route_name(matched);
    latency(st).await;
    (method.clone(), route)
}

async fn latency(st: &AppState) {
    if let Some((min, max)) = st.opts.latency {
        let pause = if max > min {
            rand::rng().random_range(min..=max)
        } else {
            min
        };
        tokio::time::sleep(pause).await;
    }
}

pub fn record(st: &AppState, method: &Method, route: &str, response: &Response) {
    let status = if response.extensions().get::<Dropped>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    lock(&st.stats).record(method.as_str(), route, status);
}

/// GHL: a bearer token (401), the location's rate limit (429), the `Version` header and the
/// route's scope; the five `X-RateLimit-*` headers on every answer, refusals included.
pub struct Ghl;

impl Gate for Ghl {
    type Pass = RateInfo;

    fn admit(
        st: &AppState,
        method: &Method,
        route: &str,
        req: &mut Request,
    ) -> Result<RateInfo, Box<Response>> {
        let refuse = |e: ApiError, info: RateInfo| {
            let mut response = e.into_response();
            info.apply(response.headers_mut());
            Box::new(response)
        };
        let idle = lock(&st.limiter).idle_info();
        let caller: Result<Caller, ApiError> = match auth::bearer(req.headers()) {
            None => Err(ApiError::invalid_token()),
            Some(token) => lock(&st.tokens).caller(token),
        };
        let caller = caller.map_err(|e| refuse(e, idle))?;
        let verdict = lock(&st.limiter).check(&caller.location_id, Instant::now());
        let info = match verdict {
            Verdict::Allowed(info) => info,
            Verdict::Limited(info) => return Err(refuse(ApiError::too_many(), info)),
        };
        let policy = auth::policy(method, route);
        auth::check_version(req.headers(), policy.version)
            .and_then(|()| auth::check_scope(&caller, &policy))
            .map_err(|e| refuse(e, info))?;
        req.extensions_mut().insert(caller);
        Ok(info)
    }

    fn replacement(kind: FaultKind) -> Option<Response> {
        faults::replacement(kind)
    }

    fn finish(info: &RateInfo, response: &mut Response) {
        info.apply(response.headers_mut());
    }
}

/// The middleware of every GHL API route.
pub async fn api(
    State(st): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    run::<Ghl>(&st, matched.as_ref(), req, next).await
}

/// `/oauth/token`: latency and stats only (not rate limited, never faulted).
pub async fn plain(
    State(st): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let (method, route) = arrive(&st, req.method(), matched.as_ref()).await;
    let delay = st.oauth_delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let response = next.run(req).await;
    record(&st, &method, &route, &response);
    response
}

/// NestJS's answer to an unknown path.
pub async fn not_found(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: axum::http::Uri,
) -> Response {
    let response = ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        format!("Cannot {method} {}", uri.path()),
        Some("Not Found"),
    )
    .into_response();
    if !uri.path().starts_with("/_sandbox") {
        record(&st, &method, "<unmatched>", &response);
    }
    response
}
