//! The sandbox as GHL's webhook sender: every change made through GHL's API routes becomes the
//! matching event (`events.rs`, one middleware on the API router), signed with the sandbox's
//! own test pair (`keys.rs`) and delivered the way GHL delivers (`delivery.rs`): async, in order
//! per location, retried only on 429.
//!
//! Admin surface: `POST|GET /_sandbox/webhooks` (settings, public keys, delivery stats),
//! `POST /_sandbox/webhooks/faults` (one-shot faults), `POST /_sandbox/webhooks/send` (a custom
//! event, signed as usual).

mod admin;
mod delivery;
mod events;
mod keys;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{OnceCell, mpsc};

pub use admin::router as admin_router;
pub use events::layer;
pub use keys::PublicKeys;

use super::state::lock;
use delivery::Outgoing;
use keys::KeyPair;

/// GHL's documented spacing of 429 retries.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(600);

/// Which signature headers a delivery carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Ed25519,
    Rsa,
    #[default]
    Both,
    None,
}

impl Scheme {
    fn ed25519(self) -> bool {
        matches!(self, Scheme::Ed25519 | Scheme::Both)
    }

    fn rsa(self) -> bool {
        matches!(self, Scheme::Rsa | Scheme::Both)
    }
}

/// Where and how the sandbox delivers.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookSettings {
    pub url: String,
    pub scheme: Scheme,
    /// The spacing of 429 retries (plus up to a tenth of it as jitter).
    pub retry_delay: Duration,
    pub enabled: bool,
}

impl WebhookSettings {
    pub fn new(url: impl Into<String>) -> Self {
        WebhookSettings {
            url: url.into(),
            scheme: Scheme::Both,
            retry_delay: DEFAULT_RETRY_DELAY,
            enabled: true,
        }
    }
}

/// Delivery counts since the sandbox started.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStats {
    /// Events queued (changes and custom sends).
    pub emitted: u64,
    /// HTTP attempts made (first tries, retries and duplicates).
    pub sent: u64,
    /// Events answered 2xx.
    pub acknowledged: u64,
    /// Retries after a 429.
    pub retried: u64,
    /// Events given up, by the final status (`"error"`: no answer).
    pub lost: BTreeMap<String, u64>,
    /// Events not final yet (queued, in flight or waiting for a retry).
    pub pending: u64,
}

/// One-shot faults, each spent by the next delivery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookFaults {
    /// Both signatures computed over other bytes than the ones sent.
    #[serde(default)]
    pub bad_signature: bool,
    /// The event delivered twice, byte for byte (one `webhookId`).
    #[serde(default)]
    pub duplicate: bool,
    /// The event's `timestamp` an hour old (signed correctly).
    #[serde(default)]
    pub stale_timestamp: bool,
}

/// What the delivery tasks share (no queue senders, so the workers end with the sandbox).
struct Shared {
    settings: Mutex<Option<WebhookSettings>>,
    keys: OnceCell<Arc<KeyPair>>,
    stats: Mutex<DeliveryStats>,
    faults: Mutex<WebhookFaults>,
    client: reqwest::Client,
}

pub struct Webhooks {
    shared: Arc<Shared>,
    /// One ordered queue per location, its worker started with its first event.
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Outgoing>>>,
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks {
            shared: Arc::new(Shared {
                settings: Mutex::new(None),
                keys: OnceCell::new(),
                stats: Mutex::default(),
                faults: Mutex::default(),
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap_or_default(),
            }),
            queues: Mutex::default(),
        }
    }
}

impl Webhooks {
    /// Sets where deliveries go; the key pair is generated on the first call only.
    pub async fn configure(&self, settings: WebhookSettings) -> Result<PublicKeys, String> {
        let keys = self
            .shared
            .keys
            .get_or_try_init(|| async {
                tokio::task::spawn_blocking(KeyPair::generate)
                    .await
                    .map_err(|e| format!("key generation stopped: {e}"))?
                    .map(Arc::new)
            })
            .await?;
        *lock(&self.shared.settings) = Some(settings);
        Ok(keys.public.clone())
    }

    pub fn settings(&self) -> Option<WebhookSettings> {
        lock(&self.shared.settings).clone()
    }

    pub fn public_keys(&self) -> Option<PublicKeys> {
        self.shared.keys.get().map(|k| k.public.clone())
    }

    pub fn stats(&self) -> DeliveryStats {
        lock(&self.shared.stats).clone()
    }

    /// Arms one-shot faults (added to those not spent yet).
    pub fn arm(&self, faults: WebhookFaults) -> WebhookFaults {
        let mut armed = lock(&self.shared.faults);
        armed.bad_signature |= faults.bad_signature;
        armed.duplicate |= faults.duplicate;
        armed.stale_timestamp |= faults.stale_timestamp;
        *armed
    }

    /// Whether changes are turned into events now.
    pub fn active(&self) -> bool {
        lock(&self.shared.settings)
            .as_ref()
            .is_some_and(|s| s.enabled)
    }

    /// Queues `event` for `location`, adding `webhookId` and `timestamp` when it has none;
    /// answers the `webhookId`.
    pub fn emit(&self, location: &str, mut event: Map<String, Value>) -> String {
        let id = match event.get("webhookId").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => {
                let id = super::ids::uuid_like(&mut rand::rng());
                event.insert("webhookId".into(), Value::String(id.clone()));
                id
            }
        };
        if !event.contains_key("timestamp") {
            event.insert("timestamp".into(), Value::String(iso_now(0)));
        }
        {
            let mut stats = lock(&self.shared.stats);
            stats.emitted += 1;
            stats.pending += 1;
        }
        let mut queues = lock(&self.queues);
        let sender = queues
            .entry(location.to_string())
            .or_insert_with(|| delivery::spawn_worker(self.shared.clone()));
        if sender.send(Outgoing::new(event)).is_err() {
            // The worker's runtime is gone (a test's runtime ended): count it lost, not pending.
            let mut stats = lock(&self.shared.stats);
            stats.pending = stats.pending.saturating_sub(1);
            *stats.lost.entry("error".into()).or_default() += 1;
        }
        id
    }
}

/// Now (minus `age_secs`) as GHL's webhooks write it: ISO 8601, UTC, milliseconds.
fn iso_now(age_secs: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(age_secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests;
