//! Visit schedules (GHL appointments) and their tasks (GHL tasks), read from a rolling date
//! window that the engine diffs by content hash, and written through `import/schedule`.

use chrono::{Duration, FixedOffset, NaiveDate, Offset, Utc};
use serde_json::{Map, Value};

use super::dates::{parse_date, parse_date_and_time, parse_repsly_datetime, parse_time, to_iso};
use super::errors::{Class, error, field_error};
use super::rows::{normalise_dates, text};
use super::settings::{RepslySettings, ScheduleApi, ScheduleImportForm};
use crate::peers::{EntityKind, PeerError, PeerRecord};

/// `today − back ..= today + ahead`.
pub(crate) fn default_window(today: NaiveDate, back: u32, ahead: u32) -> (NaiveDate, NaiveDate) {
    (
        today - Duration::days(back.into()),
        today + Duration::days(ahead.into()),
    )
}

/// An explicit `YYYY-MM-DD/YYYY-MM-DD` window passed as the cursor.
pub(crate) fn parse_window(cursor: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (begin, end) = cursor.trim().split_once('/')?;
    let (begin, end) = (parse_date(begin)?, parse_date(end)?);
    (begin <= end).then_some((begin, end))
}

/// `export/schedules/{b}/{e}` (extended) or `export/visitschedules/{b}/{e}` (legacy).
pub(crate) fn window_path(api: ScheduleApi, begin: NaiveDate, end: NaiveDate) -> [String; 4] {
    let route = match api {
        ScheduleApi::Extended => "schedules",
        ScheduleApi::Legacy => "visitschedules",
    };
    let day = |date: NaiveDate| date.format("%Y-%m-%d").to_string();
    ["export".into(), route.into(), day(begin), day(end)]
}

/// The schedule rows: the first configured envelope key that is present, or a bare array.
pub(crate) fn schedule_rows<'a>(json: &'a Value, keys: &[String]) -> Result<&'a [Value], String> {
    let object = match json {
        Value::Null => return Ok(&[]),
        Value::Array(rows) => return Ok(rows),
        Value::Object(object) => object,
        _ => return Err("expected an object or an array of schedules".into()),
    };
    for key in keys {
        match object.get(key) {
            Some(Value::Array(rows)) => return Ok(rows),
            Some(Value::Null) => return Ok(&[]),
            Some(_) => return Err(format!("{key} is not an array")),
            None => {}
        }
    }
    let total = object
        .get("MetaCollectionResult")
        .and_then(|meta| meta.get("TotalCount"))
        .and_then(Value::as_u64);
    if total == Some(0) {
        return Ok(&[]);
    }
    Err(format!(
        "none of the envelope keys [{}] is in the answer (keys: {}); set schedule_envelope_keys",
        keys.join(", "),
        object.keys().cloned().collect::<Vec<_>>().join(", ")
    ))
}

/// A schedule row as an appointment: `id` = `ScheduleCode` (extended) or the legacy key,
/// `parent_id` = `ClientCode`; adds `ScheduledStart`/`ScheduledEnd` (ISO UTC) when the date,
/// time and duration allow. `Active: false` rows come back inactive.
pub(crate) fn schedule_record(
    row: &Map<String, Value>,
    api: ScheduleApi,
    tz: Option<FixedOffset>,
) -> Option<PeerRecord> {
    let mut fields = row.clone();
    let legacy_start = normalise_dates(&mut fields, &["ScheduleDateAndTime"], tz)
        .into_iter()
        .next()
        .flatten();
    let start = legacy_start.or_else(|| {
        let date = text(row, "ScheduledDate")?;
        parse_date_and_time(&date, Some(&text(row, "ScheduledTime")?), tz)
    });
    if let Some(start) = start {
        fields.insert("ScheduledStart".into(), Value::String(to_iso(start)));
        if let Some(minutes) = number(row.get("ScheduledDuration")) {
            fields.insert(
                "ScheduledEnd".into(),
                Value::String(to_iso(start + Duration::minutes(minutes))),
            );
        }
    }
    let id = match api {
        ScheduleApi::Extended => text(row, "ScheduleCode")?,
        ScheduleApi::Legacy => legacy_key(row, tz)?,
    };
    Some(PeerRecord {
        kind: EntityKind::Appointment,
        id,
        parent_id: text(row, "ClientCode"),
        updated_at: None,
        active: row.get("Active").and_then(Value::as_bool).unwrap_or(true),
        fields,
        raw: Value::Object(row.clone()),
    })
}

/// The legacy export has no id: `{date}|{ClientCode}|{RepresentativeCode}`, the date as ISO UTC
/// when it parses (`ScheduleDateAndTime`, else `ScheduledDate` + `ScheduledTime`).
pub(crate) fn legacy_key(row: &Map<String, Value>, tz: Option<FixedOffset>) -> Option<String> {
    let date = match text(row, "ScheduleDateAndTime") {
        Some(raw) => parse_repsly_datetime(&raw, tz).map(to_iso).unwrap_or(raw),
        None => {
            let date = text(row, "ScheduledDate")?;
            let time = text(row, "ScheduledTime");
            parse_date_and_time(&date, time.as_deref(), tz)
                .map(to_iso)
                .unwrap_or(date)
        }
    };
    let client = text(row, "ClientCode")?;
    let rep = text(row, "RepresentativeCode")
        .or_else(|| text(row, "UserID"))
        .unwrap_or_default();
    Some(format!("{date}|{client}|{rep}"))
}

/// The schedule's `Tasks[]` as task records `{schedule id}#{index}` under the same client.
pub(crate) fn task_records(schedule: &PeerRecord) -> Vec<PeerRecord> {
    let Some(Value::Array(tasks)) = schedule.fields.get("Tasks") else {
        return Vec::new();
    };
    let copied = [
        "ClientCode",
        "UserID",
        "RepresentativeCode",
        "ScheduledDate",
        "ScheduledTime",
        "ScheduledStart",
        "DueDate",
    ];
    tasks
        .iter()
        .enumerate()
        .filter_map(|(index, task)| {
            let mut fields = task.as_object()?.clone();
            for name in copied {
                if let Some(value) = schedule.fields.get(name) {
                    fields.entry(name).or_insert_with(|| value.clone());
                }
            }
            fields.insert("ScheduleID".into(), Value::String(schedule.id.clone()));
            fields.insert("TaskIndex".into(), Value::from(index));
            Some(PeerRecord {
                kind: EntityKind::Task,
                id: format!("{}#{index}", schedule.id),
                parent_id: schedule.parent_id.clone(),
                updated_at: None,
                active: schedule.active,
                fields,
                raw: task.clone(),
            })
        })
        .collect()
}

/// The `import/schedule` body for an appointment, checked locally (`ClientCode`, `UserID` and
/// a date are required), and the id the record will have once read back.
pub(crate) fn import_body(
    record: &PeerRecord,
    settings: &RepslySettings,
    tz: Option<FixedOffset>,
    operation: &str,
) -> Result<(String, Value), PeerError> {
    let invalid = |detail: String| error(Class::Validation, operation, detail);
    if record.kind != EntityKind::Appointment {
        return Err(invalid(format!(
            "a {} is not a Repsly schedule",
            record.kind
        )));
    }
    if record.id.starts_with("visit:") {
        return Err(invalid(
            "visits cannot be written; Repsly has no import route for them".into(),
        ));
    }
    let fields = &record.fields;
    let client = text(fields, "ClientCode")
        .or_else(|| record.parent_id.clone())
        .ok_or_else(|| field_error(operation, "ClientCode", "ClientCode is required"))?;
    let user = text(fields, "UserID")
        .or_else(|| text(fields, "RepresentativeCode"))
        .ok_or_else(|| field_error(operation, "UserID", "UserID (the rep's code) is required"))?;
    let start = text(fields, "ScheduledStart")
        .and_then(|s| parse_repsly_datetime(&s, tz))
        .map(|at| at.with_timezone(&offset(tz)));
    let date = match text(fields, "ScheduledDate") {
        Some(raw) => parse_date(&raw)
            .or_else(|| {
                parse_repsly_datetime(&raw, tz).map(|at| at.with_timezone(&offset(tz)).date_naive())
            })
            .ok_or_else(|| invalid(format!("ScheduledDate {raw:?} is not a date")))?,
        None => start.map(|at| at.date_naive()).ok_or_else(|| {
            field_error(
                operation,
                "ScheduledDate",
                "ScheduledDate (or ScheduledStart) is required",
            )
        })?,
    };
    let time = match text(fields, "ScheduledTime") {
        Some(raw) => Some(
            parse_time(&raw)
                .ok_or_else(|| invalid(format!("ScheduledTime {raw:?} is not a time")))?,
        ),
        None => start.map(|at| at.time()),
    }
    .map(|time| time.format("%H:%M").to_string());
    let end = text(fields, "ScheduledEnd").and_then(|s| parse_repsly_datetime(&s, tz));
    let duration = number(fields.get("ScheduledDuration"))
        .or_else(|| Some((end? - start?.to_utc()).num_minutes()).filter(|m| *m > 0));
    let code = schedule_code(record, settings.schedule_api);

    let (client_key, user_key, date_key, time_key, duration_key) =
        match settings.schedule_import_form {
            ScheduleImportForm::Current => (
                "ClientCode",
                "UserID",
                "ScheduledDate",
                "ScheduledTime",
                "ScheduledDuration",
            ),
            ScheduleImportForm::Legacy => (
                "PlaceID",
                "RepresentativeID",
                "DateBegin",
                "VisitTime",
                "VisitDuration",
            ),
        };
    let mut body = Map::new();
    body.insert("ScheduleCode".into(), Value::String(code.clone()));
    body.insert(client_key.into(), Value::String(client.clone()));
    body.insert(user_key.into(), Value::String(user.clone()));
    body.insert(
        date_key.into(),
        Value::String(date.format("%Y-%m-%d").to_string()),
    );
    if let Some(time) = &time {
        body.insert(time_key.into(), Value::String(time.clone()));
    }
    if let Some(minutes) = duration {
        body.insert(duration_key.into(), Value::from(minutes));
    }
    for name in [
        "VisitNote",
        "DueDate",
        "RepeatDays",
        "RepeatEndDate",
        "AlertUsersIfMissed",
        "AlertUsersIfLate",
        "AlertUsersIfDone",
        "ExternalID",
    ] {
        if let Some(value) = fields.get(name).filter(|value| !value.is_null()) {
            body.insert(name.into(), value.clone());
        }
    }
    body.insert(
        "RepeatEveryWeeks".into(),
        fields
            .get("RepeatEveryWeeks")
            .filter(|v| v.is_number())
            .cloned()
            .unwrap_or(Value::from(0)),
    );
    // `Active: false` deletes the schedule in Repsly.
    let active = record.active
        && fields
            .get("Active")
            .and_then(Value::as_bool)
            .unwrap_or(true);
    body.insert("Active".into(), Value::Bool(active));
    if let Some(Value::Array(tasks)) = fields.get("Tasks") {
        let tasks = tasks
            .iter()
            .filter_map(Value::as_object)
            .map(|task| {
                let keep = ["TaskType", "TaskDescription"];
                Value::Object(
                    task.iter()
                        .filter(|(k, _)| keep.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            })
            .collect();
        body.insert("Tasks".into(), Value::Array(tasks));
    }
    let id = match settings.schedule_api {
        ScheduleApi::Extended => code,
        ScheduleApi::Legacy => {
            let start =
                parse_date_and_time(&date.format("%Y-%m-%d").to_string(), time.as_deref(), tz);
            let date = start.map(to_iso).unwrap_or_else(|| date.to_string());
            format!("{date}|{client}|{user}")
        }
    };
    Ok((id, Value::Object(body)))
}

/// The `ScheduleCode` to send: the record's id (extended), `fields.ScheduleCode`, `ghl-{ExternalID}`,
/// else a new random one. Repsly would generate one if left empty, but then we could not know it.
fn schedule_code(record: &PeerRecord, api: ScheduleApi) -> String {
    let id = Some(record.id.trim())
        .filter(|id| !id.is_empty() && api == ScheduleApi::Extended)
        .map(str::to_string);
    id.or_else(|| text(&record.fields, "ScheduleCode"))
        .or_else(|| {
            text(&record.fields, "ExternalID")
                .map(|ext| format!("ghl-{ext}"))
                .filter(|code| code.chars().count() <= 50)
        })
        .unwrap_or_else(|| format!("ghlsync-{:016x}", rand::random::<u64>()))
}

fn offset(tz: Option<FixedOffset>) -> FixedOffset {
    tz.unwrap_or_else(|| Utc.fix())
}

fn number(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
#[path = "schedules_tests.rs"]
mod tests;
