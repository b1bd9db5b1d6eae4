//! Demo mode, for a fresh machine with no configuration: the GHL sandbox and every peer app it
//! emulates start in-process on loopback with seeded data (some of it dirty on purpose, so
//! records fail and can be fixed), an engine runs over them, and the console syncs at once.
//! The peers are the registry's rehearsals (`peers::registry::rehearsals`), read as a config
//! the way `ghlsync sandbox --write-config` writes one, so the demo is set up by the same code
//! as a configured engine.
//!
//! The demo location gets the mapping's custom fields at start (`create_missing_fields`, the
//! function behind `ghlsync mapping check --create-fields`).
//!
//! The sandboxes live in memory and are seeded afresh at every start, with new ids; a store
//! kept from an earlier demo would hold links to records that no longer exist. So the demo
//! store (`demo-store` in the XDG data dir, which only the demo uses) is deleted and made
//! again at every start. A store given with `--store` is the caller's and is kept.

use crate::cli::engine_setup;
use crate::config::paths::Dirs;
use crate::config::rehearsal_peers;
use crate::engine::{EngineHandle, EngineOptions, start_engine};
use crate::ghl::{AuthSettings, ClientSettings, GhlClient};
use crate::peers::registry::{self, Rehearsal};
use crate::sandbox::{self, BurstLimit, RunningSandbox, SandboxOptions};
use crate::store::Store;
use crate::sync::SyncContext;
use crate::sync::mapping::create_missing_fields;
use std::path::{Path, PathBuf};

/// Contacts seeded in the demo sandbox.
pub const DEMO_CONTACTS: usize = 2_000;
/// The demo store's directory name in the XDG data dir.
pub const DEMO_STORE_DIR: &str = "demo-store";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("starting the demo sandbox: {0}")]
    Sandbox(String),
    #[error("opening the demo store at {path}: {message}")]
    Store { path: PathBuf, message: String },
    #[error("removing the previous demo store at {path}: {message}")]
    Stale { path: PathBuf, message: String },
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
    /// Overrides where the store goes (`--store`): kept across starts, never deleted.
    pub store: Option<PathBuf>,
    /// The data dir holding `demo-store` (default: the XDG data dir).
    pub data_dir: Option<PathBuf>,
    pub contacts: Option<usize>,
    /// Only these emulated peers (empty: every one).
    pub peers: Vec<String>,
}

pub async fn start(options: DemoOptions) -> Result<Demo, DemoError> {
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
            let data_dir = match &options.data_dir {
                Some(dir) => dir.clone(),
                None => {
                    Dirs::discover()
                        .map_err(|err| DemoError::Setup(err.to_string()))?
                        .data_dir
                }
            };
            let path = data_dir.join(DEMO_STORE_DIR);
            remove_demo_store(&path)?;
            (path, None)
        }
    };
    // The store first: if it cannot be had, no servers were started for nothing.
    let store = Store::open(&store_path).map_err(|err| DemoError::Store {
        path: store_path.clone(),
        message: err.to_string(),
    })?;
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

    let rehearsals = registry::rehearsals_named(&sandbox, &options.peers)
        .map_err(|err| DemoError::Setup(format!("--demo-peers: {err}")))?;
    write_address_file(&options, &sandbox, &rehearsals);
    let contexts = contexts(&sandbox, store, &rehearsals)?;
    // A fresh sandbox location has none of the mappings' custom fields (`repsly_code`, …), and
    // a run refuses to start without them: the demo creates them as `ghlsync mapping check
    // --create-fields` would, so its story works out of the box.
    for ctx in &contexts {
        create_missing_fields(&ctx.mapping, &ctx.ghl)
            .await
            .map_err(|err| DemoError::Setup(err.to_string()))?;
    }
    let engine = start_engine(contexts, EngineOptions::default());
    Ok(Demo {
        engine,
        sandbox,
        store_path,
        _temp: temp,
    })
}

/// The name of the file, in the XDG data dir, that says where the running demo's sandboxes
/// listen: `{"ghl": URL, "<peer>": URL, …}`. A person can look at the demo's data with curl
/// (`curl $(jq -r .ghl FILE)/_sandbox/dump`), and the end-to-end test checks GHL for
/// duplicates that way. It holds no secret; the sandboxes are on loopback only.
pub const DEMO_ADDRESS_FILE: &str = "demo-sandbox.json";

/// Best effort: a demo whose address cannot be written still runs (it is a convenience).
fn write_address_file(options: &DemoOptions, sandbox: &RunningSandbox, peers: &[Rehearsal]) {
    let data_dir = match &options.data_dir {
        Some(dir) => dir.clone(),
        None => match Dirs::discover() {
            Ok(dirs) => dirs.data_dir,
            Err(_) => return,
        },
    };
    let mut address = serde_json::Map::new();
    address.insert("ghl".into(), sandbox.base_url.clone().into());
    for peer in peers {
        address.insert(peer.peer.clone(), peer.base_url.clone().into());
    }
    let address = serde_json::Value::Object(address);
    if std::fs::create_dir_all(&data_dir).is_ok() {
        let _ = crate::private_file::write_atomic(
            &data_dir.join(DEMO_ADDRESS_FILE),
            address.to_string().as_bytes(),
        );
    }
}

/// Deletes the previous demo's store: only `path` itself, which must be the demo's own
/// directory. A symlink there is removed, never followed. A store another demo console still
/// has open (its lock is held) is left alone, with an error saying so.
pub fn remove_demo_store(path: &Path) -> Result<(), DemoError> {
    let stale = |message: String| DemoError::Stale {
        path: path.to_path_buf(),
        message,
    };
    if path.file_name().and_then(|name| name.to_str()) != Some(DEMO_STORE_DIR) {
        return Err(stale(format!(
            "not the demo's own {DEMO_STORE_DIR} directory"
        )));
    }
    match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(stale(err.to_string())),
        Ok(meta) if meta.is_dir() => {
            if let Err(crate::store::StoreError::Locked { .. }) = Store::open(path) {
                return Err(stale(
                    "another demo console is using it; quit that one first".into(),
                ));
            }
            std::fs::remove_dir_all(path).map_err(|err| stale(err.to_string()))
        }
        Ok(_) => std::fs::remove_file(path).map_err(|err| stale(err.to_string())),
    }
}

/// One context per rehearsal peer, over one GHL client (one limiter for the location) and the
/// demo store; each with the mapping the editor saved last time, else its built-in one.
fn contexts(
    sandbox: &RunningSandbox,
    store: Store,
    rehearsals: &[Rehearsal],
) -> Result<Vec<SyncContext>, DemoError> {
    let setup = |err: &dyn std::fmt::Display| DemoError::Setup(err.to_string());
    let ghl = GhlClient::new(ClientSettings::new(
        sandbox.base_url.clone(),
        sandbox.location_id.clone(),
        AuthSettings::PrivateToken(sandbox.token.clone()),
    ))
    .map_err(|err| setup(&err))?;
    // The peers as a config beside the store, with the files it names (a connector file).
    let folder = store
        .path()
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join("demo-peers");
    let peers = rehearsal_peers(rehearsals, &folder).map_err(|err| setup(&err))?;
    let mut contexts = Vec::with_capacity(peers.len());
    for peer in &peers {
        let secrets = rehearsals
            .iter()
            .find(|r| r.peer == peer.name)
            .map(|r| r.secrets.clone())
            .unwrap_or_default();
        let connector = peer
            .setup
            .build(&peer.name, &secrets)
            .map_err(|err| setup(&err))?;
        let mapping = engine_setup::mapping_for(peer, Some(&store)).map_err(|err| setup(&err))?;
        contexts.push(SyncContext {
            peer: connector,
            store: store.clone(),
            ghl: ghl.clone(),
            mapping,
            settings: peer.sync.clone(),
            events: None,
        });
    }
    Ok(contexts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Command, Reply};

    async fn contacts(engine: &EngineHandle) -> usize {
        match engine.call(Command::Contacts { limit: None }).await {
            Ok(Reply::Contacts { list }) => list.rows.len(),
            other => panic!("contacts: {other:?}"),
        }
    }

    async fn stop(demo: Demo) {
        let _ = demo.engine.call(Command::Shutdown).await;
        demo.sandbox.shutdown().await;
    }

    /// A stopped engine lets go of its store a moment after it answers; a real restart is a
    /// new process. Retry while the lock is still held, and fail on anything else.
    async fn start_when_free(options: DemoOptions) -> Demo {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            match start(options.clone()).await {
                Ok(demo) => return demo,
                Err(err)
                    if std::time::Instant::now() < deadline
                        && (err.to_string().contains("is in use by")
                            || err.to_string().contains("another demo console")) =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(err) => panic!("demo start: {err}"),
            }
        }
    }

    fn options(data_dir: &Path, store: Option<PathBuf>) -> DemoOptions {
        DemoOptions {
            ephemeral: false,
            store,
            data_dir: Some(data_dir.to_path_buf()),
            contacts: Some(20),
            peers: Vec::new(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_start_recreates_the_demo_store_and_a_given_store_is_kept() {
        let data = tempfile::tempdir().unwrap();
        std::fs::write(data.path().join("keep.txt"), "not the demo's").unwrap();

        // A first demo syncs and saves a mapping version: ids and mapping now in its store.
        let first = start(options(data.path(), None)).await.unwrap();
        assert_eq!(first.store_path, data.path().join(DEMO_STORE_DIR));
        first
            .engine
            .call(Command::Sync {
                options: Default::default(),
            })
            .await
            .unwrap();
        assert!(contacts(&first.engine).await > 0, "the first demo synced");
        let text = match first.engine.call(Command::Mapping).await.unwrap() {
            Reply::Mapping { text, .. } => text + "\n# edited\n",
            other => panic!("mapping: {other:?}"),
        };
        let saved = first
            .engine
            .call(Command::SaveMapping { text })
            .await
            .unwrap();
        assert!(matches!(saved, Reply::MappingSaved { .. }), "{saved:?}");
        stop(first).await;

        // The next start begins from nothing: the old ids would point at nothing now.
        let second = start_when_free(options(data.path(), None)).await;
        assert_eq!(contacts(&second.engine).await, 0, "a fresh store");
        match second.engine.call(Command::Mapping).await.unwrap() {
            Reply::Mapping { versions, .. } => assert!(versions.is_empty(), "{versions:?}"),
            other => panic!("mapping: {other:?}"),
        }
        stop(second).await;
        assert_eq!(
            std::fs::read_to_string(data.path().join("keep.txt")).unwrap(),
            "not the demo's",
            "only demo-store is touched"
        );

        // `--store`: the caller's store survives a restart.
        let mine = data.path().join("mine");
        let third = start(options(data.path(), Some(mine.clone())))
            .await
            .unwrap();
        third
            .engine
            .call(Command::Sync {
                options: Default::default(),
            })
            .await
            .unwrap();
        let synced = contacts(&third.engine).await;
        stop(third).await;
        let fourth = start_when_free(options(data.path(), Some(mine))).await;
        assert_eq!(contacts(&fourth.engine).await, synced, "kept");
        stop(fourth).await;
    }

    #[test]
    fn only_a_directory_named_demo_store_is_ever_removed() {
        let data = tempfile::tempdir().unwrap();
        let other = data.path().join("store");
        std::fs::create_dir(&other).unwrap();
        let err = remove_demo_store(&other).unwrap_err().to_string();
        assert!(err.contains(DEMO_STORE_DIR), "{err}");
        assert!(other.exists());
        // Missing is fine; a store another demo holds open is left alone.
        let demo_store = data.path().join(DEMO_STORE_DIR);
        remove_demo_store(&demo_store).unwrap();
        let held = Store::open(&demo_store).unwrap();
        let err = remove_demo_store(&demo_store).unwrap_err().to_string();
        assert!(err.contains("another demo console"), "{err}");
        assert!(demo_store.exists());
        drop(held);
        // A symlink is removed, its target left alone.
        std::fs::remove_dir_all(&demo_store).unwrap();
        #[cfg(unix)]
        {
            let link = data.path().join(DEMO_STORE_DIR);
            std::os::unix::fs::symlink(&other, &link).unwrap();
            std::fs::write(other.join("precious"), "x").unwrap();
            remove_demo_store(&link).unwrap();
            assert!(!link.exists() && other.join("precious").exists());
        }
    }
}
