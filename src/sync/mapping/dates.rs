//! Dates to ISO-8601 UTC with milliseconds (`2024-11-25T20:00:00.000Z`), the form GHL writes
//! take. Repsly sends three shapes (peer-apis.md §1): Microsoft JSON `/Date(1577664000000+0000)/`,
//! ISO with or without an offset, and a split `"2024-11-25"` + `"15:00"`. Values without an offset
//! are read in the mapping's time zone.

use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeDelta, TimeZone,
    Utc,
};
use chrono_tz::Tz;
use serde_json::Value;

const EXPECTED: &str = "expected ISO-8601 (2024-11-25T15:00:00Z), /Date(1577664000000+0000)/, \
                        or a date 2024-11-25 with an optional time 15:00";

/// Formats an instant the way GHL's write DTOs expect it.
pub fn to_iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One value holding a whole date-time (or a date alone, read as local midnight).
pub fn parse_value(value: &Value, tz: Tz) -> Result<DateTime<Utc>, String> {
    match value {
        Value::String(text) => parse_text(text, tz),
        // A bare number is epoch milliseconds, the unit of every numeric date Repsly sends.
        Value::Number(n) => n
            .as_i64()
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(|| format!("{n} is not a date in epoch milliseconds; {EXPECTED}")),
        other => Err(format!("{other} is not a date; {EXPECTED}")),
    }
}

pub fn parse_text(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Some(inner) = text
        .strip_prefix("/Date(")
        .and_then(|t| t.strip_suffix(")/"))
    {
        return microsoft(inner).ok_or_else(|| format!("cannot read {text:?}; {EXPECTED}"));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
    ] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Ok(at.with_timezone(&Utc));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return local_to_utc(naive, tz);
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return local_to_utc(date.and_time(NaiveTime::MIN), tz);
    }
    Err(format!("cannot read date {text:?}; {EXPECTED}"))
}

/// `[date, time?, minutes_to_add?]`: Repsly schedules (`ScheduledDate`, `ScheduledTime`,
/// `ScheduledDuration`). An empty time means the date is a whole date-time (or local midnight).
pub fn parse_parts(
    parts: &[Value],
    tz: Tz,
    default_minutes: Option<i64>,
) -> Result<DateTime<Utc>, String> {
    let date = parts.first().unwrap_or(&Value::Null);
    let time = parts
        .get(1)
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    let start = if time.is_empty() {
        parse_value(date, tz)?
    } else {
        let day = date
            .as_str()
            .map(str::trim)
            // A date written as a date-time ("2024-11-25T00:00:00") still names its day first.
            .and_then(|d| d.get(..10))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| {
                format!("cannot read date {date}; expected a date such as 2024-11-25")
            })?;
        local_to_utc(day.and_time(parse_time(time)?), tz)?
    };
    let minutes = match parts.get(2) {
        None => 0,
        Some(value) => minutes(value)?.or(default_minutes).unwrap_or(0),
    };
    TimeDelta::try_minutes(minutes)
        .and_then(|delta| start.checked_add_signed(delta))
        .ok_or_else(|| {
            format!(
                "adding {minutes} minutes to {} leaves the calendar",
                to_iso(start)
            )
        })
}

/// A date-time as the peer's separate local date and time: `["2024-11-25", "15:00"]`.
pub fn split_local(at: DateTime<Utc>, tz: Tz) -> Value {
    let local = at.with_timezone(&tz);
    Value::Array(vec![
        Value::String(local.format("%Y-%m-%d").to_string()),
        Value::String(local.format("%H:%M").to_string()),
    ])
}

fn parse_time(text: &str) -> Result<NaiveTime, String> {
    let upper = text.to_ascii_uppercase();
    for format in ["%H:%M:%S%.f", "%H:%M", "%I:%M %p", "%I:%M%p", "%I:%M:%S %p"] {
        if let Ok(time) = NaiveTime::parse_from_str(&upper, format) {
            return Ok(time);
        }
    }
    Err(format!(
        "cannot read time {text:?}; expected 15:00, 15:00:00 or 3:00 PM"
    ))
}

fn minutes(value: &Value) -> Result<Option<i64>, String> {
    let bad = || format!("duration {value} is not a whole number of minutes");
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_i64().map(Some).ok_or_else(bad),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s.trim().parse().map(Some).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// `1577664000000+0000`: the milliseconds are already UTC; the offset only says where the value
/// was recorded, so it does not move the instant.
fn microsoft(inner: &str) -> Option<DateTime<Utc>> {
    let digits_end = inner
        .char_indices()
        .skip(1) // a leading '-' is the sign of a pre-1970 date, not an offset
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    let (millis, offset) = inner.split_at(digits_end);
    let offset_ok =
        offset.is_empty() || (offset.len() == 5 && offset[1..].chars().all(|c| c.is_ascii_digit()));
    let millis: i64 = millis.parse().ok()?;
    offset_ok
        .then(|| DateTime::from_timestamp_millis(millis))
        .flatten()
}

/// A wall-clock time in `tz` to UTC. In the autumn overlap the earlier instant is taken; in the
/// spring gap the clock is moved forward an hour, as calendars do for a meeting set in the gap.
fn local_to_utc(naive: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, String> {
    let resolve = |n: NaiveDateTime| match tz.from_local_datetime(&n) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.with_timezone(&Utc)),
        LocalResult::None => None,
    };
    resolve(naive)
        .or_else(|| {
            naive
                .checked_add_signed(TimeDelta::hours(1))
                .and_then(resolve)
        })
        .ok_or_else(|| format!("{naive} does not exist in time zone {tz}"))
}
