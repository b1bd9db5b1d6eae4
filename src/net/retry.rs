//! Retry policy: full-jitter exponential backoff (sync-design §2.4) and `Retry-After` parsing
//! (§2.5). Full jitter keeps many workers from retrying in lock-step, and does the least work.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per call for transient failures, the first included. A 429 is not an attempt.
    pub max_attempts: u32,
    /// Backoff ceiling before the first retry; doubles per retry.
    pub base: Duration,
    /// Upper bound for any single backoff sleep.
    pub cap: Duration,
    /// How many 429 answers one call may wait out before giving up with `RateLimited`.
    pub max_rate_limit_waits: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            max_rate_limit_waits: 20,
        }
    }
}

impl RetryPolicy {
    /// The upper bound of the sleep after failed attempt number `retry` (0 for the first
    /// failure): `min(cap, base·2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(31));
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Full jitter: `uniform(0, ceiling(retry))`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        if ceiling.is_zero() {
            return ceiling;
        }
        let nanos = rand::rng().random_range(0..=ceiling.as_nanos().min(u64::MAX as u128) as u64);
        Duration::from_nanos(nanos)
    }
}

/// `Retry-After` as seconds or an HTTP date, clamped to `[0, cap]`. Dates depend on clock
/// agreement, hence the clamp.
pub fn parse_retry_after(value: &str, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(cap));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Some(Duration::from_secs_f64(seconds.min(cap.as_secs_f64())));
        }
        return None;
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO).min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.ceiling(0), Duration::from_secs(1));
        assert_eq!(policy.ceiling(1), Duration::from_secs(2));
        assert_eq!(policy.ceiling(5), Duration::from_secs(32));
        assert_eq!(policy.ceiling(6), Duration::from_secs(60));
        assert_eq!(policy.ceiling(1000), Duration::from_secs(60));
    }

    #[test]
    fn backoff_stays_within_full_jitter_bounds() {
        let policy = RetryPolicy {
            base: Duration::from_millis(10),
            ..RetryPolicy::default()
        };
        for retry in 0..8 {
            let ceiling = policy.ceiling(retry);
            let samples: Vec<Duration> = (0..200).map(|_| policy.backoff(retry)).collect();
            assert!(samples.iter().all(|d| *d <= ceiling));
            // Jittered, not constant: some sample falls in the lower half.
            assert!(samples.iter().any(|d| *d < ceiling / 2), "retry {retry}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let cap = Duration::from_secs(60);
        assert_eq!(parse_retry_after("7", cap), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("9999", cap), Some(cap));
        assert_eq!(
            parse_retry_after("1.5", cap),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", cap),
            Some(Duration::ZERO)
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let wait = parse_retry_after(&soon, cap).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(parse_retry_after("soon", cap), None);
    }
}
