//! The engine of one location over the in-process sandbox, Repsly as the peer, as
//! `ghlsync sync` builds it: a real sled store in a temp dir, real HTTP over loopback. Shared by
//! the benches that run the engine in their own process (`first_sync`, `limits`).

use ghlsync::ghl::{AuthSettings, ClientSettings, GhlClient};
use ghlsync::peers::repsly::{RepslyPeer, RepslySettings};
use ghlsync::sandbox::RunningSandbox;
use ghlsync::store::Store;
use ghlsync::sync::mapping::Mapping;
use ghlsync::sync::{SyncContext, SyncSettings};
use std::sync::Arc;

pub struct Engine {
    pub ctx: Arc<SyncContext>,
    /// The store's folder; dropped last.
    pub _dir: tempfile::TempDir,
}

/// The GHL client starts from GHL's production assumption (100 per 10 s) and learns the
/// sandbox's window from the headers. The Repsly peer is paced as the tests pace it (no minimum
/// interval; an import job polled every `poll_ms`).
pub async fn start(sandbox: &RunningSandbox, poll_ms: u64) -> Engine {
    let ghl = GhlClient::new(ClientSettings::new(
        sandbox.base_url.clone(),
        sandbox.location_id.clone(),
        AuthSettings::PrivateToken(sandbox.token.clone()),
    ))
    .expect("client");
    let mapping = Mapping::builtin("repsly").expect("built-in mapping");
    // The location's set-up, as `mapping check --create-fields` does it.
    ghlsync::sync::mapping::create_missing_fields(&mapping, &ghl)
        .await
        .expect("the mapping's custom fields are created");
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = Arc::new(SyncContext {
        store: Store::open(&dir.path().join("store")).expect("store opens"),
        ghl,
        peer: Arc::new(
            RepslyPeer::new(RepslySettings {
                base_url: sandbox.repsly_base_url.clone(),
                username: sandbox.repsly_username.clone(),
                password: sandbox.repsly_password.clone(),
                min_request_interval_ms: 0,
                import_poll_interval_ms: poll_ms,
                ..RepslySettings::default()
            })
            .expect("repsly peer"),
        ),
        mapping,
        settings: SyncSettings::default(),
        events: None,
    });
    Engine { ctx, _dir: dir }
}
