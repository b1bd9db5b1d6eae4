//! Repsly's requests through the shared peer client (`peers::http`): Basic auth with the API
//! username and password, and the pacing, timeout and retry policy of `RepslySettings`. Its
//! error bodies are read by `errors::read_error_body`. A path is a list of segments, each
//! percent-encoded here (a client code may hold `/` or spaces).

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::errors::{self, unsupported};
use super::settings::RepslySettings;
use crate::peers::http::{Auth, HttpSettings, PeerHttp, Request, encode_segment};
use crate::peers::{PeerError, PeerHealth};

pub(crate) struct Http {
    pub(crate) client: PeerHttp,
}

impl Http {
    /// Checks the credentials (named the way Repsly's settings name them) and builds the client,
    /// which checks the base URL.
    pub(crate) fn new(settings: &RepslySettings) -> Result<Self, PeerError> {
        if settings.username.trim().is_empty() {
            return Err(unsupported(
                "configuration: username (the API username from Repsly's API Settings) is empty",
            ));
        }
        if settings.password.is_empty() {
            return Err(unsupported(
                "configuration: the API password is empty; set GHLSYNC_REPSLY_PASSWORD",
            ));
        }
        let auth = Auth::Basic {
            username: settings.username.clone(),
            password: settings.password.clone(),
        };
        let mut http = HttpSettings::new(errors::PEER, &settings.base_url, auth);
        http.timeout = Duration::from_secs(settings.timeout_secs.max(1));
        http.min_interval = Duration::from_millis(settings.min_request_interval_ms);
        http.retry = settings.retry.clone();
        http.error_reader = Some(errors::read_error_body);
        Ok(Http {
            client: PeerHttp::new(http)?,
        })
    }

    pub(crate) async fn get(&self, segments: &[&str]) -> Result<Value, PeerError> {
        self.send(Method::GET, segments, None).await
    }

    /// An import's start: sent again only when it cannot have reached Repsly (a refused
    /// connection, a 429); any other failure is `Ambiguous` (the job may have started).
    pub(crate) async fn post(&self, segments: &[&str], body: &Value) -> Result<Value, PeerError> {
        self.send(Method::POST, segments, Some(body)).await
    }

    pub(crate) fn health(&self) -> PeerHealth {
        self.client.health()
    }

    async fn send(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Value, PeerError> {
        let operation = operation_name(&method, segments);
        let mut request = Request::new(method, path(segments)).operation(operation);
        if let Some(body) = body {
            request = request.json(body.clone());
        }
        Ok(self.client.send(request).await?.json)
    }
}

/// `export/internal/client/A%2FB%201`: the segments, each percent-encoded.
pub(crate) fn path(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|segment| encode_segment(segment))
        .collect::<Vec<_>>()
        .join("/")
}

/// `GET export/clients/0`: the method and path, never the host or the credentials.
pub(crate) fn operation_name(method: &Method, segments: &[&str]) -> String {
    format!("{method} {}", segments.join("/"))
}
