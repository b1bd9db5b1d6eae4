//! Secrets come from the environment or from `secrets.toml` beside the config. The file must not
//! be readable by group or others; ghlsync refuses it otherwise rather than warn, because a warning
//! in a service log is never read.

use super::{ConfigError, Secret};
use crate::peers::registry;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const SECRETS_FILE_NAME: &str = "secrets.toml";
pub const ENV_GHL_TOKEN: &str = "GHLSYNC_GHL_TOKEN";
pub const ENV_GHL_CLIENT_SECRET: &str = "GHLSYNC_GHL_CLIENT_SECRET";
pub const ENV_ALERTS_WEBHOOK_URL: &str = "GHLSYNC_ALERTS_WEBHOOK_URL";

/// Every secret ghlsync reads. A peer's secrets are named by the peer: secret `password` of
/// `[peers.repsly]` is `GHLSYNC_REPSLY_PASSWORD` or `repsly_password` in the file
/// (`peers::registry::{secret_env_var, secret_file_key}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Secrets {
    /// GHL Private Integration Token or a direct access token.
    pub ghl_token: Option<Secret>,
    /// GHL OAuth app client secret.
    pub ghl_client_secret: Option<Secret>,
    /// Where `ghlsync run` posts alerts (a Slack-compatible incoming webhook: its URL is the
    /// credential).
    pub alerts_webhook_url: Option<Secret>,
    /// The peers' secrets from the file, by file key (`<peer>_<key>`); the environment is read
    /// when one is asked for (`peer_secret`).
    pub peers: BTreeMap<String, Secret>,
}

impl Secrets {
    /// The secrets file beside `config_path`, then the environment on top (env wins, so an
    /// operator can override one value without editing a file).
    pub fn load(config_path: &Path) -> Result<Secrets, ConfigError> {
        let file = secrets_path(config_path);
        let mut secrets = Secrets::from_file(&file)?.unwrap_or_default();
        if let Some(token) = non_empty_env(ENV_GHL_TOKEN) {
            secrets.ghl_token = Some(token);
        }
        if let Some(secret) = non_empty_env(ENV_GHL_CLIENT_SECRET) {
            secrets.ghl_client_secret = Some(secret);
        }
        if let Some(url) = non_empty_env(ENV_ALERTS_WEBHOOK_URL) {
            secrets.alerts_webhook_url = Some(url);
        }
        Ok(secrets)
    }

    /// Secret `key` of peer `peer`: its environment variable, else its key in the file.
    pub fn peer_secret(&self, peer: &str, key: &str) -> Option<Secret> {
        non_empty_env(&registry::secret_env_var(peer, key)).or_else(|| {
            self.peers
                .get(&registry::secret_file_key(peer, key))
                .cloned()
        })
    }

    /// Every secret `needs` names for peer `peer`, by key, as `PeerSetup::build` takes them; a
    /// missing one is an error naming its environment variable and its key in `file`.
    pub fn peer_secrets(
        &self,
        peer: &str,
        needs: Vec<registry::SecretNeed>,
        file: &Path,
    ) -> Result<registry::PeerSecrets, ConfigError> {
        let mut found = registry::PeerSecrets::new();
        for need in needs {
            let value = self.peer_secret(peer, &need.key).ok_or_else(|| {
                let env = registry::secret_env_var(peer, &need.key);
                ConfigError::MissingSecret {
                    name: env.clone(),
                    hint: format!(
                        "{}: set {env} or put {} in {} (mode 0600)",
                        need.what,
                        registry::secret_file_key(peer, &need.key),
                        file.display()
                    ),
                }
            })?;
            found.insert(need.key, value);
        }
        Ok(found)
    }

    /// Sets secret `key` of peer `peer` (for `--write-config` and tests).
    pub fn set_peer_secret(&mut self, peer: &str, key: &str, value: Secret) {
        self.peers
            .insert(registry::secret_file_key(peer, key), value);
    }

    /// Refuses file keys no configured peer asks for: a misspelt key would leave its peer
    /// without the secret and the error would point at the wrong thing. `known` lists the
    /// peers' file keys (`<peer>_<key>`).
    pub fn check_peer_keys(&self, known: &[String], path: &Path) -> Result<(), ConfigError> {
        match self.peers.keys().find(|key| !known.contains(key)) {
            None => Ok(()),
            Some(key) => {
                let mut valid: Vec<&str> = SECRET_KEYS.to_vec();
                valid.extend(known.iter().map(String::as_str));
                Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    message: format!(
                        "unknown key `{key}`: no configured peer uses it (fix the name, or remove the line); this config's secrets are {}",
                        valid.join(", ")
                    ),
                })
            }
        }
    }

    pub fn from_file(path: &Path) -> Result<Option<Secrets>, ConfigError> {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        check_private(path, &metadata)?;
        let text = super::limits::read_capped(path, super::limits::MAX_CONFIG_BYTES).map_err(
            |source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            },
        )??;
        super::limits::check_values(&text, path)?;
        let table: BTreeMap<String, Secret> = toml::from_str(&text).map_err(|err| {
            let (line, column) = err
                .span()
                .map_or((1, 1), |span| super::error::line_column(&text, span.start));
            // toml quotes the offending value in some messages: keep only the message head so
            // a mistyped secret is never echoed.
            let head = err.message().lines().next().unwrap_or_default().to_string();
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: format!("{}{}", redact_quoted(&head), super::toml_next_step(&head)),
            }
        })?;
        let mut secrets = Secrets::default();
        for (key, value) in table {
            match key.as_str() {
                "ghl_token" => secrets.ghl_token = Some(value),
                "ghl_client_secret" => secrets.ghl_client_secret = Some(value),
                "alerts_webhook_url" => secrets.alerts_webhook_url = Some(value),
                // A key is no secret: naming it, with the valid ones, is safe.
                _ if key.starts_with("ghl_") || !key.contains('_') => {
                    let (line, column) = text
                        .find(key.as_str())
                        .map_or((1, 1), |at| super::error::line_column(&text, at));
                    return Err(ConfigError::Parse {
                        path: path.to_path_buf(),
                        line,
                        column,
                        message: format!(
                            "unknown key `{key}`: fix the name, or remove the line; secrets.toml holds {} and each peer's secrets as <peer>_<secret> (e.g. repsly_password)",
                            SECRET_KEYS.join(", ")
                        ),
                    });
                }
                _ => {
                    secrets.peers.insert(key, value);
                }
            }
        }
        Ok(Some(secrets))
    }

    /// Writes a secrets file readable only by its owner (0600 from creation, not chmod after).
    pub fn write(&self, path: &Path) -> Result<(), ConfigError> {
        let mut text = String::new();
        if let Some(token) = &self.ghl_token {
            text.push_str(&format!(
                "ghl_token = {}\n",
                registry::toml_string(token.expose())
            ));
        }
        if let Some(secret) = &self.ghl_client_secret {
            text.push_str(&format!(
                "ghl_client_secret = {}\n",
                registry::toml_string(secret.expose())
            ));
        }
        if let Some(url) = &self.alerts_webhook_url {
            text.push_str(&format!(
                "alerts_webhook_url = {}\n",
                registry::toml_string(url.expose())
            ));
        }
        for (key, secret) in &self.peers {
            // A bare key when TOML allows one (peer names are), quoted otherwise.
            let bare = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let key = if bare {
                key.clone()
            } else {
                registry::toml_string(key)
            };
            text.push_str(&format!(
                "{key} = {}\n",
                registry::toml_string(secret.expose())
            ));
        }
        write_private_file(path, text.as_bytes())
    }
}

pub fn secrets_path(config_path: &Path) -> PathBuf {
    config_path.parent().map_or_else(
        || PathBuf::from(SECRETS_FILE_NAME),
        |dir| dir.join(SECRETS_FILE_NAME),
    )
}

/// The GHL keys a secrets file may hold (beside the peers' `<peer>_<key>`).
pub const SECRET_KEYS: [&str; 3] = ["ghl_token", "ghl_client_secret", "alerts_webhook_url"];

fn non_empty_env(name: &str) -> Option<Secret> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
        .map(|value| Secret::new(value.trim()))
}

fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for ch in message.chars() {
        if ch == '`' || ch == '"' {
            inside = !inside;
            out.push(ch);
            if inside {
                out.push('…');
            }
        } else if !inside {
            out.push(ch);
        }
    }
    out
}

fn check_private(path: &Path, metadata: &std::fs::Metadata) -> Result<(), ConfigError> {
    match crate::private_file::loose_mode(metadata) {
        Some(mode) => Err(ConfigError::InsecureSecretsFile {
            path: path.to_path_buf(),
            mode,
        }),
        None => Ok(()),
    }
}

/// Creates or replaces a secrets-holding file, owner-only from the first byte.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), ConfigError> {
    crate::private_file::write_atomic(path, contents).map_err(|source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn group_readable_file_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SECRETS_FILE_NAME);
        std::fs::write(&path, "ghl_token = \"pit-abc\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = Secrets::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        assert!(!err.contains("pit-abc"), "{err}");
    }

    #[test]
    fn written_file_is_owner_only_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(SECRETS_FILE_NAME);
        let mut secrets = Secrets {
            ghl_token: Some(Secret::new("pit-\"quoted\"")),
            ..Secrets::default()
        };
        secrets.set_peer_secret("repsly", "password", Secret::new("r-pass"));
        secrets.write(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(Secrets::from_file(&path).unwrap(), Some(secrets));
    }

    #[test]
    fn an_unknown_key_names_the_valid_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SECRETS_FILE_NAME);
        write_private_file(&path, b"ghl_tokn = \"pit-leaky\"\n").unwrap();
        let err = Secrets::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("unknown key `ghl_tokn`"), "{err}");
        assert!(err.contains("ghl_token, ghl_client_secret"), "{err}");
        assert!(!err.contains("pit-leaky"), "{err}");
        let secrets = Secrets {
            peers: [("repsly_pasword".to_string(), Secret::new("x"))].into(),
            ..Secrets::default()
        };
        let err = secrets
            .check_peer_keys(&["repsly_password".into()], &path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`repsly_pasword`") && err.contains("repsly_password"),
            "{err}"
        );
        write_private_file(&path, b"ghl_token = \"\"\n").unwrap();
        let err = Secrets::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("`ghl_token` is empty"), "{err}");
    }

    #[test]
    fn parse_error_does_not_echo_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SECRETS_FILE_NAME);
        write_private_file(&path, b"ghl_tokn = \"pit-leaky\"\n").unwrap();
        let err = Secrets::from_file(&path).unwrap_err().to_string();
        assert!(err.contains(":1:1:"), "{err}");
        assert!(!err.contains("pit-leaky"), "{err}");
    }
}
