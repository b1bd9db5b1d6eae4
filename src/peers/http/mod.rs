//! The JSON-over-HTTP client every peer connector shares: one request end to end — pacing,
//! credentials (`auth.rs`), timeout, retries with the shared full-jitter backoff and
//! `Retry-After`, JSON decoding — and its failures classified (`errors.rs`).
//!
//! The rules a caller can rely on:
//! - reads (GET, HEAD) are retried on transient failures and 429s, then fail `Transient` or
//!   `RateLimited`;
//! - a write (anything else) is sent again only when it cannot have arrived: the connection was
//!   refused, or the peer answered 429. A timeout, a reset or a 5xx after a write may have
//!   landed, so it is `Ambiguous` and the caller looks the record up before trying again;
//! - no credential ever appears in an error, a log line or a health report: bodies, URLs and
//!   transport errors are scrubbed of every secret the client holds.
//!
//! Paging and record shapes are the connector's business; the client hands back the JSON and
//! the headers (a `Link` header, a `Location`).

mod auth;
pub(crate) mod errors;
mod request;

pub use auth::Auth;
pub use errors::{ErrorBody, ErrorReader, StatusClasses};
pub(crate) use errors::{body_message, peer_error};
pub use request::{Answer, HttpSettings, Request, Target, encode_segment, link_next};

use crate::net::body::{ANSWER_BYTES, BodyError, read_limited};
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::net::{ErrorClass, RetryPolicy, parse_retry_after};
use crate::peers::{HealthRecorder, PeerError, PeerHealth};

pub struct PeerHttp {
    peer: String,
    client: reqwest::Client,
    base: Url,
    auth: Auth,
    retry: RetryPolicy,
    timeout: Duration,
    statuses: StatusClasses,
    headers: Vec<(String, String)>,
    error_reader: Option<ErrorReader>,
    min_interval: Duration,
    /// When the last request left; held across the pacing sleep so requests go one at a time.
    last_sent: Mutex<Option<Instant>>,
    health: HealthRecorder,
}

impl std::fmt::Debug for PeerHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerHttp")
            .field("peer", &self.peer)
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl PeerHttp {
    /// Checks the base URL and the credentials' shape, and builds the client.
    pub fn new(settings: HttpSettings) -> Result<Self, PeerError> {
        let peer = settings.peer.clone();
        let config = |detail: String| {
            peer_error(
                &peer,
                "configuration",
                ErrorClass::ScopeOrConfig,
                detail,
                None,
            )
        };
        let raw = settings.base_url.trim();
        let mut base = Url::parse(raw)
            .map_err(|err| config(format!("base_url {raw:?} is not a URL: {err}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(config(format!("base_url {raw:?} must be an http(s) URL")));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(config(
                "base_url must not carry credentials; name them in the authenticator".into(),
            ));
        }
        base.set_query(None);
        base.set_fragment(None);
        settings.auth.check().map_err(config)?;
        for (name, value) in &settings.headers {
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| config(format!("{name:?} is not a valid HTTP header name")))?;
            reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| config(format!("the value of header {name} is not valid")))?;
        }
        let timeout = settings.timeout.max(Duration::from_millis(1));
        let client = reqwest::Client::builder()
            .user_agent(concat!("ghlsync/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            // A redirect could carry the credentials to another host: the peer's URL is fixed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| config(format!("cannot build the HTTP client: {err}")))?;
        Ok(PeerHttp {
            peer: settings.peer,
            client,
            base,
            auth: settings.auth,
            retry: settings.retry,
            timeout,
            statuses: settings.statuses,
            headers: settings.headers,
            error_reader: settings.error_reader,
            min_interval: settings.min_interval,
            last_sent: Mutex::new(None),
            health: HealthRecorder::default(),
        })
    }

    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Another retry policy and request timeout (tests and one-off commands want them short).
    pub fn set_retry(&mut self, retry: RetryPolicy, timeout: Duration) {
        self.retry = retry;
        self.timeout = timeout.max(Duration::from_millis(1));
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub fn health(&self) -> PeerHealth {
        self.health.snapshot()
    }

    /// An error of this peer (through the one builder, `peer_error`), its detail scrubbed.
    pub fn error(
        &self,
        operation: &str,
        class: ErrorClass,
        detail: impl AsRef<str>,
        field: Option<String>,
    ) -> PeerError {
        peer_error(
            &self.peer,
            operation,
            class,
            self.scrub(detail.as_ref()),
            field,
        )
    }

    /// `text` without the client's credentials or token-like words.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in self.auth.secrets() {
            text = text.replace(secret, "[redacted]");
        }
        crate::net::scrub_token_like(&text)
    }

    /// The base URL with `path` appended (`/contacts` under `https://h/v2` → `https://h/v2/contacts`).
    pub fn url_for(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!(
            "{}/{}",
            self.base.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url
    }

    /// `url` without the query parameters that carry this client's credentials: what a `Link`
    /// URL may be kept as (`Auth::apply` adds them again when it is followed).
    pub fn without_credentials(&self, url: &Url) -> Url {
        let secret_names = self.auth.query_names();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| !secret_names.contains(&name.as_ref()))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        let mut url = url.clone();
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
        url
    }

    /// Whether `url` is on the base URL's origin (scheme, host and port).
    pub fn same_origin(&self, url: &Url) -> bool {
        url.origin() == self.base.origin()
    }

    /// Sends one request (with its retries) and returns the 2xx answer or the classified error.
    pub async fn send(&self, request: Request) -> Result<Answer, PeerError> {
        let outcome = self.send_with_retries(&request).await;
        // A 404 is an answer the caller uses ("no such record"), not a sign of trouble.
        match &outcome {
            Err(err) if err.class() == ErrorClass::NotFound => {
                self.health.record(&Ok::<(), PeerError>(()))
            }
            other => self.health.record(other),
        }
        outcome
    }

    /// The URL a request goes to, without credentials: a `Link` URL loses the credential
    /// parameters the peer may have copied into it (`Auth::apply` adds them again).
    fn target_url(&self, request: &Request, operation: &str) -> Result<Url, PeerError> {
        let mut url = match &request.target {
            Target::Path(path) => self.url_for(path),
            Target::Url(url) => {
                if !self.same_origin(url) {
                    return Err(self.error(
                        operation,
                        ErrorClass::Decode,
                        format!(
                            "the peer pointed to {}, outside its base URL's origin; credentials are not sent there",
                            url.origin().ascii_serialization()
                        ),
                        None,
                    ));
                }
                self.without_credentials(url)
            }
        };
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        Ok(url)
    }

    async fn send_with_retries(&self, request: &Request) -> Result<Answer, PeerError> {
        let operation = request
            .operation
            .clone()
            .unwrap_or_else(|| match &request.target {
                Target::Path(path) => format!("{} {path}", request.method),
                Target::Url(url) => format!("{} {}", request.method, url.path()),
            });
        let url = self.target_url(request, &operation)?;
        let write = request.is_write();
        let body = match (&request.form, &request.body) {
            (Some(pairs), _) => Some((
                "application/x-www-form-urlencoded",
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish()
                    .into_bytes(),
            )),
            (None, Some(json)) => Some((
                "application/json",
                serde_json::to_vec(json).map_err(|err| {
                    self.error(
                        &operation,
                        ErrorClass::Validation,
                        format!("cannot serialise the body: {err}"),
                        None,
                    )
                })?,
            )),
            (None, None) => None,
        };
        let mut failures = 0u32;
        let mut rate_waits = 0u32;
        loop {
            self.pace().await;
            let mut builder = self
                .client
                .request(request.method.clone(), url.clone())
                .timeout(self.timeout)
                .header(ACCEPT, "application/json");
            for (name, value) in &self.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            builder = self.auth.apply(builder);
            if let Some((content_type, bytes)) = &body {
                builder = builder
                    .header(CONTENT_TYPE, *content_type)
                    .body(bytes.clone());
            }
            let answer = match builder.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    match read_limited(response, ANSWER_BYTES).await {
                        Ok(bytes) => Ok((status, headers, bytes)),
                        Err(BodyError::Network(err)) => Err(err),
                        Err(BodyError::TooLarge { limit }) => {
                            return Err(self.error(
                                &operation,
                                ErrorClass::Decode,
                                BodyError::too_large_detail(limit),
                                None,
                            ));
                        }
                    }
                }
                Err(err) => Err(err),
            };
            let (status, headers, bytes) = match answer {
                Ok(answer) => answer,
                Err(err) => {
                    let detail = self.describe(&err);
                    tracing::debug!(peer = %self.peer, %operation, error = %detail, "peer request failed");
                    if write && !err.is_connect() {
                        return Err(self.error(
                            &operation,
                            ErrorClass::Ambiguous,
                            format!("{detail}; the write may have reached {}", self.peer),
                            None,
                        ));
                    }
                    failures += 1;
                    if failures >= self.retry.max_attempts.max(1) {
                        return Err(self.error(
                            &operation,
                            ErrorClass::Transient,
                            format!("{detail} (after {failures} attempts)"),
                            None,
                        ));
                    }
                    tokio::time::sleep(self.retry.backoff(failures - 1)).await;
                    continue;
                }
            };
            tracing::debug!(peer = %self.peer, %operation, status, "peer request");
            if (200..300).contains(&status) {
                return self.decode(status, headers, &bytes, write, &operation);
            }
            let class = self.statuses.class(status, write);
            let retry_after = headers
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, self.retry.cap));
            // A 429 was refused before anything happened: safe to repeat, and not an attempt.
            if class == ErrorClass::RateLimited && rate_waits < self.retry.max_rate_limit_waits {
                let pause = retry_after.unwrap_or_else(|| self.retry.backoff(rate_waits));
                rate_waits += 1;
                tokio::time::sleep(pause).await;
                continue;
            }
            if !write
                && class == ErrorClass::Transient
                && failures + 1 < self.retry.max_attempts.max(1)
            {
                let pause = self
                    .retry
                    .backoff(failures)
                    .max(retry_after.unwrap_or_default());
                failures += 1;
                tokio::time::sleep(pause).await;
                continue;
            }
            let (message, field) =
                errors::explain(&bytes, class, self.error_reader, &self.auth.secrets());
            // A refused read is about ghlsync's request, not a record: its settings.
            let next = if !write && class == ErrorClass::Validation {
                "; the app refused ghlsync's read: check the peer's base_url and settings (ghlsync doctor)"
            } else {
                ""
            };
            return Err(self.error(
                &operation,
                class,
                format!("HTTP {status}: {message}{next}"),
                field,
            ));
        }
    }

    /// A 2xx body as JSON: empty → `null`. An HTML page or malformed JSON is `Decode` for a
    /// read; for a write it is `Ambiguous`: the write happened, but its answer (the new id)
    /// was not understood, so the record is looked up before anything is sent again.
    fn decode(
        &self,
        status: u16,
        headers: HeaderMap,
        bytes: &[u8],
        write: bool,
        operation: &str,
    ) -> Result<Answer, PeerError> {
        let text = String::from_utf8_lossy(bytes);
        let trimmed = text.trim().trim_start_matches('\u{feff}');
        if trimmed.is_empty() {
            return Ok(Answer {
                status,
                headers,
                json: Value::Null,
            });
        }
        match serde_json::from_str(trimmed) {
            Ok(json) => Ok(Answer {
                status,
                headers,
                json,
            }),
            Err(err) => {
                let what = if errors::looks_like_html(trimmed) {
                    "an HTML page instead of JSON"
                } else {
                    "malformed JSON"
                };
                let class = if write {
                    ErrorClass::Ambiguous
                } else {
                    ErrorClass::Decode
                };
                Err(self.error(
                    operation,
                    class,
                    format!(
                        "HTTP {status} with {what} ({err}): {}",
                        body_message(bytes, &self.auth.secrets())
                    ),
                    None,
                ))
            }
        }
    }

    /// reqwest's error chain without the URL (query credentials), scrubbed of this peer's
    /// secrets too.
    fn describe(&self, err: &reqwest::Error) -> String {
        self.scrub(&crate::net::describe_reqwest_error(err))
    }

    /// Waits until `min_interval` has passed since the previous request.
    async fn pace(&self) {
        if self.min_interval.is_zero() {
            return;
        }
        let mut last = self.last_sent.lock().await;
        if let Some(previous) = *last {
            tokio::time::sleep_until(previous + self.min_interval).await;
        }
        *last = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests;
