//! Rows as peer records: the id (the `id_field` column, else a hash of the row) and when the
//! record last changed (the `updated_at_field` column).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::parse::{FileFormat, Rejection, Row, cell_text};
use crate::peers::{EntityKind, PeerRecord};

pub(super) struct RecordShape<'a> {
    pub id_field: Option<&'a str>,
    pub updated_at_field: Option<&'a str>,
}

impl RecordShape<'_> {
    /// The record a row of inbox file `file` holds.
    pub fn record(
        &self,
        file: &str,
        format: FileFormat,
        row: Row,
    ) -> Result<PeerRecord, Rejection> {
        let id = match self.id_field {
            Some(field) => self.id_of(field, format, &row)?,
            None => row_hash(&row.fields),
        };
        let updated_at = match self.updated_at_field {
            Some(field) => match row.fields.get(field).map(cell_text) {
                Some(text) => Some(parse_time(text.trim()).ok_or_else(|| {
                    Rejection::at(
                        row.line,
                        row.column_of(field),
                        format!("{field} {text:?} is not a date"),
                        "write dates as 2024-11-25T15:00:00Z, 2024-11-25 15:00:00 (UTC) or 2024-11-25",
                    )
                })?),
                None => None,
            },
            None => None,
        };
        Ok(PeerRecord {
            kind: EntityKind::Contact,
            id,
            parent_id: None,
            updated_at,
            active: true,
            fields: row.fields,
            raw: json!({ "file": file, "line": row.line }),
        })
    }

    fn id_of(&self, field: &str, format: FileFormat, row: &Row) -> Result<String, Rejection> {
        if let Some(value @ (Value::Object(_) | Value::Array(_) | Value::Bool(_))) =
            row.fields.get(field)
        {
            let what = if value.is_boolean() {
                "true/false"
            } else {
                "a list or an object"
            };
            return Err(Rejection::at(
                row.line,
                row.column_of(field),
                format!("{field} is {what}, not an id"),
                "give every record its id as a text or a number, e.g. \"code\": \"C-1\"",
            ));
        }
        let id = row.fields.get(field).map(cell_text);
        if let Some(id) = id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
            return Ok(id.to_string());
        }
        let in_header = row.columns.iter().any(|(name, _)| name == field);
        Err(match (format, in_header) {
            (FileFormat::Csv, false) => Rejection::at(
                1,
                1,
                format!("the header has no {field} column, which holds each record's id"),
                "add the column (or rename the one holding the id), or change the peer's id_field",
            ),
            (FileFormat::Csv, true) => Rejection::at(
                row.line,
                row.column_of(field),
                format!("the row has no {field}"),
                "fill in the id on every row, or delete the row",
            ),
            (FileFormat::Jsonl, _) => Rejection::at(
                row.line,
                1,
                format!("the object has no {field:?} key, which holds each record's id"),
                "give every line its id, or change the peer's id_field",
            ),
        })
    }

    /// A record of the export book.
    pub fn exported(&self, id: &str, fields: &Map<String, Value>) -> PeerRecord {
        let updated_at = self
            .updated_at_field
            .and_then(|field| fields.get(field))
            .and_then(|value| parse_time(cell_text(value).trim()));
        PeerRecord {
            kind: EntityKind::Contact,
            id: id.to_string(),
            parent_id: None,
            updated_at,
            active: true,
            fields: fields.clone(),
            raw: json!({ "file": "export" }),
        }
    }
}

/// `row-` and a hash of the row's fields, whatever their order: the same row is the same record
/// in every file.
pub(super) fn row_hash(fields: &Map<String, Value>) -> String {
    let sorted: BTreeMap<&String, &Value> = fields.iter().collect();
    let canonical = serde_json::to_string(&sorted).unwrap_or_default();
    format!(
        "row-{}",
        super::inbox::hex(&Sha256::digest(canonical.as_bytes())[..8])
    )
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|form| NaiveDateTime::parse_from_str(text, form).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|date| date.and_hms_opt(0, 0, 0))
        })
        .map(|naive| naive.and_utc())
}
