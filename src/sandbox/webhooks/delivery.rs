//! Delivery as GHL does it: one worker per location sends first attempts in order; a 429 is
//! retried up to six times, each `retry_delay` (plus up to a tenth as jitter) after the last,
//! without holding the queue back; any other status is final (lost unless 2xx).

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::{Shared, WebhookFaults, iso_now, lock};

/// GHL: "up to six times".
pub const MAX_RETRIES: u32 = 6;

/// An event on its way: its bytes and signatures fixed at its first attempt, so every retry
/// sends exactly what was signed.
#[derive(Clone)]
pub struct Outgoing {
    event: Map<String, Value>,
    prepared: Option<Arc<Prepared>>,
}

struct Prepared {
    body: Vec<u8>,
    ed25519: Option<String>,
    rsa: Option<String>,
}

impl Outgoing {
    pub fn new(event: Map<String, Value>) -> Self {
        Outgoing {
            event,
            prepared: None,
        }
    }
}

pub fn spawn_worker(shared: Arc<Shared>) -> mpsc::UnboundedSender<Outgoing> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    tokio::spawn(async move {
        while let Some(outgoing) = rx.recv().await {
            let faults = std::mem::take(&mut *lock(&shared.faults));
            let Some(outgoing) = prepare(&shared, outgoing, faults) else {
                continue;
            };
            if faults.duplicate {
                {
                    let mut stats = lock(&shared.stats);
                    stats.emitted += 1;
                    stats.pending += 1;
                }
                attempt(&shared, outgoing.clone()).await;
            }
            attempt(&shared, outgoing).await;
        }
    });
    tx
}

/// Serialises and signs the event, spending the faults that change its bytes. `None` (counted
/// lost) when webhooks were unconfigured since.
fn prepare(shared: &Shared, mut outgoing: Outgoing, faults: WebhookFaults) -> Option<Outgoing> {
    let scheme = lock(&shared.settings).as_ref().map(|s| s.scheme);
    let (Some(scheme), Some(keys)) = (scheme, shared.keys.get()) else {
        finish(shared, None);
        return None;
    };
    if faults.stale_timestamp {
        outgoing
            .event
            .insert("timestamp".into(), Value::String(iso_now(3600)));
    }
    let body = serde_json::to_vec(&outgoing.event).unwrap_or_default();
    let signed: Vec<u8> = if faults.bad_signature {
        [body.as_slice(), b" "].concat()
    } else {
        body.clone()
    };
    outgoing.prepared = Some(Arc::new(Prepared {
        ed25519: scheme.ed25519().then(|| keys.sign_ed25519(&signed)),
        rsa: scheme.rsa().then(|| keys.sign_rsa(&signed)),
        body,
    }));
    Some(outgoing)
}

/// The first attempt, then the outcome: final, or the retries in a task of their own (the
/// location's later events go on meanwhile, as GHL's do).
async fn attempt(shared: &Arc<Shared>, outgoing: Outgoing) {
    let Some(prepared) = outgoing.prepared.clone() else {
        finish(shared, None);
        return;
    };
    let status = send(shared, &prepared).await;
    if status != Some(429) {
        finish(shared, status);
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        let mut status = status;
        let mut retries = 0;
        while status == Some(429) && retries < MAX_RETRIES {
            retries += 1;
            lock(&shared.stats).retried += 1;
            tokio::time::sleep(retry_pause(&shared)).await;
            status = send(&shared, &prepared).await;
        }
        finish(&shared, status);
    });
}

/// One HTTP attempt; `None` when nothing answered (or webhooks were unconfigured since).
async fn send(shared: &Shared, prepared: &Prepared) -> Option<u16> {
    let url = lock(&shared.settings).as_ref().map(|s| s.url.clone())?;
    let mut request = shared
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(prepared.body.clone());
    if let Some(signature) = &prepared.ed25519 {
        request = request.header("X-GHL-Signature", signature);
    }
    if let Some(signature) = &prepared.rsa {
        request = request.header("x-wh-signature", signature);
    }
    lock(&shared.stats).sent += 1;
    request.send().await.ok().map(|r| r.status().as_u16())
}

fn retry_pause(shared: &Shared) -> Duration {
    let delay = lock(&shared.settings)
        .as_ref()
        .map_or(super::DEFAULT_RETRY_DELAY, |s| s.retry_delay);
    let jitter_ms = u64::try_from(delay.as_millis() / 10).unwrap_or(0);
    delay + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
}

/// Records an event's final outcome (`None`: no answer, or nowhere to send it).
fn finish(shared: &Shared, status: Option<u16>) {
    let mut stats = lock(&shared.stats);
    stats.pending = stats.pending.saturating_sub(1);
    match status {
        Some(s) if (200..300).contains(&s) => stats.acknowledged += 1,
        Some(s) => *stats.lost.entry(s.to_string()).or_default() += 1,
        None => *stats.lost.entry("error".into()).or_default() += 1,
    }
}
