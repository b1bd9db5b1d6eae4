//! How a peer's API has been answering: what the status screens show as "peer health". Each
//! connector records its calls' outcomes in a `HealthRecorder`; nothing here sends a request.

use super::PeerError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// The outcome of a peer's recent calls, as the engine reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerHealth {
    /// The last call that got an answer the connector could use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ok_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<DateTime<Utc>>,
    /// The last failure, classified and without secrets (`PeerError`'s message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Failures since the last success: 0 while the peer answers.
    pub failures_in_a_row: u32,
}

impl PeerHealth {
    /// One word for a status line.
    pub fn verdict(&self) -> &'static str {
        match (self.last_ok_at, self.failures_in_a_row) {
            (None, 0) => "not called yet",
            (_, 0) => "ok",
            (Some(_), _) => "failing",
            (None, _) => "unreachable",
        }
    }
}

/// Shared by a connector's calls; cheap to update.
#[derive(Debug, Default)]
pub struct HealthRecorder(Mutex<PeerHealth>);

impl HealthRecorder {
    pub fn record<T>(&self, outcome: &Result<T, PeerError>) {
        let now = Utc::now();
        // A poisoned lock still holds whole values: every update below is a plain assignment.
        let mut health = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match outcome {
            Ok(_) => {
                health.last_ok_at = Some(now);
                health.failures_in_a_row = 0;
            }
            Err(err) => {
                health.last_error_at = Some(now);
                health.last_error = Some(err.to_string());
                health.failures_in_a_row = health.failures_in_a_row.saturating_add(1);
            }
        }
    }

    pub fn snapshot(&self) -> PeerHealth {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_until_a_success_and_the_last_error_is_kept() {
        let recorder = HealthRecorder::default();
        assert_eq!(recorder.snapshot().verdict(), "not called yet");
        let failed: Result<(), PeerError> = Err(PeerError::new(
            "repsly",
            "GET clients",
            crate::net::ErrorClass::NotFound,
            "gone",
        ));
        recorder.record(&failed);
        recorder.record(&failed);
        let health = recorder.snapshot();
        assert_eq!(
            (health.failures_in_a_row, health.verdict()),
            (2, "unreachable")
        );
        assert!(
            health
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("gone"))
        );
        recorder.record(&Ok::<(), PeerError>(()));
        let health = recorder.snapshot();
        assert_eq!((health.failures_in_a_row, health.verdict()), (0, "ok"));
        assert!(health.last_error.is_some(), "the last error stays visible");
        recorder.record(&failed);
        assert_eq!(recorder.snapshot().verdict(), "failing");
    }
}
