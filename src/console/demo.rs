//! Demo mode, for a fresh machine with no configuration: the GHL and Repsly sandboxes start
//! in-process on loopback with seeded data (some of it dirty on purpose, so records fail and
//! can be fixed), an engine runs over them, and the console syncs at once.

use crate::config::paths::Dirs;
use crate::engine::{EngineHandle, EngineOptions, start_in_process};
use crate::ghl::{AuthSettings, ClientSettings, GhlClient};
use crate::peers::repsly::{RepslyPeer, RepslySettings};
use crate::sandbox::{self, BurstLimit, RunningSandbox, SandboxOptions};
use crate::store::Store;
use crate::sync::SyncContext;
use crate::sync::mapping::Mapping;
use std::path::PathBuf;
use std::sync::Arc;

/// Contacts seeded in the demo sandbox.
pub const DEMO_CONTACTS: usize = 2_000;
pub const DEMO_PEER: &str = "repsly";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("starting the demo sandbox: {0}")]
    Sandbox(String),
    #[error("opening the demo store at {path}: {message}")]
    Store { path: PathBuf, message: String },
    #[error("building the demo engine: {0}")]
    Setup(String),
}

/// A running demo: keep it alive for as long as the console runs.
pub struct Demo {
    pub engine: EngineHandle,
    pub sandbox: RunningSandbox,
    pub store_path: PathBuf,
    /// The `--ephemeral` store, deleted on drop.
    _temp: Option<tempfile::TempDir>,
}

#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// A temporary store instead of `demo-store` in the XDG data dir.
    pub ephemeral: bool,
    /// Overrides where the store goes (tests).
    pub store: Option<PathBuf>,
    pub contacts: Option<usize>,
}

pub async fn start(options: DemoOptions) -> Result<Demo, DemoError> {
    // 100 requests a second: fast enough to finish in a minute or so, slow enough that the log
    // visibly moves and the rate-limit gauge has something to show.
    let rate_limit = "100/1s"
        .parse::<BurstLimit>()
        .map_err(|err| DemoError::Sandbox(err.to_string()))?;
    let sandbox = sandbox::start(SandboxOptions {
        contacts: options.contacts.unwrap_or(DEMO_CONTACTS),
        rate_limit: Some(rate_limit),
        ..SandboxOptions::default()
    })
    .await
    .map_err(|err| DemoError::Sandbox(err.to_string()))?;

    let (store_path, temp) = match (&options.store, options.ephemeral) {
        (Some(path), _) => (path.clone(), None),
        (None, true) => {
            let dir = tempfile::tempdir().map_err(|err| DemoError::Store {
                path: std::env::temp_dir(),
                message: err.to_string(),
            })?;
            (dir.path().join("store"), Some(dir))
        }
        (None, false) => {
            let dirs = Dirs::discover().map_err(|err| DemoError::Setup(err.to_string()))?;
            (dirs.data_dir.join("demo-store"), None)
        }
    };
    let store = Store::open(&store_path).map_err(|err| DemoError::Store {
        path: store_path.clone(),
        message: err.to_string(),
    })?;
    let ctx = context(&sandbox, store)?;
    let engine = start_in_process(ctx, EngineOptions::default());
    Ok(Demo {
        engine,
        sandbox,
        store_path,
        _temp: temp,
    })
}

fn context(sandbox: &RunningSandbox, store: Store) -> Result<SyncContext, DemoError> {
    let ghl = GhlClient::new(ClientSettings::new(
        sandbox.base_url.clone(),
        sandbox.location_id.clone(),
        AuthSettings::PrivateToken(sandbox.token.clone()),
    ))
    .map_err(|err| DemoError::Setup(err.to_string()))?;
    let peer = RepslyPeer::new(RepslySettings {
        base_url: sandbox.repsly_base_url.clone(),
        username: sandbox.repsly_username.clone(),
        password: sandbox.repsly_password.clone(),
        // The sandbox answers at once: no pacing, quick import polling.
        min_request_interval_ms: 0,
        import_poll_interval_ms: 20,
        ..RepslySettings::default()
    })
    .map_err(|err| DemoError::Setup(err.to_string()))?;
    // The mapping the editor saved last time, else the built-in one.
    let saved = store
        .mapping_versions(DEMO_PEER)
        .map_err(|err| DemoError::Setup(err.to_string()))?
        .into_iter()
        .last();
    let mapping = match saved {
        Some(version) => Mapping::parse(
            &version.text,
            &format!("{DEMO_PEER} mapping v{}", version.version),
        )
        .map_err(|err| DemoError::Setup(err.to_string()))?,
        None => Mapping::builtin(DEMO_PEER)
            .ok_or_else(|| DemoError::Setup(format!("no built-in {DEMO_PEER} mapping")))?,
    };
    Ok(SyncContext {
        peer: Arc::new(peer),
        store,
        ghl,
        mapping,
        settings: Default::default(),
        events: None,
    })
}
