//! The inbound end of the Zapier bridge: what the service's HTTP handler (next issue) calls with
//! a request's headers and raw body. An event is accepted only when
//! - the body is at most `max_body` bytes (413),
//! - `X-Growbots-Timestamp` (Unix seconds) is within `tolerance` of now (401: stale or future),
//! - `X-Growbots-Signature: sha256=<hex>` is HMAC-SHA256, keyed by the shared secret, of
//!   `<timestamp>.<raw body>`, compared in constant time (401). The timestamp is signed with
//!   the body so a captured request cannot be made fresh again by changing its header,
//! - that very signature was not accepted before (409: a replay), and
//! - the body is an event (422).
//!
//! An event id accepted before is answered 200 again with `duplicate` (a bridge retrying after a
//! lost answer) and not stored twice. An accepted event is in its inbox file and in the
//! receiver's log, each written and fsynced with its folder, before `accept` returns: a 200
//! means a crash cannot lose it.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::json;

use super::events::{Event, EventFolders};
use crate::config::Secret;
pub use crate::peers::push::{Refused, SignedHeaders, check_signed, signature};

pub const SIGNATURE_HEADER: &str = "x-growbots-signature";
pub const TIMESTAMP_HEADER: &str = "x-growbots-timestamp";

#[derive(Debug, Clone, Copy)]
pub struct ReceiverOptions {
    /// How far a request's timestamp may be from now, either way.
    pub tolerance: Duration,
    /// The largest body accepted; a prospect event is well under a kilobyte.
    pub max_body: usize,
}

impl Default for ReceiverOptions {
    fn default() -> Self {
        ReceiverOptions {
            tolerance: Duration::from_secs(300),
            max_body: 64 * 1024,
        }
    }
}

/// A stored (or already stored) event: answer `status` (200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub status: u16,
    pub event_id: String,
    /// The event was accepted before; nothing new was stored.
    pub duplicate: bool,
}

impl Accepted {
    pub fn body(&self) -> String {
        json!({"ok": true, "id": self.event_id, "duplicate": self.duplicate}).to_string()
    }
}

/// What was accepted: signatures (replays) and event ids (duplicates), as the log says.
#[derive(Default)]
struct Seen {
    signatures: HashMap<String, i64>,
    events: HashSet<String>,
}

pub struct Receiver {
    folders: EventFolders,
    secret: Secret,
    options: ReceiverOptions,
    seen: Mutex<Seen>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("folders", &self.folders)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Creates the event folders (0700) and reads back what was accepted before.
    pub fn open(
        folders: EventFolders,
        secret: Secret,
        options: ReceiverOptions,
    ) -> std::io::Result<Receiver> {
        for dir in [folders.prospects(), folders.replies()] {
            crate::peers::file::ensure_dir(&dir)?;
        }
        let mut seen = Seen::default();
        match std::fs::read_to_string(folders.received_log()) {
            Ok(text) => {
                // A line torn by a crash mid-append names nothing stored after it: skip it.
                for entry in text
                    .lines()
                    .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                {
                    if let (Some(sig), Some(ts)) = (entry["sig"].as_str(), entry["ts"].as_i64()) {
                        seen.signatures.insert(sig.to_string(), ts);
                    }
                    if let Some(id) = entry["id"].as_str() {
                        seen.events.insert(id.to_string());
                    }
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        Ok(Receiver {
            folders,
            secret,
            options,
            seen: Mutex::new(seen),
        })
    }

    /// Judges one request now; see the module's head for the answers.
    pub fn accept(&self, headers: &HeaderMap, body: &[u8]) -> Result<Accepted, Refused> {
        self.accept_at(chrono::Utc::now().timestamp(), headers, body)
    }

    fn accept_at(&self, now: i64, headers: &HeaderMap, body: &[u8]) -> Result<Accepted, Refused> {
        if body.len() > self.options.max_body {
            return Err(Refused::new(
                413,
                format!(
                    "the body is {} bytes, over the {}-byte limit; post one event per request",
                    body.len(),
                    self.options.max_body
                ),
            ));
        }
        let tolerance = self.options.tolerance.as_secs() as i64;
        let (at, sent) = check_signed(
            &GROWBOTS_HEADERS,
            self.secret.expose().as_bytes(),
            now,
            tolerance,
            headers,
            body,
        )?;
        let sent = sent.as_str();
        let event = Event::parse(body).map_err(|why| Refused::new(422, why))?;
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.signatures.contains_key(sent) {
            return Err(Refused::new(
                409,
                "replayed: this signed request was accepted before",
            ));
        }
        let duplicate = seen.events.contains(&event.id);
        if !duplicate {
            self.store(&event).map_err(|err| {
                tracing::error!(event = %event.id, "growbots event not stored: {err}");
                Refused::new(
                    503,
                    format!("the event could not be stored ({err}); retry later"),
                )
            })?;
        }
        self.log(at, sent, &event.id).map_err(|err| {
            Refused::new(
                503,
                format!("the event could not be recorded ({err}); retry later"),
            )
        })?;
        seen.signatures.insert(sent.to_string(), at);
        seen.signatures
            .retain(|_, ts| (now - *ts).abs() <= tolerance);
        seen.events.insert(event.id.clone());
        Ok(Accepted {
            status: 200,
            event_id: event.id,
            duplicate,
        })
    }

    /// The event's inbox file: written whole, fsynced, renamed, its folder fsynced.
    fn store(&self, event: &Event) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(&event.stored_line()).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let path = self.folders.inbox_of(event.kind).join(event.file_name());
        crate::private_file::write_atomic(&path, &line)
    }

    /// One line appended to the log and fsynced (the log's folder too, when the log is new).
    fn log(&self, at: i64, signature: &str, id: &str) -> std::io::Result<()> {
        let path = self.folders.received_log();
        let new = !path.exists();
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path)?;
        let mut line = json!({"ts": at, "sig": signature, "id": id}).to_string();
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_all()?;
        if new {
            std::fs::File::open(&self.folders.root)?.sync_all()?;
        }
        Ok(())
    }
}

pub const GROWBOTS_HEADERS: SignedHeaders = SignedHeaders {
    timestamp: TIMESTAMP_HEADER,
    signature: SIGNATURE_HEADER,
    shown_prefix: "X-Growbots-",
};

#[cfg(test)]
#[path = "receiver_tests.rs"]
mod tests;
