use super::CliError;
use super::args::ConfigCommand;
use crate::config::secrets::{Secrets, secrets_path};
use crate::config::{Config, config_path};
use std::path::Path;

pub fn run(explicit: Option<&Path>, command: ConfigCommand) -> Result<(), CliError> {
    let path = config_path(explicit)?;
    match command {
        ConfigCommand::Path => {
            println!("config:  {}", path.display());
            println!("secrets: {}", secrets_path(&path).display());
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
            println!("# {} is valid", path.display());
            print!("{}", config.to_toml());
            let state = |present: bool| if present { "set" } else { "not set" };
            println!("\n# secrets (values never shown)");
            println!("# ghl_token: {}", state(secrets.ghl_token.is_some()));
            println!(
                "# ghl_client_secret: {}",
                state(secrets.ghl_client_secret.is_some())
            );
        }
    }
    Ok(())
}
