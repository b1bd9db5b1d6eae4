//! Cursor pages: `{"MetaCollectionResult": {TotalCount, LastTimeStamp | FirstID, LastID}, "<Key>": [...]}`,
//! at most 50 rows per call. Cursors are opaque and stored exactly as received.

use serde_json::{Map, Value};

use super::errors::{Class, error};
use crate::peers::{ChangePage, PeerError, PeerRecord};

/// Rows per export call (repsly-dev …/clients, …/visits).
pub(crate) const PAGE_SIZE: usize = 50;

/// Which meta field carries the next cursor, and which row field backs it up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CursorShape {
    /// The array key: `Clients`, `ClientNotes`.
    pub array_key: &'static str,
    /// `LastTimeStamp` or `LastID` in `MetaCollectionResult`.
    pub meta_cursor: &'static str,
    /// The row field of the same value (`TimeStamp`, `ClientNoteID`), used when meta lacks it.
    pub row_cursor: &'static str,
}

pub(crate) const CLIENTS: CursorShape = CursorShape {
    array_key: "Clients",
    meta_cursor: "LastTimeStamp",
    row_cursor: "TimeStamp",
};
pub(crate) const CLIENT_NOTES: CursorShape = CursorShape {
    array_key: "ClientNotes",
    meta_cursor: "LastID",
    row_cursor: "ClientNoteID",
};

/// A cursor value as text: strings as they are, numbers in their JSON spelling.
pub(crate) fn cursor_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn count(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Parses one page. Done when `TotalCount == 0` or fewer than 50 rows came back; the next
/// cursor is the meta cursor (or the last row's), `None` on an empty page (keep the old one).
/// Rows `to_record` refuses are skipped with a warning.
pub(crate) fn parse_page(
    json: &Value,
    shape: CursorShape,
    cursor: &str,
    operation: &str,
    to_record: impl Fn(&Map<String, Value>) -> Option<PeerRecord>,
) -> Result<ChangePage, PeerError> {
    let decode = |detail: String| error(Class::Decode, operation, detail);
    let object = json.as_object().ok_or_else(|| {
        decode(format!(
            "expected an object with MetaCollectionResult and {}",
            shape.array_key
        ))
    })?;
    let meta = object
        .get("MetaCollectionResult")
        .and_then(Value::as_object);
    let total = count(meta.and_then(|meta| meta.get("TotalCount")));
    let rows = match object.get(shape.array_key) {
        Some(Value::Array(rows)) => rows.as_slice(),
        None | Some(Value::Null) if total == Some(0) => &[],
        _ => {
            return Err(decode(format!(
                "no {} array in the answer (keys: {})",
                shape.array_key,
                object.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    };
    if meta.is_none() && !rows.is_empty() {
        tracing::warn!(peer = "repsly", %operation, "page without MetaCollectionResult");
    }
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        match row.as_object().and_then(&to_record) {
            Some(record) => records.push(record),
            None => tracing::warn!(peer = "repsly", %operation, "skipped a row without its key"),
        }
    }
    let done = total == Some(0) || rows.len() < PAGE_SIZE;
    if rows.is_empty() {
        return Ok(ChangePage {
            records,
            next_cursor: None,
            done: true,
        });
    }
    let next = meta
        .and_then(|meta| meta.get(shape.meta_cursor))
        .and_then(cursor_text)
        .or_else(|| {
            rows.last()
                .and_then(|row| row.get(shape.row_cursor))
                .and_then(cursor_text)
        })
        .ok_or_else(|| {
            decode(format!(
                "a page of rows without MetaCollectionResult.{}",
                shape.meta_cursor
            ))
        })?;
    if !done && next == cursor {
        return Err(decode(format!(
            "a full page whose {} ({next}) did not move past the cursor; reading on would loop",
            shape.meta_cursor
        )));
    }
    Ok(ChangePage {
        records,
        next_cursor: Some(next),
        done,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::EntityKind;
    use serde_json::json;

    fn simple(row: &Map<String, Value>) -> Option<PeerRecord> {
        Some(PeerRecord {
            kind: EntityKind::Contact,
            id: row.get("Code")?.as_str()?.to_string(),
            parent_id: None,
            updated_at: None,
            active: true,
            fields: row.clone(),
            raw: Value::Object(row.clone()),
        })
    }

    #[test]
    fn empty_page_keeps_the_cursor() {
        let page =
            json!({"MetaCollectionResult": {"TotalCount": 0, "LastTimeStamp": 0}, "Clients": []});
        let page = parse_page(&page, CLIENTS, "77", "GET export/clients/77", simple).unwrap();
        assert!(page.done && page.records.is_empty() && page.next_cursor.is_none());
        let missing = json!({"MetaCollectionResult": {"TotalCount": 0}});
        assert!(
            parse_page(&missing, CLIENTS, "77", "op", simple)
                .unwrap()
                .done
        );
    }

    #[test]
    fn full_page_without_progress_is_refused() {
        let rows: Vec<Value> = (0..50).map(|i| json!({"Code": format!("C{i}")})).collect();
        let page = json!({"MetaCollectionResult": {"TotalCount": 50, "LastTimeStamp": 5}, "Clients": rows});
        let err = parse_page(&page, CLIENTS, "5", "op", simple).unwrap_err();
        assert_eq!(err.class(), crate::net::ErrorClass::Decode);
        let ok = parse_page(&page, CLIENTS, "4", "op", simple).unwrap();
        assert_eq!(
            (ok.records.len(), ok.next_cursor.as_deref(), ok.done),
            (50, Some("5"), false)
        );
    }

    #[test]
    fn missing_array_is_a_decode_error_naming_the_endpoint() {
        let page = json!({"MetaCollectionResult": {"TotalCount": 3}, "Items": []});
        let err = parse_page(&page, CLIENTS, "0", "GET export/clients/0", simple).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("GET export/clients/0") && text.contains("Items"),
            "{text}"
        );
        assert!(parse_page(&json!([1, 2]), CLIENTS, "0", "op", simple).is_err());
    }
}
