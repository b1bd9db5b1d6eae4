//! [`GhlClient`] and its settings. One client per location; cheap to clone.

use std::sync::Arc;
use std::time::Duration;

use super::auth::{AuthSettings, TokenSource};
use super::error::GhlError;
use super::limiter::{Limiter, LimiterSettings, LimiterSnapshot, Priority};
use crate::net::RetryPolicy;

/// GHL's production API host.
pub const DEFAULT_BASE_URL: &str = "https://services.leadconnectorhq.com";

/// Everything the client needs; `cli` builds it from the config. `Debug` redacts secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSettings {
    /// e.g. `https://services.leadconnectorhq.com`, or the sandbox's `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub location_id: String,
    pub auth: AuthSettings,
    /// Per request, body included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub limiter: LimiterSettings,
    pub user_agent: String,
}

impl ClientSettings {
    pub fn new(
        base_url: impl Into<String>,
        location_id: impl Into<String>,
        auth: AuthSettings,
    ) -> Self {
        ClientSettings {
            base_url: base_url.into(),
            location_id: location_id.into(),
            auth,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            limiter: LimiterSettings::default(),
            user_agent: format!("ghlsync/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// The GHL v2 client for one location.
#[derive(Clone)]
pub struct GhlClient {
    inner: Arc<ClientInner>,
    priority: Priority,
}

pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    /// Without a trailing slash.
    base_url: String,
    pub(crate) location_id: String,
    pub(crate) tokens: TokenSource,
    pub(crate) limiter: Limiter,
    pub(crate) retry: RetryPolicy,
    /// Unix seconds of the last 401 (0: none yet), for status screens.
    pub(crate) last_unauthorized: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for GhlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GhlClient")
            .field("base_url", &self.inner.base_url)
            .field("location_id", &self.inner.location_id)
            .field("priority", &self.priority)
            .finish_non_exhaustive()
    }
}

impl GhlClient {
    pub fn new(settings: ClientSettings) -> Result<Self, GhlError> {
        let base_url = settings.base_url.trim().trim_end_matches('/').to_string();
        let parsed = url::Url::parse(&base_url).map_err(|err| GhlError::Config {
            detail: format!(
                "the GHL base URL {base_url:?} is not a URL ({err}); use e.g. {DEFAULT_BASE_URL}"
            ),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(GhlError::Config {
                detail: format!(
                    "the GHL base URL {base_url:?} must be http(s) without a query; use e.g. {DEFAULT_BASE_URL}"
                ),
            });
        }
        let location_id = settings.location_id.trim().to_string();
        if location_id.is_empty() {
            return Err(GhlError::Config {
                detail: "no GHL location id is configured; set `location_id` under [ghl] (Settings → Business Profile in GHL shows it)".to_string(),
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|err| GhlError::Config {
                detail: format!("cannot build the HTTP client: {err}"),
            })?;
        let tokens = TokenSource::from_settings(&settings.auth, &http, &base_url)?;
        if let Some(token_location) = tokens
            .token_location()
            .filter(|l| !l.is_empty() && *l != location_id)
        {
            return Err(GhlError::Config {
                detail: format!(
                    "the OAuth token is for location `{token_location}` but the configured location id is `{location_id}`; fix the location id or log in to the right sub-account"
                ),
            });
        }
        let inner = ClientInner {
            http,
            base_url,
            location_id,
            tokens,
            limiter: Limiter::new(settings.limiter.clone()),
            retry: settings.retry.clone(),
            last_unauthorized: Default::default(),
        };
        Ok(GhlClient {
            inner: Arc::new(inner),
            priority: Priority::Live,
        })
    }

    pub fn location_id(&self) -> &str {
        &self.inner.location_id
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The location's limiter as it stands: for status screens and benchmarks.
    pub fn auth_info(&self) -> super::auth::AuthInfo {
        let last = self
            .inner
            .last_unauthorized
            .load(std::sync::atomic::Ordering::Relaxed);
        super::auth::AuthInfo {
            last_unauthorized_at: (last > 0).then_some(last),
            ..self.inner.tokens.info()
        }
    }

    pub fn limiter_state(&self) -> LimiterSnapshot {
        self.inner.limiter.snapshot()
    }

    /// A clone whose calls acquire the limiter with `priority` (shared limiter, same location).
    pub fn with_priority(&self, priority: Priority) -> Self {
        GhlClient {
            inner: Arc::clone(&self.inner),
            priority,
        }
    }

    pub fn priority(&self) -> Priority {
        self.priority
    }

    pub(crate) fn inner(&self) -> &ClientInner {
        &self.inner
    }
}

impl ClientInner {
    /// Base URL + path, with the query encoded (`+` → `%2B`, so phone numbers survive).
    pub(crate) fn url_for(
        &self,
        path: &str,
        query: &[(&'static str, String)],
    ) -> Result<url::Url, GhlError> {
        let mut url = url::Url::parse(&format!("{}{path}", self.base_url)).map_err(|err| {
            GhlError::Config {
                detail: format!("cannot build the URL for {path}: {err}"),
            }
        })?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn debug_of_settings_and_client_redacts_tokens() {
        let settings = ClientSettings::new(
            DEFAULT_BASE_URL,
            "loc1",
            AuthSettings::PrivateToken(Secret::new("pit-0000-very-secret")),
        );
        let oauth = AuthSettings::OAuth {
            client_id: "client".into(),
            client_secret: Secret::new("client-very-secret"),
            token_file: "/tmp/t.json".into(),
            user_type: "Location".into(),
        };
        let shown = format!(
            "{settings:?} {oauth:?} {:?}",
            GhlClient::new(settings.clone()).unwrap()
        );
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn settings_are_checked() {
        let auth = AuthSettings::PrivateToken(Secret::new("pit-x"));
        let no_location =
            GhlClient::new(ClientSettings::new(DEFAULT_BASE_URL, " ", auth.clone())).unwrap_err();
        assert!(
            no_location.to_string().contains("location id"),
            "{no_location}"
        );
        let bad_url = GhlClient::new(ClientSettings::new(
            "services.leadconnectorhq.com",
            "loc",
            auth.clone(),
        ))
        .unwrap_err();
        assert_eq!(bad_url.class(), crate::net::ErrorClass::ScopeOrConfig);
        let empty = GhlClient::new(ClientSettings::new(
            DEFAULT_BASE_URL,
            "loc",
            AuthSettings::AccessToken(Secret::default()),
        ));
        assert!(empty.is_err());
    }

    #[test]
    fn urls_encode_plus_in_queries_and_keep_the_base_path() {
        let settings = ClientSettings::new(
            "http://127.0.0.1:8080/",
            "loc",
            AuthSettings::PrivateToken(Secret::new("pit-x")),
        );
        let client = GhlClient::new(settings).unwrap();
        let url = client
            .inner()
            .url_for(
                "/contacts/search/duplicate",
                &[("locationId", "loc".into()), ("number", "+1 555".into())],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/contacts/search/duplicate?locationId=loc&number=%2B1+555"
        );
    }

    #[test]
    fn with_priority_shares_the_limiter() {
        let settings = ClientSettings::new(
            DEFAULT_BASE_URL,
            "loc",
            AuthSettings::PrivateToken(Secret::new("pit-x")),
        );
        let live = GhlClient::new(settings).unwrap();
        let bulk = live.with_priority(Priority::Bulk);
        assert_eq!(bulk.priority(), Priority::Bulk);
        assert!(Arc::ptr_eq(&live.inner, &bulk.inner));
    }
}
