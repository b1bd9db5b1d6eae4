//! When `ghlsync run` syncs each peer: `[service.schedule]` for every peer, a peer's
//! `[peers.<name>.schedule]` over it, by entity (`contacts`, `tasks`, `notes`, `appointments`,
//! or `all`), each an interval (`"5m"`) or a cron expression (five fields, or six with seconds
//! first), plus up to `jitter` at random so instances on one host do not poll in step.

use crate::config::Config;
use crate::config::service::ScheduleSection;
use crate::peers::EntityKind;
use chrono::{DateTime, Utc};
use std::str::FromStr;
use std::time::Duration;

/// What runs when nothing is configured: every entity of every peer, every five minutes.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub enum When {
    Every(Duration),
    Cron(Box<cron::Schedule>),
}

/// One scheduled sync: a peer and an entity (`None`: all of them).
#[derive(Debug, Clone)]
pub struct Entry {
    pub peer: String,
    pub entity: Option<EntityKind>,
    pub when: When,
    pub jitter: Duration,
}

impl Entry {
    /// The name `status` and the board show: `contacts`, …, or `all`.
    pub fn label(&self) -> &'static str {
        match self.entity {
            None => "all",
            Some(EntityKind::Contact) => "contacts",
            Some(EntityKind::Task) => "tasks",
            Some(EntityKind::Note) => "notes",
            Some(EntityKind::Appointment) => "appointments",
        }
    }

    /// When it is due next after `now`, given its last run; `jitter_draw` is a number in
    /// [0, 1) (random in the service, fixed in tests).
    pub fn next_after(
        &self,
        now: DateTime<Utc>,
        last: Option<DateTime<Utc>>,
        jitter_draw: f64,
    ) -> DateTime<Utc> {
        let base = match &self.when {
            // Without a last run it is due at once: a restarted service catches up.
            When::Every(every) => match last {
                Some(last) => last + chrono::Duration::from_std(*every).unwrap_or_default(),
                None => now,
            },
            When::Cron(schedule) => schedule.after(&now).next().unwrap_or(now),
        };
        let jitter = self.jitter.mul_f64(jitter_draw.clamp(0.0, 1.0));
        base.max(now) + chrono::Duration::from_std(jitter).unwrap_or_default()
    }
}

/// A schedule value that does not parse, with where it is and what would.
#[derive(Debug, thiserror::Error)]
#[error("{place}: {message}")]
pub struct ScheduleError {
    pub place: String,
    pub message: String,
}

/// Every scheduled sync of `peers` under `config`.
pub fn entries(config: &Config, peers: &[String]) -> Result<Vec<Entry>, ScheduleError> {
    let defaults = &config.service.schedule;
    let mut all = Vec::new();
    for peer in peers {
        let own = config.peers.get(peer).and_then(|p| p.schedule.as_ref());
        let place = |key: &str| match own.is_some_and(|own| own.entities.contains_key(key)) {
            true => format!("[peers.{peer}.schedule] {key}"),
            false => format!("[service.schedule] {key}"),
        };
        // The peer's own values win key by key; its jitter wins too.
        let mut merged = defaults.entities.clone();
        if let Some(own) = own {
            merged.extend(own.entities.clone());
        }
        let jitter_text = own
            .and_then(|own| own.jitter.clone())
            .or_else(|| defaults.jitter.clone());
        let jitter = match jitter_text {
            Some(text) => parse_duration(&text).map_err(|message| ScheduleError {
                place: format!("schedule jitter of {peer}"),
                message,
            })?,
            None => Duration::ZERO,
        };
        if merged.is_empty() {
            all.push(Entry {
                peer: peer.clone(),
                entity: None,
                when: When::Every(DEFAULT_EVERY),
                jitter,
            });
            continue;
        }
        for (key, value) in &merged {
            let entity = entity_of(key).map_err(|message| ScheduleError {
                place: place(key),
                message,
            })?;
            if value.trim().eq_ignore_ascii_case("off") {
                continue;
            }
            let when = parse_when(value).map_err(|message| ScheduleError {
                place: place(key),
                message,
            })?;
            all.push(Entry {
                peer: peer.clone(),
                entity,
                when,
                jitter,
            });
        }
    }
    Ok(all)
}

fn entity_of(key: &str) -> Result<Option<EntityKind>, String> {
    Ok(Some(match key {
        "all" => return Ok(None),
        "contacts" => EntityKind::Contact,
        "tasks" => EntityKind::Task,
        "notes" => EntityKind::Note,
        "appointments" => EntityKind::Appointment,
        other => {
            return Err(format!(
                "unknown entity {other:?}; use contacts, tasks, notes, appointments or all (or jitter)"
            ));
        }
    }))
}

/// `"5m"`, `"1h 30m"` (an interval of at least 10 s) or a cron expression.
pub fn parse_when(text: &str) -> Result<When, String> {
    let text = text.trim();
    if text.split_whitespace().count() >= 5 {
        // Five fields is the usual crontab; the cron crate wants seconds first.
        let six = if text.split_whitespace().count() == 5 {
            format!("0 {text}")
        } else {
            text.to_string()
        };
        return cron::Schedule::from_str(&six)
            .map(|schedule| When::Cron(Box::new(schedule)))
            .map_err(|err| {
                format!(
                    "{text:?} is not a cron expression ({err}); e.g. \"*/15 * * * *\" (every 15 minutes)"
                )
            });
    }
    let every = parse_duration(text)?;
    if every < Duration::from_secs(10) {
        return Err(format!(
            "{text:?} is shorter than 10 s; a run reads every GHL contact, so poll no more often than that (webhooks bring changes at once)"
        ));
    }
    Ok(When::Every(every))
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|err| {
        format!("{text:?} is not a duration or a cron expression ({err}); e.g. \"5m\" or \"*/15 * * * *\"")
    })
}

/// The schedule section a peer's table would hold (for `--write-config` and tests).
pub fn section(pairs: &[(&str, &str)]) -> ScheduleSection {
    ScheduleSection {
        jitter: None,
        entities: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("/etc/ghlsync.toml")).unwrap()
    }

    #[test]
    fn nothing_configured_syncs_everything_every_five_minutes() {
        let entries = entries(&config(""), &["repsly".into()]).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].label(), "all");
        assert!(matches!(entries[0].when, When::Every(d) if d == DEFAULT_EVERY));
    }

    #[test]
    fn a_peer_overrides_the_service_defaults_key_by_key() {
        let text = "[service.schedule]\ncontacts = \"10m\"\nnotes = \"1h\"\n";
        let mut config = config(text);
        config.peers.insert(
            "robly".into(),
            crate::config::PeerSection {
                schedule: Some(section(&[("contacts", "*/5 * * * *"), ("notes", "off")])),
                ..Default::default()
            },
        );
        let mut got: Vec<(String, &str, bool)> =
            entries(&config, &["repsly".into(), "robly".into()])
                .unwrap()
                .iter()
                .map(|e| (e.peer.clone(), e.label(), matches!(e.when, When::Cron(_))))
                .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("repsly".into(), "contacts", false),
                ("repsly".into(), "notes", false),
                ("robly".into(), "contacts", true),
            ]
        );
    }

    #[test]
    fn bad_values_name_their_place_and_an_example() {
        let err = entries(
            &config("[service.schedule]\ncontacts = \"soon\"\n"),
            &["repsly".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("[service.schedule] contacts"), "{err}");
        assert!(err.contains("\"5m\""), "{err}");
        let err = entries(
            &config("[service.schedule]\ncontact = \"5m\"\n"),
            &["repsly".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown entity \"contact\""), "{err}");
        assert!(parse_when("1s").is_err());
        assert!(parse_when("61 * * * *").is_err());
    }

    #[test]
    fn an_interval_counts_from_the_last_run_and_jitter_only_delays() {
        let entry = Entry {
            peer: "p".into(),
            entity: None,
            when: When::Every(Duration::from_secs(300)),
            jitter: Duration::from_secs(60),
        };
        let now = Utc::now();
        assert_eq!(entry.next_after(now, None, 0.0), now);
        let last = now - chrono::Duration::seconds(100);
        assert_eq!(
            entry.next_after(now, Some(last), 0.5),
            last + chrono::Duration::seconds(300 + 30)
        );
        let cron = Entry {
            when: parse_when("*/15 * * * *").unwrap(),
            jitter: Duration::ZERO,
            ..entry
        };
        let next = cron.next_after(now, None, 0.0);
        assert!(next > now && next <= now + chrono::Duration::minutes(15));
        assert_eq!(next.timestamp() % 900, 0);
    }
}
