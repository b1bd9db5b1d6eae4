//! Where an instance's control socket lives, and which instances this host has.
//!
//! `$XDG_RUNTIME_DIR/ghlsync/<instance>.sock` (a tmpfs the login session owns), else the XDG
//! state dir's `run/<instance>.sock`; `[service] socket` overrides both for its instance.

use super::SocketError;
use crate::config::Config;
use crate::config::paths::Dirs;
use std::path::{Path, PathBuf};

/// The folder every instance's default socket is in.
pub fn socket_dir() -> Result<PathBuf, SocketError> {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|dir| !dir.is_empty()) {
        Some(runtime) => Ok(PathBuf::from(runtime).join("ghlsync")),
        None => Ok(Dirs::discover()?.state_dir.join("run")),
    }
}

/// `<socket_dir>/<instance>.sock`.
pub fn default_path(instance: &str) -> Result<PathBuf, SocketError> {
    check_instance(instance)?;
    Ok(socket_dir()?.join(format!("{instance}.sock")))
}

/// The socket of the config's instance: `[service] socket`, else the default for its name.
pub fn socket_path(config: &Config) -> Result<PathBuf, SocketError> {
    match &config.service.socket {
        Some(path) => Ok(path.clone()),
        None => default_path(&config.service.instance),
    }
}

/// An instance name becomes a file name: no separators, no hidden files, nothing long.
pub fn check_instance(name: &str) -> Result<(), SocketError> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fine {
        Ok(())
    } else {
        Err(SocketError::BadInstance {
            name: name.to_string(),
        })
    }
}

/// One instance found by its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The socket's file name less `.sock` (the instance's name when it has the default path).
    pub name: String,
    pub path: PathBuf,
    /// Something accepts connections on it; a stale socket (a service that died) does not.
    pub alive: bool,
}

/// The instances with a socket in the default folder, by name; none when the folder is absent.
pub async fn list_instances() -> Result<Vec<Instance>, SocketError> {
    list_in(&socket_dir()?).await
}

/// The instances with a socket in `dir`, by name.
pub async fn list_in(dir: &Path) -> Result<Vec<Instance>, SocketError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(SocketError::io("reading the socket folder", dir, err)),
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".sock"))
        else {
            continue;
        };
        let alive = tokio::net::UnixStream::connect(&path).await.is_ok();
        found.push(Instance {
            name: name.to_string(),
            path,
            alive,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn instance_names_stay_file_names() {
        for good in ["acme", "loc-1", "A_b.c"] {
            assert!(check_instance(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "a b", &"x".repeat(65)] {
            let err = check_instance(bad).unwrap_err().to_string();
            assert!(err.contains("letters, digits"), "{bad}: {err}");
        }
    }
}
