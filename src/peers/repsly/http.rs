//! One Repsly request end to end: Basic auth, client-side pacing, timeout, retries with the
//! shared full-jitter backoff (`ghl::retry`), JSON decoding and classification.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::errors::{self, Class, error};
use super::settings::RepslySettings;
use crate::config::Secret;
use crate::net::RetryPolicy;
use crate::net::parse_retry_after;
use crate::peers::PeerError;

pub(crate) struct Http {
    client: reqwest::Client,
    base: Url,
    username: String,
    password: Secret,
    retry: RetryPolicy,
    min_interval: Duration,
    /// When the last request left; held across the pacing sleep so requests go one at a time.
    last_sent: Mutex<Option<Instant>>,
    /// Every call's outcome, for the status screens.
    pub(crate) health: crate::peers::HealthRecorder,
}

impl Http {
    pub(crate) fn new(settings: &RepslySettings) -> Result<Self, PeerError> {
        let config = |detail: String| errors::unsupported(format!("configuration: {detail}"));
        let mut base = Url::parse(settings.base_url.trim()).map_err(|err| {
            config(format!(
                "base_url {:?} is not a URL: {err}",
                settings.base_url
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(config(format!(
                "base_url {:?} must be an http(s) URL",
                settings.base_url
            )));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(config(
                "base_url must not carry credentials; use username and the secret".into(),
            ));
        }
        base.set_query(None);
        if settings.username.trim().is_empty() {
            return Err(config(
                "username (the API username from Repsly's API Settings) is empty".into(),
            ));
        }
        if settings.password.is_empty() {
            return Err(config(
                "the API password is empty; set GHLSYNC_REPSLY_PASSWORD".into(),
            ));
        }
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let client = reqwest::Client::builder()
            .user_agent(concat!("ghlsync/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|err| config(format!("cannot build the HTTP client: {err}")))?;
        Ok(Http {
            client,
            base,
            username: settings.username.clone(),
            password: settings.password.clone(),
            retry: settings.retry.clone(),
            min_interval: Duration::from_millis(settings.min_request_interval_ms),
            last_sent: Mutex::new(None),
            health: Default::default(),
        })
    }

    /// `base/seg1/seg2…`, each segment percent-encoded (a client code may hold `/` or spaces).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    pub(crate) async fn get(&self, segments: &[&str]) -> Result<Value, PeerError> {
        self.call(Method::GET, segments, None).await
    }

    /// A POST whose outcome is unknown once it may have reached Repsly: everything but a
    /// refused connection or a 429 ends the call, as `Ambiguous` when nothing came back.
    pub(crate) async fn post(&self, segments: &[&str], body: &Value) -> Result<Value, PeerError> {
        self.call(Method::POST, segments, Some(body)).await
    }

    async fn call(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Value, PeerError> {
        let outcome = self.call_with_retries(method, segments, body).await;
        self.health.record(&outcome);
        outcome
    }

    async fn call_with_retries(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Value, PeerError> {
        let operation = operation_name(&method, segments);
        let write = method != Method::GET;
        let url = self.url(segments);
        let body = match body {
            Some(json) => Some(serde_json::to_vec(json).map_err(|err| {
                error(
                    Class::Validation,
                    &operation,
                    format!("cannot serialise the body: {err}"),
                )
            })?),
            None => None,
        };
        let mut failures = 0u32;
        loop {
            self.pace().await;
            let attempt = failures + 1;
            let mut request = self
                .client
                .request(method.clone(), url.clone())
                .basic_auth(&self.username, Some(self.password.expose()))
                .header(ACCEPT, "application/json");
            if let Some(bytes) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(bytes.clone());
            }
            let answer = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| parse_retry_after(value, self.retry.cap));
                    response
                        .bytes()
                        .await
                        .map(|bytes| (status, retry_after, bytes))
                }
                Err(err) => Err(err),
            };
            let (status, retry_after, bytes) = match answer {
                Ok(answer) => answer,
                Err(err) => {
                    let detail = describe_reqwest_error(&err, self.password.expose());
                    tracing::debug!(peer = errors::PEER, %operation, attempt, error = %detail, "repsly request failed");
                    if write && !err.is_connect() {
                        return Err(error(
                            Class::Ambiguous,
                            &operation,
                            format!(
                                "{detail}; the import may have started (imports upsert by Code, so a retry is safe once reconciled)"
                            ),
                        ));
                    }
                    failures += 1;
                    if failures >= self.retry.max_attempts {
                        return Err(error(
                            Class::Transient,
                            &operation,
                            format!("{detail} (after {failures} attempts)"),
                        ));
                    }
                    tokio::time::sleep(self.retry.backoff(failures - 1)).await;
                    continue;
                }
            };
            tracing::debug!(peer = errors::PEER, %operation, status = status.as_u16(), attempt, "repsly request");
            if status.is_success() {
                return decode_json(&bytes, &operation, self.password.expose());
            }
            if errors::retryable(status.as_u16(), write) && failures + 1 < self.retry.max_attempts {
                let pause = self
                    .retry
                    .backoff(failures)
                    .max(retry_after.unwrap_or_default());
                failures += 1;
                tokio::time::sleep(pause).await;
                continue;
            }
            return Err(errors::from_answer(
                status.as_u16(),
                &bytes,
                write,
                &operation,
                self.password.expose(),
            ));
        }
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

/// `GET export/clients/0`: the method and path, never the host or the credentials.
pub(crate) fn operation_name(method: &Method, segments: &[&str]) -> String {
    format!("{method} {}", segments.join("/"))
}

/// A 2xx body as JSON: empty → `null`; an HTML page or malformed JSON → `Decode`.
pub(crate) fn decode_json(
    bytes: &[u8],
    operation: &str,
    password: &str,
) -> Result<Value, PeerError> {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|err| {
        let what = if errors::looks_like_html(text.trim()) {
            "an HTML page instead of JSON"
        } else {
            "malformed JSON"
        };
        error(
            Class::Decode,
            operation,
            format!(
                "{what} from {operation} ({err}): {}",
                errors::body_message(bytes, password)
            ),
        )
    })
}

/// reqwest's error chain (shared with the GHL transport), with the password taken out too.
fn describe_reqwest_error(err: &reqwest::Error, password: &str) -> String {
    let detail = crate::ghl::transport::describe_reqwest_error(err);
    if password.len() >= 4 {
        detail.replace(password, "[redacted]")
    } else {
        detail
    }
}

/// Statuses a caller may want to treat as "no such record".
pub(crate) fn is_not_found(err: &PeerError) -> bool {
    err.class() == crate::net::ErrorClass::NotFound
}
