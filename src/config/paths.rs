//! XDG locations. `directories` honours `XDG_CONFIG_HOME`, `XDG_STATE_HOME`, `XDG_DATA_HOME` and
//! `XDG_RUNTIME_DIR`, which is also how tests point ghlsync at a temp dir.

use super::ConfigError;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    pub config_dir: PathBuf,
    pub state_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Dirs {
    pub fn discover() -> Result<Dirs, ConfigError> {
        let project =
            directories::ProjectDirs::from("", "", "ghlsync").ok_or(ConfigError::NoHome)?;
        let state_dir = project
            .state_dir()
            .map(PathBuf::from)
            .unwrap_or_else(|| project.data_local_dir().join("state"));
        Ok(Dirs {
            config_dir: project.config_dir().to_path_buf(),
            state_dir,
            data_dir: project.data_dir().to_path_buf(),
        })
    }

    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }
}
