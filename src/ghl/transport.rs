//! One GHL call end to end: token, limiter permit, headers, timeout, retries, decoding and
//! classification. Endpoints describe a [`Call`]; [`GhlClient::execute`] does the rest.

use crate::net::body::{ANSWER_BYTES, BodyError, read_limited};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::client::GhlClient;
use super::error::{GhlError, RequestContext};
use super::limiter::RateHeaders;
use crate::config::Secret;
use crate::net::ErrorClass;
use decode::{Answer, body_trace_id, decode, error_from_answer};

/// A request as an endpoint describes it.
pub(crate) struct Call {
    method: Method,
    /// Path with every id already percent-encoded; the only part of the URL errors show.
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    /// `application/json` unless [`Call::form`] set a form body.
    content_type: &'static str,
    version: &'static str,
    /// The OAuth scope the spec lists for this operation, for the hint on a scope error.
    scope: &'static str,
    /// Non-idempotent create: never retried once it may have reached GHL.
    create: bool,
    /// Top-level key a success must carry (`contact`, `tasks`, …), named when it is missing.
    wrapping_key: Option<&'static str>,
    /// The answer's type would read a missing key as a default: look for it before decoding.
    check_key_first: bool,
}

impl Call {
    pub(crate) fn new(
        method: Method,
        path: String,
        version: &'static str,
        scope: &'static str,
    ) -> Self {
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            content_type: "application/json",
            version,
            scope,
            create: false,
            wrapping_key: None,
            check_key_first: false,
        }
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub(crate) fn query_opt(self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(value) => self.query(name, value),
            None => self,
        }
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Result<Self, GhlError> {
        let bytes = serde_json::to_vec(body).map_err(|err| GhlError::InvalidBody {
            dto: std::any::type_name_of_val(body)
                .rsplit("::")
                .next()
                .unwrap_or("body")
                .to_string(),
            unknown_fields: Vec::new(),
            detail: format!("cannot serialise: {err}"),
        })?;
        self.body = Some(bytes);
        Ok(self)
    }

    /// An `application/x-www-form-urlencoded` body (the OAuth endpoints').
    pub(crate) fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            form.append_pair(name, value);
        }
        self.body = Some(form.finish().into_bytes());
        self.content_type = "application/x-www-form-urlencoded";
        self
    }

    pub(crate) fn create(mut self) -> Self {
        self.create = true;
        self
    }

    /// A success carries `key`, a field the answer's type requires: serde refuses an answer
    /// without it, and the error then names the key.
    pub(crate) fn wrapped_in(mut self, key: &'static str) -> Self {
        self.wrapping_key = Some(key);
        self
    }

    /// A success carries `key`, but the answer's type would read it as a default when missing
    /// (an appointment's `id`): the body is searched for it first, a second pass over it.
    pub(crate) fn requires_key(mut self, key: &'static str) -> Self {
        self.wrapping_key = Some(key);
        self.check_key_first = true;
        self
    }

    fn context(&self) -> RequestContext {
        RequestContext {
            method: self.method.to_string(),
            path: self.path.clone(),
        }
    }
}

pub(crate) use crate::net::describe_reqwest_error;

enum Outcome<T> {
    Done(Result<T, GhlError>),
    /// Retry after this pause (zero: at once; the limiter decides the real wait).
    RetryAfter(Duration),
}

impl GhlClient {
    pub(crate) async fn execute<T: DeserializeOwned>(&self, call: Call) -> Result<T, GhlError> {
        let inner = self.inner();
        let ctx = call.context();
        let url = inner.url_for(&call.path, &call.query)?;
        let retry = &inner.retry;
        let (mut failures, mut rate_waits, mut refreshed) = (0u32, 0u32, false);
        loop {
            let token = inner
                .tokens
                .bearer()
                .await
                .map_err(|err| with_context(err, &ctx))?;
            let permit = inner
                .limiter
                .acquire(self.priority())
                .await
                .map_err(|refusal| GhlError::RateLimited {
                    ctx: Some(ctx.clone()),
                    status: None,
                    reason: refusal.reason,
                    retry_after: refusal.retry_in,
                })?;
            let attempt = failures + rate_waits + 1;
            let started = Instant::now();
            let sent = self.send(&call, url.clone(), &token).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let response = match sent {
                Ok(response) => response,
                Err(err) => {
                    drop(permit);
                    tracing::debug!(method = %ctx.method, path = %ctx.path, elapsed_ms, attempt, error = %describe_reqwest_error(&err), "ghl request failed");
                    match self.on_network_error(&call, &ctx, &err, &mut failures) {
                        Outcome::Done(result) => return result,
                        Outcome::RetryAfter(pause) => {
                            tokio::time::sleep(pause).await;
                            continue;
                        }
                    }
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let rate = RateHeaders::from_headers(&headers, retry.cap);
            permit.observe(status, &rate);
            let body = match read_limited(response, ANSWER_BYTES).await {
                Ok(body) => body,
                Err(BodyError::TooLarge { limit }) => {
                    return Err(GhlError::Decode(Box::new(super::error::DecodeError {
                        ctx: ctx.clone(),
                        status,
                        content_type: headers
                            .get(reqwest::header::CONTENT_TYPE)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("none")
                            .to_string(),
                        excerpt: String::new(),
                        detail: BodyError::too_large_detail(limit),
                        trace_id: None,
                    })));
                }
                Err(BodyError::Network(err)) => {
                    match self.on_network_error(&call, &ctx, &err, &mut failures) {
                        Outcome::Done(result) => return result,
                        Outcome::RetryAfter(pause) => {
                            tokio::time::sleep(pause).await;
                            continue;
                        }
                    }
                }
            };
            let answer = Answer {
                status,
                headers,
                body,
            };
            let secrets = inner.tokens.secrets();
            // Reading the trace id costs a pass over the body: only when the line is kept.
            if tracing::enabled!(tracing::Level::DEBUG) {
                let trace_id = body_trace_id(&answer.body);
                tracing::debug!(method = %ctx.method, path = %ctx.path, status, elapsed_ms, attempt, trace_id = trace_id.as_deref().unwrap_or(""), "ghl request");
            }
            if (200..300).contains(&status) {
                return decode(
                    &ctx,
                    &answer,
                    call.wrapping_key,
                    call.check_key_first,
                    &secrets,
                );
            }
            if status == 429 {
                rate_waits += 1;
                let daily_exhausted = rate.daily_remaining == Some(0);
                if daily_exhausted || rate_waits > retry.max_rate_limit_waits {
                    let reason = if daily_exhausted {
                        "GHL's daily quota is exhausted (X-RateLimit-Daily-Remaining: 0); wait for the daily reset".to_string()
                    } else {
                        format!(
                            "still HTTP 429 after waiting {} times; the location's burst limit is shared with another client?",
                            rate_waits - 1
                        )
                    };
                    return Err(GhlError::RateLimited {
                        ctx: Some(ctx),
                        status: Some(429),
                        reason,
                        retry_after: rate.retry_after,
                    });
                }
                // The limiter has closed the location's gate; the next acquire waits it out.
                continue;
            }
            let error = error_from_answer(
                &ctx,
                &answer,
                call.create,
                call.scope,
                &inner.location_id,
                &secrets,
            );
            let unauthorized_token = status == 401 && error.class() == ErrorClass::Auth;
            if unauthorized_token {
                inner.last_unauthorized.store(
                    chrono::Utc::now().timestamp(),
                    std::sync::atomic::Ordering::Relaxed,
                );
            }
            if unauthorized_token && inner.tokens.can_refresh() && !refreshed {
                refreshed = true;
                inner
                    .tokens
                    .refresh_after_unauthorized(&token)
                    .await
                    .map_err(|err| with_context(err, &ctx))?;
                continue;
            }
            if error.class() == ErrorClass::Transient && failures + 1 < retry.max_attempts {
                let pause = retry
                    .backoff(failures)
                    .max(rate.retry_after.unwrap_or_default());
                failures += 1;
                tokio::time::sleep(pause).await;
                continue;
            }
            return Err(error);
        }
    }

    async fn send(
        &self,
        call: &Call,
        url: url::Url,
        token: &Secret,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self
            .inner()
            .http
            .request(call.method.clone(), url)
            .bearer_auth(token.expose())
            .header("Version", call.version)
            .header(ACCEPT, "application/json");
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, call.content_type)
                .body(body.clone());
        }
        request.send().await
    }

    /// No answer. Connect failures happen before a byte is sent, so even creates may retry;
    /// anything later leaves a create's outcome unknown.
    fn on_network_error<T>(
        &self,
        call: &Call,
        ctx: &RequestContext,
        err: &reqwest::Error,
        failures: &mut u32,
    ) -> Outcome<T> {
        let detail = describe_reqwest_error(err);
        if call.create && !err.is_connect() {
            return Outcome::Done(Err(GhlError::Network {
                ctx: ctx.clone(),
                class: ErrorClass::Ambiguous,
                detail,
                hint: Some(
                    "the record may have been created; look it up before retrying".to_string(),
                ),
            }));
        }
        *failures += 1;
        let retry = &self.inner().retry;
        if *failures >= retry.max_attempts {
            return Outcome::Done(Err(GhlError::Network {
                ctx: ctx.clone(),
                class: ErrorClass::Transient,
                detail: format!("{detail} (after {failures} attempts)"),
                hint: Some("check the network and the base URL; retry later".to_string()),
            }));
        }
        Outcome::RetryAfter(retry.backoff(*failures - 1))
    }
}

fn with_context(err: GhlError, ctx: &RequestContext) -> GhlError {
    match err {
        GhlError::Auth {
            ctx: None,
            status,
            detail,
        } => GhlError::Auth {
            ctx: Some(ctx.clone()),
            status,
            detail,
        },
        other => other,
    }
}

pub(crate) mod decode;
#[cfg(test)]
mod tests;
