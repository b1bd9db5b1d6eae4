//! Repsly's three date shapes: Microsoft JSON (`/Date(1577664000000+0000)/`), ISO-8601
//! (`2024-11-25T15:00:00.000Z`, or naive `2024-11-25T15:00:00`) and split date and time
//! (`"2024-11-25"` + `"15:00"`). Naive values are read in the given offset (UTC when `None`).

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, SecondsFormat, Utc,
};

/// Parses any of Repsly's date-time forms; `None` when the text is none of them.
///
/// In `/Date(ms±hhmm)/` the milliseconds are already UTC; the offset only says where the
/// value was recorded, so it does not shift the instant.
pub fn parse_repsly_datetime(s: &str, tz: Option<FixedOffset>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(millis) = microsoft_millis(s) {
        return DateTime::from_timestamp_millis(millis);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(at) = DateTime::parse_from_str(s, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(s, format).ok())
    .or_else(|| parse_date(s).map(|date| date.and_time(NaiveTime::MIN)))?;
    local_to_utc(naive, tz)
}

/// A split date and optional time (`"2024-11-25"`, `"15:00"`), read in `tz`.
pub fn parse_date_and_time(
    date: &str,
    time: Option<&str>,
    tz: Option<FixedOffset>,
) -> Option<DateTime<Utc>> {
    let date = parse_date(date.trim())?;
    let time = match time.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => parse_time(text)?,
        None => NaiveTime::MIN,
    };
    local_to_utc(date.and_time(time), tz)
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// `15:00`, `15:00:00`, `15:00:00.000`, `3:00 PM`.
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    [
        "%H:%M",
        "%H:%M:%S",
        "%H:%M:%S%.f",
        "%I:%M %p",
        "%I:%M%p",
        "%I:%M:%S %p",
    ]
    .iter()
    .find_map(|format| NaiveTime::parse_from_str(s, format).ok())
}

/// The normalised form used in `PeerRecord::fields`: ISO-8601 UTC (`2019-12-30T00:00:00Z`).
pub fn to_iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn local_to_utc(naive: NaiveDateTime, tz: Option<FixedOffset>) -> Option<DateTime<Utc>> {
    let offset = tz.unwrap_or_else(|| Utc.fix());
    naive
        .and_local_timezone(offset)
        .single()
        .map(|at| at.with_timezone(&Utc))
}

/// The milliseconds of `/Date(1577664000000+0000)/`, `\/Date(…)\/` or `Date(…)`.
fn microsoft_millis(s: &str) -> Option<i64> {
    let s = s.replace('\\', "");
    let inner = s
        .trim_matches('/')
        .strip_prefix("Date(")?
        .strip_suffix(')')?;
    let digits_end = inner
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(inner.len(), |(i, _)| i);
    let (millis, offset) = inner.split_at(digits_end);
    let offset_ok = offset.is_empty()
        || (offset.len() == 5
            && offset.starts_with(['+', '-'])
            && offset[1..].chars().all(|c| c.is_ascii_digit()));
    if !offset_ok {
        return None;
    }
    millis.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn microsoft_json_dates() {
        let expected = Some(utc("2019-12-30T00:00:00Z"));
        assert_eq!(
            parse_repsly_datetime("/Date(1577664000000+0000)/", None),
            expected
        );
        assert_eq!(
            parse_repsly_datetime("/Date(1577664000000)/", None),
            expected
        );
        assert_eq!(
            parse_repsly_datetime("\\/Date(1577664000000)\\/", None),
            expected
        );
        // The milliseconds are UTC; the offset does not move the instant.
        assert_eq!(
            parse_repsly_datetime("/Date(1577664000000+0100)/", None),
            expected
        );
        assert_eq!(
            parse_repsly_datetime("/Date(1577664000000-0500)/", None),
            expected
        );
        assert_eq!(parse_repsly_datetime("/Date(abc)/", None), None);
        assert_eq!(
            parse_repsly_datetime("/Date(1577664000000+01)/", None),
            None
        );
    }

    #[test]
    fn iso_forms() {
        let at = Some(utc("2024-11-25T15:00:00Z"));
        assert_eq!(parse_repsly_datetime("2024-11-25T15:00:00.000Z", None), at);
        assert_eq!(parse_repsly_datetime("2024-11-25T15:00:00Z", None), at);
        assert_eq!(parse_repsly_datetime("2024-11-25T16:00:00+01:00", None), at);
        assert_eq!(parse_repsly_datetime("2024-11-25T16:00:00+0100", None), at);
        assert_eq!(parse_repsly_datetime("2024-11-25T15:00:00", None), at);
        assert_eq!(parse_repsly_datetime("2024-11-25 15:00", None), at);
        assert_eq!(
            parse_repsly_datetime("2024-11-25T15:00:00.123", None),
            Some(utc("2024-11-25T15:00:00.123Z"))
        );
        assert_eq!(
            parse_repsly_datetime("2024-11-25", None),
            Some(utc("2024-11-25T00:00:00Z"))
        );
        assert_eq!(parse_repsly_datetime("", None), None);
        assert_eq!(parse_repsly_datetime("tomorrow", None), None);
    }

    #[test]
    fn naive_values_use_the_given_offset() {
        let plus_one = FixedOffset::east_opt(3600);
        assert_eq!(
            parse_repsly_datetime("2024-11-25T16:00:00", plus_one),
            Some(utc("2024-11-25T15:00:00Z"))
        );
        // An explicit offset wins over the configured one.
        assert_eq!(
            parse_repsly_datetime("2024-11-25T15:00:00Z", plus_one),
            Some(utc("2024-11-25T15:00:00Z"))
        );
        assert_eq!(
            parse_date_and_time("2024-11-25", Some("15:00"), plus_one),
            Some(utc("2024-11-25T14:00:00Z"))
        );
    }

    #[test]
    fn split_date_and_time() {
        assert_eq!(
            parse_date_and_time("2024-11-25", Some("15:00"), None),
            Some(utc("2024-11-25T15:00:00Z"))
        );
        assert_eq!(
            parse_date_and_time("2024-11-25", Some("3:30 PM"), None),
            Some(utc("2024-11-25T15:30:00Z"))
        );
        assert_eq!(
            parse_date_and_time("2024-11-25", None, None),
            Some(utc("2024-11-25T00:00:00Z"))
        );
        assert_eq!(parse_date_and_time("2024-11-25", Some("25:99"), None), None);
        assert_eq!(parse_date_and_time("25/11/2024", Some("15:00"), None), None);
    }

    #[test]
    fn iso_output() {
        assert_eq!(to_iso(utc("2019-12-30T00:00:00Z")), "2019-12-30T00:00:00Z");
        assert_eq!(
            to_iso(utc("2019-12-30T00:00:00.250Z")),
            "2019-12-30T00:00:00.250Z"
        );
    }
}
