//! Contact lists: the deprecated cursor walk `GET /contacts/`, `POST /contacts/search`, the
//! duplicate lookup and the by-business list.
//!
//! `count` on the lists is the number of matching contacts (as `meta.total`), not the page size.

use std::cmp::Reverse;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::ghl::models::{
    Contact, ContactList, ContactSearchBody, ContactSearchResponse, ContactsMeta,
    DuplicateContactResponse,
};
use crate::sandbox::auth::{Caller, check_location};
use crate::sandbox::body::{JsonBody, Kind, opt, req, validate};
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::{ContactRec, Key, phone_digits};

use super::search_filters::Filter;
use super::{LocatedQuery, query_int, query_number};

/// `query`: case-insensitive substring of name, email, phone or company; digits also match the
/// phone whatever its punctuation.
pub fn text_match(contact: &Contact, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return true;
    }
    let hit = |field: &Option<String>| {
        field
            .as_ref()
            .is_some_and(|v| v.to_lowercase().contains(&q))
    };
    let digits = phone_digits(&q);
    hit(&contact.name)
        || hit(&contact.first_name)
        || hit(&contact.last_name)
        || hit(&contact.email)
        || hit(&contact.phone)
        || hit(&contact.company_name)
        || (digits.len() >= 3
            && digits.len() * 2 >= q.len()
            && contact
                .phone
                .as_deref()
                .is_some_and(|p| phone_digits(p).contains(&digits)))
}

pub async fn list(
    State(st): State<Arc<AppState>>,
    LocatedQuery(q, location): LocatedQuery,
) -> ApiResult {
    let limit = query_int(&q, "limit", 20, 1, 100)? as usize;
    let start_after = q
        .get("startAfter")
        .filter(|v| !v.is_empty())
        .map(|v| {
            query_number(v).ok_or_else(|| {
                ApiError::unprocessable(vec![
                    "startAfter must be a number conforming to the specified constraints".into(),
                ])
            })
        })
        .transpose()?;
    let start_after_id = q.get("startAfterId").filter(|v| !v.is_empty()).cloned();
    let query = q.get("query").cloned().unwrap_or_default();
    let store = lock(&st.data);
    let cursor = match (start_after, start_after_id) {
        (Some(ms), Some(id)) => Some((Reverse(ms), id)),
        (None, Some(id)) => {
            let rec = store
                .owned(&id, &location)
                .map_err(|_| ApiError::bad_request("startAfterId is invalid"))?;
            Some(rec.key())
        }
        // "~" sorts after every alphanumeric id: the page starts strictly older than `ms`.
        (Some(ms), None) => Some((Reverse(ms), "~".to_string())),
        (None, None) => None,
    };
    let matching = |rec: &&ContactRec| text_match(&rec.contact, &query);
    // Without a query every contact matches: count from the order alone, not record by record.
    let unfiltered = query.trim().is_empty();
    let (total, remaining) = if unfiltered {
        let remaining = store.count_after(&location, cursor.clone());
        (store.count_in(&location), remaining)
    } else {
        let total = store.walk(&location, None).filter(matching).count();
        let remaining = store
            .walk(&location, cursor.clone())
            .filter(matching)
            .count();
        (total, remaining)
    };
    let mut after = store.walk(&location, cursor).filter(matching);
    let page: Vec<&ContactRec> = after.by_ref().take(limit).collect();
    let more = after.next().is_some();
    let before = total.saturating_sub(remaining);
    let current_page = (before / limit + 1) as u64;
    let last = page.last().map(|r| (r.added_ms, r.contact.id.clone()));
    let next_page_url = match (&last, more) {
        (Some((ms, id)), true) => {
            let mut url = url::Url::parse(&format!("{}/contacts/", st.base_url))
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            url.query_pairs_mut()
                .append_pair("locationId", &location)
                .append_pair("startAfter", &ms.to_string())
                .append_pair("startAfterId", id)
                .append_pair("limit", &limit.to_string());
            if !query.is_empty() {
                url.query_pairs_mut().append_pair("query", &query);
            }
            Some(url.to_string())
        }
        _ => None,
    };
    let meta = ContactsMeta {
        total: Some(total as u64),
        next_page_url,
        start_after_id: last.as_ref().map(|(_, id)| id.clone()),
        start_after: last.as_ref().map(|(ms, _)| *ms),
        current_page: Some(current_page),
        next_page: more.then_some(current_page + 1),
        prev_page: (current_page > 1).then(|| current_page - 1),
    };
    let contacts = page.into_iter().map(|r| r.contact.clone()).collect();
    ok(
        StatusCode::OK,
        ContactList {
            contacts,
            count: Some(total as u64),
            meta: Some(meta),
            trace_id: None,
        },
    )
}

const SEARCH_RULES: &[crate::sandbox::body::Rule] = &[
    req("locationId", Kind::Str),
    req("pageLimit", Kind::Num),
    opt("page", Kind::Num),
    opt("searchAfter", Kind::Array),
    opt("filters", Kind::Array),
    opt("sort", Kind::Array),
    opt("query", Kind::Str),
];

/// Search order: `dateAdded` descending (the default) or ascending, ties by id.
fn sort_ascending(sort: Option<&Vec<Value>>) -> Result<bool, ApiError> {
    let mut ascending = false;
    for item in sort.into_iter().flatten() {
        let field = item
            .get("field")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let direction = item
            .get("direction")
            .and_then(Value::as_str)
            .unwrap_or("desc");
        if field != "dateAdded" || !matches!(direction, "asc" | "desc") {
            return Err(ApiError::unprocessable(vec![format!(
                "sort {item} is not supported (the sandbox sorts by dateAdded asc or desc)"
            )]));
        }
        ascending = direction == "asc";
    }
    Ok(ascending)
}

fn search_after(value: Option<&Vec<Value>>) -> Result<Option<Key>, ApiError> {
    let Some(items) = value else { return Ok(None) };
    match items.as_slice() {
        [ms, id] if ms.as_i64().is_some() && id.is_string() => Ok(Some((
            Reverse(ms.as_i64().unwrap_or_default()),
            id.as_str().unwrap_or_default().to_string(),
        ))),
        _ => Err(ApiError::unprocessable(vec![
            "searchAfter must be [dateAdded epoch ms, contact id]".into(),
        ])),
    }
}

pub async fn search(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = validate::<ContactSearchBody>(&body, SEARCH_RULES)?;
    let location = dto.location_id.clone().unwrap_or_default();
    check_location(&caller, &location)?;
    let limit = dto.page_limit.unwrap_or_default() as usize;
    let mut problems = Vec::new();
    if limit < 1 {
        problems.push("pageLimit must not be less than 1".to_string());
    }
    if limit > 500 {
        problems.push("pageLimit must not be greater than 500".to_string());
    }
    if dto.query.as_ref().is_some_and(|q| q.chars().count() > 75) {
        problems.push("query must be shorter than or equal to 75 characters".to_string());
    }
    if dto.page.is_some() && dto.search_after.is_some() {
        problems.push("page and searchAfter cannot be used together".to_string());
    }
    let page = dto.page.unwrap_or(1).max(1) as usize;
    if page * limit > 10_000 {
        problems.push("page pagination is limited to 10000 records; use searchAfter".to_string());
    }
    if !problems.is_empty() {
        return Err(ApiError::unprocessable(problems));
    }
    let ascending = sort_ascending(dto.sort.as_ref())?;
    let cursor = search_after(dto.search_after.as_ref())?;
    let filters = dto
        .filters
        .iter()
        .flatten()
        .map(Filter::parse)
        .collect::<Result<Vec<_>, String>>()
        .map_err(|m| ApiError::unprocessable(vec![m]))?;
    let query = dto.query.clone().unwrap_or_default();
    let store = lock(&st.data);
    let mut matching: Vec<&ContactRec> = store
        .walk(&location, None)
        .filter(|r| text_match(&r.contact, &query) && filters.iter().all(|f| f.matches(&r.contact)))
        .collect();
    if ascending {
        matching.reverse();
    }
    let total = matching.len() as u64;
    let start = match &cursor {
        Some(c) => matching.partition_point(|r| {
            if ascending {
                r.key() >= *c
            } else {
                r.key() <= *c
            }
        }),
        None => (page - 1) * limit,
    };
    let contacts = matching
        .iter()
        .skip(start)
        .take(limit)
        .map(|r| {
            let mut contact = r.contact.clone();
            contact
                .extra
                .insert("searchAfter".into(), json!([r.added_ms, r.contact.id]));
            contact
        })
        .collect();
    ok(
        StatusCode::OK,
        ContactSearchResponse {
            contacts,
            total,
            trace_id: None,
        },
    )
}

pub async fn duplicate(
    State(st): State<Arc<AppState>>,
    LocatedQuery(q, location): LocatedQuery,
) -> ApiResult {
    let store = lock(&st.data);
    let email = q.get("email").map(String::as_str);
    let number = q.get("number").map(String::as_str);
    let found = store
        .find_duplicate(&location, email, None, None)
        .or_else(|| store.find_duplicate(&location, None, number, None));
    let contact = found.map(|(rec, _)| rec.contact.clone());
    ok(
        StatusCode::OK,
        DuplicateContactResponse {
            contact,
            trace_id: None,
        },
    )
}

pub async fn by_business(
    State(st): State<Arc<AppState>>,
    Path(business_id): Path<String>,
    LocatedQuery(q, location): LocatedQuery,
) -> ApiResult {
    let limit = query_int(&q, "limit", 25, 1, 100)? as usize;
    let skip = query_int(&q, "skip", 0, 0, i64::MAX)? as usize;
    let query = q.get("query").cloned().unwrap_or_default();
    let store = lock(&st.data);
    let matching: Vec<&ContactRec> = store
        .walk(&location, None)
        .filter(|r| r.contact.business_id.as_deref() == Some(business_id.as_str()))
        .filter(|r| text_match(&r.contact, &query))
        .collect();
    let count = matching.len() as u64;
    let contacts = matching
        .into_iter()
        .skip(skip)
        .take(limit)
        .map(|r| r.contact.clone())
        .collect();
    ok(
        StatusCode::OK,
        ContactList {
            contacts,
            count: Some(count),
            meta: None,
            trace_id: None,
        },
    )
}
