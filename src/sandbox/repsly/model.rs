//! Repsly's JSON shapes, with Repsly's exact (PascalCase, `ID`, `ZIP`) names, and the three date
//! formats the API mixes: Microsoft JSON (`/Date(ms+0000)/`), ISO with milliseconds and `Z`, and
//! the extended schedules' plain `"2024-11-25"` / `"15:00"`.

use chrono::{SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// `{Field, Value}` as in the client export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomField {
    pub field: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PriceList {
    pub name: String,
}

/// A Repsly client ("Place"). Every key is always present; absent values are `null`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Client {
    #[serde(rename = "ClientID")]
    pub client_id: i64,
    pub code: String,
    pub name: String,
    pub active: bool,
    pub tag: Option<String>,
    pub territory: Option<String>,
    pub representative_code: Option<String>,
    pub representative_name: Option<String>,
    pub street_address: Option<String>,
    #[serde(rename = "ZIP")]
    pub zip: Option<String>,
    #[serde(rename = "ZIPExt")]
    pub zip_ext: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub website: Option<String>,
    pub contact_name: Option<String>,
    pub contact_title: Option<String>,
    pub note: Option<String>,
    pub status: Option<String>,
    pub account_code: Option<String>,
    pub custom_fields: Vec<CustomField>,
    /// `null` and `[]` differ on import (null keeps, empty clears), so the export keeps both.
    pub price_lists: Option<Vec<PriceList>>,
    pub time_stamp: i64,
}

impl Client {
    /// Equal apart from `TimeStamp`: whether an upsert is a real change.
    pub fn same_content(&self, other: &Client) -> bool {
        let mut a = self.clone();
        a.time_stamp = other.time_stamp;
        a == *other
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientNote {
    #[serde(rename = "ClientNoteID")]
    pub client_note_id: i64,
    pub time_stamp: i64,
    /// Microsoft JSON form.
    pub date_and_time: String,
    pub representative_code: Option<String>,
    pub representative_name: Option<String>,
    pub client_code: String,
    pub client_name: String,
    pub street_address: Option<String>,
    #[serde(rename = "ZIP")]
    pub zip: Option<String>,
    #[serde(rename = "ZIPExt")]
    pub zip_ext: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub territory: Option<String>,
    pub longitude: f64,
    pub latitude: f64,
    pub note: String,
    #[serde(rename = "VisitID")]
    pub visit_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleTask {
    pub task_type: String,
    pub task_description: String,
    #[serde(default)]
    pub completed: bool,
}

pub const TASK_TYPES: &[&str] = &["Note", "Photo", "Form", "Audit", "Sales document"];

/// A visit schedule in the extended (`export/schedules`) shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Schedule {
    pub schedule_code: String,
    /// `"2024-11-25"`.
    pub scheduled_date: String,
    /// `"15:00"`, or null for an all-day visit.
    pub scheduled_time: Option<String>,
    #[serde(rename = "UserID")]
    pub user_id: String,
    pub representative_name: Option<String>,
    pub client_code: String,
    pub client_name: String,
    pub due_date: bool,
    pub visit_note: Option<String>,
    pub project_name: Option<String>,
    pub scheduled_duration: i64,
    pub repeat_every_weeks: i64,
    /// `"Sunday|Monday"`.
    pub repeat_days: Option<String>,
    pub repeat_end_date: Option<String>,
    pub alert_users_if_missed: bool,
    pub alert_users_if_late: bool,
    pub alert_users_if_done: bool,
    #[serde(rename = "ExternalID")]
    pub external_id: Option<String>,
    pub active: bool,
    pub tasks: Vec<ScheduleTask>,
}

impl Schedule {
    /// The legacy `export/visitschedules` shape: no `ScheduleCode`, one ISO date-time.
    pub fn legacy(&self) -> serde_json::Value {
        let time = self.scheduled_time.as_deref().unwrap_or("00:00");
        serde_json::json!({
            "ScheduleDateAndTime": format!("{}T{time}:00", self.scheduled_date),
            "ClientCode": self.client_code,
            "RepresentativeCode": self.user_id,
            "VisitNote": self.visit_note,
            "DueDate": self.due_date,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Visit {
    #[serde(rename = "VisitID")]
    pub visit_id: i64,
    pub time_stamp: i64,
    /// Microsoft JSON form, the visit's day.
    pub date: String,
    pub representative_code: String,
    pub representative_name: String,
    pub explicit_check_in: bool,
    /// ISO `yyyy-MM-ddTHH:mm:ss.fffZ`.
    pub date_and_time_start: String,
    pub date_and_time_end: Option<String>,
    pub client_code: String,
    pub client_name: String,
    pub street_address: Option<String>,
    #[serde(rename = "ZIP")]
    pub zip: Option<String>,
    #[serde(rename = "ZIPExt")]
    pub zip_ext: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub territory: Option<String>,
    pub latitude_start: f64,
    pub longitude_start: f64,
    pub latitude_end: Option<f64>,
    pub longitude_end: Option<f64>,
    pub precision_start: i64,
    pub precision_end: Option<i64>,
    /// 1 scheduled, 2 unscheduled.
    pub visit_status_by_schedule: i64,
    pub visit_ended: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rep {
    pub code: &'static str,
    pub name: &'static str,
}

pub const REPS: &[Rep] = &[
    Rep {
        code: "REP01",
        name: "Dana Whitfield",
    },
    Rep {
        code: "REP02",
        name: "Marco Ruiz",
    },
    Rep {
        code: "REP03",
        name: "Aisha Okafor",
    },
];

pub fn rep_name(code: &str) -> Option<&'static str> {
    REPS.iter().find(|r| r.code == code).map(|r| r.name)
}

/// `/Date(1577664000000+0000)/`.
pub fn ms_date(ms: i64) -> String {
    format!("/Date({ms}+0000)/")
}

/// Reads `/Date(ms)/` and `/Date(ms+0000)/` back (admin bodies accept it).
pub fn parse_ms_date(s: &str) -> Option<i64> {
    let inner = s.trim().strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    inner[..digits_end].parse().ok()
}

/// `yyyy-MM-ddTHH:mm:ss.fffZ`.
pub fn iso_ms(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `yyyy-MM-dd` of a UTC millisecond instant.
pub fn ymd(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_formats() {
        assert_eq!(ms_date(1_577_664_000_000), "/Date(1577664000000+0000)/");
        assert_eq!(
            parse_ms_date("/Date(1577664000000+0000)/"),
            Some(1_577_664_000_000)
        );
        assert_eq!(parse_ms_date("/Date(-5)/"), Some(-5));
        assert_eq!(parse_ms_date("2020-01-01"), None);
        assert_eq!(iso_ms(1_577_664_000_000), "2019-12-30T00:00:00.000Z");
        assert_eq!(ymd(1_577_664_000_000), "2019-12-30");
    }

    #[test]
    fn client_keys_are_repsly_names() {
        let v = serde_json::to_value(Client::default()).unwrap_or_default();
        for key in [
            "ClientID",
            "ZIP",
            "ZIPExt",
            "TimeStamp",
            "PriceLists",
            "CustomFields",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert!(v["Email"].is_null());
    }
}
