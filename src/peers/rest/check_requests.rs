//! The requests' checks: methods, paths, parameters, placeholders and JSON pointers.

use std::collections::BTreeMap;

use reqwest::Method;
use toml::Spanned;

use super::check::{Checked, Checker};
use super::connector_file::{CallSpec, ListSpec, WriteSpec};
use super::file::{self, Body, Paginator};
use super::template::{Text, Var};

impl Checker<'_> {
    pub(super) fn list(&self, key: &str, raw: file::List) -> Checked<ListSpec> {
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

    pub(super) fn call(
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

    pub(super) fn write(
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

    pub(super) fn method(&self, raw: Option<&Spanned<String>>, default: Method) -> Checked<Method> {
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

    pub(super) fn path(
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

    pub(super) fn params(
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

    pub(super) fn text(
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
    pub(super) fn bare_pointer(&self, text: &str, what: &str) -> Checked<()> {
        if text.is_empty() || text.starts_with('/') {
            Ok(())
        } else {
            Err(self.at.error(
                self.at.find(&format!("{text:?}")),
                format!("{what} {text:?} is not a JSON pointer; write \"/{text}\" (or \"\" for the whole answer)"),
            ))
        }
    }

    pub(super) fn selector(&self, raw: Option<&Spanned<String>>) -> Checked<()> {
        raw.map_or(Ok(()), |raw| self.pointer(raw, "record_selector"))
    }

    pub(super) fn pointer(&self, raw: &Spanned<String>, what: &str) -> Checked<()> {
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

pub(super) fn uses_id(path: &Text, params: &[(String, Text)]) -> bool {
    path.uses(|v| *v == Var::Id) || params.iter().any(|(_, t)| t.uses(|v| *v == Var::Id))
}
