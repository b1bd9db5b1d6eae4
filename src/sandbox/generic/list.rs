//! Lists: the paging style of the moment (offset, page number, cursor, Link header), the
//! `updated_since` filter when the app is incremental, the `email` filter; anything else 400.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::{Refusal, bad_request};
use super::store::Kind;
use super::{GenericAuth, GenericOptions, GenericPaging, PREFIX};
use crate::sandbox::state::{AppState, lock};

pub(super) fn route(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contacts",
        Kind::Note => "notes",
    }
}

/// The parameters a list takes in the app's current shape.
fn known_params(opts: &GenericOptions, kind: Kind) -> Vec<&'static str> {
    let mut known = match opts.paging {
        GenericPaging::Offset => vec!["limit", "offset"],
        GenericPaging::PageNumber | GenericPaging::LinkHeader => vec!["page", "per_page"],
        GenericPaging::Cursor => vec!["limit", "cursor"],
    };
    if opts.incremental {
        known.push("updated_since");
    }
    if kind == Kind::Contact {
        known.push("email");
    }
    if opts.auth == GenericAuth::Query {
        known.push("api_key");
    }
    known
}

fn number(params: &[(String, String)], name: &str, default: usize) -> Result<usize, Refusal> {
    match params.iter().find(|(n, _)| n == name) {
        None => Ok(default),
        Some((_, value)) => value
            .trim()
            .parse()
            .map_err(|_| bad_request(format!("{name} must be a whole number, not {value:?}"))),
    }
}

pub(super) fn list(st: &AppState, kind: Kind, params: Vec<(String, String)>) -> Response {
    let opts = st.generic.options();
    let known = known_params(&opts, kind);
    if let Some((unknown, _)) = params
        .iter()
        .find(|(name, _)| !known.contains(&name.as_str()))
    {
        return bad_request(format!(
            "unknown query parameter {unknown:?}; this list takes {}",
            known.join(", ")
        ))
        .into_response();
    }
    page(st, &opts, kind, &params).unwrap_or_else(IntoResponse::into_response)
}

fn page(
    st: &AppState,
    opts: &GenericOptions,
    kind: Kind,
    params: &[(String, String)],
) -> Result<Response, Refusal> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let since = match param("updated_since") {
        Some(text) => Some(
            chrono::DateTime::parse_from_rfc3339(text.trim())
                .map_err(|_| {
                    bad_request(format!("updated_since {text:?} is not an RFC 3339 date"))
                })?
                .timestamp_millis(),
        ),
        None => None,
    };
    let email = param("email").map(|e| e.trim().to_ascii_lowercase());
    let size_name = match opts.paging {
        GenericPaging::Offset | GenericPaging::Cursor => "limit",
        GenericPaging::PageNumber | GenericPaging::LinkHeader => "per_page",
    };
    let size = number(params, size_name, 25)?;
    if size == 0 || size > opts.max_page_size {
        return Err(bad_request(format!(
            "{size_name} must be between 1 and {}",
            opts.max_page_size
        )));
    }
    let data = lock(&st.generic.data);
    // Changes in order when incremental (what an updated_since reader needs), else by id.
    let mut rows: Vec<_> = data
        .rows(kind)
        .filter(|row| since.is_none_or(|since| row.updated_ms >= since))
        .filter(|row| {
            email.as_deref().is_none_or(|wanted| {
                row.fields
                    .get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(wanted))
            })
        })
        .collect();
    if opts.incremental {
        rows.sort_by_key(|row| (row.updated_ms, row.num));
    }
    let total = rows.len();
    let key = |row: &super::store::Row| format!("c{:x}.{:x}", row.updated_ms, row.num);
    let start = match opts.paging {
        GenericPaging::Offset => number(params, "offset", 0)?,
        GenericPaging::PageNumber | GenericPaging::LinkHeader => {
            let page = number(params, "page", 1)?;
            if page == 0 {
                return Err(bad_request("page starts at 1"));
            }
            (page - 1).saturating_mul(size)
        }
        GenericPaging::Cursor => match param("cursor").filter(|c| !c.is_empty()) {
            None => 0,
            Some(cursor) => {
                let at = rows
                    .iter()
                    .position(|row| key(row) == cursor)
                    .ok_or_else(|| {
                        bad_request(format!("cursor {cursor:?} is not one this list gave out"))
                    })?;
                at + 1
            }
        },
    };
    let slice: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(size)
        .map(|row| data.render(kind, row, opts.string_ids))
        .collect();
    let more = start + slice.len() < total;
    let mut meta = json!({"total": total});
    if opts.paging == GenericPaging::Cursor {
        let next = (more && !slice.is_empty()).then(|| key(rows[start + slice.len() - 1]));
        meta["next_cursor"] = json!(next);
    }
    let mut response = (
        StatusCode::OK,
        axum::Json(json!({"data": slice, "meta": meta})),
    )
        .into_response();
    if opts.paging == GenericPaging::LinkHeader && more {
        let page = number(params, "page", 1)?;
        let mut next = url::Url::parse(&format!("{}{PREFIX}/{}", st.base_url, route(kind)))
            .map_err(|_| bad_request("the sandbox's base URL is broken"))?;
        {
            let mut query = next.query_pairs_mut();
            for (name, value) in params.iter().filter(|(n, _)| n != "page") {
                query.append_pair(name, value);
            }
            query.append_pair("page", &(page + 1).to_string());
        }
        if let Ok(value) = header::HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}
