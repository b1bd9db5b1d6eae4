//! Helpers shared by the row parsers.

use chrono::FixedOffset;
use serde_json::{Map, Value};

use super::dates::{parse_repsly_datetime, to_iso};

/// Rewrites each named date field that parses as ISO-8601 UTC; returns what each parsed to.
pub(crate) fn normalise_dates(
    fields: &mut Map<String, Value>,
    names: &[&str],
    tz: Option<FixedOffset>,
) -> Vec<Option<chrono::DateTime<chrono::Utc>>> {
    names
        .iter()
        .map(|name| {
            let parsed = fields
                .get(*name)
                .and_then(Value::as_str)
                .and_then(|s| parse_repsly_datetime(s, tz));
            if let Some(at) = parsed {
                fields.insert((*name).to_string(), Value::String(to_iso(at)));
            }
            parsed
        })
        .collect()
}

/// A non-empty string field, trimmed.
pub(crate) fn text(row: &Map<String, Value>, name: &str) -> Option<String> {
    row.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
