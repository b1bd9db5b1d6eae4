//! Builds the in-process engine for `sync`, `failures`, `status` and `log`: config + secrets →
//! store, GHL client, peer, mapping. One place, so every command sees the same setup.

use super::CliError;
use super::args::ConnectionArgs;
use super::connection;
use crate::config::paths::Dirs;
use crate::config::secrets::{ENV_REPSLY_PASSWORD, Secrets};
use crate::config::{Config, ConfigError, config_path};
use crate::engine::{EngineError, EngineHandle, EngineOptions, Reply, start_in_process};
use crate::ghl::GhlClient;
use crate::peers::Peer;
use crate::peers::repsly::RepslyPeer;
use crate::store::{BindCheck, Binding, BindingConflict, PeerAccount, Store};
use crate::sync::SyncContext;
use crate::sync::mapping::Mapping;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const SUPPORTED_PEERS: &[&str] = &["repsly"];

/// The store directory: `--store`, else `[store] path`, else `store` in the XDG data dir.
pub fn store_path(explicit: Option<&Path>, config: &Config) -> Result<PathBuf, CliError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = &config.store.path {
        return Ok(path.clone());
    }
    Ok(Dirs::discover()?.data_dir.join("store"))
}

pub fn load_config(explicit: Option<&Path>) -> Result<(PathBuf, Config), CliError> {
    let path = config_path(explicit)?;
    // A missing config is a configuration problem (exit 3), like a bad one.
    let config = Config::load(&path)?.ok_or_else(|| CliError::Classed {
        class: "config".into(),
        message: format!(
            "no config at {}; write one (see README, Configuration) or rehearse with `ghlsync sandbox --write-config {}`",
            path.display(),
            path.display()
        ),
    })?;
    Ok((path, config))
}

pub fn open_store(explicit: Option<&Path>, config: &Config) -> Result<Store, CliError> {
    let path = store_path(explicit, config)?;
    Ok(Store::open(&path)?)
}

/// The mapping in force: the file named in config, else the newest version saved in the store
/// (the console's editor saves there), else the built-in default.
pub fn mapping_for(
    peer: &str,
    config: &Config,
    store: Option<&Store>,
) -> Result<Mapping, CliError> {
    let file = match peer {
        "repsly" => config.peers.repsly.as_ref().and_then(|p| p.mapping.clone()),
        _ => None,
    };
    if let Some(file) = file {
        let file = resolve(&file, config);
        return load_mapping_file(&file, peer);
    }
    if let Some(saved) = store
        .map(|s| s.mapping_versions(peer))
        .transpose()?
        .and_then(|versions| versions.into_iter().last())
    {
        return Mapping::parse(
            &saved.text,
            &format!("{peer} mapping v{} (saved in the store)", saved.version),
        )
        .map_err(mapping_error);
    }
    Mapping::builtin(peer)
        .ok_or_else(|| CliError::Usage(format!("no built-in mapping for peer {peer:?}")))
}

/// A mapping file for `peer`: it must parse, and be written for that peer (a file for a peer
/// ghlsync does not know, `peer = "zoho"`, would otherwise check as an empty mapping).
pub fn load_mapping_file(file: &Path, peer: &str) -> Result<Mapping, CliError> {
    if !file.exists() {
        return Err(config_error(format!(
            "the mapping file {} does not exist; fix the path, or print the built-in one to start from: ghlsync mapping default --peer {peer} > {}",
            file.display(),
            file.display()
        )));
    }
    let mapping = Mapping::load(file).map_err(mapping_error)?;
    check_mapping_peer(&mapping, file, peer)?;
    Ok(mapping)
}

fn check_mapping_peer(mapping: &Mapping, file: &Path, peer: &str) -> Result<(), CliError> {
    if mapping.peer == peer {
        return Ok(());
    }
    let line = mapping
        .text()
        .lines()
        .position(|l| l.trim_start().starts_with("peer") && l.contains('='))
        .map_or(String::new(), |index| format!(":{}", index + 1));
    let known = SUPPORTED_PEERS.join(", ");
    let message = if SUPPORTED_PEERS.contains(&mapping.peer.as_str()) {
        format!(
            "this mapping is for peer {:?}, not {peer:?}; pass --peer {} or use a mapping written for {peer}",
            mapping.peer, mapping.peer
        )
    } else {
        format!(
            "peer = {:?} is not a peer ghlsync syncs with; the known peers are: {known} (e.g. peer = \"{peer}\")",
            mapping.peer
        )
    };
    Err(config_error(format!("{}{line}: {message}", file.display())))
}

/// A mapping that does not parse is a configuration mistake (exit 3), said with its place.
pub fn mapping_error(err: crate::sync::mapping::MappingError) -> CliError {
    config_error(err.to_string())
}

fn config_error(message: String) -> CliError {
    CliError::Classed {
        class: "config".into(),
        message,
    }
}

/// Relative paths in the config resolve against the config file's folder.
fn resolve(path: &Path, config: &Config) -> PathBuf {
    match (&config.source, path.is_relative()) {
        (Some(source), true) => source
            .parent()
            .map_or_else(|| path.to_path_buf(), |dir| dir.join(path)),
        _ => path.to_path_buf(),
    }
}

pub fn peer(name: &str, config_path: &Path, config: &Config) -> Result<Arc<dyn Peer>, CliError> {
    match name {
        "repsly" => {
            let section = config.peers.repsly.clone().ok_or_else(|| {
                config_error(format!(
                    "no [peers.repsly] section in {}; add one (README, \"Peers and the sync\"), or rehearse with `ghlsync sandbox --write-config`",
                    config_path.display()
                ))
            })?;
            let mut settings = section.connection;
            settings.password = Secrets::load(config_path)?.repsly_password.ok_or_else(|| {
                ConfigError::MissingSecret {
                    name: ENV_REPSLY_PASSWORD,
                    hint: format!(
                        "set {ENV_REPSLY_PASSWORD} or put repsly_password in {} (mode 0600)",
                        crate::config::secrets::secrets_path(config_path).display()
                    ),
                }
            })?;
            let peer = RepslyPeer::new(settings).map_err(|err| CliError::Classed {
                class: "config".into(),
                message: err.to_string(),
            })?;
            Ok(Arc::new(peer))
        }
        other => Err(CliError::Usage(format!(
            "unknown peer {other:?}; ghlsync knows {}",
            SUPPORTED_PEERS.join(", ")
        ))),
    }
}

/// What to do when the store is bound to another GHL location or peer account than the config
/// names (`Store::bind`; README "The store's binding").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BindingPolicy {
    /// Refuse before anything runs (exit 3).
    #[default]
    Refuse,
    /// `--rebind-store`: bind the store to what the config names, and log that it did.
    Rebind,
}

/// The peer account a store's records belong to: enough to tell two accounts apart, no secret.
fn peer_account(name: &str, config_path: &Path, config: &Config) -> Result<PeerAccount, CliError> {
    let connection = match name {
        "repsly" => config.peers.repsly.as_ref().map(|p| &p.connection),
        _ => None,
    };
    let Some(connection) = connection else {
        return Err(config_error(format!(
            "no [peers.{name}] section in {}; add one (README, \"Peers and the sync\")",
            config_path.display()
        )));
    };
    if connection.username.trim().is_empty() {
        // Bound to an empty user, the store would refuse the real one once it is filled in.
        return Err(ConfigError::Invalid {
            path: config_path.to_path_buf(),
            message: format!(
                "peers.{name}.connection.username is empty; set it to the API username (Repsly → Settings → API Settings)"
            ),
        }
        .into());
    }
    Ok(PeerAccount::new(&connection.base_url, &connection.username))
}

/// Binds the store to the location and peer account the config names, or refuses a store bound
/// to others: its links point at another location's (or account's) records, and a sync would
/// create everything again there or update the wrong records.
fn check_binding(
    store: &Store,
    binding: &Binding,
    policy: BindingPolicy,
    config_path: &Path,
) -> Result<(), CliError> {
    let described = |conflicts: &[BindingConflict]| {
        conflicts
            .iter()
            .map(|c| format!("{} {} (the config says {})", c.what, c.stored, c.configured))
            .collect::<Vec<_>>()
            .join(", and to ")
    };
    let store_path = store.path().display();
    match policy {
        BindingPolicy::Refuse => match store.bind(binding)? {
            BindCheck::Mismatch(conflicts) => Err(ConfigError::Invalid {
                path: config_path.to_path_buf(),
                message: format!(
                    "the store at {store_path} is bound to {}. Its links hold only there: synced elsewhere, records would be created again or the wrong ones updated. To sync what the config says, point [store] path (or --store) at another store (a new path starts empty). If the location or account really moved (e.g. GHL migrated the sub-account) and the store's records still hold, run once with --rebind-store",
                    described(&conflicts)
                ),
            }
            .into()),
            BindCheck::Recorded => {
                tracing::info!(store = %store_path, location = %binding.location_id, peer = %binding.peer, account = %binding.account, "bound the store");
                Ok(())
            }
            BindCheck::Matches | BindCheck::Rebound(_) => Ok(()),
        },
        BindingPolicy::Rebind => {
            if let BindCheck::Rebound(conflicts) = store.rebind(binding)? {
                let what = described(&conflicts);
                tracing::warn!(store = %store_path, was = %what, "--rebind-store: re-bound the store");
                super::output::note(format_args!(
                    "note: --rebind-store: the store at {store_path} was bound to {what}; it is now bound to what the config says"
                ));
            }
            Ok(())
        }
    }
}

/// Everything a sync needs, for `peer`. The store is bound (or checked against its binding)
/// before anything runs.
pub fn context(
    explicit_config: Option<&Path>,
    store: Option<&Path>,
    peer_name: &str,
    policy: BindingPolicy,
) -> Result<SyncContext, CliError> {
    let (path, config) = load_config(explicit_config)?;
    let settings = connection::client_settings(Some(&path), &ConnectionArgs::default())?;
    let location_id = settings.location_id.clone();
    let ghl = GhlClient::new(settings)?;
    let store = open_store(store, &config)?;
    let connector = peer(peer_name, &path, &config)?;
    let binding = Binding {
        location_id,
        peer: peer_name.to_string(),
        account: peer_account(peer_name, &path, &config)?,
    };
    check_binding(&store, &binding, policy, &path)?;
    let mapping = mapping_for(peer_name, &config, Some(&store))?;
    let sync_settings = match peer_name {
        "repsly" => config
            .peers
            .repsly
            .as_ref()
            .map(|p| p.sync.clone())
            .unwrap_or_default(),
        _ => Default::default(),
    };
    Ok(SyncContext {
        peer: connector,
        store,
        ghl,
        mapping,
        settings: sync_settings,
        events: None,
    })
}

pub fn engine(
    explicit_config: Option<&Path>,
    store: Option<&Path>,
    peer_name: &str,
    policy: BindingPolicy,
) -> Result<EngineHandle, CliError> {
    let (_, config) = load_config(explicit_config)?;
    let defaults = EngineOptions::default();
    let options = EngineOptions {
        log_max_age: config
            .store
            .log_max_age_days
            .map_or(defaults.log_max_age, |days| {
                chrono::Duration::days(i64::from(days))
            }),
        log_max_entries: config
            .store
            .log_max_entries
            .unwrap_or(defaults.log_max_entries),
    };
    let ctx = context(explicit_config, store, peer_name, policy)?;
    Ok(start_in_process(ctx, options))
}

/// The engine's answer, or its error as a `CliError` whose exit code follows the error's class
/// (README "Exit codes"): an auth failure of a run exits 4, a transient one 9, the store 1.
pub fn answer(reply: Result<Reply, EngineError>) -> Result<Reply, CliError> {
    match reply {
        Ok(Reply::Error { class, message }) => Err(CliError::Classed { class, message }),
        Ok(reply) => Ok(reply),
        Err(EngineError::Stopped) => Err(CliError::Store(
            "the engine stopped before it answered; see the log file (ghlsync's XDG state dir) for why".into(),
        )),
    }
}

/// An answer of the wrong kind: a bug, said as one.
pub fn unexpected(reply: &Reply) -> CliError {
    CliError::Store(format!(
        "the engine answered with an unexpected reply ({}); this is a bug, please report it",
        serde_json::to_value(reply)
            .ok()
            .and_then(|v| v.get("reply").and_then(|r| r.as_str()).map(str::to_string))
            .unwrap_or_else(|| "unknown".into())
    ))
}
