//! What every API request goes through before and after its handler: latency, token, rate
//! limit, `Version` header, scope, faults, the five `X-RateLimit-*` headers and the stats.

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
use super::limits::Verdict;
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

fn record(st: &AppState, method: &Method, route: &str, response: &Response) {
    let status = if response.extensions().get::<Dropped>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    lock(&st.stats).record(method.as_str(), route, status);
}

pub async fn api(
    State(st): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let (method, route) = arrive(&st, req.method(), matched.as_ref()).await;
    let response = guarded(&st, &method, &route, req, next).await;
    record(&st, &method, &route, &response);
    response
}

async fn guarded(
    st: &AppState,
    method: &Method,
    route: &str,
    mut req: Request,
    next: Next,
) -> Response {
    let idle = lock(&st.limiter).idle_info();
    let caller: Result<Caller, ApiError> = match auth::bearer(req.headers()) {
        None => Err(ApiError::invalid_token()),
        Some(token) => lock(&st.tokens).caller(token),
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(e) => {
            let mut response = e.into_response();
            idle.apply(response.headers_mut());
            return response;
        }
    };
    let verdict = lock(&st.limiter).check(&caller.location_id, Instant::now());
    let info = match verdict {
        Verdict::Allowed(info) => info,
        Verdict::Limited(info) => {
            let mut response = ApiError::too_many().into_response();
            info.apply(response.headers_mut());
            return response;
        }
    };
    let policy = auth::policy(method, route);
    let checked = auth::check_version(req.headers(), policy.version)
        .and_then(|()| auth::check_scope(&caller, &policy));
    if let Err(e) = checked {
        let mut response = e.into_response();
        info.apply(response.headers_mut());
        return response;
    }
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
    let mut response = match fault.and_then(faults::replacement) {
        Some(replaced) => replaced,
        None => {
            req.extensions_mut().insert(caller);
            let response = next.run(req).await;
            match fault {
                Some(FaultKind::Create422) if response.status().is_success() => {
                    faults::create_422()
                }
                Some(FaultKind::DropAfter) => faults::dropped(),
                _ => response,
            }
        }
    };
    info.apply(response.headers_mut());
    response
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
