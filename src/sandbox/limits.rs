//! GHL's two rate limits, per location: a burst window (100 / 10 s) and a daily quota (200,000).
//!
//! GHL does not document the kind of burst window. The default here is a *fixed* window that opens
//! at the first request after the previous window ended, which is the harsher case for a client
//! that trusts `X-RateLimit-Remaining` near a boundary; `WindowKind::Sliding` is there to check a
//! client against the other reading. Decisions where GHL is silent:
//! - a 429 consumes neither the burst window nor the daily quota (it was refused, not served);
//! - the daily quota resets at UTC midnight;
//! - with limits off the headers are still sent, reporting large numbers.
//!
//! A *throttle* (`POST /_sandbox/limits {"throttleForMs": N}`) answers every request of every
//! location 429 for N ms, whatever the windows hold: a 429 burst on demand, for scenarios that
//! must survive one. Its 429s report `X-RateLimit-Remaining: 0` and the window's interval, like a
//! spent window; like every 429 here they consume nothing. GHL documents no `Retry-After` and the
//! sandbox sends none.

use std::collections::{HashMap, VecDeque};
use std::str::FromStr;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurstLimit {
    pub max: u32,
    pub interval: Duration,
}

impl Default for BurstLimit {
    fn default() -> Self {
        BurstLimit {
            max: 100,
            interval: Duration::from_secs(10),
        }
    }
}

impl FromStr for BurstLimit {
    type Err = String;

    /// `"100/10s"`, `"100/1s"`, `"50/500ms"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (max, interval) = s
            .split_once('/')
            .ok_or_else(|| format!("rate limit {s:?}: expected MAX/INTERVAL, e.g. 100/10s"))?;
        let max: u32 = max
            .trim()
            .parse()
            .map_err(|e| format!("rate limit {s:?}: bad MAX {max:?}: {e}"))?;
        let interval = humantime::parse_duration(interval.trim())
            .map_err(|e| format!("rate limit {s:?}: bad INTERVAL {interval:?}: {e}"))?;
        if max == 0 || interval.is_zero() {
            return Err(format!(
                "rate limit {s:?}: MAX and INTERVAL must be positive"
            ));
        }
        Ok(BurstLimit { max, interval })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WindowKind {
    #[default]
    Fixed,
    Sliding,
}

/// What the five headers report for one response.
#[derive(Clone, Copy, Debug)]
pub struct RateInfo {
    pub daily_limit: u64,
    pub daily_remaining: u64,
    pub interval_ms: u64,
    pub max: u64,
    pub remaining: u64,
}

/// Reported when a limit is off: large enough that no client throttles on it.
const UNLIMITED_MAX: u64 = 1_000_000;
const UNLIMITED_DAILY: u64 = 1_000_000_000;

impl RateInfo {
    pub fn apply(&self, headers: &mut HeaderMap) {
        let pairs = [
            ("x-ratelimit-limit-daily", self.daily_limit),
            ("x-ratelimit-daily-remaining", self.daily_remaining),
            ("x-ratelimit-interval-milliseconds", self.interval_ms),
            ("x-ratelimit-max", self.max),
            ("x-ratelimit-remaining", self.remaining),
        ];
        for (name, value) in pairs {
            headers.insert(name, HeaderValue::from(value));
        }
    }
}

#[derive(Default)]
struct Bucket {
    window_start: Option<Instant>,
    window_count: u32,
    recent: VecDeque<Instant>,
    day: i64,
    day_count: u64,
}

pub struct Limiter {
    pub burst: Option<BurstLimit>,
    pub daily: Option<u64>,
    pub kind: WindowKind,
    buckets: HashMap<String, Bucket>,
    /// Every request is refused until then (a throttle).
    throttled_until: Option<Instant>,
}

pub enum Verdict {
    Allowed(RateInfo),
    Limited(RateInfo),
}

fn utc_day() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(86_400)
}

impl Limiter {
    pub fn new(burst: Option<BurstLimit>, daily: Option<u64>) -> Self {
        Limiter {
            burst,
            daily,
            kind: WindowKind::Fixed,
            buckets: HashMap::new(),
            throttled_until: None,
        }
    }

    /// Refuses every request for `span` from `now` (zero ends a throttle).
    pub fn throttle(&mut self, span: Duration, now: Instant) {
        self.throttled_until = (!span.is_zero()).then(|| now + span);
    }

    /// How long the throttle still lasts at `now` (zero when there is none).
    pub fn throttle_left(&self, now: Instant) -> Duration {
        self.throttled_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now))
    }

    pub fn clear_counters(&mut self) {
        self.buckets.clear();
    }

    /// Headers for a response that is not counted (unauthenticated, admin-adjacent).
    pub fn idle_info(&self) -> RateInfo {
        RateInfo {
            daily_limit: self.daily.unwrap_or(UNLIMITED_DAILY),
            daily_remaining: self.daily.unwrap_or(UNLIMITED_DAILY),
            interval_ms: self.interval_ms(),
            max: self.burst.map_or(UNLIMITED_MAX, |b| u64::from(b.max)),
            remaining: self.burst.map_or(UNLIMITED_MAX, |b| u64::from(b.max)),
        }
    }

    fn interval_ms(&self) -> u64 {
        let interval = self
            .burst
            .map_or(BurstLimit::default().interval, |b| b.interval);
        u64::try_from(interval.as_millis()).unwrap_or(u64::MAX)
    }

    /// Counts one request for `location` unless a limit refuses it.
    pub fn check(&mut self, location: &str, now: Instant) -> Verdict {
        let today = utc_day();
        let (burst, daily, kind, interval_ms) =
            (self.burst, self.daily, self.kind, self.interval_ms());
        let bucket = self.buckets.entry(location.to_string()).or_default();
        if bucket.day != today {
            bucket.day = today;
            bucket.day_count = 0;
        }
        if let Some(b) = burst {
            match kind {
                WindowKind::Fixed => {
                    let expired = bucket
                        .window_start
                        .is_none_or(|start| now.duration_since(start) >= b.interval);
                    if expired {
                        bucket.window_start = Some(now);
                        bucket.window_count = 0;
                    }
                }
                WindowKind::Sliding => {
                    while bucket
                        .recent
                        .front()
                        .is_some_and(|t| now.duration_since(*t) >= b.interval)
                    {
                        bucket.recent.pop_front();
                    }
                }
            }
        }
        let used_in_window = match kind {
            WindowKind::Fixed => bucket.window_count,
            WindowKind::Sliding => u32::try_from(bucket.recent.len()).unwrap_or(u32::MAX),
        };
        let daily_left = daily.map_or(UNLIMITED_DAILY, |d| d.saturating_sub(bucket.day_count));
        let burst_left = burst.map_or(UNLIMITED_MAX, |b| {
            u64::from(b.max.saturating_sub(used_in_window))
        });
        let info = |daily_remaining, remaining| RateInfo {
            daily_limit: daily.unwrap_or(UNLIMITED_DAILY),
            daily_remaining,
            interval_ms,
            max: burst.map_or(UNLIMITED_MAX, |b| u64::from(b.max)),
            remaining,
        };
        let throttled = self.throttled_until.is_some_and(|until| now < until);
        if throttled {
            return Verdict::Limited(info(daily_left, 0));
        }
        if daily_left == 0 || burst_left == 0 {
            return Verdict::Limited(info(daily_left, burst_left));
        }
        bucket.day_count += 1;
        if burst.is_some() {
            match kind {
                WindowKind::Fixed => bucket.window_count += 1,
                WindowKind::Sliding => bucket.recent.push_back(now),
            }
        }
        let daily_remaining = if daily.is_some() {
            daily_left - 1
        } else {
            daily_left
        };
        let remaining = if burst.is_some() {
            burst_left - 1
        } else {
            burst_left
        };
        Verdict::Allowed(info(daily_remaining, remaining))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_burst_limits() {
        assert_eq!(
            "100/10s".parse::<BurstLimit>(),
            Ok(BurstLimit {
                max: 100,
                interval: Duration::from_secs(10)
            })
        );
        assert_eq!(
            "100/1s".parse::<BurstLimit>().map(|b| b.interval),
            Ok(Duration::from_secs(1))
        );
        assert_eq!(
            "50/500ms".parse::<BurstLimit>(),
            Ok(BurstLimit {
                max: 50,
                interval: Duration::from_millis(500)
            })
        );
        assert!("100".parse::<BurstLimit>().is_err());
        assert!("x/10s".parse::<BurstLimit>().is_err());
        assert!("0/10s".parse::<BurstLimit>().is_err());
        assert!("10/soon".parse::<BurstLimit>().is_err());
    }

    fn remaining(v: &Verdict) -> (bool, u64) {
        match v {
            Verdict::Allowed(i) => (true, i.remaining),
            Verdict::Limited(i) => (false, i.remaining),
        }
    }

    #[test]
    fn fixed_window_refuses_past_max_and_reopens() {
        let mut l = Limiter::new(
            Some(BurstLimit {
                max: 2,
                interval: Duration::from_millis(100),
            }),
            None,
        );
        let t0 = Instant::now();
        assert_eq!(remaining(&l.check("a", t0)), (true, 1));
        assert_eq!(remaining(&l.check("a", t0)), (true, 0));
        assert_eq!(remaining(&l.check("a", t0)), (false, 0));
        assert_eq!(
            remaining(&l.check("b", t0)),
            (true, 1),
            "buckets are per location"
        );
        assert_eq!(
            remaining(&l.check("a", t0 + Duration::from_millis(100))),
            (true, 1)
        );
    }

    #[test]
    fn daily_quota_refuses_and_reports_zero() {
        let mut l = Limiter::new(None, Some(2));
        let t0 = Instant::now();
        assert!(matches!(l.check("a", t0), Verdict::Allowed(i) if i.daily_remaining == 1));
        assert!(matches!(l.check("a", t0), Verdict::Allowed(i) if i.daily_remaining == 0));
        assert!(matches!(l.check("a", t0), Verdict::Limited(i) if i.daily_remaining == 0));
    }

    #[test]
    fn sliding_window_counts_the_last_interval() {
        let mut l = Limiter::new(
            Some(BurstLimit {
                max: 2,
                interval: Duration::from_millis(100),
            }),
            None,
        );
        l.kind = WindowKind::Sliding;
        let t0 = Instant::now();
        assert!(matches!(l.check("a", t0), Verdict::Allowed(_)));
        assert!(matches!(
            l.check("a", t0 + Duration::from_millis(60)),
            Verdict::Allowed(_)
        ));
        assert!(matches!(
            l.check("a", t0 + Duration::from_millis(90)),
            Verdict::Limited(_)
        ));
        assert!(matches!(
            l.check("a", t0 + Duration::from_millis(100)),
            Verdict::Allowed(_)
        ));
    }

    #[test]
    fn a_throttle_refuses_everything_until_it_ends_and_consumes_nothing() {
        let mut l = Limiter::new(None, Some(10));
        let t0 = Instant::now();
        l.throttle(Duration::from_millis(100), t0);
        assert_eq!(l.throttle_left(t0), Duration::from_millis(100));
        for location in ["a", "b"] {
            assert!(matches!(
                l.check(location, t0 + Duration::from_millis(99)),
                Verdict::Limited(i) if i.remaining == 0 && i.daily_remaining == 10
            ));
        }
        let after = t0 + Duration::from_millis(100);
        assert_eq!(l.throttle_left(after), Duration::ZERO);
        assert!(matches!(l.check("a", after), Verdict::Allowed(i) if i.daily_remaining == 9));
        l.throttle(Duration::from_secs(60), after);
        l.throttle(Duration::ZERO, after);
        assert!(matches!(l.check("a", after), Verdict::Allowed(_)));
    }
}
