//! `ConnectorFile`: a connector file read and checked — every path, pointer, placeholder,
//! method and date format — so a mistake is reported with `file:line:col` when the file is
//! loaded, never when a record is written.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use reqwest::Method;
use serde_json::Value;
use toml::Spanned;

use super::file::{self, Authenticator, Body, IdType, Paginator, RawFile, Requester};
use super::template::{Text, Var};
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
    fn parse_spec(spec: &str) -> Result<DateFormat, String> {
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

pub(crate) struct ListSpec {
    pub path: Text,
    pub params: Vec<(String, Text)>,
    pub selector: String,
    pub paginator: Paginator,
}

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
        let text = std::fs::read_to_string(path).map_err(|source| ConnectorFileError::Read {
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

struct Locator<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Locator<'_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> ConnectorFileError {
        let (line, column) = crate::config::line_column(self.text, offset);
        ConnectorFileError::Invalid {
            origin: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// Where `needle` first appears (a value that carries no span), else the file's start.
    fn find(&self, needle: &str) -> usize {
        self.text.find(needle).unwrap_or(0)
    }

    fn at(&self, span: &Range<usize>, message: impl Into<String>) -> ConnectorFileError {
        self.error(span.start, message)
    }

    /// A TOML or shape error. serde puts an unknown key of a tagged table (a paginator, an
    /// authenticator) at the table; the key's own line is found inside it.
    fn toml(&self, err: &toml::de::Error) -> ConnectorFileError {
        let message = err.message().trim_end().to_string();
        let offset = err.span().map_or(0, |span| {
            let named = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next());
            named
                .and_then(|key| find_key(self.text, span.clone(), key))
                .unwrap_or(span.start)
        });
        self.error(offset, message)
    }
}

/// Where `key =` starts a line inside `span`.
fn find_key(text: &str, span: Range<usize>, key: &str) -> Option<usize> {
    let region = text.get(span.clone())?;
    let mut offset = span.start;
    for line in region.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    None
}

struct Checker<'a> {
    at: Locator<'a>,
}

type Checked<T> = Result<T, ConnectorFileError>;

impl Checker<'_> {
    fn file(&self, raw: RawFile) -> Checked<ConnectorFile> {
        let name = raw.name.get_ref().trim().to_string();
        let valid_name = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !valid_name {
            return Err(self.at.at(
                &raw.name.span(),
                format!("name {name:?} must start with a lowercase letter and hold only a-z, 0-9, - and _"),
            ));
        }
        let base = raw.base_url.get_ref().trim();
        match url::Url::parse(base) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Err(self.at.at(
                    &raw.base_url.span(),
                    format!("base_url {base:?} is not an http(s) URL"),
                ));
            }
        }
        self.secrets(&raw.authenticator)?;
        let mut statuses = BTreeMap::new();
        for (status, class) in &raw.errors {
            let code = status
                .get_ref()
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|code| (100..=599).contains(code))
                .ok_or_else(|| {
                    self.at.at(
                        &status.span(),
                        format!("{:?} is not an HTTP status (100-599)", status.get_ref()),
                    )
                })?;
            statuses.insert(code, *class);
        }
        if raw
            .requester
            .requests_per_second
            .is_some_and(|rate| !rate.is_finite() || rate <= 0.0)
        {
            return Err(self
                .at
                .error(0, "requester.requests_per_second must be a positive number"));
        }
        let mut entities = BTreeMap::new();
        for (kind, entity) in [
            (EntityKind::Contact, raw.contact),
            (EntityKind::Task, raw.task),
            (EntityKind::Note, raw.note),
            (EntityKind::Appointment, raw.appointment),
        ] {
            if let Some(entity) = entity {
                entities.insert(kind, self.entity(kind, entity, &raw.name.span())?);
            }
        }
        if entities.is_empty() {
            return Err(self.at.error(
                0,
                "the file declares no entity; add a [contact] (or [task], [note], [appointment]) table",
            ));
        }
        Ok(ConnectorFile {
            origin: self.at.origin.to_string(),
            name,
            base_url: base.to_string(),
            requester: raw.requester,
            auth: raw.authenticator,
            statuses,
            entities,
        })
    }

    fn secrets(&self, auth: &Authenticator) -> Checked<()> {
        let check = |secret: &file::SecretRef| {
            let name = &secret.secret;
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if valid {
                Ok(())
            } else {
                Err(self.at.error(
                    self.at.find(&format!("{name:?}")),
                    format!("secret name {name:?} must hold only a-z, 0-9 and _ (it becomes part of an environment variable's name)"),
                ))
            }
        };
        match auth {
            Authenticator::None => Ok(()),
            Authenticator::Bearer { token } => check(token),
            Authenticator::Basic { username, password } => {
                if let file::TextOrSecret::Secret(secret) = username {
                    check(secret)?;
                }
                check(password)
            }
            Authenticator::Header { value, .. } => check(value),
            Authenticator::Query { params } => params.values().try_for_each(check),
        }
    }

    fn entity(
        &self,
        kind: EntityKind,
        raw: file::Entity,
        file_span: &Range<usize>,
    ) -> Checked<EntitySpec> {
        let key = file::kind_key(kind);
        let dates = match &raw.datetime_format {
            Some(spec) => DateFormat::parse_spec(spec.get_ref())
                .map_err(|message| self.at.at(&spec.span(), message))?,
            None => DateFormat::Rfc3339,
        };
        let list = match raw.list {
            Some(list) => Some(self.list(key, list)?),
            None => None,
        };
        if let (Some(full), Some(_)) = (&raw.full_listing, &raw.incremental_sync)
            && *full.get_ref()
        {
            return Err(self.at.at(
                &full.span(),
                format!(
                    "[{key}] has both full_listing = true and [{key}.incremental_sync]; keep one"
                ),
            ));
        }
        let incremental = match raw.incremental_sync {
            Some(inc) => {
                if list.is_none() {
                    return Err(self.at.at(
                        file_span,
                        format!("[{key}.incremental_sync] needs a [{key}.list] request"),
                    ));
                }
                let cursor_field = inc
                    .cursor_field
                    .clone()
                    .or_else(|| raw.updated_at_field.clone())
                    .ok_or_else(|| {
                        self.at.at(
                            file_span,
                            format!("[{key}.incremental_sync] needs cursor_field (or [{key}] updated_at_field)"),
                        )
                    })?;
                let start = match &inc.start_datetime {
                    Some(text) => Some(dates.read_text(text.get_ref()).ok_or_else(|| {
                        self.at.at(
                            &text.span(),
                            format!(
                                "start_datetime {:?} is not in the datetime_format",
                                text.get_ref()
                            ),
                        )
                    })?),
                    None => None,
                };
                Some(IncrementalSpec {
                    param: inc.start_time_param,
                    cursor_field,
                    start,
                    lookback: Duration::from_secs(inc.lookback_seconds),
                })
            }
            None => None,
        };
        if kind != EntityKind::Contact && list.is_some() && raw.parent_field.is_none() {
            let span = raw
                .full_listing
                .as_ref()
                .map_or(file_span.clone(), Spanned::span);
            return Err(self.at.at(
                &span,
                format!(
                    "[{key}] needs parent_field: the field naming the contact each {key} belongs to"
                ),
            ));
        }
        let get = raw
            .get
            .map(|call| self.call(key, "get", call, Method::GET, true))
            .transpose()?;
        let delete = raw
            .delete
            .map(|call| self.call(key, "delete", call, Method::DELETE, true))
            .transpose()?;
        let lookup = match raw.lookup {
            Some(lookup) => {
                let call = self.call(
                    key,
                    "lookup",
                    file::Call {
                        method: None,
                        path: lookup.path,
                        request_parameters: lookup.request_parameters,
                        record_selector: lookup.record_selector,
                    },
                    Method::GET,
                    false,
                )?;
                let uses_email = call.path.uses(|v| *v == Var::Email)
                    || call
                        .params
                        .iter()
                        .any(|(_, t)| t.uses(|v| *v == Var::Email));
                if !uses_email {
                    return Err(self.at.error(
                        0,
                        format!("[{key}.lookup] must use {{{{ email }}}} in its path or request_parameters"),
                    ));
                }
                Some(LookupSpec {
                    call,
                    email_field: lookup.email_field,
                })
            }
            None => None,
        };
        let create = raw
            .create
            .map(|write| self.write(key, "create", write, Method::POST, false))
            .transpose()?;
        let update = raw
            .update
            .map(|write| self.write(key, "update", write, Method::PUT, true))
            .transpose()?;
        let inactive_when = match raw.inactive_when {
            Some(when) => Some((
                when.field,
                serde_json::to_value(&when.equals).unwrap_or(Value::Null),
            )),
            None => None,
        };
        let mut read_only = raw.read_only;
        read_only.push(raw.primary_key.clone());
        read_only.extend(raw.updated_at_field.clone());
        Ok(EntitySpec {
            kind,
            primary_key: raw.primary_key,
            id_type: raw.id_type,
            updated_at_field: raw.updated_at_field,
            dates,
            parent_field: raw.parent_field,
            inactive_when,
            list,
            incremental,
            get,
            lookup,
            create,
            update,
            delete,
            read_only,
        })
    }

    fn list(&self, key: &str, raw: file::List) -> Checked<ListSpec> {
        let path = self.path(&raw.path, |_| false, &format!("[{key}.list] path"))?;
        let params = self.params(&raw.request_parameters, |_| false, &format!("[{key}.list]"))?;
        self.selector(raw.record_selector.as_ref())?;
        let page_size = match &raw.paginator {
            Paginator::None => None,
            Paginator::Offset { page_size, .. }
            | Paginator::PageNumber { page_size, .. }
            | Paginator::Cursor { page_size, .. }
            | Paginator::LinkHeader { page_size, .. } => Some(*page_size),
        };
        if page_size == Some(0) {
            return Err(self.at.at(
                &raw.path.span(),
                format!("[{key}.list.paginator] page_size must be at least 1"),
            ));
        }
        if let Paginator::Cursor {
            cursor_value,
            has_more,
            ..
        } = &raw.paginator
        {
            self.bare_pointer(cursor_value, "cursor_value")?;
            if let Some(has_more) = has_more {
                self.bare_pointer(has_more, "has_more")?;
            }
        }
        Ok(ListSpec {
            path,
            params,
            selector: raw
                .record_selector
                .map(Spanned::into_inner)
                .unwrap_or_default(),
            paginator: raw.paginator,
        })
    }

    fn call(
        &self,
        key: &str,
        what: &str,
        raw: file::Call,
        default: Method,
        needs_id: bool,
    ) -> Checked<CallSpec> {
        let method = self.method(raw.method.as_ref(), default)?;
        let allowed = |var: &Var| matches!(var, Var::Id | Var::Email);
        let path = self.path(&raw.path, allowed, &format!("[{key}.{what}] path"))?;
        let params = self.params(&raw.request_parameters, allowed, &format!("[{key}.{what}]"))?;
        self.selector(raw.record_selector.as_ref())?;
        if needs_id && !uses_id(&path, &params) {
            return Err(self.at.at(
                &raw.path.span(),
                format!("[{key}.{what}] must use {{{{ id }}}} in its path or request_parameters"),
            ));
        }
        Ok(CallSpec {
            method,
            path,
            params,
            selector: raw
                .record_selector
                .map(Spanned::into_inner)
                .unwrap_or_default(),
        })
    }

    fn write(
        &self,
        key: &str,
        what: &str,
        raw: file::Write,
        default: Method,
        needs_id: bool,
    ) -> Checked<WriteSpec> {
        let method = self.method(raw.method.as_ref(), default)?;
        let allowed = |var: &Var| !matches!(var, Var::Email | Var::Record);
        let path = self.path(&raw.path, allowed, &format!("[{key}.{what}] path"))?;
        let params = self.params(&raw.request_parameters, allowed, &format!("[{key}.{what}]"))?;
        if needs_id && !uses_id(&path, &params) {
            return Err(self.at.at(
                &raw.path.span(),
                format!("[{key}.{what}] must use {{{{ id }}}} in its path or request_parameters"),
            ));
        }
        let body =
            Body::of(raw.body.as_ref()).map_err(|(span, message)| self.at.at(&span, message))?;
        if let Some(pointer) = &raw.id_pointer {
            self.pointer(pointer, "id_pointer")?;
        }
        Ok(WriteSpec {
            method,
            path,
            params,
            body,
            id_pointer: raw.id_pointer.map(Spanned::into_inner),
            required: raw.required,
        })
    }

    fn method(&self, raw: Option<&Spanned<String>>, default: Method) -> Checked<Method> {
        let Some(raw) = raw else {
            return Ok(default);
        };
        match raw.get_ref().trim().to_ascii_uppercase().as_str() {
            "GET" => Ok(Method::GET),
            "POST" => Ok(Method::POST),
            "PUT" => Ok(Method::PUT),
            "PATCH" => Ok(Method::PATCH),
            "DELETE" => Ok(Method::DELETE),
            other => Err(self.at.at(
                &raw.span(),
                format!("unknown method {other:?}; expected GET, POST, PUT, PATCH or DELETE"),
            )),
        }
    }

    fn path(
        &self,
        raw: &Spanned<String>,
        allowed: impl Fn(&Var) -> bool,
        what: &str,
    ) -> Checked<Text> {
        let text = raw.get_ref();
        if !text.starts_with('/') || text.contains('?') || text.contains('#') {
            return Err(self.at.at(
                &raw.span(),
                format!(
                    "{what} {text:?} must start with / and carry no query (use request_parameters)"
                ),
            ));
        }
        self.text(raw, allowed, what)
    }

    fn params(
        &self,
        raw: &BTreeMap<String, Spanned<String>>,
        allowed: impl Fn(&Var) -> bool + Copy,
        what: &str,
    ) -> Checked<Vec<(String, Text)>> {
        raw.iter()
            .map(|(name, value)| {
                Ok((
                    name.clone(),
                    self.text(value, allowed, &format!("{what} request_parameters.{name}"))?,
                ))
            })
            .collect()
    }

    fn text(
        &self,
        raw: &Spanned<String>,
        allowed: impl Fn(&Var) -> bool,
        what: &str,
    ) -> Checked<Text> {
        let text =
            Text::parse(raw.get_ref()).map_err(|message| self.at.at(&raw.span(), message))?;
        if text.uses(|var| !allowed(var)) {
            return Err(self.at.at(
                &raw.span(),
                format!("{what}: a placeholder here has no value (lists take none; get, lookup and delete take id or email; writes take id, parent_id and record.<field>)"),
            ));
        }
        Ok(text)
    }

    /// A pointer inside a tagged table (no span): located by its text.
    fn bare_pointer(&self, text: &str, what: &str) -> Checked<()> {
        if text.is_empty() || text.starts_with('/') {
            Ok(())
        } else {
            Err(self.at.error(
                self.at.find(&format!("{text:?}")),
                format!("{what} {text:?} is not a JSON pointer; write \"/{text}\" (or \"\" for the whole answer)"),
            ))
        }
    }

    fn selector(&self, raw: Option<&Spanned<String>>) -> Checked<()> {
        raw.map_or(Ok(()), |raw| self.pointer(raw, "record_selector"))
    }

    fn pointer(&self, raw: &Spanned<String>, what: &str) -> Checked<()> {
        let text = raw.get_ref();
        if text.is_empty() || text.starts_with('/') {
            Ok(())
        } else {
            Err(self.at.at(
                &raw.span(),
                format!("{what} {text:?} is not a JSON pointer; write \"/{text}\" (or \"\" for the whole answer)"),
            ))
        }
    }
}

fn uses_id(path: &Text, params: &[(String, Text)]) -> bool {
    path.uses(|v| *v == Var::Id) || params.iter().any(|(_, t)| t.uses(|v| *v == Var::Id))
}

#[cfg(test)]
mod tests;
