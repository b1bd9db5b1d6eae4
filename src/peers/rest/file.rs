//! The connector file: a TOML description of a REST app, read with `deny_unknown_fields` and
//! checked with `file:line:col` errors that name the valid alternatives.
//!
//! The vocabulary follows Airbyte's declarative manifests where it has a word for the thing
//! (`requester`, `authenticator`, `paginator`, `record_selector`, `primary_key`,
//! `incremental_sync` with `cursor_field`, `datetime_format` and `start_time_param`), and goes
//! past them for what they lack: get by id, lookup by email, create / update / delete requests.
//! `assets/connectors/crm-offset.toml` is the annotated example.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::template::Template;
use crate::net::ErrorClass;
use crate::peers::EntityKind;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub name: Spanned<String>,
    pub base_url: Spanned<String>,
    #[serde(default)]
    pub requester: Requester,
    #[serde(default)]
    pub authenticator: Authenticator,
    /// Status → class overrides: `409 = "not_found"`.
    #[serde(default)]
    pub errors: BTreeMap<Spanned<String>, ErrorClass>,
    pub contact: Option<Entity>,
    pub task: Option<Entity>,
    pub note: Option<Entity>,
    pub appointment: Option<Entity>,
}

/// Request settings shared by every call of the app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Requester {
    pub timeout_secs: u64,
    /// Pacing: at most this many requests per second (absent: no pacing).
    pub requests_per_second: Option<f64>,
    /// Attempts per read for transient failures, the first included.
    pub max_attempts: u32,
    /// Sent on every request (`Accept: application/json` always is).
    pub headers: BTreeMap<String, String>,
}

impl Default for Requester {
    fn default() -> Self {
        Requester {
            timeout_secs: 30,
            requests_per_second: None,
            max_attempts: 4,
            headers: BTreeMap::new(),
        }
    }
}

/// How requests prove who sends them. Secrets are named, never written in the file:
/// `token = { secret = "api_token" }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Authenticator {
    #[default]
    None,
    /// `Authorization: Bearer <token>` (Airbyte's BearerAuthenticator).
    Bearer { token: SecretRef },
    /// HTTP Basic (BasicHttpAuthenticator); the username may be plain text or a secret.
    Basic {
        username: TextOrSecret,
        password: SecretRef,
    },
    /// An API key in a header (ApiKeyAuthenticator with `inject_into = header`).
    Header {
        header: String,
        value: SecretRef,
        /// Put before the value: `"Token "`.
        #[serde(default)]
        prefix: String,
    },
    /// API keys as query parameters: `params = { api_key = { secret = "api_key" } }`.
    Query { params: BTreeMap<String, SecretRef> },
}

/// `{ secret = "name" }`. (Plain strings: values inside a tagged table cannot carry a span;
/// a bad name is found in the text instead.)
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    pub secret: String,
}

/// A plain value, or `{ secret = "name" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextOrSecret {
    Text(String),
    Secret(SecretRef),
}

impl<'de> Deserialize<'de> for TextOrSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Text(String),
            Secret(SecretRef),
        }
        match Shape::deserialize(deserializer) {
            Ok(Shape::Text(text)) => Ok(TextOrSecret::Text(text)),
            Ok(Shape::Secret(secret)) => Ok(TextOrSecret::Secret(secret)),
            Err(_) => Err(serde::de::Error::custom(
                "expected a text value or { secret = \"name\" }",
            )),
        }
    }
}

/// How record ids look in the app: `number` ids let a write tell the app's ids from GHL's
/// without asking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    #[default]
    String,
    Number,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entity {
    /// The record field holding its id.
    #[serde(default = "default_primary_key")]
    pub primary_key: String,
    #[serde(default)]
    pub id_type: IdType,
    /// The record field holding when it last changed.
    pub updated_at_field: Option<String>,
    /// `rfc3339` (default), `unix`, `unix_ms` or a strftime pattern such as `%Y-%m-%d %H:%M:%S`
    /// (read as UTC): how `updated_at_field` is written and `start_time_param` is sent.
    #[serde(default)]
    pub datetime_format: Option<Spanned<String>>,
    /// Tasks, notes, appointments: the field naming the owning contact's id.
    pub parent_field: Option<String>,
    /// A record is inactive (deleted, archived) when this field holds this value.
    pub inactive_when: Option<InactiveWhen>,
    /// No incremental parameter: every run reads the whole list and unchanged records are
    /// skipped by their content hash (the default when `incremental_sync` is absent).
    pub full_listing: Option<Spanned<bool>>,
    pub list: Option<List>,
    pub incremental_sync: Option<Incremental>,
    pub get: Option<Call>,
    pub lookup: Option<Lookup>,
    pub create: Option<Write>,
    pub update: Option<Write>,
    pub delete: Option<Call>,
    /// Record fields never sent in a write body (the id and updated-at fields always are not).
    #[serde(default)]
    pub read_only: Vec<String>,
}

fn default_primary_key() -> String {
    "id".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InactiveWhen {
    pub field: String,
    pub equals: toml::Value,
}

/// The list request (Airbyte's requester + paginator + record selector).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct List {
    pub path: Spanned<String>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, Spanned<String>>,
    /// JSON pointer to the records array (`/data`); `""` when the body is the array.
    pub record_selector: Option<Spanned<String>>,
    #[serde(default)]
    pub paginator: Paginator,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Paginator {
    /// One request returns everything.
    #[default]
    None,
    /// `?limit=N&offset=K` (Airbyte's OffsetIncrement); done at a short page.
    Offset {
        page_size: u32,
        #[serde(default = "limit")]
        limit_param: String,
        #[serde(default = "offset")]
        offset_param: String,
    },
    /// `?page=P&per_page=N` (PageIncrement); done at a short page.
    PageNumber {
        page_size: u32,
        #[serde(default = "per_page")]
        page_size_param: String,
        #[serde(default = "page")]
        page_param: String,
        #[serde(default = "one")]
        start_from_page: u64,
    },
    /// `?cursor=C&limit=N` (CursorPagination); the next cursor sits at `cursor_value`, a JSON
    /// pointer into the answer; done when it is absent, null or empty (or `has_more` is false).
    Cursor {
        page_size: u32,
        #[serde(default = "limit")]
        page_size_param: String,
        #[serde(default = "cursor")]
        cursor_param: String,
        cursor_value: String,
        has_more: Option<String>,
    },
    /// The next page's URL comes in `Link: <…>; rel="next"` (GitHub style).
    LinkHeader {
        page_size: u32,
        #[serde(default = "per_page")]
        page_size_param: String,
    },
}

fn limit() -> String {
    "limit".into()
}
fn offset() -> String {
    "offset".into()
}
fn per_page() -> String {
    "per_page".into()
}
fn page() -> String {
    "page".into()
}
fn cursor() -> String {
    "cursor".into()
}
fn one() -> u64 {
    1
}

/// Incremental reads (Airbyte's DatetimeBasedCursor): each run asks for records changed since
/// the newest `cursor_field` value seen by the last run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Incremental {
    /// The query parameter carrying the start time (`updated_since`).
    pub start_time_param: String,
    /// The record field the cursor follows; defaults to the entity's `updated_at_field`.
    pub cursor_field: Option<String>,
    /// The first run's start (in `datetime_format`); absent: from the beginning.
    pub start_datetime: Option<Spanned<String>>,
    /// Read again this many seconds before the last newest value (clock-skewed apps).
    #[serde(default)]
    pub lookback_seconds: u64,
}

/// One request: get by id, delete.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Call {
    pub method: Option<Spanned<String>>,
    pub path: Spanned<String>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, Spanned<String>>,
    /// JSON pointer to the record in the answer (`/data`); `""` (default) for the whole body.
    pub record_selector: Option<Spanned<String>>,
}

/// Finding a record by email: the request (with `{{ email }}` in a parameter or the path) and
/// the record field the answer is checked against, since apps may ignore a filter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lookup {
    pub path: Spanned<String>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, Spanned<String>>,
    pub record_selector: Option<Spanned<String>>,
    #[serde(default = "email")]
    pub email_field: String,
}

fn email() -> String {
    "email".into()
}

/// A create or update request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Write {
    pub method: Option<Spanned<String>>,
    pub path: Spanned<String>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, Spanned<String>>,
    /// `"record"`: the record's fields as the JSON body (the default); or a template such as
    /// `{ contact = { name = "{{ record.name }}", email = "{{ record.email }}" } }`.
    pub body: Option<Spanned<toml::Value>>,
    /// Creates: JSON pointer to the new id in the answer (default `/<primary_key>`, then
    /// `/data/<primary_key>`, then the `Location` header's last segment).
    pub id_pointer: Option<Spanned<String>>,
    /// Fields that must not be empty (checked before any request; a dry run reports them).
    #[serde(default)]
    pub required: Vec<String>,
}

/// A checked body: the record as it is, or a template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    Record,
    Template(Template),
}

impl Body {
    pub fn of(
        value: Option<&Spanned<toml::Value>>,
    ) -> Result<Body, (std::ops::Range<usize>, String)> {
        let Some(value) = value else {
            return Ok(Body::Record);
        };
        let span = value.span();
        let json = serde_json::to_value(value.get_ref()).map_err(|err| {
            (
                span.clone(),
                format!("the body cannot be written as JSON: {err}"),
            )
        })?;
        if let serde_json::Value::String(text) = &json {
            let trimmed = text.trim();
            if trimmed == "record" || trimmed.replace(' ', "") == "{{record}}" {
                return Ok(Body::Record);
            }
        }
        Template::compile(&json)
            .map(Body::Template)
            .map_err(|message| (span, format!("body: {message}")))
    }
}

pub(crate) fn kind_key(kind: EntityKind) -> &'static str {
    kind.as_str()
}
