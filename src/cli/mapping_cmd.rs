//! `ghlsync mapping check|preview|default`.

use super::CliError;
use super::args::ConnectionArgs;
use super::args::MappingCommand;
use super::connection;
use super::engine_setup;
use crate::ghl::GhlClient;
use crate::peers::EntityKind;
use crate::sync::mapping::{Mapping, render_preview};
use crate::sync::{PreviewError, RecordRef, preview_record};
use std::path::Path;

pub async fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    command: MappingCommand,
) -> Result<(), CliError> {
    match command {
        MappingCommand::Default { peer } => {
            let text = Mapping::builtin_text(&peer)
                .ok_or_else(|| CliError::Usage(format!("no built-in mapping for {peer:?}")))?;
            out!("{text}")?;
            Ok(())
        }
        MappingCommand::Check { file, peer } => {
            let mapping = load(config, store, &peer, file.as_deref())?;
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
            outln!(
                "mapping OK: {} ({} rules for {})",
                mapping.peer,
                rules,
                entities.join(", ")
            )
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
            let mapping = load(config, store, &peer, file.as_deref())?;
            let entity_mapping = mapping
                .entity(kind)
                .ok_or_else(|| CliError::Usage(format!("the mapping has no [{kind}] section")))?;
            let (path, loaded) = engine_setup::load_config(config)?;
            let connector = engine_setup::peer(&peer, &path, &loaded)?;
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

/// A file given on the command line is checked as it stands; otherwise the mapping in force
/// (the built-in one when there is no config at all). A config that exists but does not load
/// is an error: the mapping in force cannot be known from it.
fn load(
    config: Option<&Path>,
    store: Option<&Path>,
    peer: &str,
    file: Option<&Path>,
) -> Result<Mapping, CliError> {
    if let Some(file) = file {
        return engine_setup::load_mapping_file(file, peer);
    }
    let path = crate::config::config_path(config)?;
    match crate::config::Config::load(&path) {
        Ok(Some(loaded)) => {
            // The console's saved versions count, but a store in use elsewhere (a running
            // sync) does not stop a check of the file the config names.
            let opened = engine_setup::open_store(store, &loaded).ok();
            engine_setup::mapping_for(peer, &loaded, opened.as_ref())
        }
        Ok(None) => Mapping::builtin(peer)
            .ok_or_else(|| CliError::Usage(format!("no built-in mapping for {peer:?}"))),
        Err(err) => Err(CliError::Classed {
            class: "config".into(),
            message: format!(
                "{err}\nThe mapping in force is named by that config, so it cannot be checked until the config loads; fix it (`ghlsync config check`), or check a file: ghlsync mapping check FILE"
            ),
        }),
    }
}
