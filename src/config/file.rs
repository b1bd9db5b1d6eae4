//! The `ghlsync.toml` schema. Unknown keys are errors (a typo must not silently fall back to a
//! default), reported with file:line:column and the keys that are valid there.

use super::error::{ConfigError, line_column};
use super::service::{ScheduleSection, ServiceSection};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const CONFIG_FILE_NAME: &str = "ghlsync.toml";
pub const DEFAULT_GHL_BASE_URL: &str = "https://services.leadconnectorhq.com";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub ghl: GhlSection,
    #[serde(default, skip_serializing_if = "StoreSection::is_default")]
    pub store: StoreSection,
    /// Peer apps by name, in name order. Written by hand in `--write-config`: connector settings
    /// are read-only types.
    #[serde(default, skip_serializing)]
    pub peers: std::collections::BTreeMap<String, PeerSection>,
    #[serde(default, skip_serializing_if = "ConsoleSection::is_default")]
    pub console: ConsoleSection,
    /// `ghlsync run`: instance, socket, receiver, schedules, alerts (`config/service.rs`).
    #[serde(default, skip_serializing_if = "ServiceSection::is_default")]
    pub service: ServiceSection,
    /// The file this was read from, if any: relative paths in it resolve against its folder.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The text it was read from: connectors read their own tables from it (with line:col).
    #[serde(skip)]
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// The sled store directory (default: `store` in the XDG data dir).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Sync log retention: entries older than this many days are dropped after each run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_max_age_days: Option<u32>,
    /// Sync log retention: at most this many entries are kept (oldest dropped first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_max_entries: Option<usize>,
}

impl StoreSection {
    fn is_default(&self) -> bool {
        self == &StoreSection::default()
    }
}

/// `[console]`: how the console shows things.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    /// The IANA zone every time on screen is shown in (default: the machine's zone, else UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl ConsoleSection {
    fn is_default(&self) -> bool {
        self == &ConsoleSection::default()
    }
}

/// `[peers.<name>]`: one peer app. `connector` says which kind (default: the peer's name, when
/// that names a connector, so `[peers.repsly]` needs none); `connection` is the connector's own
/// table, read by the connector (`peers::registry`); `sync` the flows, delete policies and tag
/// rules; `mapping` the mapping file (default: the connector's built-in one).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSection {
    #[serde(default)]
    pub connector: Option<String>,
    /// Read again by the connector from the text, so its errors keep line:col.
    #[serde(default)]
    pub connection: toml::Table,
    #[serde(default)]
    pub sync: crate::sync::SyncSettings,
    #[serde(default)]
    pub mapping: Option<PathBuf>,
    /// When `ghlsync run` syncs this peer, by entity (over `[service.schedule]`).
    #[serde(default)]
    pub schedule: Option<ScheduleSection>,
}

impl PeerSection {
    /// The connector's name: `connector`, else the peer's own name.
    pub fn connector_name<'a>(&'a self, peer: &'a str) -> &'a str {
        self.connector.as_deref().unwrap_or(peer)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GhlSection {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The sub-account (location) id: 20 characters, from GHL's Settings → Business Profile.
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub auth: AuthKind,
    /// OAuth only: the marketplace app's client id (its secret comes from the secrets).
    #[serde(default)]
    pub client_id: Option<String>,
    /// OAuth only: where the current token pair lives (default: XDG state dir).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl Default for GhlSection {
    fn default() -> Self {
        GhlSection {
            base_url: default_base_url(),
            location_id: None,
            auth: AuthKind::default(),
            client_id: None,
            token_file: None,
            timeout_secs: default_timeout_secs(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKind {
    /// A Private Integration Token (`pit-…`), static.
    #[default]
    PrivateToken,
    /// OAuth 2.0 access + refresh tokens of a marketplace app.
    Oauth,
}

fn default_base_url() -> String {
    DEFAULT_GHL_BASE_URL.to_string()
}

fn default_timeout_secs() -> u64 {
    30
}

impl Config {
    /// Reads and validates `path`. A missing file is `Ok(None)`: callers decide whether that
    /// means demo mode or an error.
    pub fn load(path: &Path) -> Result<Option<Config>, ConfigError> {
        let text = match super::limits::read_capped(path, super::limits::MAX_CONFIG_BYTES) {
            Ok(text) => text?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let mut config = Config::parse(&text, path)?;
        config.source = Some(path.to_path_buf());
        Ok(Some(config))
    }

    /// Parses config text; `path` is only for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        super::limits::check_values(text, path)?;
        let mut config: Config = toml::from_str(text).map_err(|err| {
            let (line, column) = err
                .span()
                .map_or((1, 1), |span| line_column(text, span.start));
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: super::toml_problem(err.message()),
            }
        })?;
        config.validate(path)?;
        config.text = text.to_string();
        super::peers::configured_peers(&config, path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let base = url::Url::parse(&self.ghl.base_url).map_err(|err| {
            invalid(format!(
                "ghl.base_url {:?} is not a URL ({err}); expected e.g. {DEFAULT_GHL_BASE_URL:?}",
                self.ghl.base_url
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "ghl.base_url must be http or https, not {:?}",
                base.scheme()
            )));
        }
        if let Some(location) = &self.ghl.location_id
            && (location.trim().is_empty() || location.contains(char::is_whitespace))
        {
            return Err(invalid(format!(
                "ghl.location_id {location:?} is not an id; copy it from GHL's Settings → Business Profile"
            )));
        }
        if self.ghl.auth == AuthKind::Oauth && self.ghl.client_id.is_none() {
            return Err(invalid(
                "ghl.auth = \"oauth\" needs ghl.client_id (the marketplace app's client id)".into(),
            ));
        }
        if self.ghl.timeout_secs == 0 {
            return Err(invalid("ghl.timeout_secs must be at least 1".into()));
        }
        let instance = &self.service.instance;
        if instance.is_empty()
            || instance.len() > 64
            || !instance
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || instance.starts_with('.')
        {
            return Err(invalid(format!(
                "service.instance {instance:?} must be 1–64 letters, digits, '-', '_' or '.' (it names the socket and the systemd unit), e.g. \"acme-main\""
            )));
        }
        if let Some(listen) = &self.service.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(invalid(format!(
                "service.listen {listen:?} is not host:port; use e.g. \"127.0.0.1:8787\""
            )));
        }
        if let Some(zone) = &self.console.time_zone
            && zone.trim().parse::<chrono_tz::Tz>().is_err()
        {
            return Err(invalid(format!(
                "console.time_zone {zone:?} is not an IANA time zone; use e.g. \"America/New_York\" or \"UTC\""
            )));
        }
        Ok(())
    }

    /// The config as TOML, for `--write-config` and `ghlsync config check`. Holds no secrets.
    pub fn to_toml(&self) -> String {
        // A struct of plain strings, numbers and enums always serialises.
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/ghlsync.toml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config.ghl.base_url, DEFAULT_GHL_BASE_URL);
        assert_eq!(config.ghl.auth, AuthKind::PrivateToken);
    }

    #[test]
    fn unknown_key_names_place_and_alternatives() {
        let err = parse("[ghl]\nlocation_id = \"abc\"\nlocaton = 1\n").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("/etc/ghlsync.toml:3:1:"), "{text}");
        assert!(text.contains("locaton"), "{text}");
        assert!(text.contains("location_id"), "{text}");
    }

    #[test]
    fn bad_auth_kind_lists_the_valid_ones() {
        let err = parse("[ghl]\nauth = \"pat\"\n").unwrap_err().to_string();
        assert!(err.contains(":2:8:"), "{err}");
        assert!(
            err.contains("private-token") && err.contains("oauth"),
            "{err}"
        );
    }

    #[test]
    fn oauth_needs_client_id() {
        let err = parse("[ghl]\nauth = \"oauth\"\n").unwrap_err().to_string();
        assert!(err.contains("client_id"), "{err}");
    }

    #[test]
    fn console_time_zone_is_an_iana_name() {
        let config = parse("[console]\ntime_zone = \"America/New_York\"\n").unwrap();
        assert_eq!(
            config.console.time_zone.as_deref(),
            Some("America/New_York")
        );
        let err = parse("[console]\ntime_zone = \"Eastern\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Eastern") && err.contains("IANA"), "{err}");
        let err = parse("[console]\ntimezone = \"UTC\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("time_zone"), "{err}");
    }

    #[test]
    fn round_trips_through_toml() {
        let mut config = parse("[ghl]\nlocation_id = \"loc1\"\n").unwrap();
        config.source = None;
        let mut again = parse(&config.to_toml()).unwrap();
        again.text = config.text.clone();
        assert_eq!(again, config);
    }
}
