//! `connector = "rest"`: any JSON-over-HTTP app described by a connector file (`file.rs`,
//! checked in `connector.rs`), on the shared peer client (`peers::http`). Reads are change
//! pages (`paging.rs`): incremental by an updated-since parameter, or a full listing diffed by
//! content hash. Writes (`writes.rs`) are create / update / delete requests with templated
//! bodies (`template.rs`).

mod check;
mod check_requests;
mod connector;
mod connector_file;
mod file;
mod paging;
mod records;
mod template;
mod writes;

pub use connector::CONNECTOR;
pub use connector_file::{ConnectorFile, ConnectorFileError};
pub use file::IdType;

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;

use self::connector_file::EntitySpec;
use self::file::{Authenticator, TextOrSecret};
use self::paging::{CursorState, PageToken};
use super::http::{Auth, HttpSettings, PeerHttp, Request, StatusClasses, link_next, peer_error};
use super::{
    ChangePage, EntityCapability, EntityKind, Peer, PeerError, PeerHealth, PeerRecord, WriteOutcome,
};
use crate::config::Secret;
use crate::net::{ErrorClass, RetryPolicy};

/// The `[peers.NAME.connection]` table of a `rest` peer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestConnection {
    /// The connector file; a relative path is resolved against the config file's folder.
    pub file: String,
    /// Replaces the file's `base_url` (a sandbox on another port, a staging server).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The app pushes its changes to the service's `POST /webhooks/peer/<name>`, signed with
    /// secret `webhook_secret` (`X-Ghlsync-Timestamp`, `X-Ghlsync-Signature`; README,
    /// "Webhooks"); each push starts this peer's incremental run.
    #[serde(default)]
    pub push: bool,
}

/// The headers an app that pushes signs with.
pub const PUSH_HEADERS: crate::peers::push::SignedHeaders = crate::peers::push::SignedHeaders {
    timestamp: "x-ghlsync-timestamp",
    signature: "x-ghlsync-signature",
    shown_prefix: "X-Ghlsync-",
};

/// How far a push's timestamp may be from now.
const PUSH_TOLERANCE_SECS: i64 = 300;

pub struct RestPeer {
    name: String,
    file: ConnectorFile,
    http: PeerHttp,
    /// `webhook_secret`, when the app pushes (`RestConnection::push`).
    push_secret: Option<Secret>,
}

impl std::fmt::Debug for RestPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestPeer")
            .field("name", &self.name)
            .field("file", &self.file)
            .field("http", &self.http)
            .finish()
    }
}

impl RestPeer {
    /// Builds the peer: the file's authenticator filled with `secrets` (by the names the file
    /// gives them), the base URL (or its override) checked.
    pub fn new(
        peer_name: &str,
        file: ConnectorFile,
        base_url_override: Option<&str>,
        secrets: &BTreeMap<String, Secret>,
    ) -> Result<RestPeer, PeerError> {
        let auth = resolve_auth(peer_name, &file, secrets)?;
        let base_url = base_url_override.unwrap_or(&file.base_url);
        let requester = &file.requester;
        let mut settings = HttpSettings::new(peer_name, base_url, auth);
        settings.timeout = Duration::from_secs(requester.timeout_secs.max(1));
        settings.min_interval = requester
            .requests_per_second
            .map_or(Duration::ZERO, HttpSettings::per_second);
        settings.retry = RetryPolicy {
            max_attempts: requester.max_attempts.max(1),
            ..RetryPolicy::default()
        };
        settings.statuses = StatusClasses::new(file.statuses.clone());
        settings.headers = requester
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let http = PeerHttp::new(settings)?;
        Ok(RestPeer {
            name: peer_name.to_string(),
            file,
            http,
            push_secret: secrets.get("webhook_secret").cloned(),
        })
    }

    /// The same peer with another retry policy and request timeout (tests, `connector try`).
    pub fn with_retry(mut self, retry: RetryPolicy, timeout: Duration) -> RestPeer {
        self.http.set_retry(retry, timeout);
        self
    }

    pub fn file(&self) -> &ConnectorFile {
        &self.file
    }

    fn spec(&self, kind: EntityKind) -> Result<&EntitySpec, PeerError> {
        self.file.entity(kind).ok_or_else(|| {
            self.error(
                "",
                ErrorClass::ScopeOrConfig,
                format!(
                    "{kind}s are not in connector file {} (add a [{kind}] table)",
                    self.file.origin
                ),
            )
        })
    }

    fn error(&self, operation: &str, class: ErrorClass, detail: impl AsRef<str>) -> PeerError {
        self.http.error(operation, class, detail, None)
    }

    /// One page of `kind`'s list after `cursor`, incremental or not (see `paging.rs`).
    async fn list_page(
        &self,
        spec: &EntitySpec,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        let Some(list) = &spec.list else {
            return Err(self.error(
                "",
                ErrorClass::ScopeOrConfig,
                format!("[{}] has no list request, so it cannot be read", spec.kind),
            ));
        };
        let operation = format!("GET {}", list.path.label());
        let state = CursorState::parse(cursor, spec);
        let since = spec.incremental.as_ref().and_then(|inc| {
            state
                .since()
                .or(inc.start)
                .map(|since| (inc.param.clone(), spec.dates.write(since)))
        });
        // A saved next-page URL on another origin (the base URL changed since): the pass
        // starts again from its `since`.
        let page = match &state.page {
            Some(PageToken::Url(url)) => match url::Url::parse(url) {
                Ok(url) if self.http.same_origin(&url) => Some(PageToken::Url(url.to_string())),
                _ => {
                    tracing::warn!(peer = %self.name, %operation, "the saved next-page URL is off the base URL; reading the list again");
                    None
                }
            },
            other => other.clone(),
        };
        let mut request = self.list_request(list, page.as_ref(), since, &operation)?;
        request.operation = Some(operation.clone());
        let answer = self.http.send(request).await?;
        let rows = records::select_list(&answer.json, &list.selector)
            .map_err(|detail| self.error(&operation, ErrorClass::Decode, detail))?;
        let records = records::to_records(spec, rows, &self.name);
        let next = paging::next_page(
            list,
            page.as_ref(),
            rows.len(),
            &answer.json,
            link_next(&answer.headers)
                .and_then(|next| url::Url::parse(&next).ok())
                .map(|next| self.http.without_credentials(&next).to_string()),
        )
        .map_err(|detail| self.error(&operation, ErrorClass::Decode, detail))?;
        let Some(incremental) = &spec.incremental else {
            let done = next.is_none();
            let next_cursor = next.map(|page| {
                CursorState {
                    page: Some(page),
                    ..CursorState::default()
                }
                .to_text()
            });
            return Ok(ChangePage {
                records,
                next_cursor,
                done,
            });
        };
        let newest = rows
            .iter()
            .filter_map(|row| row.get(&incremental.cursor_field))
            .filter_map(|value| spec.dates.read(value))
            .chain(state.max())
            .max();
        let (next_cursor, done) = match next {
            Some(page) => (
                CursorState {
                    since: state.since.clone(),
                    page: Some(page),
                    max: newest.map(paging::rfc3339),
                },
                false,
            ),
            None => {
                let lookback = chrono::Duration::from_std(incremental.lookback).unwrap_or_default();
                let since = newest
                    .map(|newest| newest - lookback)
                    .map(paging::rfc3339)
                    .or(state.since.clone());
                (
                    CursorState {
                        since,
                        ..CursorState::default()
                    },
                    true,
                )
            }
        };
        let text = next_cursor.to_text();
        Ok(ChangePage {
            records,
            next_cursor: (Some(text.as_str()) != cursor).then_some(text),
            done,
        })
    }
}

impl RestPeer {
    /// The request of one list page: a saved `Link` URL as it is (it carries every parameter),
    /// else the path with the file's parameters, the paging ones and the start time.
    fn list_request(
        &self,
        list: &connector_file::ListSpec,
        page: Option<&PageToken>,
        since: Option<(String, String)>,
        operation: &str,
    ) -> Result<Request, PeerError> {
        if let Some(PageToken::Url(url)) = page {
            let url = url::Url::parse(url).map_err(|err| {
                self.error(
                    operation,
                    ErrorClass::Decode,
                    format!("the saved next-page URL is not a URL: {err}"),
                )
            })?;
            return Ok(Request::url(Method::GET, url));
        }
        let unfilled = |var: String| {
            self.error(
                operation,
                ErrorClass::ScopeOrConfig,
                format!("no value for {{{{ {var} }}}}"),
            )
        };
        let mut request = Request::get(
            list.path
                .render_path(&Default::default())
                .map_err(unfilled)?,
        );
        request.query = paging::page_query(list, page).map_err(unfilled)?;
        request.query.extend(since);
        Ok(request)
    }
}

/// The authenticator with its secrets filled in; a missing one is named with where to set it.
fn resolve_auth(
    peer: &str,
    file: &ConnectorFile,
    secrets: &BTreeMap<String, Secret>,
) -> Result<Auth, PeerError> {
    let secret = |reference: &file::SecretRef| {
        let name = &reference.secret;
        secrets
            .get(name)
            .filter(|value| !value.is_empty())
            .cloned()
            .ok_or_else(|| {
                peer_error(
                    peer,
                    "configuration",
                    ErrorClass::ScopeOrConfig,
                    format!(
                        "connector file {} needs the secret {name:?}; set {} (or add {name} to the peer's secrets)",
                        file.origin,
                        crate::peers::registry::secret_env_var(peer, name)
                    ),
                    None,
                )
            })
    };
    Ok(match &file.auth {
        Authenticator::None => Auth::None,
        Authenticator::Bearer { token } => Auth::Bearer {
            token: secret(token)?,
        },
        Authenticator::Basic { username, password } => Auth::Basic {
            username: match username {
                TextOrSecret::Text(text) => text.clone(),
                TextOrSecret::Secret(reference) => secret(reference)?.expose().to_string(),
            },
            password: secret(password)?,
        },
        Authenticator::Header {
            header,
            value,
            prefix,
        } => Auth::Header {
            name: header.clone(),
            prefix: prefix.clone(),
            value: secret(value)?,
        },
        Authenticator::Query { params } => Auth::Query {
            params: params
                .iter()
                .map(|(name, value)| Ok((name.clone(), secret(value)?)))
                .collect::<Result<_, PeerError>>()?,
        },
    })
}

#[async_trait::async_trait]
impl Peer for RestPeer {
    fn accept_push(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Option<Result<crate::peers::push::PushAccepted, crate::peers::push::Refused>> {
        let secret = self.push_secret.as_ref()?;
        let checked = crate::peers::push::check_signed(
            &PUSH_HEADERS,
            secret.expose().as_bytes(),
            chrono::Utc::now().timestamp(),
            PUSH_TOLERANCE_SECS,
            headers,
            body,
        );
        // The body is only a nudge: the run reads the app's changes through its API.
        Some(
            checked.map(|(_, signature)| crate::peers::push::PushAccepted {
                replay_key: Some(signature),
                duplicate: false,
            }),
        )
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        self.file.capabilities()
    }

    /// One page of the list after `cursor`. Incremental entities ask for what changed since
    /// the last pass; full listings read everything again (unchanged records cost nothing).
    async fn fetch_changes(
        &self,
        kind: EntityKind,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        let spec = self.spec(kind)?;
        self.list_page(spec, cursor).await
    }

    fn can_get(&self, kind: EntityKind) -> bool {
        self.file
            .entity(kind)
            .is_some_and(|spec| spec.get.is_some())
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        let spec = self.spec(kind)?;
        self.get_record(spec, id).await
    }

    async fn upsert(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        let spec = self.spec(record.kind)?;
        self.write(spec, record).await
    }

    fn check(&self, record: &PeerRecord) -> Result<(), PeerError> {
        let spec = self.spec(record.kind)?;
        self.check_write(spec, record)
    }

    async fn delete(&self, kind: EntityKind, id: &str) -> Result<(), PeerError> {
        let spec = self.spec(kind)?;
        self.delete_record(spec, id).await
    }

    fn health(&self) -> PeerHealth {
        self.http.health()
    }
}
