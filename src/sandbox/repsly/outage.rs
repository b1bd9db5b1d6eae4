//! A peer outage on demand: for the next N ms every `/repsly/v3/*` request is answered 503, or
//! its connection dropped, before authentication and before any handler runs. Set through
//! `POST /_sandbox/repsly/settings {"downForMs": N, "downMode": "503"|"drop"}`.
//!
//! Import jobs accepted before the outage still run when their delay ends (the job runner is
//! Repsly's back end, not its front door), so a client polling their status meets the outage
//! while the work goes on, as it would behind a failing load balancer.

use std::time::{Duration, Instant};

use axum::response::Response;
use serde::Serialize;

use super::http;
use crate::sandbox::faults::{self, FaultKind};

/// How the emulation answers while down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum DownMode {
    /// IIS's 503 page.
    #[default]
    #[serde(rename = "503")]
    Status503,
    /// The connection closes without an answer.
    #[serde(rename = "drop")]
    Drop,
}

impl DownMode {
    pub fn parse(s: &str) -> Result<DownMode, String> {
        match s {
            "503" => Ok(DownMode::Status503),
            "drop" => Ok(DownMode::Drop),
            other => Err(format!(
                "downMode must be \"503\" or \"drop\", not {other:?}"
            )),
        }
    }
}

#[derive(Default)]
pub struct Outage {
    until: Option<Instant>,
    pub mode: DownMode,
}

impl Outage {
    /// Down for `span` from `now` (zero ends an outage).
    pub fn start(&mut self, span: Duration, now: Instant) {
        self.until = (!span.is_zero()).then(|| now + span);
    }

    /// How long the outage still lasts at `now` (zero when up).
    pub fn left(&self, now: Instant) -> Duration {
        self.until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now))
    }

    /// The answer to a request arriving at `now`, while down.
    pub fn answer(&self, now: Instant) -> Option<Response> {
        if self.left(now).is_zero() {
            return None;
        }
        Some(match self.mode {
            DownMode::Status503 => http::fault_response(FaultKind::Status503),
            DownMode::Drop => faults::dropped(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_for_a_span_then_up() {
        let mut outage = Outage::default();
        let t0 = Instant::now();
        assert!(outage.answer(t0).is_none(), "up by default");
        outage.start(Duration::from_millis(50), t0);
        let answer = outage.answer(t0 + Duration::from_millis(49));
        assert_eq!(answer.map(|r| r.status().as_u16()), Some(503));
        outage.mode = DownMode::Drop;
        let dropped = outage.answer(t0);
        assert!(dropped.is_some_and(|r| r.extensions().get::<faults::Dropped>().is_some()));
        assert!(outage.answer(t0 + Duration::from_millis(50)).is_none());
        assert_eq!(DownMode::parse("drop"), Ok(DownMode::Drop));
        assert!(DownMode::parse("down").is_err());
    }
}
