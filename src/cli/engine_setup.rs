//! Builds the in-process engine for `sync`, `failures`, `status` and `log`: config + secrets →
//! store, GHL client, every configured peer with its mapping. One place, so every command sees
//! the same setup.

use super::CliError;
use super::args::ConnectionArgs;
use super::connection;
use crate::config::paths::Dirs;
use crate::config::secrets::{Secrets, secrets_path};
use crate::config::{Config, ConfigError, ConfiguredPeer, config_path, configured_peers};
use crate::engine::{EngineError, EngineHandle, EngineOptions, Reply, start_engine};
use crate::ghl::GhlClient;
use crate::peers::Peer;
use crate::peers::registry;
use crate::store::{BindCheck, Binding, BindingConflict, Store};
use crate::sync::SyncContext;
use crate::sync::mapping::Mapping;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// The peers of the config, checked (`config::configured_peers`); none is an error saying how
/// to add one.
pub fn peers(path: &Path, config: &Config) -> Result<Vec<ConfiguredPeer>, CliError> {
    let peers = configured_peers(config, path)?;
    if peers.is_empty() {
        return Err(config_error(format!(
            "no [peers.<name>] section in {}; add one (README, \"Peers and the sync\"), or rehearse with `ghlsync sandbox --write-config`",
            path.display()
        )));
    }
    Ok(peers)
}

/// The peer `wanted` of `peers`, or the only one; several and none named is a usage error
/// that lists them.
pub fn pick<'a>(
    peers: &'a [ConfiguredPeer],
    wanted: Option<&str>,
) -> Result<&'a ConfiguredPeer, CliError> {
    let names = || {
        peers
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        Some(name) => peers.iter().find(|p| p.name == name).ok_or_else(|| {
            CliError::Usage(format!(
                "no peer {name:?} in the config; its peers are: {}",
                names()
            ))
        }),
        None => match peers {
            [only] => Ok(only),
            _ => Err(CliError::Usage(format!(
                "the config has several peers; say which with --peer NAME ({})",
                names()
            ))),
        },
    }
}

/// The mapping in force for `peer`: the file named in config, else the newest version saved in
/// the store (the console's editor saves there), else the built-in default.
pub fn mapping_for(peer: &ConfiguredPeer, store: Option<&Store>) -> Result<Mapping, CliError> {
    if let Some(file) = &peer.mapping {
        return load_mapping_file(file, peer);
    }
    if let Some(saved) = store
        .map(|s| s.mapping_versions(&peer.name))
        .transpose()?
        .and_then(|versions| versions.into_iter().last())
    {
        return Mapping::parse(
            &saved.text,
            &format!(
                "{} mapping v{} (saved in the store)",
                peer.name, saved.version
            ),
        )
        .map_err(mapping_error);
    }
    builtin_mapping(peer)
}

/// The mapping `peer` starts with: its own (a connector file's), else its connector's.
pub fn builtin_mapping(peer: &ConfiguredPeer) -> Result<Mapping, CliError> {
    let (text, origin) = match peer.setup.builtin_mapping() {
        Some(text) => (text, format!("the {} connector file's mapping", peer.name)),
        None => match peer.connector.builtin_mapping() {
            Some(text) => (
                text.into(),
                format!("assets/mappings/{}.toml (built-in)", peer.connector.name()),
            ),
            None => {
                return Err(config_error(format!(
                    "the {} connector has no built-in mapping; set peers.{}.mapping to a mapping file",
                    peer.connector.name(),
                    peer.name
                )));
            }
        },
    };
    Mapping::parse(&text, &origin).map_err(mapping_error)
}

/// A mapping file for `peer`: it must parse, and be written for that peer or its connector (a
/// file for another app would otherwise check as an empty mapping).
pub fn load_mapping_file(file: &Path, peer: &ConfiguredPeer) -> Result<Mapping, CliError> {
    if !file.exists() {
        return Err(config_error(format!(
            "the mapping file {} does not exist; fix the path, or print the built-in one to start from: ghlsync mapping default --peer {} > {}",
            file.display(),
            peer.name,
            file.display()
        )));
    }
    let mapping = Mapping::load(file).map_err(mapping_error)?;
    check_mapping_peer(&mapping, file, peer)?;
    Ok(mapping)
}

fn check_mapping_peer(
    mapping: &Mapping,
    file: &Path,
    peer: &ConfiguredPeer,
) -> Result<(), CliError> {
    if peer.answers_to(&mapping.peer) {
        return Ok(());
    }
    let line = peer_line(mapping);
    let message = format!(
        "peer = {:?}, but this mapping is used for peer {:?} (connector {:?}); write peer = \"{}\", or point another peer's mapping at it",
        mapping.peer,
        peer.name,
        peer.connector.name(),
        peer.name
    );
    Err(config_error(format!("{}{line}: {message}", file.display())))
}

/// `:LINE` of a mapping's `peer = …`, when the text has one.
pub fn peer_line(mapping: &Mapping) -> String {
    mapping
        .text()
        .lines()
        .position(|l| l.trim_start().starts_with("peer") && l.contains('='))
        .map_or(String::new(), |index| format!(":{}", index + 1))
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

/// Builds `peer` with its secrets (each from `GHLSYNC_<PEER>_<KEY>` or `<peer>_<key>` in
/// secrets.toml; a missing one names both).
pub fn build_peer(
    peer: &ConfiguredPeer,
    secrets: &Secrets,
    config_path: &Path,
) -> Result<Arc<dyn Peer>, CliError> {
    let found =
        secrets.peer_secrets(&peer.name, peer.setup.secrets(), &secrets_path(config_path))?;
    peer.setup
        .build(&peer.name, &found)
        .map_err(|err| config_error(err.to_string()))
}

/// Every secrets-file key the config's peers use (`<peer>_<key>`): any other is a typo.
pub fn peer_secret_keys(peers: &[ConfiguredPeer]) -> Vec<String> {
    peers
        .iter()
        .flat_map(|peer| {
            peer.setup
                .secrets()
                .into_iter()
                .map(|need| registry::secret_file_key(&peer.name, &need.key))
        })
        .collect()
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

/// Everything a sync needs, for each peer (`only`: that one). They share the store and the GHL
/// client, so one limiter keeps the location's ceiling for all. The store is bound (or checked
/// against its binding) for each peer before anything runs.
fn contexts(
    path: &Path,
    config: &Config,
    store: Option<&Path>,
    only: Option<&str>,
    policy: BindingPolicy,
) -> Result<Vec<SyncContext>, CliError> {
    let settings = connection::client_settings(Some(path), &ConnectionArgs::default())?;
    let ghl = GhlClient::new(settings)?;
    let store = open_store(store, config)?;
    peer_contexts(path, config, &store, &ghl, only, policy)
}

/// Each peer's context over a store and GHL client already open (a service's reload builds
/// them again this way, keeping the store and the limiter).
fn peer_contexts(
    path: &Path,
    config: &Config,
    store: &Store,
    ghl: &GhlClient,
    only: Option<&str>,
    policy: BindingPolicy,
) -> Result<Vec<SyncContext>, CliError> {
    let configured = peers(path, config)?;
    let chosen: Vec<&ConfiguredPeer> = match only {
        Some(name) => vec![pick(&configured, Some(name))?],
        None => configured.iter().collect(),
    };
    let secrets = Secrets::load(path)?;
    secrets.check_peer_keys(&peer_secret_keys(&configured), &secrets_path(path))?;
    let location_id = ghl.location_id().to_string();
    let mut contexts = Vec::with_capacity(chosen.len());
    for peer in chosen {
        let connector = build_peer(peer, &secrets, path)?;
        let binding = Binding {
            location_id: location_id.clone(),
            peer: peer.name.clone(),
            account: peer.setup.account(),
        };
        check_binding(store, &binding, policy, path)?;
        contexts.push(SyncContext {
            peer: connector,
            store: store.clone(),
            ghl: ghl.clone(),
            mapping: mapping_for(peer, Some(store))?,
            settings: peer.sync.clone(),
            events: None,
        });
    }
    Ok(contexts)
}

fn engine_options(config: &Config) -> EngineOptions {
    let defaults = EngineOptions::default();
    EngineOptions {
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
    }
}

/// The engine of `ghlsync run`: every configured peer, and a reloader that reads the config,
/// secrets, mappings and connector files again over the same store and GHL client (a binding
/// the new files contradict is refused, never re-bound, on reload).
pub fn service_engine(
    config_path: &Path,
    config: &Config,
    store: Option<&Path>,
    policy: BindingPolicy,
) -> Result<(EngineHandle, Vec<String>), CliError> {
    let contexts = contexts(config_path, config, store, None, policy)?;
    let names = contexts
        .iter()
        .map(|ctx| ctx.peer_name().to_string())
        .collect();
    let Some(first) = contexts.first() else {
        return Err(config_error(
            "no peer is configured; add a [peers.<name>] section (README, \"Peers and the sync\")"
                .into(),
        ));
    };
    let (store, ghl) = (first.store.clone(), first.ghl.clone());
    let path = config_path.to_path_buf();
    let reloader: crate::engine::Reloader = Arc::new(move || {
        let (_, config) = load_config(Some(&path)).map_err(|err| err.to_string())?;
        peer_contexts(&path, &config, &store, &ghl, None, BindingPolicy::Refuse)
            .map_err(|err| err.to_string())
    });
    Ok((
        crate::engine::start_engine_with(contexts, engine_options(config), Some(reloader)),
        names,
    ))
}

/// The in-process engine over every configured peer (`only`: that one).
pub fn engine(
    explicit_config: Option<&Path>,
    store: Option<&Path>,
    only: Option<&str>,
    policy: BindingPolicy,
) -> Result<EngineHandle, CliError> {
    let (path, config) = load_config(explicit_config)?;
    let options = engine_options(&config);
    let contexts = contexts(&path, &config, store, only, policy)?;
    Ok(start_engine(contexts, options))
}

/// The configured instance's running service if its socket answers (said on stderr), else the
/// in-process engine as `engine` builds it.
pub async fn attach_or_start(
    explicit_config: Option<&Path>,
    store: Option<&Path>,
    only: Option<&str>,
    policy: BindingPolicy,
) -> Result<EngineHandle, CliError> {
    let (_, config) = load_config(explicit_config)?;
    match super::attach::attach(&config, store, only).await? {
        super::attach::Attach::Attached { engine, .. } => Ok(engine),
        super::attach::Attach::Absent(absent) => {
            engine(explicit_config, store, only, policy).map_err(|err| absent.explain(err))
        }
    }
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
