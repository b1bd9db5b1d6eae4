//! Turns config + secrets + command-line flags into client settings. Precedence, highest first:
//! flag, environment variable, secrets file / config file, built-in default.

use super::CliError;
use super::args::ConnectionArgs;
use crate::config::paths::Dirs;
use crate::config::secrets::{ENV_GHL_CLIENT_SECRET, ENV_GHL_TOKEN, Secrets};
use crate::config::{AuthKind, Config, ConfigError, Secret, config_path};
use crate::ghl::{AuthSettings, ClientSettings};
use std::path::Path;
use std::time::Duration;

pub const OAUTH_TOKEN_FILE_NAME: &str = "ghl-oauth-token.json";

/// The config, or the defaults when there is none at the default path (the GHL commands work
/// with flags and environment alone); a `--config` file that does not exist is a usage error.
pub fn config_or_default(
    explicit_config: Option<&Path>,
) -> Result<(std::path::PathBuf, Config), CliError> {
    let path = config_path(explicit_config)?;
    let config = match Config::load(&path)? {
        Some(config) => config,
        None if explicit_config.is_some() => {
            return Err(CliError::Usage(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        None => Config::default(),
    };
    Ok((path, config))
}

pub fn client_settings(
    explicit_config: Option<&Path>,
    flags: &ConnectionArgs,
) -> Result<ClientSettings, CliError> {
    let (path, config) = config_or_default(explicit_config)?;
    let base_url = flags
        .base_url
        .clone()
        .unwrap_or_else(|| config.ghl.base_url.clone());
    let location_id = flags
        .location
        .clone()
        .or_else(|| config.ghl.location_id.clone())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no GHL location id: pass --location, set GHLSYNC_GHL_LOCATION_ID, or set ghl.location_id in {}",
                path.display()
            ))
        })?;
    let auth = if let Some(token) = flags.token.as_deref().filter(|t| !t.trim().is_empty()) {
        AuthSettings::PrivateToken(Secret::new(token.trim()))
    } else {
        let secrets = Secrets::load(&path)?;
        auth_from_config(&config, &path, secrets)?
    };
    let mut settings = ClientSettings::new(base_url, location_id, auth);
    settings.timeout = Duration::from_secs(config.ghl.timeout_secs);
    Ok(settings)
}

fn auth_from_config(
    config: &Config,
    path: &Path,
    secrets: Secrets,
) -> Result<AuthSettings, CliError> {
    match config.ghl.auth {
        AuthKind::PrivateToken => secrets
            .ghl_token
            .map(AuthSettings::PrivateToken)
            .ok_or_else(|| {
                ConfigError::MissingSecret {
                    name: ENV_GHL_TOKEN.into(),
                    hint: format!(
                        "set {ENV_GHL_TOKEN}, pass --token, or put ghl_token in {} (mode 0600)",
                        crate::config::secrets::secrets_path(path).display()
                    ),
                }
                .into()
            }),
        AuthKind::Oauth => {
            let client_secret = secrets.ghl_client_secret.ok_or_else(|| {
                ConfigError::MissingSecret {
                    name: ENV_GHL_CLIENT_SECRET.into(),
                    hint: format!(
                        "set {ENV_GHL_CLIENT_SECRET} or put ghl_client_secret in {} (mode 0600)",
                        crate::config::secrets::secrets_path(path).display()
                    ),
                }
            })?;
            let token_file = match &config.ghl.token_file {
                Some(file) => file.clone(),
                None => Dirs::discover()?.state_dir.join(OAUTH_TOKEN_FILE_NAME),
            };
            Ok(AuthSettings::OAuth {
                // validate() guarantees client_id is present when auth = "oauth".
                client_id: config.ghl.client_id.clone().unwrap_or_default(),
                client_secret,
                token_file,
                user_type: "Location".into(),
            })
        }
    }
}
