use super::CliError;
use super::args::ConfigCommand;
use crate::config::secrets::{Secrets, secrets_path};
use crate::config::{Config, config_path};
use std::path::Path;

pub fn run(explicit: Option<&Path>, command: ConfigCommand) -> Result<(), CliError> {
    let path = config_path(explicit)?;
    match command {
        ConfigCommand::Path => {
            outln!("config:  {}", path.display())?;
            outln!("secrets: {}", secrets_path(&path).display())?;
        }
        ConfigCommand::Check => {
            let config = Config::load(&path)?.ok_or_else(|| {
                CliError::Usage(format!(
                    "no config at {}; `ghlsync sandbox --write-config {}` writes one for the sandbox",
                    path.display(),
                    path.display()
                ))
            })?;
            let secrets = Secrets::load(&path)?;
            let peers = crate::config::configured_peers(&config, &path)?;
            secrets.check_peer_keys(
                &super::engine_setup::peer_secret_keys(&peers),
                &secrets_path(&path),
            )?;
            // A mapping file the config names must exist and parse for its peer: found here,
            // not at the first sync.
            for peer in &peers {
                super::engine_setup::mapping_for(peer, None)?;
            }
            outln!("# {} is valid", path.display())?;
            out!("{}", config.to_toml())?;
            let state = |present: bool| if present { "set" } else { "not set" };
            outln!("\n# secrets (values never shown)")?;
            outln!("# ghl_token: {}", state(secrets.ghl_token.is_some()))?;
            outln!(
                "# ghl_client_secret: {}",
                state(secrets.ghl_client_secret.is_some())
            )?;
            outln!("\n# peers")?;
            for peer in &peers {
                let needs: Vec<String> = peer
                    .setup
                    .secrets()
                    .into_iter()
                    .map(|need| {
                        let present = secrets.peer_secret(&peer.name, &need.key).is_some();
                        format!("{} {}", need.key, state(present))
                    })
                    .collect();
                let flows: Vec<String> = crate::peers::EntityKind::ALL
                    .into_iter()
                    .map(|kind| {
                        let flow = peer.sync.flow(kind);
                        let ways = match (flow.to_ghl, flow.to_peer) {
                            (true, true) => "both ways",
                            (true, false) => "→ GHL",
                            (false, true) => "→ peer",
                            (false, false) => "off",
                        };
                        format!("{}s {ways}", kind.as_str())
                    })
                    .collect();
                outln!(
                    "# {} (connector {}, account {}): secrets: {}; flows: {}",
                    peer.name,
                    peer.connector.name(),
                    peer.setup.account(),
                    if needs.is_empty() {
                        "none".into()
                    } else {
                        needs.join(", ")
                    },
                    flows.join(", ")
                )?;
            }
        }
    }
    Ok(())
}
