//! The vocabulary every HTTP client shares — the GHL client and each peer's connector: error
//! classes, the retry policy and `Retry-After`, and scrubbing secrets from what failures say.
//! Neutral ground: it depends on nothing of ghlsync's own (reqwest's error type aside).

pub mod body;
mod class;
pub mod retry;
mod scrub;

pub use class::ErrorClass;
pub use retry::{RetryPolicy, parse_retry_after};
pub use scrub::{describe_reqwest_error, excerpt, scrub_token_like};
