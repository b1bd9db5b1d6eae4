//! Robly connector (peer-apis.md §2): email-marketing members as contacts. `api_id` and
//! `api_key` ride in the query string of every call (the shared client scrubs both from every
//! message); members are read by `updated_since` plus the member-id high-water mark
//! (`members.rs`); writes search by email, then update or sign up, never duplicate
//! (`writes.rs`). Robly has no tasks, notes or appointments, and no webhooks.

mod connector;
pub(crate) mod members;
mod settings;
mod writes;

pub use connector::CONNECTOR;
pub use settings::{DEFAULT_BASE_URL, ListPath, RoblySettings, SinceFormat, WriteParams};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use self::members::{Cursor, Phase};
use super::http::{Auth, HttpSettings, PeerHttp, Request};
use super::{ChangePage, EntityCapability, EntityKind, Peer, PeerError, PeerRecord, WriteOutcome};
use crate::net::ErrorClass;

const PEER: &str = "robly";

/// The switches that make Robly send real mail. Never settable: every write that takes them
/// sends them false (`writes::mail_off`), and a record naming one is refused.
pub const MAIL_SWITCHES: [&str; 4] = [
    "welcome_email",
    "double_opt_in",
    "include_autoresponder",
    "include_automations",
];

pub struct RoblyPeer {
    settings: RoblySettings,
    http: PeerHttp,
    /// The account's field tags (user and default tags), from `fields/show`.
    fields: Mutex<Option<BTreeSet<String>>>,
    /// Sub-list ids by lowercased name, from `sub_lists/show?include_all=true`.
    lists: Mutex<Option<BTreeMap<String, u64>>>,
}

impl std::fmt::Debug for RoblyPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoblyPeer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RoblyPeer {
    /// Checks the credentials and settings, and builds the client (which checks the URL).
    pub fn new(settings: RoblySettings) -> Result<Self, PeerError> {
        let config =
            |detail: &str| PeerError::unsupported(PEER, format!("configuration: {detail}"));
        if settings.api_id.is_empty() || settings.api_key.is_empty() {
            return Err(config(
                "the API ID and API key are required (Robly → Settings → My Account → API Details)",
            ));
        }
        if !(1..=100).contains(&settings.page_size) {
            return Err(config("page_size must be between 1 and 100"));
        }
        let auth = Auth::Query {
            params: vec![
                ("api_id".into(), settings.api_id.clone()),
                ("api_key".into(), settings.api_key.clone()),
            ],
        };
        let mut http = HttpSettings::new(PEER, &settings.base_url, auth);
        http.timeout = Duration::from_secs(settings.timeout_secs.max(1));
        http.min_interval = Duration::from_millis(settings.min_request_interval_ms);
        http.retry = settings.retry.clone();
        Ok(RoblyPeer {
            http: PeerHttp::new(http)?,
            settings,
            fields: Mutex::new(None),
            lists: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &RoblySettings {
        &self.settings
    }

    fn error(&self, operation: &str, class: ErrorClass, detail: impl AsRef<str>) -> PeerError {
        self.http.error(operation, class, detail, None)
    }

    async fn get_json(&self, path: &str, query: &[(&str, String)]) -> Result<Value, PeerError> {
        let mut request = Request::get(path).operation(format!("GET {path}"));
        for (name, value) in query {
            request = request.query(*name, value.clone());
        }
        Ok(self.http.send(request).await?.json)
    }

    /// One page of the member list: its records, and how many rows the answer held (a short
    /// page ends the walk whether or not every row made a record).
    async fn list(
        &self,
        offset: u64,
        since: Option<i64>,
    ) -> Result<(Vec<PeerRecord>, usize), PeerError> {
        let path = self.settings.list_path.path();
        let mut query = vec![
            ("limit", self.settings.page_size.to_string()),
            ("offset", offset.to_string()),
            ("include_fields", "true".to_string()),
            ("include_sub_lists", "true".to_string()),
        ];
        if let Some(since) = since {
            query.push((
                "updated_since",
                members::since_text(since, self.settings.updated_since_format),
            ));
        }
        let json = self.get_json(path, &query).await?;
        let Some(rows) = json.as_array() else {
            return Err(self.error(
                &format!("GET {path}"),
                ErrorClass::Decode,
                "expected a list of {\"member\": …}",
            ));
        };
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            match members::member_of(row).and_then(members::record) {
                Some(record) => records.push(record),
                None => tracing::warn!(peer = PEER, "skipped a member without an id"),
            }
        }
        Ok((records, rows.len()))
    }

    async fn fetch_contacts(&self, cursor: Option<&str>) -> Result<ChangePage, PeerError> {
        let mut cursor = Cursor::parse(cursor)
            .map_err(|detail| self.error("read members", ErrorClass::Validation, detail))?;
        let limit = u64::from(self.settings.page_size);
        let since = match cursor.phase {
            Phase::New | Phase::Full => None,
            Phase::Updated => cursor.since,
        };
        let (mut records, rows) = self.list(cursor.offset, since).await?;
        let short = (rows as u64) < limit;
        cursor.saw(&records);
        let (next, done) = match cursor.phase {
            Phase::New => {
                let hwm = cursor.hwm;
                let reached = short || records.iter().any(|r| id_of(r) <= hwm);
                records.retain(|r| id_of(r) > hwm);
                if reached {
                    cursor.phase = Phase::Updated;
                    cursor.offset = 0;
                } else {
                    cursor.offset += limit;
                }
                (cursor, false)
            }
            Phase::Full | Phase::Updated if short => {
                (cursor.next_pass(self.settings.overlap_secs), true)
            }
            Phase::Full | Phase::Updated => {
                cursor.offset += limit;
                (cursor, false)
            }
        };
        Ok(ChangePage {
            records,
            next_cursor: Some(next.text()),
            done,
        })
    }

    /// The member with this id, fields and sub-lists included.
    async fn member_by_id(&self, id: u64) -> Result<Option<PeerRecord>, PeerError> {
        self.search(&[("member_id", id.to_string())]).await
    }

    /// The member with this email (Robly compares without case).
    async fn member_by_email(&self, email: &str) -> Result<Option<PeerRecord>, PeerError> {
        self.search(&[("email", email.trim().to_string())]).await
    }

    async fn search(&self, key: &[(&str, String)]) -> Result<Option<PeerRecord>, PeerError> {
        let mut query = key.to_vec();
        query.push(("include_fields", "true".into()));
        query.push(("include_sub_lists", "true".into()));
        match self.get_json("contacts/search", &query).await {
            Ok(json) => Ok(members::member_of(&json).and_then(members::record)),
            Err(err) if err.class() == ErrorClass::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }
}

fn id_of(record: &PeerRecord) -> u64 {
    record.id.parse().unwrap_or(0)
}

#[async_trait::async_trait]
impl Peer for RoblyPeer {
    fn name(&self) -> &str {
        PEER
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        connector::capabilities()
    }

    async fn fetch_changes(
        &self,
        kind: EntityKind,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        match kind {
            EntityKind::Contact => self.fetch_contacts(cursor).await,
            other => Err(PeerError::unsupported(
                PEER,
                format!("Robly has no {other}s"),
            )),
        }
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        if kind != EntityKind::Contact {
            return Err(PeerError::unsupported(
                PEER,
                format!("Robly has no {kind}s"),
            ));
        }
        match id.trim().parse::<u64>() {
            Ok(id) => self.member_by_id(id).await,
            // Not a member id (a GHL id a create is filed under): no such member.
            Err(_) => Ok(None),
        }
    }

    async fn upsert(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        self.write(record).await
    }

    fn check(&self, record: &PeerRecord) -> Result<(), PeerError> {
        self.check_locally(record)
    }

    fn health(&self) -> crate::peers::PeerHealth {
        self.http.health()
    }
}

impl RoblyPeer {
    /// A POST whose parameters go where `write_params` says (`member_id` always in the query,
    /// as Robly's docs write it); `{"successful": false}` is a refusal.
    async fn post(
        &self,
        path: &str,
        member_id: Option<u64>,
        params: Vec<(String, String)>,
    ) -> Result<Value, PeerError> {
        let operation = format!("POST {path}");
        let mut request = Request::new(Method::POST, path).operation(operation.clone());
        if let Some(id) = member_id {
            request = request.query("member_id", id.to_string());
        }
        request = match self.settings.write_params {
            WriteParams::Query => params
                .into_iter()
                .fold(request, |request, (name, value)| request.query(name, value)),
            WriteParams::Form => request.form(params),
        };
        let json = self.http.send(request).await?.json;
        if json.get("successful").and_then(Value::as_bool) == Some(false) {
            let message = json
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(self.error(&operation, ErrorClass::Validation, message));
        }
        Ok(json)
    }
}

#[cfg(test)]
mod tests;
