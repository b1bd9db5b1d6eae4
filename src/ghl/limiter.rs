//! Per-location rate limiter driven by GHL's `X-RateLimit-*` headers (sync-design §6.4): token
//! bucket, header-corrected window budget, location-wide 429 gate with AIMD, daily guard and a
//! concurrency cap (Little's law: more in flight than rate × latency only buys 429s).
//!
//! Every attempt, retries included, takes a [`Permit`] before it is sent and hands the answer's
//! headers back through [`Permit::observe`]. The arithmetic lives in `state.rs`.

mod state;
#[cfg(test)]
mod tests;
mod window;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use state::{Decision, State};

/// Who is asking. Bulk work yields the last part of the daily quota to live sync and manual calls.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    Live,
    Bulk,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LimiterSettings {
    /// Requests per window assumed until the server's `X-RateLimit-Max` is seen.
    pub initial_max: u32,
    /// Window assumed until `X-RateLimit-Interval-Milliseconds` is seen.
    pub initial_interval: Duration,
    /// Requests per window left unused, for other clients of the same app and location.
    pub reserve: u32,
    /// Below this share of the daily limit, `Priority::Bulk` is refused.
    pub daily_reserve_fraction: f64,
    /// Requests in flight at once, at most.
    pub max_concurrency: usize,
    /// Below that, only as many as the rate needs (`rate × latency`, Little's law): more arrive
    /// out of order around the server's window boundary and cost 429s. Off: always the maximum.
    pub adaptive_concurrency: bool,
    /// With the daily quota at 0, one probe request is let through this often.
    pub daily_probe_every: Duration,
}

impl Default for LimiterSettings {
    fn default() -> Self {
        LimiterSettings {
            initial_max: 100,
            initial_interval: Duration::from_secs(10),
            reserve: 2,
            daily_reserve_fraction: 0.10,
            max_concurrency: 8,
            adaptive_concurrency: true,
            daily_probe_every: Duration::from_secs(15 * 60),
        }
    }
}

/// The rate-limit headers of one answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateHeaders {
    pub max: Option<u32>,
    pub interval: Option<Duration>,
    pub remaining: Option<u32>,
    pub daily_limit: Option<u64>,
    pub daily_remaining: Option<u64>,
    pub retry_after: Option<Duration>,
}

impl RateHeaders {
    /// Parse GHL's five headers and `Retry-After` (clamped to `retry_after_cap`).
    pub fn from_headers(headers: &HeaderMap, retry_after_cap: Duration) -> Self {
        fn number<T: std::str::FromStr>(headers: &HeaderMap, name: &str) -> Option<T> {
            headers.get(name)?.to_str().ok()?.trim().parse().ok()
        }
        RateHeaders {
            max: number(headers, "x-ratelimit-max"),
            interval: number::<u64>(headers, "x-ratelimit-interval-milliseconds")
                .map(Duration::from_millis),
            remaining: number(headers, "x-ratelimit-remaining"),
            daily_limit: number(headers, "x-ratelimit-limit-daily"),
            daily_remaining: number(headers, "x-ratelimit-daily-remaining"),
            retry_after: headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::net::parse_retry_after(v, retry_after_cap)),
        }
    }
}

/// The limiter refused to let a request out.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub reason: String,
    pub retry_in: Option<Duration>,
}

/// What status screens and benchmarks show.
#[derive(Debug, Clone, PartialEq)]
pub struct LimiterSnapshot {
    pub tokens: f64,
    /// Current refill, requests per second (lowered by AIMD after a 429).
    pub refill_per_sec: f64,
    /// `max / interval`, the refill with no 429 in recent memory.
    pub nominal_per_sec: f64,
    pub max: u32,
    pub interval: Duration,
    pub blocked_until: Option<Instant>,
    /// Requests we believe the server still accepts in its current window (after the reserve).
    pub window_budget: i64,
    /// When the server's window is expected to free a slot (the end of a fixed window).
    pub window_frees_at: Option<Instant>,
    pub in_flight: u32,
    pub daily_limit: Option<u64>,
    pub daily_remaining: Option<u64>,
    pub requests_sent: u64,
    pub rate_limited_seen: u64,
}

/// Cheap to clone; clones share one location's state.
#[derive(Clone)]
pub struct Limiter {
    shared: Arc<Shared>,
}

struct Shared {
    settings: LimiterSettings,
    /// Never held across an `.await`: every critical section is arithmetic.
    state: Mutex<State>,
    /// FIFO, so waiting callers are served in arrival order.
    concurrency: Arc<Semaphore>,
    /// Wakes callers waiting for a probe's answer.
    answers: Notify,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("snapshot", &self.snapshot())
            .finish()
    }
}

impl Limiter {
    pub fn new(settings: LimiterSettings) -> Self {
        let state = State::new(&settings, Instant::now());
        let permits = settings.max_concurrency.max(1);
        Limiter {
            shared: Arc::new(Shared {
                settings,
                state: Mutex::new(state),
                concurrency: Arc::new(Semaphore::new(permits)),
                answers: Notify::new(),
            }),
        }
    }

    pub fn settings(&self) -> &LimiterSettings {
        &self.shared.settings
    }

    /// Wait until a request may be sent, or say why it may not.
    pub async fn acquire(&self, priority: Priority) -> Result<Permit, Refusal> {
        let slot = Arc::clone(&self.shared.concurrency)
            .acquire_owned()
            .await
            .map_err(|_| Refusal {
                reason: "limiter closed".to_string(),
                retry_in: None,
            })?;
        loop {
            // Registered before the state is read, so an answer arriving in between still wakes us.
            let answered = self.shared.answers.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            let decision =
                self.shared
                    .lock()
                    .decide(Instant::now(), priority, &self.shared.settings);
            match decision {
                Decision::Go { seq, sent_at } => {
                    return Ok(Permit {
                        shared: Arc::clone(&self.shared),
                        seq,
                        sent_at,
                        answered: false,
                        _slot: slot,
                    });
                }
                Decision::Wait(until) => tokio::time::sleep_until(until).await,
                Decision::WaitForAnswer(deadline) => {
                    let _ = tokio::time::timeout_at(deadline, answered.as_mut()).await;
                }
                Decision::Refuse(refusal) => return Err(refusal),
            }
        }
    }

    pub fn snapshot(&self) -> LimiterSnapshot {
        let settings = &self.shared.settings;
        let mut state = self.shared.lock().clone();
        let now = Instant::now();
        state.refill(now, settings);
        LimiterSnapshot {
            tokens: state.tokens,
            refill_per_sec: state.refill_rate(),
            nominal_per_sec: state.nominal_rate(),
            max: state.max,
            interval: state.interval,
            blocked_until: state.blocked_until.filter(|until| *until > now),
            window_budget: state.window_budget(settings),
            window_frees_at: state.window.frees_at,
            in_flight: state.in_flight,
            daily_limit: state.daily_limit,
            daily_remaining: state.daily_remaining,
            requests_sent: state.requests_sent,
            rate_limited_seen: state.rate_limited_seen,
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain numbers, valid after any panic mid-update: recover from poison.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Leave to send one request. Hand the answer back with [`Permit::observe`]; dropping it
/// unanswered (network failure) just frees the slot.
pub struct Permit {
    shared: Arc<Shared>,
    seq: u64,
    sent_at: Instant,
    answered: bool,
    _slot: OwnedSemaphorePermit,
}

impl Permit {
    pub fn observe(mut self, status: u16, headers: &RateHeaders) {
        self.answered = true;
        let now = Instant::now();
        self.shared.lock().observe(
            self.seq,
            self.sent_at,
            now,
            status,
            headers,
            &self.shared.settings,
        );
        self.shared.answers.notify_waiters();
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.answered {
            self.shared.lock().release_unanswered(self.seq);
            self.shared.answers.notify_waiters();
        }
    }
}
