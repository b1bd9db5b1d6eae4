//! The display time zone and the one function every time on screen goes through.
//!
//! The store and the engine keep UTC; support staff read their own zone. The zone comes from
//! `[console] time_zone` in ghlsync.toml, else the machine's zone (`TZ`, `/etc/localtime`),
//! else UTC. Detection reads the environment and the file system, so it runs once at start-up
//! in `console::run`; views only call [`DisplayZone::format`].

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::path::Path;

/// How much of a time a column has room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    /// `14:03:07`: the log, where the day is plain from context.
    Time,
    /// `2026-06-01 10:00`: due dates, appointments, last runs, updates.
    DateTime,
}

/// Where the zone came from, for the status screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneSource {
    Config,
    Local,
    /// No configured zone and none could be detected.
    Fallback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisplayZone {
    pub tz: Tz,
    pub source: ZoneSource,
}

impl Default for DisplayZone {
    fn default() -> Self {
        DisplayZone {
            tz: Tz::UTC,
            source: ZoneSource::Fallback,
        }
    }
}

impl DisplayZone {
    /// A named IANA zone (`America/New_York`); the error lists an example.
    pub fn named(name: &str) -> Result<DisplayZone, String> {
        name.trim()
            .parse::<Tz>()
            .map(|tz| DisplayZone {
                tz,
                source: ZoneSource::Config,
            })
            .map_err(|_| {
                format!(
                    "unknown time zone {name:?}; use an IANA name such as \"America/New_York\" or \"UTC\""
                )
            })
    }

    /// The configured zone if given and valid, else the machine's, else UTC. A bad configured
    /// name is returned as a warning to show, not an error: the console still opens.
    pub fn resolve(configured: Option<&str>) -> (DisplayZone, Option<String>) {
        let mut warning = None;
        if let Some(name) = configured {
            match DisplayZone::named(name) {
                Ok(zone) => return (zone, None),
                Err(message) => warning = Some(format!("[console] time_zone: {message}")),
            }
        }
        let local = detect_local(
            std::env::var("TZ").ok().as_deref(),
            Path::new("/etc/localtime"),
            Path::new("/etc/timezone"),
        );
        let zone = local.map_or_else(DisplayZone::default, |tz| DisplayZone {
            tz,
            source: ZoneSource::Local,
        });
        (zone, warning)
    }

    /// The IANA name shown in the header and on the status screen.
    pub fn name(&self) -> &'static str {
        self.tz.name()
    }

    /// Every time on screen goes through here.
    pub fn format(&self, at: &DateTime<Utc>, style: TimeStyle) -> String {
        let local = at.with_timezone(&self.tz);
        match style {
            TimeStyle::Time => local.format("%H:%M:%S").to_string(),
            TimeStyle::DateTime => local.format("%Y-%m-%d %H:%M").to_string(),
        }
    }

    /// A time GHL sent as text (`2026-06-01T10:00:00Z`, with any offset): shown in the zone.
    /// Text that is no RFC 3339 time (a bare date, something odd) is shown as it came.
    pub fn format_text(&self, text: &str, style: TimeStyle) -> String {
        match DateTime::parse_from_rfc3339(text.trim()) {
            Ok(at) => self.format(&at.with_timezone(&Utc), style),
            Err(_) => text.to_string(),
        }
    }
}

/// The machine's zone: `TZ` (a name, or `:name`), else the target of the `/etc/localtime`
/// link (`…/zoneinfo/Europe/Paris`), else `/etc/timezone`'s text (Debian). Paths are
/// parameters so tests can point them elsewhere.
pub fn detect_local(tz_env: Option<&str>, localtime: &Path, timezone_file: &Path) -> Option<Tz> {
    if let Some(value) = tz_env
        && let Ok(tz) = value.trim().trim_start_matches(':').parse::<Tz>()
    {
        return Some(tz);
    }
    if let Ok(target) = std::fs::read_link(localtime) {
        let target = target.to_string_lossy().into_owned();
        if let Some((_, name)) = target.split_once("zoneinfo/")
            && let Ok(tz) = name.parse::<Tz>()
        {
            return Some(tz);
        }
    }
    std::fs::read_to_string(timezone_file)
        .ok()
        .and_then(|text| text.trim().parse::<Tz>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 14, 3, 7)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn formats_in_the_zone_with_daylight_saving() {
        let ny = DisplayZone::named("America/New_York").unwrap();
        assert_eq!(ny.format(&at(), TimeStyle::Time), "10:03:07");
        assert_eq!(ny.format(&at(), TimeStyle::DateTime), "2026-06-01 10:03");
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 14, 0, 0).unwrap();
        assert_eq!(ny.format(&winter, TimeStyle::DateTime), "2026-01-15 09:00");
        let utc = DisplayZone::default();
        assert_eq!(utc.format(&at(), TimeStyle::DateTime), "2026-06-01 14:03");
        assert_eq!(utc.name(), "UTC");
    }

    #[test]
    fn text_times_are_converted_and_odd_text_is_kept() {
        let paris = DisplayZone::named("Europe/Paris").unwrap();
        assert_eq!(
            paris.format_text("2026-06-01T10:00:00Z", TimeStyle::DateTime),
            "2026-06-01 12:00"
        );
        assert_eq!(
            paris.format_text("2026-06-01T10:00:00-04:00", TimeStyle::DateTime),
            "2026-06-01 16:00"
        );
        assert_eq!(
            paris.format_text("2026-06-01", TimeStyle::DateTime),
            "2026-06-01"
        );
    }

    #[test]
    fn configured_zone_wins_and_a_bad_name_warns() {
        let (zone, warning) = DisplayZone::resolve(Some("Asia/Tokyo"));
        assert_eq!(
            (zone.name(), zone.source),
            ("Asia/Tokyo", ZoneSource::Config)
        );
        assert!(warning.is_none());
        let (zone, warning) = DisplayZone::resolve(Some("Mars/Olympus"));
        assert_ne!(zone.source, ZoneSource::Config);
        let warning = warning.unwrap();
        assert!(warning.contains("Mars/Olympus") && warning.contains("America/New_York"));
    }

    #[test]
    fn local_zone_from_tz_then_localtime_link_then_timezone_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert_eq!(
            detect_local(Some(":Europe/Berlin"), &missing, &missing),
            Some(Tz::Europe__Berlin)
        );
        let link = dir.path().join("localtime");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/usr/share/zoneinfo/America/Chicago", &link).unwrap();
            assert_eq!(
                detect_local(Some("nonsense"), &link, &missing),
                Some(Tz::America__Chicago)
            );
        }
        let file = dir.path().join("timezone");
        std::fs::write(&file, "Australia/Sydney\n").unwrap();
        assert_eq!(
            detect_local(None, &missing, &file),
            Some(Tz::Australia__Sydney)
        );
        assert_eq!(detect_local(None, &missing, &missing), None);
    }
}
