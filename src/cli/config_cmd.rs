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
            // A mapping file the config names must exist and parse for its peer: found here,
            // not at the first sync.
            if config
                .peers
                .repsly
                .as_ref()
                .is_some_and(|p| p.mapping.is_some())
            {
                super::engine_setup::mapping_for("repsly", &config, None)?;
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
        }
    }
    Ok(())
}
