//! `ConnectorFile`: a connector file read and checked — every path, pointer, placeholder,
//! method and date format — so a mistake is reported with `file:line:col` when the file is
//! loaded, never when a record is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use reqwest::Method;
use serde_json::Value;

use super::check::{Checker, Locator};
use super::file::{self, Authenticator, Body, IdType, Paginator, RawFile, Requester};
use super::template::Text;
use crate::net::ErrorClass;
use crate::peers::{ChangeDetection, EntityCapability, EntityKind};

#[derive(Debug, thiserror::Error)]
pub enum ConnectorFileError {
    #[error("cannot read connector file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
}

impl ConnectorFileError {
    /// `(line, column)` of the mistake, when it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ConnectorFileError::Invalid { line, column, .. } => Some((*line, *column)),
            ConnectorFileError::Read { .. } => None,
        }
    }
}

/// How a date field is written in the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DateFormat {
    Rfc3339,
    Unix,
    UnixMs,
    /// A strftime pattern, read and written as UTC.
    Pattern(String),
}

impl DateFormat {
    pub(super) fn parse_spec(spec: &str) -> Result<DateFormat, String> {
        Ok(match spec.trim() {
            "rfc3339" | "iso8601" => DateFormat::Rfc3339,
            "unix" | "%s" => DateFormat::Unix,
            "unix_ms" | "%ms" => DateFormat::UnixMs,
            pattern if pattern.contains('%') => {
                let broken = chrono::format::StrftimeItems::new(pattern)
                    .any(|item| matches!(item, chrono::format::Item::Error));
                if broken {
                    return Err(format!("{pattern:?} is not a valid strftime pattern"));
                }
                DateFormat::Pattern(pattern.to_string())
            }
            other => {
                return Err(format!(
                    "unknown datetime_format {other:?}; expected rfc3339, unix, unix_ms or a strftime pattern such as \"%Y-%m-%d %H:%M:%S\""
                ));
            }
        })
    }

    /// A record's date value as an instant; `None` when it is not in this format.
    pub fn read(&self, value: &Value) -> Option<DateTime<Utc>> {
        match (self, value) {
            (DateFormat::Unix, Value::Number(n)) => Utc.timestamp_opt(n.as_i64()?, 0).single(),
            (DateFormat::UnixMs, Value::Number(n)) => {
                Utc.timestamp_millis_opt(n.as_i64()?).single()
            }
            (_, Value::String(text)) => self.read_text(text),
            _ => None,
        }
    }

    pub fn read_text(&self, text: &str) -> Option<DateTime<Utc>> {
        let text = text.trim();
        match self {
            DateFormat::Rfc3339 => DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|at| at.with_timezone(&Utc)),
            DateFormat::Unix => Utc.timestamp_opt(text.parse().ok()?, 0).single(),
            DateFormat::UnixMs => Utc.timestamp_millis_opt(text.parse().ok()?).single(),
            DateFormat::Pattern(pattern) => DateTime::parse_from_str(text, pattern)
                .map(|at| at.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    NaiveDateTime::parse_from_str(text, pattern)
                        .ok()
                        .map(|naive| naive.and_utc())
                }),
        }
    }

    pub fn write(&self, at: DateTime<Utc>) -> String {
        match self {
            DateFormat::Rfc3339 => at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            DateFormat::Unix => at.timestamp().to_string(),
            DateFormat::UnixMs => at.timestamp_millis().to_string(),
            // Checked when the file was read: no `Item::Error`, so formatting cannot fail.
            DateFormat::Pattern(pattern) => at.format(pattern).to_string(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct ListSpec {
    pub path: Text,
    pub params: Vec<(String, Text)>,
    pub selector: String,
    pub paginator: Paginator,
}

#[derive(Clone)]
pub(crate) struct IncrementalSpec {
    pub param: String,
    pub cursor_field: String,
    pub start: Option<DateTime<Utc>>,
    pub lookback: Duration,
}

#[derive(Clone)]
pub(crate) struct CallSpec {
    pub method: Method,
    pub path: Text,
    pub params: Vec<(String, Text)>,
    pub selector: String,
}

#[derive(Clone)]
pub(crate) struct LookupSpec {
    pub call: CallSpec,
    pub email_field: String,
}

#[derive(Clone)]
pub(crate) struct WriteSpec {
    pub method: Method,
    pub path: Text,
    pub params: Vec<(String, Text)>,
    pub body: Body,
    pub id_pointer: Option<String>,
    pub required: Vec<String>,
}

#[derive(Clone)]
pub(crate) struct EntitySpec {
    pub kind: EntityKind,
    pub primary_key: String,
    pub id_type: IdType,
    pub updated_at_field: Option<String>,
    pub dates: DateFormat,
    pub parent_field: Option<String>,
    pub inactive_when: Option<(String, Value)>,
    pub list: Option<ListSpec>,
    pub incremental: Option<IncrementalSpec>,
    pub get: Option<CallSpec>,
    pub lookup: Option<LookupSpec>,
    pub create: Option<WriteSpec>,
    pub update: Option<WriteSpec>,
    pub delete: Option<CallSpec>,
    pub read_only: Vec<String>,
}

impl EntitySpec {
    pub fn changes(&self) -> ChangeDetection {
        if self.incremental.is_some() {
            ChangeDetection::Cursor
        } else {
            ChangeDetection::FullListing
        }
    }
}

/// A connector file, read and checked.
#[derive(Clone)]
pub struct ConnectorFile {
    pub(crate) origin: String,
    pub(crate) name: String,
    pub(crate) base_url: String,
    pub(crate) requester: Requester,
    pub(crate) auth: Authenticator,
    pub(crate) statuses: BTreeMap<u16, ErrorClass>,
    pub(crate) entities: BTreeMap<EntityKind, EntitySpec>,
}

impl std::fmt::Debug for ConnectorFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorFile")
            .field("origin", &self.origin)
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("entities", &self.entities.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ConnectorFile {
    pub fn load(path: &Path) -> Result<ConnectorFile, ConnectorFileError> {
        let text = crate::bounded_file::read_text(path, crate::bounded_file::DEFINITION_FILE_BYTES)
            .map_err(|source| ConnectorFileError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        ConnectorFile::parse(&text, &path.display().to_string())
    }

    /// Reads `text`; `origin` names it in errors (the file's path).
    pub fn parse(text: &str, origin: &str) -> Result<ConnectorFile, ConnectorFileError> {
        let at = Locator { text, origin };
        let raw: RawFile = toml::from_str(text).map_err(|err| at.toml(&err))?;
        Checker { at }.file(raw)
    }

    /// The connector's own name (`name = "acme"`): the default peer name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The secrets the authenticator names, in file order, each once.
    pub fn secret_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.auth {
            Authenticator::None => Vec::new(),
            Authenticator::Bearer { token } => vec![token.secret.clone()],
            Authenticator::Basic { username, password } => {
                let mut names = Vec::new();
                if let file::TextOrSecret::Secret(secret) = username {
                    names.push(secret.secret.clone());
                }
                names.push(password.secret.clone());
                names
            }
            Authenticator::Header { value, .. } => vec![value.secret.clone()],
            Authenticator::Query { params } => {
                params.values().map(|value| value.secret.clone()).collect()
            }
        };
        let mut seen = std::collections::BTreeSet::new();
        names.retain(|name| seen.insert(name.clone()));
        names
    }

    pub fn capabilities(&self) -> Vec<EntityCapability> {
        self.entities
            .values()
            .map(|spec| EntityCapability {
                kind: spec.kind,
                read: spec.list.is_some(),
                write: spec.create.is_some() || spec.update.is_some(),
                changes: spec.changes(),
            })
            .collect()
    }

    pub(crate) fn entity(&self, kind: EntityKind) -> Option<&EntitySpec> {
        self.entities.get(&kind)
    }
}

#[cfg(test)]
mod tests;
