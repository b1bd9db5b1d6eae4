//! Checking a connector file after serde has read it: names, URLs, secrets, statuses and each
//! entity, every mistake located (`file:line:col`). The requests' own checks (paths,
//! placeholders, pointers, methods) are in `check_requests.rs`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde_json::Value;
use toml::Spanned;

use super::connector_file::{
    ConnectorFile, ConnectorFileError, DateFormat, EntitySpec, IncrementalSpec, LookupSpec,
};
use super::file::{self, Authenticator, RawFile};
use super::template::Var;
use crate::peers::EntityKind;
use reqwest::Method;

pub(super) struct Locator<'a> {
    pub text: &'a str,
    pub origin: &'a str,
}

impl Locator<'_> {
    pub fn error(&self, offset: usize, message: impl Into<String>) -> ConnectorFileError {
        let (line, column) = crate::config::line_column(self.text, offset);
        ConnectorFileError::Invalid {
            origin: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// Where `needle` first appears (a value that carries no span), else the file's start.
    pub fn find(&self, needle: &str) -> usize {
        self.text.find(needle).unwrap_or(0)
    }

    pub fn at(&self, span: &Range<usize>, message: impl Into<String>) -> ConnectorFileError {
        self.error(span.start, message)
    }

    /// A TOML or shape error. serde puts an unknown key of a tagged table (a paginator, an
    /// authenticator) at the table; the key's own line is found inside it.
    pub fn toml(&self, err: &toml::de::Error) -> ConnectorFileError {
        let message = err.message().trim_end().to_string();
        let offset = err.span().map_or(0, |span| {
            let named = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next());
            named
                .and_then(|key| find_key(self.text, span.clone(), key))
                .unwrap_or(span.start)
        });
        self.error(offset, crate::config::toml_problem(&message))
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

pub(super) struct Checker<'a> {
    pub at: Locator<'a>,
}

pub(super) type Checked<T> = Result<T, ConnectorFileError>;

impl Checker<'_> {
    pub fn file(&self, raw: RawFile) -> Checked<ConnectorFile> {
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
}
