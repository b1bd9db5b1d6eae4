//! `[service]`: how `ghlsync run` (the always-on engine of one location) runs — its instance
//! name and control socket, the webhook receiver, schedules, alerts and metrics. Only `run`
//! reads most of it; `console`, `status`, … read `instance`/`socket` to find a running service.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    /// This instance's name (one per GHL location on a host): names its socket
    /// (`$XDG_RUNTIME_DIR/ghlsync/<instance>.sock`) and its systemd unit (`ghlsync@<instance>`).
    #[serde(default = "default_instance")]
    pub instance: String,
    /// The control socket (default: `<instance>.sock` in `$XDG_RUNTIME_DIR/ghlsync`, else in
    /// the XDG state dir's `run` folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
    /// The HTTP listener for webhooks (and `/metrics` when on): `host:port`. Loopback by
    /// default; put a TLS reverse proxy in front to take GHL's deliveries (README).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// How long SIGTERM waits for work in flight before parking what is left.
    #[serde(default = "default_drain_secs")]
    pub drain_secs: u64,
    /// `stderr` (journald) or `file` (the rotating log in the XDG state dir).
    #[serde(default)]
    pub log_to: LogTarget,
    /// `text` or `json` (one JSON object per line).
    #[serde(default)]
    pub log_format: LogFormat,
    /// Serve Prometheus text on `GET /metrics` of the listener.
    #[serde(default)]
    pub metrics: bool,
    /// Default schedules for every peer: entity (`contacts`, `tasks`, `notes`,
    /// `appointments`, or `all`) → an interval (`"5m"`) or a cron expression
    /// (`"0 */15 * * * *"`, seconds first). A peer's `[peers.<name>.schedule]` overrides.
    #[serde(default)]
    pub schedule: ScheduleSection,
    #[serde(default)]
    pub webhooks: WebhooksSection,
    #[serde(default)]
    pub alerts: AlertsSection,
}

impl Default for ServiceSection {
    fn default() -> Self {
        ServiceSection {
            instance: default_instance(),
            socket: None,
            listen: None,
            drain_secs: default_drain_secs(),
            log_to: LogTarget::default(),
            log_format: LogFormat::default(),
            metrics: false,
            schedule: ScheduleSection::default(),
            webhooks: WebhooksSection::default(),
            alerts: AlertsSection::default(),
        }
    }
}

impl ServiceSection {
    pub fn is_default(&self) -> bool {
        self == &ServiceSection::default()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogTarget {
    #[default]
    Stderr,
    File,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Entity → when, plus a jitter added to each due time so many instances on one host (or one
/// GHL agency) do not all poll at the same second. (Keys are checked by `service::schedule`:
/// serde cannot refuse unknown keys beside a flattened map.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSection {
    /// Up to this much (`"30s"`) is added at random to each due time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<String>,
    /// `contacts = "5m"`, `appointments = "0 0 * * * *"`, `all = "15m"`; `"off"` turns one off.
    #[serde(flatten)]
    pub entities: BTreeMap<String, String>,
}

/// `[service.webhooks]`: GHL's signed deliveries on `POST /webhooks/ghl` and apps' pushes on
/// `POST /webhooks/peer/<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksSection {
    /// `required` (the default) or `disabled` (only for the sandbox: every delivery accepted
    /// unsigned; `run` says so at start and `doctor` fails it).
    #[serde(default)]
    pub signatures: SignaturePolicy,
    /// Ed25519 public keys for `X-GHL-Signature` (PEM files, or the SPKI base64 inline); any
    /// one verifying is enough, so a rotation lists the old and the new key. Default: GHL's
    /// published key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ed25519_keys: Vec<String>,
    /// RSA public keys for the legacy `x-wh-signature` (PEM files). Default: GHL's published
    /// key (`assets/keys/ghl-x-wh-signature-rsa.pem`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rsa_keys: Vec<String>,
    /// A delivery whose `timestamp` is further than this from now is refused as a replay.
    #[serde(default = "default_replay_window_secs")]
    pub replay_window_secs: u64,
    /// Events accepted but not yet processed; past this the receiver answers 429 (GHL
    /// delivers again later) instead of losing anything.
    #[serde(default = "default_queue_limit")]
    pub queue_limit: usize,
    /// An alert when no GHL webhook arrived for this long (`"2h"`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent_after: Option<String>,
}

impl Default for WebhooksSection {
    fn default() -> Self {
        WebhooksSection {
            signatures: SignaturePolicy::default(),
            ed25519_keys: Vec::new(),
            rsa_keys: Vec::new(),
            replay_window_secs: default_replay_window_secs(),
            queue_limit: default_queue_limit(),
            silent_after: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignaturePolicy {
    #[default]
    Required,
    Disabled,
}

/// `[service.alerts]`: where alerts go besides the log and the console. The webhook URL is a
/// secret (`alerts_webhook_url` in the secrets file or `GHLSYNC_ALERTS_WEBHOOK_URL`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSection {
    /// A command run for each alert (argv; the alert as JSON on stdin).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Alert when GHL's daily quota left falls under this share (0.0–1.0).
    #[serde(default = "default_quota_reserve")]
    pub quota_reserve: f64,
    /// A peer counts as not answering after this many failed calls in a row.
    #[serde(default = "default_peer_failures")]
    pub peer_failures: u32,
    /// How often the conditions are checked, seconds.
    #[serde(default = "default_check_secs")]
    pub check_secs: u64,
}

impl Default for AlertsSection {
    fn default() -> Self {
        AlertsSection {
            command: Vec::new(),
            quota_reserve: default_quota_reserve(),
            peer_failures: default_peer_failures(),
            check_secs: default_check_secs(),
        }
    }
}

fn default_instance() -> String {
    "default".to_string()
}

fn default_drain_secs() -> u64 {
    20
}

fn default_replay_window_secs() -> u64 {
    300
}

fn default_queue_limit() -> usize {
    10_000
}

fn default_quota_reserve() -> f64 {
    0.1
}

fn default_peer_failures() -> u32 {
    5
}

fn default_check_secs() -> u64 {
    15
}
