//! `RepslySettings`: the `[peers.repsly]` table. Everything the research doc marks **[verify]**
//! is a switch here rather than a guess in the code.

use serde::Deserialize;

use crate::config::Secret;
use crate::net::RetryPolicy;

/// Which schedule export the account answers. **[verify]**
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleApi {
    /// `export/schedules/{begin}/{end}`; records keyed by `ScheduleCode`.
    #[default]
    Extended,
    /// `export/visitschedules/{begin}/{end}`; no id, keyed by `date|ClientCode|RepresentativeCode`.
    Legacy,
}

/// Which field names `POST import/schedule` accepts. **[verify which one the live API accepts]**
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleImportForm {
    /// `ScheduleCode`, `ClientCode`, `UserID`, `ScheduledDate`, `ScheduledTime`, `ScheduledDuration`.
    #[default]
    Current,
    /// The older page's `PlaceID`, `RepresentativeID`, `DateBegin`, `VisitTime`, `VisitDuration`.
    Legacy,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RepslySettings {
    pub base_url: String,
    /// The API username from Repsly's *API Settings* page (not the login).
    pub username: String,
    /// The API password; filled by the caller from `GHLSYNC_REPSLY_PASSWORD` / the secrets file.
    #[serde(skip)]
    pub password: Secret,
    pub schedule_window_days_back: u32,
    pub schedule_window_days_ahead: u32,
    pub import_poll_interval_ms: u64,
    /// How long one import job may stay `Pending` before the write is reported `Ambiguous`.
    pub import_timeout_secs: u64,
    pub schedule_api: ScheduleApi,
    /// Envelope keys tried, in order, for the schedule array. **[verify]**
    pub schedule_envelope_keys: Vec<String>,
    /// Client-side pacing between requests; Repsly documents no limits. **[verify]**
    pub min_request_interval_ms: u64,
    /// Send an empty `PriceLists` as `[]` (which apparently clears the lists) instead of `null`
    /// (which leaves them alone). **[verify]**
    pub empty_price_lists_clears: bool,
    pub timeout_secs: u64,
    pub schedule_import_form: ScheduleImportForm,
    /// The offset in which naive Repsly dates and times (`2024-11-25`, `15:00`,
    /// `2024-11-25T15:00:00`) are read, in minutes east of UTC; the time zone of these fields is
    /// undocumented. **[verify]**
    pub utc_offset_minutes: i32,
    /// Retries of GETs (and of writes that never reached Repsly), with the shared backoff.
    #[serde(skip)]
    pub retry: RetryPolicy,
}

pub const DEFAULT_BASE_URL: &str = "https://api.repsly.com/v3";

impl Default for RepslySettings {
    fn default() -> Self {
        RepslySettings {
            base_url: DEFAULT_BASE_URL.to_string(),
            username: String::new(),
            password: Secret::default(),
            schedule_window_days_back: 7,
            schedule_window_days_ahead: 30,
            import_poll_interval_ms: 1000,
            import_timeout_secs: 120,
            schedule_api: ScheduleApi::Extended,
            schedule_envelope_keys: ["VisitSchedules", "VisitSchedule", "Schedules"]
                .map(String::from)
                .to_vec(),
            min_request_interval_ms: 100,
            empty_price_lists_clears: false,
            timeout_secs: 30,
            schedule_import_form: ScheduleImportForm::Current,
            utc_offset_minutes: 0,
            retry: RetryPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_password() {
        let settings = RepslySettings {
            username: "api-user".into(),
            password: Secret::new("hunter2-very-secret"),
            ..RepslySettings::default()
        };
        let shown = format!("{settings:?} {settings:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"));
        assert!(shown.contains("api-user"));
    }

    #[test]
    fn deserialises_with_defaults_and_refuses_unknown_keys() {
        let settings: RepslySettings = serde_json::from_value(serde_json::json!({
            "username": "u",
            "schedule_api": "legacy",
            "schedule_envelope_keys": ["Schedules"]
        }))
        .unwrap();
        assert_eq!(settings.base_url, DEFAULT_BASE_URL);
        assert_eq!(settings.schedule_api, ScheduleApi::Legacy);
        assert_eq!(
            settings.schedule_envelope_keys,
            vec!["Schedules".to_string()]
        );
        assert_eq!(settings.schedule_window_days_ahead, 30);
        assert!(settings.password.is_empty());
        let unknown = serde_json::from_value::<RepslySettings>(serde_json::json!({"pasword": "x"}));
        assert!(unknown.is_err());
        let password =
            serde_json::from_value::<RepslySettings>(serde_json::json!({"password": "x"}));
        assert!(
            password.is_err(),
            "the password never comes from the config file"
        );
    }
}
