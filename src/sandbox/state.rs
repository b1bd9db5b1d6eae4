//! Everything the handlers share. Each part has its own `std::sync::Mutex`, held only for the
//! synchronous work of one request and never across an `.await`.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::{Mutex, MutexGuard};

use super::SandboxOptions;
use super::auth::TokenStore;
use super::faults::Faults;
use super::limits::Limiter;
use super::repsly::RepslyState;
use super::seed::Identities;
use super::stats::Stats;
use super::store::Store;

pub struct AppState {
    pub opts: SandboxOptions,
    pub base_url: String,
    pub ids: Identities,
    pub data: Mutex<Store>,
    pub tokens: Mutex<TokenStore>,
    pub limiter: Mutex<Limiter>,
    pub faults: Mutex<Faults>,
    pub stats: Mutex<Stats>,
    pub oauth_delay_ms: AtomicU64,
    /// The location's "Allow Duplicate Contact" setting (off, as on a new GHL location).
    pub allow_duplicates: AtomicBool,
    /// The day (UTC midnight, ms) the data was last seeded from: seeded dates are relative to
    /// it, so two sandboxes hold the same data only when seed and anchor agree.
    pub anchor_ms: AtomicI64,
    /// The emulated Repsly API (`/repsly/v3`), seeded from `data`.
    pub repsly: RepslyState,
    /// The generic REST app (`/generic`), seeded from `data` and `repsly`.
    pub generic: super::generic::GenericState,
    /// The emulated Rezora v1 API (`/rezora/v1`), seeded from `data`.
    pub rezora: super::rezora::RezoraState,
    /// The emulated Growbots (`/growbots`), seeded from `data`.
    pub growbots: super::growbots::GrowbotsState,
    /// The emulated Robly API (`/robly/api/v1`), seeded from `data`.
    pub robly: super::robly::RoblyState,
    /// The webhook sender (`/_sandbox/webhooks`); off until configured.
    pub webhooks: std::sync::Arc<super::webhooks::Webhooks>,
}

/// A poisoned lock means a handler panicked mid-update; the sandbox keeps serving the data as
/// it is rather than failing every later request.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
