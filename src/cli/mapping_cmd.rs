//! `ghlsync mapping check|preview|default`.

use super::CliError;
use super::args::{ConnectionArgs, MappingCommand};
use super::{connection, engine_setup};
use crate::config::ConfigError;
use crate::ghl::GhlClient;
use crate::peers::EntityKind;
use crate::peers::registry;
use crate::sync::mapping::{
    FieldsError, Mapping, create_missing_fields, render_preview, resolve_against_location,
};
use crate::sync::{PreviewError, RecordRef, preview_record};
use std::path::Path;

pub async fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    command: MappingCommand,
) -> Result<(), CliError> {
    match command {
        MappingCommand::Default { peer } => {
            out!("{}", default_text(config, peer.as_deref())?)?;
            Ok(())
        }
        MappingCommand::Check {
            file,
            peer,
            create_fields,
        } => {
            let no_config = crate::config::config_path(config).map_or(true, |path| !path.exists());
            if create_fields && no_config {
                return Err(CliError::Usage(format!("{NEEDS_GHL} (no config)")));
            }
            // Neither a peer nor a file: every configured peer's mapping in force, in turn.
            let every = match (&peer, &file) {
                (None, None) => configured_peer_names(config),
                _ => Vec::new(),
            };
            if every.len() > 1 {
                for name in &every {
                    check(config, store, Some(name), None, create_fields).await?;
                }
                return Ok(());
            }
            check(
                config,
                store,
                peer.as_deref(),
                file.as_deref(),
                create_fields,
            )
            .await
        }
        MappingCommand::Preview {
            id,
            ghl,
            entity,
            file,
            peer,
        } => {
            let kind: EntityKind = entity.parse().map_err(CliError::Usage)?;
            let record = match (id, ghl) {
                (_, Some(ghl_id)) => RecordRef::Ghl(ghl_id),
                (Some(peer_id), None) => RecordRef::Peer(peer_id),
                (None, None) => {
                    return Err(CliError::Usage(
                        "name the record: --id PEER_ID, or --ghl GHL_CONTACT_ID".into(),
                    ));
                }
            };
            let (mapping, peer) = load(config, store, peer.as_deref(), file.as_deref())?;
            let entity_mapping = mapping
                .entity(kind)
                .ok_or_else(|| CliError::Usage(format!("the mapping has no [{kind}] section")))?;
            let (path, loaded) = engine_setup::load_config(config)?;
            let peers = engine_setup::peers(&path, &loaded)?;
            let configured = engine_setup::pick(&peers, Some(&peer))?;
            let secrets = crate::config::secrets::Secrets::load(&path)?;
            let connector = engine_setup::build_peer(configured, &secrets, &path)?;
            let ghl = GhlClient::new(connection::client_settings(
                Some(&path),
                &ConnectionArgs::default(),
            )?)?;
            let rows = preview_record(&ghl, connector.as_ref(), entity_mapping, &record)
                .await
                .map_err(|err| match err {
                    PreviewError::Ghl(err) => CliError::from(*err),
                    other => CliError::Usage(other.to_string()),
                })?;
            match &record {
                RecordRef::Peer(id) => outln!("{peer} {kind} {id} mapped to GHL:\n")?,
                RecordRef::Ghl(id) => {
                    outln!("GHL {kind} {id} mapped to {peer} ({peer}'s field names):\n")?
                }
            }
            out!("{}", render_preview(&rows))?;
            Ok(())
        }
    }
}

/// Checks one mapping (the file given, else the one in force for `peer`) and its custom fields.
async fn check(
    config: Option<&Path>,
    store: Option<&Path>,
    peer: Option<&str>,
    file: Option<&Path>,
    create_fields: bool,
) -> Result<(), CliError> {
    let (mut mapping, peer) = load(config, store, peer, file)?;
    let rules: usize = mapping.entities().map(|e| e.rules().len()).sum();
    let entities: Vec<&str> = mapping.entities().map(|e| e.kind().as_str()).collect();
    if entities.is_empty() {
        return Err(CliError::Classed {
            class: "config".into(),
            message: format!(
                "{}: the mapping has no [contact], [task], [note] or [appointment] section, so it syncs nothing; `ghlsync mapping default --peer {peer}` prints a complete one",
                mapping.origin
            ),
        });
    }
    let fields = check_location_fields(config, &mut mapping, create_fields).await?;
    outln!(
        "mapping OK: {} ({} rules for {}){fields}",
        mapping.peer,
        rules,
        entities.join(", ")
    )
}

/// The configured peers' names; empty when the config is absent or does not load (the single
/// check then reports why).
fn configured_peer_names(config: Option<&Path>) -> Vec<String> {
    let Ok(path) = crate::config::config_path(config) else {
        return Vec::new();
    };
    match crate::config::Config::load(&path) {
        Ok(Some(loaded)) => crate::config::configured_peers(&loaded, &path)
            .map(|peers| peers.into_iter().map(|p| p.name).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

const NEEDS_GHL: &str = "--create-fields creates the fields in the GHL location, which needs a config with GHL credentials (ghl.location_id and a token; see README, Configuration)";

/// Checks the custom fields `mapping` names against the configured GHL location (creating the
/// missing ones first with `create`); the text to add to the OK line. Without GHL credentials
/// the fields cannot be checked: that is said, or an error with `--create-fields`.
async fn check_location_fields(
    config: Option<&Path>,
    mapping: &mut Mapping,
    create: bool,
) -> Result<String, CliError> {
    let named = mapping.named_custom_fields().len();
    let settings = match connection::client_settings(config, &ConnectionArgs::default()) {
        Ok(settings) => settings,
        Err(err) if create => {
            return Err(CliError::Usage(format!("{NEEDS_GHL}: {err}")));
        }
        Err(err) if named > 0 => {
            return Ok(format!(
                "; its {named} custom field(s) were NOT checked against a GHL location ({err})"
            ));
        }
        Err(_) => return Ok(String::new()),
    };
    let ghl = GhlClient::new(settings)?;
    if create {
        let created = create_missing_fields(mapping, &ghl)
            .await
            .map_err(|err| fields_error(config, err))?;
        for field in &created {
            outln!(
                "created GHL custom field {:?}: key {}, {}, id {}",
                field.name,
                field.field_key,
                field.data_type,
                field.id
            )?;
        }
    }
    resolve_against_location(mapping, &ghl)
        .await
        .map_err(|err| fields_error(config, err))?;
    Ok(if named > 0 {
        format!(
            "; its {named} custom field(s) exist in GHL location {}",
            ghl.location_id()
        )
    } else {
        String::new()
    })
}

/// A missing field is a configuration problem (exit 3); a failed request keeps its GHL class.
pub fn fields_error(config: Option<&Path>, err: FieldsError) -> CliError {
    match err {
        FieldsError::Ghl { source, .. } => CliError::Ghl(source),
        other => match crate::config::config_path(config) {
            Ok(path) => CliError::Config(ConfigError::Invalid {
                path,
                message: other.to_string(),
            }),
            Err(_) => CliError::Usage(other.to_string()),
        },
    }
}

/// A file given on the command line is checked as it stands; otherwise the mapping in force
/// (a connector's built-in one when there is no config at all). A config that exists but does
/// not load is an error: the mapping in force cannot be known from it. Also says which peer
/// the mapping is for.
fn load(
    config: Option<&Path>,
    store: Option<&Path>,
    wanted: Option<&str>,
    file: Option<&Path>,
) -> Result<(Mapping, String), CliError> {
    let path = crate::config::config_path(config)?;
    let loaded = match crate::config::Config::load(&path) {
        Ok(loaded) => loaded,
        Err(err) => {
            return Err(CliError::Classed {
                class: "config".into(),
                message: format!(
                    "{err}\nThe mapping in force is named by that config, so it cannot be checked until the config loads; fix it (`ghlsync config check`), or check a file: ghlsync mapping check FILE"
                ),
            });
        }
    };
    let peers = match &loaded {
        Some(loaded) => crate::config::configured_peers(loaded, &path)?,
        None => Vec::new(),
    };
    if let Some(loaded) = loaded.as_ref().filter(|_| !peers.is_empty()) {
        if let Some(file) = file {
            let named = match wanted {
                Some(_) => wanted.map(str::to_string),
                // The file's own `peer = …`, when it names a configured peer or connector.
                None => Mapping::load(file).ok().and_then(|m| {
                    peers
                        .iter()
                        .find(|p| p.name == m.peer)
                        .or_else(|| peers.iter().find(|p| p.answers_to(&m.peer)))
                        .map(|p| p.name.clone())
                }),
            };
            let peer = engine_setup::pick(&peers, named.as_deref())?;
            return Ok((
                engine_setup::load_mapping_file(file, peer)?,
                peer.name.clone(),
            ));
        }
        let peer = engine_setup::pick(&peers, wanted)?;
        // The console's saved versions count, but a store in use elsewhere (a running sync)
        // does not stop a check of the file the config names.
        let opened = engine_setup::open_store(store, loaded).ok();
        return Ok((
            engine_setup::mapping_for(peer, opened.as_ref())?,
            peer.name.clone(),
        ));
    }
    // No peer configured: a file is checked for a connector, or the one --peer names.
    let mapping = match file {
        Some(file) => Mapping::load(file).map_err(engine_setup::mapping_error)?,
        None => Mapping::parse(&default_text(config, wanted)?, "built-in mapping")
            .map_err(engine_setup::mapping_error)?,
    };
    let known = registry::connector_names();
    if wanted.is_none_or(|w| w != mapping.peer) && !known.contains(&mapping.peer.as_str()) {
        return Err(CliError::Classed {
            class: "config".into(),
            message: format!(
                "{}{}: peer = {:?} is not a peer ghlsync knows: no [peers.{}] in the config, and no connector of that name ({}); write a connector's name, or say which peer with --peer NAME",
                mapping.origin,
                engine_setup::peer_line(&mapping),
                mapping.peer,
                mapping.peer,
                known.join(", ")
            ),
        });
    }
    let peer = mapping.peer.clone();
    Ok((mapping, peer))
}

/// The built-in mapping of `wanted`: a configured peer's (a connector file's own), else a
/// connector's; without a name, the config's only peer.
fn default_text(config: Option<&Path>, wanted: Option<&str>) -> Result<String, CliError> {
    let path = crate::config::config_path(config)?;
    if let Ok(Some(loaded)) = crate::config::Config::load(&path)
        && let Ok(peers) = crate::config::configured_peers(&loaded, &path)
        && let Some(peer) = match wanted {
            Some(name) => peers.iter().find(|p| p.name == name),
            None => peers.first().filter(|_| peers.len() == 1),
        }
    {
        return Ok(engine_setup::builtin_mapping(peer)?.text().to_string());
    }
    let with_mapping: Vec<&str> = registry::CONNECTORS
        .iter()
        .filter(|c| c.builtin_mapping().is_some())
        .map(|c| c.name())
        .collect();
    let Some(name) = wanted else {
        return Err(CliError::Usage(format!(
            "say whose mapping with --peer NAME: a configured peer, or a connector ({})",
            with_mapping.join(", ")
        )));
    };
    registry::connector(name)
        .and_then(|c| c.builtin_mapping())
        .map(str::to_string)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no built-in mapping for {name:?}; the connectors with one are: {} (a rest peer's comes from its connector file)",
                with_mapping.join(", ")
            ))
        })
}
