//! Attaching a command to the running service (`ghlsync run`) of the config's instance, by its
//! control socket; `engine_setup::attach_or_start` falls back to the in-process engine.

use super::CliError;
use crate::config::Config;
use crate::engine::EngineHandle;
use std::path::{Path, PathBuf};

/// Whether a command runs against the service or in this process.
pub enum Attach {
    /// The service answered: its engine, its instance name, and who it is ("ghlsync run NAME
    /// (pid N)").
    Attached {
        engine: EngineHandle,
        instance: String,
        who: String,
    },
    Absent(NoService),
}

/// The service's socket did not answer: where it was looked for, and why not.
pub struct NoService {
    socket: Option<PathBuf>,
    instance: String,
    why: Option<String>,
}

impl NoService {
    /// A store another process holds while the socket is silent: say both, so nobody hunts
    /// for a lock when the service is what is stuck.
    pub fn explain(&self, err: CliError) -> CliError {
        match (err, &self.socket) {
            (CliError::Store(message), Some(socket)) if message.contains(" is in use by ") => {
                CliError::Store(format!(
                    "{message}. If that is the service (ghlsync run, instance {0}), its control socket {1} did not answer{2}: it may still be starting or be stuck (see its log, `systemctl status ghlsync@{0}`), or it serves another socket ([service] socket, XDG_RUNTIME_DIR)",
                    self.instance,
                    socket.display(),
                    self.why
                        .as_deref()
                        .map(|why| format!(" ({why})"))
                        .unwrap_or_default()
                ))
            }
            (other, _) => other,
        }
    }
}

/// Attaches to the config's instance when its socket answers, calls naming no peer going to
/// `only` (as an engine built for that peer would answer). `--store` names a store, not a
/// service: it runs in process.
pub async fn attach(
    config: &Config,
    store: Option<&Path>,
    only: Option<&str>,
) -> Result<Attach, CliError> {
    let instance = config.service.instance.clone();
    #[cfg(unix)]
    {
        use crate::engine::socket;
        let socket = socket::socket_path(config).map_err(|err| CliError::Classed {
            class: "config".into(),
            message: err.to_string(),
        })?;
        if store.is_some() {
            return Ok(Attach::Absent(NoService {
                socket: Some(socket),
                instance,
                why: None,
            }));
        }
        let why = match socket::attach_as(&socket, only).await {
            Ok((handle, info)) => {
                super::output::note(format_args!("attached to {info}"));
                return Ok(Attach::Attached {
                    engine: handle,
                    instance: info.instance.clone(),
                    who: info.to_string(),
                });
            }
            Err(socket::SocketError::NotRunning { .. }) => None,
            Err(err) => Some(err.to_string()),
        };
        Ok(Attach::Absent(NoService {
            socket: Some(socket),
            instance,
            why,
        }))
    }
    #[cfg(not(unix))]
    {
        let _ = (store, only);
        Ok(Attach::Absent(NoService {
            socket: None,
            instance,
            why: None,
        }))
    }
}
