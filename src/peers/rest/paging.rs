//! Change pages of a list request. The engine's cursor is opaque to it; here it is a small JSON
//! object: `{"since": …}` between runs of an incremental entity (the newest `cursor_field` value
//! the last complete pass saw), plus `"page"` (where the next page starts) and `"max"` (the
//! newest value so far) in the middle of a pass. A full listing has no `since`: the engine
//! starts it from nothing every run and only carries the page position within the run, and
//! records that did not change since the last run cost nothing, their content hash matching
//! the baseline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::connector_file::{EntitySpec, ListSpec};
use super::file::Paginator;
use super::template::{Vars, value_text};

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PageToken {
    Offset(u64),
    Page(u64),
    Cursor(String),
    /// A `Link` header's next URL.
    Url(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CursorState {
    /// RFC 3339: records changed at or after this instant are asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageToken>,
    /// RFC 3339: the newest `cursor_field` value seen so far in this pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
}

impl CursorState {
    /// The stored cursor; a bare date (set by hand) is taken as `since`.
    pub fn parse(cursor: Option<&str>, spec: &EntitySpec) -> CursorState {
        let Some(text) = cursor.map(str::trim).filter(|text| !text.is_empty()) else {
            return CursorState::default();
        };
        if let Ok(state) = serde_json::from_str::<CursorState>(text) {
            return state;
        }
        let since = spec.dates.read_text(text).or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|at| at.with_timezone(&Utc))
        });
        CursorState {
            since: since.map(rfc3339),
            ..CursorState::default()
        }
    }

    pub fn to_text(&self) -> String {
        // A struct of strings and a plain enum: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.since.as_deref().and_then(instant)
    }

    pub fn max(&self) -> Option<DateTime<Utc>> {
        self.max.as_deref().and_then(instant)
    }
}

pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// The query of a list request for the page at `page` (`None`: the first).
pub(crate) fn page_query(
    list: &ListSpec,
    page: Option<&PageToken>,
) -> Result<Vec<(String, String)>, String> {
    let mut query = Vec::new();
    for (name, text) in &list.params {
        query.push((name.clone(), text.render(&Vars::default())?));
    }
    match &list.paginator {
        Paginator::None => {}
        Paginator::Offset {
            page_size,
            limit_param,
            offset_param,
        } => {
            let offset = match page {
                Some(PageToken::Offset(offset)) => *offset,
                _ => 0,
            };
            query.push((limit_param.clone(), page_size.to_string()));
            query.push((offset_param.clone(), offset.to_string()));
        }
        Paginator::PageNumber {
            page_size,
            page_size_param,
            page_param,
            start_from_page,
        } => {
            let number = match page {
                Some(PageToken::Page(number)) => *number,
                _ => *start_from_page,
            };
            query.push((page_param.clone(), number.to_string()));
            query.push((page_size_param.clone(), page_size.to_string()));
        }
        Paginator::Cursor {
            page_size,
            page_size_param,
            cursor_param,
            ..
        } => {
            query.push((page_size_param.clone(), page_size.to_string()));
            if let Some(PageToken::Cursor(cursor)) = page {
                query.push((cursor_param.clone(), cursor.clone()));
            }
        }
        Paginator::LinkHeader {
            page_size,
            page_size_param,
        } => query.push((page_size_param.clone(), page_size.to_string())),
    }
    Ok(query)
}

/// Where the page after this one starts; `Ok(None)` when this was the last. `rows` counts the
/// rows of the answer, records or not.
pub(crate) fn next_page(
    list: &ListSpec,
    page: Option<&PageToken>,
    rows: usize,
    json: &Value,
    next_link: Option<String>,
) -> Result<Option<PageToken>, String> {
    let full = |page_size: &u32| rows >= *page_size as usize;
    Ok(match &list.paginator {
        Paginator::None => None,
        Paginator::Offset { page_size, .. } => full(page_size).then(|| {
            let offset = match page {
                Some(PageToken::Offset(offset)) => *offset,
                _ => 0,
            };
            PageToken::Offset(offset + rows as u64)
        }),
        Paginator::PageNumber {
            page_size,
            start_from_page,
            ..
        } => full(page_size).then(|| {
            let number = match page {
                Some(PageToken::Page(number)) => *number,
                _ => *start_from_page,
            };
            PageToken::Page(number + 1)
        }),
        Paginator::Cursor {
            cursor_value,
            has_more,
            ..
        } => {
            let more = has_more
                .as_ref()
                .and_then(|pointer| json.pointer(pointer))
                .and_then(Value::as_bool);
            let next = json
                .pointer(cursor_value)
                .and_then(value_text)
                .filter(|next| !next.trim().is_empty());
            match next {
                _ if more == Some(false) || rows == 0 => None,
                None => None,
                Some(next) => {
                    if page == Some(&PageToken::Cursor(next.clone())) {
                        return Err(format!(
                            "the next cursor ({next}) is the one just used; reading on would loop"
                        ));
                    }
                    Some(PageToken::Cursor(next))
                }
            }
        }
        Paginator::LinkHeader { .. } => {
            match next_link {
                Some(url) if rows > 0 => {
                    if page == Some(&PageToken::Url(url.clone())) {
                        return Err("the Link header's next page is the page just read; reading on would loop".into());
                    }
                    Some(PageToken::Url(url))
                }
                _ => None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(paginator: &str) -> ListSpec {
        let text = format!(
            "name = \"t\"\nbase_url = \"http://h\"\n[contact.list]\npath = \"/c\"\nrecord_selector = \"/data\"\n[contact.list.paginator]\n{paginator}\n"
        );
        let file = super::super::ConnectorFile::parse(&text, "t.toml").unwrap();
        let mut entities = file.entities;
        entities
            .remove(&crate::peers::EntityKind::Contact)
            .and_then(|spec| spec.list)
            .unwrap()
    }

    #[test]
    fn offset_and_page_number_stop_at_a_short_page() {
        let offset = list("type = \"offset\"\npage_size = 2");
        assert_eq!(
            page_query(&offset, None).unwrap(),
            vec![("limit".into(), "2".into()), ("offset".into(), "0".into())]
        );
        let next = next_page(&offset, None, 2, &json!({}), None).unwrap();
        assert_eq!(next, Some(PageToken::Offset(2)));
        assert_eq!(
            next_page(&offset, next.as_ref(), 1, &json!({}), None).unwrap(),
            None
        );
        let pages = list("type = \"page_number\"\npage_size = 3\nstart_from_page = 0");
        assert_eq!(
            page_query(&pages, None).unwrap(),
            vec![("page".into(), "0".into()), ("per_page".into(), "3".into())]
        );
        assert_eq!(
            next_page(&pages, Some(&PageToken::Page(4)), 3, &json!({}), None).unwrap(),
            Some(PageToken::Page(5))
        );
    }

    #[test]
    fn cursors_come_from_the_body_and_never_loop() {
        let cursor = list("type = \"cursor\"\npage_size = 2\ncursor_value = \"/meta/next\"");
        let answer = json!({"meta": {"next": "abc"}});
        let next = next_page(&cursor, None, 2, &answer, None).unwrap();
        assert_eq!(next, Some(PageToken::Cursor("abc".into())));
        assert!(next_page(&cursor, next.as_ref(), 2, &answer, None).is_err());
        assert_eq!(
            next_page(&cursor, None, 2, &json!({"meta": {"next": null}}), None).unwrap(),
            None
        );
        assert_eq!(
            page_query(&cursor, next.as_ref()).unwrap(),
            vec![
                ("limit".into(), "2".into()),
                ("cursor".into(), "abc".into())
            ]
        );
    }

    #[test]
    fn cursor_state_round_trips_and_accepts_a_bare_date() {
        let file = super::super::ConnectorFile::parse(
            "name = \"t\"\nbase_url = \"http://h\"\n[contact.list]\npath = \"/c\"\n",
            "t.toml",
        )
        .unwrap();
        let spec = file.entity(crate::peers::EntityKind::Contact).unwrap();
        let state = CursorState {
            since: Some("2024-01-02T03:04:05Z".into()),
            page: Some(PageToken::Offset(50)),
            max: None,
        };
        assert_eq!(CursorState::parse(Some(&state.to_text()), spec), state);
        let bare = CursorState::parse(Some("2024-01-02T03:04:05+01:00"), spec);
        assert_eq!(bare.since.as_deref(), Some("2024-01-02T02:04:05Z"));
        assert_eq!(CursorState::parse(None, spec), CursorState::default());
    }
}
