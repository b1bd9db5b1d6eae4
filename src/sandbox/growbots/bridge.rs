//! The Zapier bridge: an event built from a prospect, signed and posted to the configured URL,
//! retried on a non-2xx answer (or no answer) up to three attempts, as Zapier retries a failed
//! webhook step.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::{Fault, GrowbotsState};
use crate::sandbox::state::lock;

const ATTEMPTS: usize = 3;

/// Export header → the bridge's field name (what a Zap's field mapping would send).
const FIELDS: &[(&str, &str)] = &[
    ("Email", "email"),
    ("First Name", "first_name"),
    ("Last Name", "last_name"),
    ("Company", "company"),
    ("Job Title", "job_title"),
    ("Phone", "phone"),
    ("LinkedIn", "linkedin"),
    ("Status", "status"),
    ("City", "city"),
    ("Country", "country"),
];

fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

impl GrowbotsState {
    /// Records an event about `prospect` and has the bridge deliver it; answers what happened.
    pub(super) async fn emit(
        &self,
        kind: &str,
        prospect: &Map<String, Value>,
        reply: Option<Value>,
    ) -> Value {
        let fields: Map<String, Value> = FIELDS
            .iter()
            .filter_map(|(header, field)| Some((field.to_string(), prospect.get(*header)?.clone())))
            .collect();
        let (id, event) = {
            let mut data = lock(&self.data);
            data.next_event += 1;
            let id = format!("evt_{:05}", data.next_event);
            let mut event = json!({
                "id": id,
                "type": kind,
                "occurred_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "prospect": fields,
            });
            if let Some(reply) = reply {
                event["reply"] = reply;
            }
            (id, event)
        };
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let url = lock(&self.bridge).clone();
        let mut attempts = Vec::new();
        let mut delivered = false;
        if let Some(url) = &url {
            let bad_first = self.take_fault(Fault::BadSignature);
            let copies = if self.take_fault(Fault::Duplicate) {
                2
            } else {
                1
            };
            for copy in 0..copies {
                delivered = false;
                for attempt in 0..ATTEMPTS {
                    let secret = if bad_first && attempt == 0 && attempts.is_empty() {
                        "not-the-shared-secret".to_string()
                    } else {
                        self.webhook_secret.expose().to_string()
                    };
                    let status = self.post(url, &secret, &body, copy).await;
                    attempts.push(json!(status));
                    if status.is_some_and(|s| (200..300).contains(&s)) {
                        delivered = true;
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(10 * (attempt as u64 + 1)))
                        .await;
                }
            }
        }
        let outcome = json!({
            "id": id,
            "type": kind,
            "email": event["prospect"]["email"],
            "delivered": delivered,
            "attempts": attempts,
        });
        lock(&self.data).events.push(outcome.clone());
        json!({"event": event, "delivery": outcome})
    }

    /// `copy`: a duplicate delivery is a re-run of the Zap, signed anew (a second later).
    async fn post(&self, url: &str, secret: &str, body: &[u8], copy: usize) -> Option<u16> {
        let timestamp = (chrono::Utc::now().timestamp() + copy as i64).to_string();
        let signature = sign(secret, &timestamp, body);
        let answer = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("x-growbots-timestamp", &timestamp)
            .header("x-growbots-signature", signature)
            .body(body.to_vec())
            .send()
            .await;
        answer.ok().map(|response| response.status().as_u16())
    }
}
