//! `ghlsync connector check FILE` and `ghlsync connector try FILE --entity E`: a connector file
//! (`connector = "rest"`) checked with line:col, or one page read through it and shown as the
//! mapping sees it, without writing anything anywhere.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::CliError;
use super::args::ConnectorCommand;
use crate::config::Secret;
use crate::config::secrets::{Secrets, secrets_path};
use crate::peers::registry::{SecretNeed, secret_env_var, secret_file_key};
use crate::peers::rest::{ConnectorFile, RestPeer};
use crate::peers::{EntityKind, Peer, PeerError};
use crate::sync::mapping::{Mapping, preview, render_preview};

pub async fn run(config: Option<&Path>, command: ConnectorCommand) -> Result<(), CliError> {
    match command {
        ConnectorCommand::Check { file } => check(config, &file),
        ConnectorCommand::Try {
            file,
            entity,
            base_url,
            mapping,
            json,
        } => {
            try_page(
                config,
                &file,
                &entity,
                base_url.as_deref(),
                mapping.as_deref(),
                json,
            )
            .await
        }
    }
}

/// A bad file is a configuration problem (exit 3), whatever is wrong in it.
fn load(path: &Path) -> Result<ConnectorFile, CliError> {
    ConnectorFile::load(path).map_err(|err| CliError::Classed {
        class: "config".into(),
        message: err.to_string(),
    })
}

fn check(config: Option<&Path>, path: &Path) -> Result<(), CliError> {
    let file = load(path)?;
    let secrets = load_secrets(config)?;
    outln!("# {} is valid", path.display())?;
    outln!("name:     {}", file.name())?;
    outln!("base_url: {}", file.base_url())?;
    for cap in file.capabilities() {
        let changes = match cap.changes {
            crate::peers::ChangeDetection::Cursor => "incremental",
            _ => "full listing",
        };
        let access = match (cap.read, cap.write) {
            (true, true) => "read, write",
            (true, false) => "read",
            (false, true) => "write",
            (false, false) => "none",
        };
        outln!("{:<12} {access} ({changes})", format!("{}:", cap.kind))?;
    }
    for name in file.secret_names() {
        let set = secrets.peer_secret(file.name(), &name).is_some();
        outln!(
            "secret {name}: {} or {} in secrets.toml ({})",
            secret_env_var(file.name(), &name),
            secret_file_key(file.name(), &name),
            if set { "set" } else { "not set" }
        )?;
    }
    Ok(())
}

/// The secrets beside the config (when there is one) and the environment.
fn load_secrets(config: Option<&Path>) -> Result<Secrets, CliError> {
    let path = crate::config::config_path(config)?;
    Ok(Secrets::load(&path)?)
}

/// The secrets the file names, by the file's name as a peer's (`GHLSYNC_<NAME>_<SECRET>`, or
/// `<name>_<secret>` in secrets.toml); a missing one is named.
fn file_secrets(
    config: Option<&Path>,
    file: &ConnectorFile,
) -> Result<BTreeMap<String, Secret>, CliError> {
    let needs = file
        .secret_names()
        .into_iter()
        .map(|key| SecretNeed {
            what: format!("{} needs the secret {key:?}", file.origin()),
            key,
        })
        .collect();
    let path = crate::config::config_path(config)?;
    Ok(load_secrets(config)?.peer_secrets(file.name(), needs, &secrets_path(&path))?)
}

fn peer_failure(err: PeerError) -> CliError {
    CliError::Classed {
        class: err.class().as_str().to_string(),
        message: err.to_string(),
    }
}

async fn try_page(
    config: Option<&Path>,
    path: &Path,
    entity: &str,
    base_url: Option<&str>,
    mapping: Option<&Path>,
    json_out: bool,
) -> Result<(), CliError> {
    let kind: EntityKind = entity.parse().map_err(CliError::Usage)?;
    let file = load(path)?;
    let mapping = match mapping {
        Some(path) => {
            let mapping = Mapping::load(path).map_err(|err| CliError::Classed {
                class: "config".into(),
                message: err.to_string(),
            })?;
            Some(mapping)
        }
        None => None,
    };
    let entity_mapping = match &mapping {
        Some(mapping) => Some(mapping.entity(kind).ok_or_else(|| CliError::Classed {
            class: "config".into(),
            message: format!("the mapping file has no [{kind}] section"),
        })?),
        None => None,
    };
    let secrets = file_secrets(config, &file)?;
    let name = file.name().to_string();
    let peer = RestPeer::new(&name, file, base_url, &secrets).map_err(peer_failure)?;
    let page = peer.fetch_changes(kind, None).await.map_err(peer_failure)?;
    if json_out {
        let records: Vec<Value> = page
            .records
            .iter()
            .map(|record| {
                let mut out = json!({
                    "id": record.id,
                    "parentId": record.parent_id,
                    "updatedAt": record.updated_at,
                    "active": record.active,
                    "fields": record.fields,
                });
                if let Some(entity) = entity_mapping {
                    out["ghl"] = Value::Object(entity.to_ghl(record).fields);
                }
                out
            })
            .collect();
        let answer = json!({"records": records, "more": !page.done});
        return super::output::print_json(&answer, true);
    }
    outln!(
        "# {} {kind}s from the first page{}; nothing was written",
        page.records.len(),
        if page.done {
            ""
        } else {
            " (more pages follow)"
        }
    )?;
    for record in &page.records {
        outln!()?;
        let mut head = format!("## {kind} {}", record.id);
        if let Some(parent) = &record.parent_id {
            head.push_str(&format!("  parent {parent}"));
        }
        if let Some(at) = record.updated_at {
            head.push_str(&format!("  updated {}", at.to_rfc3339()));
        }
        if !record.active {
            head.push_str("  (inactive)");
        }
        outln!("{head}")?;
        for (field, value) in &record.fields {
            outln!("  {field} = {value}")?;
        }
        if let Some(entity) = entity_mapping {
            outln!("  -> GHL, as the mapping writes it:")?;
            out!("{}", render_preview(&preview(entity, record)))?;
        }
    }
    Ok(())
}
