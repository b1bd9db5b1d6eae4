//! Sync harness: the GHL and Repsly sandboxes over loopback, a real sled store in a temp dir.
#![allow(dead_code)]

use super::Harness;
use ghlsync::peers::repsly::{RepslyPeer, RepslySettings};
use ghlsync::store::Store;
use ghlsync::sync::mapping::Mapping;
use ghlsync::sync::{RunOptions, RunReport, SyncContext, SyncSettings, run_sync};
use std::sync::Arc;

pub struct SyncHarness {
    pub h: Harness,
    pub dir: tempfile::TempDir,
    pub ctx: SyncContext,
}

impl SyncHarness {
    pub async fn start(contacts: usize) -> SyncHarness {
        SyncHarness::with(contacts, SyncSettings::default(), None).await
    }

    pub async fn with(
        contacts: usize,
        settings: SyncSettings,
        mapping: Option<Mapping>,
    ) -> SyncHarness {
        let h = Harness::start(contacts).await;
        h.create_mapping_fields(mapping.as_ref()).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("store")).expect("store opens");
        let mut ctx = context(&h, store, settings, mapping);
        // As every run resolves it: what a test maps with `ctx.mapping` names the same ids.
        ghlsync::sync::mapping::resolve_against_location(&mut ctx.mapping, &ctx.ghl)
            .await
            .expect("the mapping's custom fields resolve");
        SyncHarness { h, dir, ctx }
    }

    pub async fn run(&self) -> RunReport {
        run_sync(&self.ctx, &RunOptions::default())
            .await
            .expect("run completes")
    }

    /// Writes (non-GET requests) the sandbox counted so far, GHL and Repsly together.
    pub async fn writes(&self) -> u64 {
        sandbox_writes(&self.h, Routes::All).await
    }

    /// The peer's contact `code` as it is now (it must exist).
    pub async fn peer_contact(&self, code: &str) -> ghlsync::peers::PeerRecord {
        self.ctx
            .peer
            .get(ghlsync::peers::EntityKind::Contact, code)
            .await
            .expect("the peer answers")
            .unwrap_or_else(|| panic!("the peer has no contact {code}"))
    }

    /// A context over the same store and sandbox with another mapping (a person's fix).
    pub fn with_mapping(&self, mapping: Mapping) -> SyncContext {
        context(
            &self.h,
            self.ctx.store.clone(),
            self.ctx.settings.clone(),
            Some(mapping),
        )
    }
}

/// Which of the sandbox's routes a count covers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    All,
    /// GHL's only (not `/repsly/…`).
    Ghl,
}

/// Writes (non-GET requests) the sandbox counted so far on `routes`.
pub async fn sandbox_writes(h: &Harness, routes: Routes) -> u64 {
    let stats = h.stats().await;
    stats["requests"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| r["method"] != "GET")
                .filter(|r| {
                    routes == Routes::All
                        || r["route"]
                            .as_str()
                            .is_some_and(|route| !route.starts_with("/repsly"))
                })
                .filter_map(|r| r["count"].as_u64())
                .sum()
        })
        .unwrap_or(0)
}

pub fn repsly_settings(h: &Harness) -> RepslySettings {
    RepslySettings {
        base_url: h.sandbox.repsly_base_url.clone(),
        username: h.sandbox.repsly_username.clone(),
        password: h.sandbox.repsly_password.clone(),
        min_request_interval_ms: 0,
        import_poll_interval_ms: 5,
        schedule_window_days_back: TEST_WINDOW_DAYS_BACK,
        ..RepslySettings::default()
    }
}

/// The seed's schedules reach 7 days back from its anchor day. With the default 7-day window, a
/// test running across midnight UTC would see them leave the window between its reference run
/// and its faulted one (seen in CI: 17 differences, every one dated anchor − 7); one more day
/// keeps them in.
pub const TEST_WINDOW_DAYS_BACK: u32 = 8;

pub fn context(
    h: &Harness,
    store: Store,
    settings: SyncSettings,
    mapping: Option<Mapping>,
) -> SyncContext {
    context_with(h, store, settings, mapping, h.client())
}

/// `context` with a GHL client of the caller's (another token, timeout or retry policy).
pub fn context_with(
    h: &Harness,
    store: Store,
    settings: SyncSettings,
    mapping: Option<Mapping>,
    ghl: ghlsync::ghl::GhlClient,
) -> SyncContext {
    SyncContext {
        store,
        ghl,
        peer: Arc::new(RepslyPeer::new(repsly_settings(h)).expect("repsly peer")),
        mapping: mapping.unwrap_or_else(|| Mapping::builtin("repsly").expect("built-in mapping")),
        settings,
        events: None,
    }
}

pub fn count(report: &RunReport, key: &str) -> u64 {
    report.run.counts.get(key).copied().unwrap_or(0)
}
