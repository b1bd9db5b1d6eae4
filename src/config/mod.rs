//! Configuration: `ghlsync.toml` (no secrets in it) plus secrets from the environment or a 0600
//! secrets file. Every problem is reported with the file, line and column and what would be valid.

mod error;
mod file;
mod limits;
pub mod paths;
mod peers;
mod secret;
pub mod secrets;
pub mod service;

pub use error::ConfigError;
pub(crate) use error::{line_column, toml_next_step, toml_problem};
pub use file::{AuthKind, Config, ConsoleSection, GhlSection, PeerSection, StoreSection};
pub use peers::{ConfiguredPeer, configured_peers, rehearsal_peers, write_rehearsal_files};
pub use secret::Secret;

use std::path::{Path, PathBuf};

/// Where the config comes from: `--config PATH`, else `ghlsync.toml` in the XDG config dir.
pub fn config_path(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
    match explicit {
        Some(path) => Ok(path.to_path_buf()),
        None => Ok(paths::Dirs::discover()?
            .config_dir
            .join(file::CONFIG_FILE_NAME)),
    }
}
