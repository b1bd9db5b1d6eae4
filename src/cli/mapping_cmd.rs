//! `ghlsync mapping check|preview|default`.

use super::CliError;
use super::args::{ConnectionArgs, MappingCommand};
use super::{connection, engine_setup};
use crate::config::ConfigError;
use crate::ghl::GhlClient;
use crate::peers::EntityKind;
use crate::sync::mapping::{
    FieldsError, Mapping, create_missing_fields, preview, render_preview, resolve_against_location,
};
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
            print!("{text}");
            Ok(())
        }
        MappingCommand::Check {
            file,
            peer,
            create_fields,
        } => {
            let mut mapping = load(config, store, &peer, file.as_deref())?;
            let rules: usize = mapping.entities().map(|e| e.rules().len()).sum();
            let entities: Vec<&str> = mapping.entities().map(|e| e.kind().as_str()).collect();
            let fields = check_location_fields(config, &mut mapping, create_fields).await?;
            println!(
                "mapping OK: {} ({} rules for {}){fields}",
                peer,
                rules,
                entities.join(", ")
            );
            Ok(())
        }
        MappingCommand::Preview {
            id,
            entity,
            file,
            peer,
        } => {
            let kind: EntityKind = entity.parse().map_err(CliError::Usage)?;
            let mapping = load(config, store, &peer, file.as_deref())?;
            let entity_mapping = mapping
                .entity(kind)
                .ok_or_else(|| CliError::Usage(format!("the mapping has no [{kind}] section")))?;
            let (path, loaded) = engine_setup::load_config(config)?;
            let connector = engine_setup::peer(&peer, &path, &loaded)?;
            let record = connector
                .get(kind, &id)
                .await
                .map_err(|err| CliError::Usage(err.to_string()))?
                .ok_or_else(|| CliError::Usage(format!("{peer} has no {kind} {id:?}")))?;
            println!("{peer} {kind} {id} mapped to GHL:\n");
            print!("{}", render_preview(&preview(entity_mapping, &record)));
            Ok(())
        }
    }
}

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
            return Err(CliError::Usage(format!(
                "--create-fields creates the fields in the GHL location, which needs a config with GHL credentials (ghl.location_id and a token; see README, Configuration): {err}"
            )));
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
            println!(
                "created GHL custom field {:?}: key {}, {}, id {}",
                field.name, field.field_key, field.data_type, field.id
            );
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

/// A file given on the command line is checked as it stands; otherwise the mapping in force.
fn load(
    config: Option<&Path>,
    store: Option<&Path>,
    peer: &str,
    file: Option<&Path>,
) -> Result<Mapping, CliError> {
    if let Some(file) = file {
        return Mapping::load(file).map_err(|err| CliError::Usage(err.to_string()));
    }
    match engine_setup::load_config(config) {
        Ok((_, loaded)) => {
            let opened = engine_setup::open_store(store, &loaded).ok();
            engine_setup::mapping_for(peer, &loaded, opened.as_ref())
        }
        Err(_) => Mapping::builtin(peer)
            .ok_or_else(|| CliError::Usage(format!("no built-in mapping for {peer:?}"))),
    }
}
