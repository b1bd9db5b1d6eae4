//! The limiter's bookkeeping, free of locks and sleeps so it can be reasoned about (and tested)
//! as plain arithmetic over instants.
//!
//! Three gates must all agree before a request goes out:
//! 1. **Token bucket**: capacity `max − reserve`, refill `factor × max / interval`. `factor` is the
//!    AIMD knob: halved on a 429 (floor 0.1), +0.05 after each clean interval.
//! 2. **Server window budget** (`window.rs`): `X-RateLimit-Remaining` corrected for requests in
//!    flight; when spent, wait for the server's window to move on.
//! 3. **429 gate**: one location-wide `blocked_until`, so workers do not back off separately.
//!
//! Plus the daily guard: bulk work stops below the daily reserve; at zero everything stops
//! except one probe per `daily_probe_every`.

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::window::{Context, ServerWindow, WindowGate};
use super::{LimiterSettings, Priority, RateHeaders, Refusal};

/// AIMD bounds on the refill factor.
const MIN_FACTOR: f64 = 0.1;
const FACTOR_STEP: f64 = 0.05;

pub(super) enum Decision {
    Go {
        seq: u64,
        sent_at: Instant,
    },
    Wait(Instant),
    /// Wait for an answer to arrive, or until the instant, whichever comes first.
    WaitForAnswer(Instant),
    Refuse(Refusal),
}

#[derive(Debug, Clone)]
pub(super) struct State {
    pub max: u32,
    pub interval: Duration,
    pub tokens: f64,
    refilled_at: Instant,
    pub factor: f64,
    /// Start of the current run of clean intervals (reset by each 429 that lowers the factor).
    clean_since: Instant,
    /// Requests handed out so far; each gets the next number.
    pub sent_seq: u64,
    pub window: ServerWindow,
    pub in_flight: u32,
    pub blocked_until: Option<Instant>,
    /// Requests numbered up to this belong to the congestion episode already answered.
    episode_seq: Option<u64>,
    pub daily_limit: Option<u64>,
    pub daily_remaining: Option<u64>,
    next_probe_at: Option<Instant>,
    pub requests_sent: u64,
    pub rate_limited_seen: u64,
    /// Smoothed time from a request's permit to its answer.
    pub latency: Option<Duration>,
}

impl State {
    pub fn new(settings: &LimiterSettings, now: Instant) -> Self {
        let max = settings.initial_max.max(1);
        let mut state = State {
            max,
            interval: sane_interval(settings.initial_interval),
            tokens: 0.0,
            refilled_at: now,
            factor: 1.0,
            clean_since: now,
            sent_seq: 0,
            window: ServerWindow::new(max),
            in_flight: 0,
            blocked_until: None,
            episode_seq: None,
            daily_limit: None,
            daily_remaining: None,
            next_probe_at: None,
            requests_sent: 0,
            rate_limited_seen: 0,
            latency: None,
        };
        state.tokens = state.capacity(settings);
        state
    }

    pub fn capacity(&self, settings: &LimiterSettings) -> f64 {
        f64::from(self.max.saturating_sub(settings.reserve).max(1))
    }

    pub fn nominal_rate(&self) -> f64 {
        f64::from(self.max) / self.interval.as_secs_f64()
    }

    pub fn refill_rate(&self) -> f64 {
        self.nominal_rate() * self.factor
    }

    pub fn window_budget(&self, settings: &LimiterSettings) -> i64 {
        self.window.budget(self.sent_seq, settings.reserve)
    }

    fn window_context(&self, settings: &LimiterSettings) -> Context {
        Context {
            sent_seq: self.sent_seq,
            in_flight: self.in_flight,
            max: self.max,
            interval: self.interval,
            reserve: settings.reserve,
            reorder_tolerance: settings.max_concurrency as i64,
        }
    }

    /// Additive increase, then refill the bucket up to `now`.
    pub fn refill(&mut self, now: Instant, settings: &LimiterSettings) {
        if self.factor < 1.0 {
            let clean = now.saturating_duration_since(self.clean_since);
            let intervals = (clean.as_secs_f64() / self.interval.as_secs_f64()).floor();
            if intervals >= 1.0 {
                self.factor = (self.factor + intervals * FACTOR_STEP).min(1.0);
                self.clean_since += self.interval.mul_f64(intervals);
            }
        } else {
            self.clean_since = now;
        }
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_rate()).min(self.capacity(settings));
        self.refilled_at = now;
    }

    pub fn decide(
        &mut self,
        now: Instant,
        priority: Priority,
        settings: &LimiterSettings,
    ) -> Decision {
        self.refill(now, settings);
        if let Some(refusal) = self.daily_refusal(now, priority, settings) {
            return Decision::Refuse(refusal);
        }
        if let Some(until) = self.blocked_until.filter(|until| *until > now) {
            return Decision::Wait(until);
        }
        let cx = self.window_context(settings);
        let probe = match self.window.gate(now, &cx) {
            WindowGate::Open { probe } => probe,
            WindowGate::WaitUntil(at) => return Decision::Wait(at),
            WindowGate::WaitForProbe(until) => return Decision::WaitForAnswer(until),
        };
        if self.in_flight >= self.in_flight_cap(settings) {
            // The deadline only guards against an answer that never wakes us.
            return Decision::WaitForAnswer(now + self.interval / 10);
        }
        if self.tokens < 1.0 {
            let missing = (1.0 - self.tokens) / self.refill_rate();
            return Decision::Wait(now + Duration::from_secs_f64(missing.max(0.000_001)));
        }
        if self.daily_remaining == Some(0) {
            // This request is the probe; the next one waits for its answer or the next slot.
            self.next_probe_at = Some(now + settings.daily_probe_every);
        }
        self.tokens -= 1.0;
        self.sent_seq += 1;
        self.in_flight += 1;
        self.requests_sent += 1;
        self.window.on_sent(self.sent_seq, now, probe);
        Decision::Go {
            seq: self.sent_seq,
            sent_at: now,
        }
    }

    /// Little's law: `rate × latency` requests in flight keep the pipe full. More buy nothing
    /// where the rate is the bound, and they arrive at the server out of order, so the window
    /// model cannot tell which request opened the server's window and a burst lands in a window
    /// that is still spent (a 429 per window, measured with 8 in flight). So: twice what the
    /// rate needs, at least one, at most the setting; the setting until a latency is known.
    pub fn in_flight_cap(&self, settings: &LimiterSettings) -> u32 {
        let most = u32::try_from(settings.max_concurrency.max(1)).unwrap_or(u32::MAX);
        let Some(latency) = self.latency.filter(|_| settings.adaptive_concurrency) else {
            return most;
        };
        let needed = (self.refill_rate() * latency.as_secs_f64() * 2.0).ceil();
        if needed >= f64::from(most) {
            most
        } else {
            (needed as u32).max(1)
        }
    }

    fn daily_refusal(
        &self,
        now: Instant,
        priority: Priority,
        settings: &LimiterSettings,
    ) -> Option<Refusal> {
        let remaining = self.daily_remaining?;
        if remaining == 0 {
            let probe_at = self.next_probe_at.unwrap_or(now);
            if now < probe_at {
                return Some(Refusal {
                    reason: "daily quota exhausted (X-RateLimit-Daily-Remaining: 0); a probe request will be tried later".to_string(),
                    retry_in: Some(probe_at - now),
                });
            }
            return None;
        }
        let limit = self.daily_limit?;
        let floor = (limit as f64 * settings.daily_reserve_fraction).ceil() as u64;
        if priority == Priority::Bulk && remaining < floor {
            return Some(Refusal {
                reason: format!(
                    "daily quota nearly exhausted ({remaining} of {limit} left); the last {floor} are kept for live sync and manual calls"
                ),
                retry_in: None,
            });
        }
        None
    }

    /// Request `seq` got no answer (network failure): free its place.
    pub fn release_unanswered(&mut self, seq: u64) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.window.on_unanswered(seq);
    }

    /// Learn from an answer to request `seq`, sent at `sent_at`, received at `received_at`.
    pub fn observe(
        &mut self,
        seq: u64,
        sent_at: Instant,
        received_at: Instant,
        status: u16,
        headers: &RateHeaders,
        settings: &LimiterSettings,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let sample = received_at.saturating_duration_since(sent_at);
        self.latency = Some(match self.latency {
            None => sample,
            Some(smoothed) => smoothed.mul_f64(0.8) + sample.mul_f64(0.2),
        });
        self.refill(received_at, settings);
        if let Some(max) = headers.max.filter(|max| *max > 0) {
            self.max = max;
            self.tokens = self.tokens.min(self.capacity(settings));
        }
        if let Some(interval) = headers.interval.filter(|i| !i.is_zero()) {
            self.interval = sane_interval(interval);
        }
        if let Some(limit) = headers.daily_limit {
            self.daily_limit = Some(limit);
        }
        if let Some(remaining) = headers.daily_remaining {
            self.daily_remaining = Some(remaining);
            if remaining > 0 {
                self.next_probe_at = None;
            }
        }
        let cx = self.window_context(settings);
        self.window
            .on_answer(seq, sent_at, received_at, headers.remaining, &cx);
        if status == 429 {
            self.on_rate_limited(seq, received_at, headers, settings);
        }
    }

    fn on_rate_limited(
        &mut self,
        seq: u64,
        received_at: Instant,
        headers: &RateHeaders,
        settings: &LimiterSettings,
    ) {
        self.rate_limited_seen += 1;
        if self.daily_remaining == Some(0) {
            self.next_probe_at
                .get_or_insert(received_at + settings.daily_probe_every);
            return;
        }
        // Requests sent before the last decrease are part of the episode already answered:
        // eight 429s from eight requests in flight are one signal, not eight.
        if self.episode_seq.is_some_and(|episode| seq <= episode) {
            return;
        }
        let jitter_cap = Duration::from_secs(1).min(self.interval / 4);
        let jitter = rand::rng().random_range(Duration::ZERO..=jitter_cap);
        let wait = headers.retry_after.unwrap_or_default().max(self.interval) + jitter;
        let until = received_at + wait;
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
        self.factor = (self.factor / 2.0).max(MIN_FACTOR);
        self.clean_since = until;
        self.episode_seq = Some(self.sent_seq);
        self.tokens = 0.0;
        let cx = self.window_context(settings);
        self.window.on_rate_limited(until, &cx);
    }
}

/// Keep a server-sent window within [1 ms, 1 day]: instant arithmetic must not overflow and a
/// zero window would mean an infinite rate.
fn sane_interval(interval: Duration) -> Duration {
    interval.clamp(Duration::from_millis(1), Duration::from_secs(86_400))
}
