//! `ghlsync run`: sets up the service's logging from its config, builds the engine of every
//! configured peer (with a reloader for SIGHUP) and hands it to `service::serve`.

use super::CliError;
use super::args::{LogFormatArg, LogTo, RunArgs};
use super::engine_setup::{self, BindingPolicy};
use crate::config::paths::Dirs;
use crate::config::secrets::Secrets;
use crate::config::service::{LogFormat, LogTarget};
use crate::logging::{self, Format, Output};
use crate::service::{self, Ended, ServiceOptions, alerts::Sinks};
use std::path::Path;

pub async fn run(
    explicit_config: Option<&Path>,
    store: Option<&Path>,
    policy: BindingPolicy,
    log_level: Option<&str>,
    args: RunArgs,
) -> Result<(), CliError> {
    let (config_path, config) = engine_setup::load_config(explicit_config)?;
    let output = match args.log_to {
        Some(LogTo::File) => Output::File,
        Some(LogTo::Stderr) => Output::Stderr,
        None => match config.service.log_to {
            LogTarget::File => Output::File,
            LogTarget::Stderr => Output::Stderr,
        },
    };
    let format = match args.log_format {
        Some(LogFormatArg::Json) => Format::Json,
        Some(LogFormatArg::Text) => Format::Text,
        None => match config.service.log_format {
            LogFormat::Json => Format::Json,
            LogFormat::Text => Format::Text,
        },
    };
    let log_dir = Dirs::discover()?.log_dir();
    // Held until the service has stopped, so its last lines are written.
    let _log_guard = logging::init_with(&log_dir, log_level, output, format).map_err(|err| {
        CliError::Classed {
            class: "config".into(),
            message: err.to_string(),
        }
    })?;
    let secrets = Secrets::load(&config_path)?;
    let (handle, peers) = engine_setup::service_engine(&config_path, &config, store, policy)?;
    let sinks = Sinks {
        webhook_url: secrets.alerts_webhook_url,
        command: config.service.alerts.command.clone(),
    };
    let options = ServiceOptions {
        config_path,
        config,
        peers,
        sinks,
    };
    match service::serve(handle, options).await {
        Ok(Ended::Drained | Ended::DrainTimedOut) => Ok(()),
        Err(service::ServiceError::Config(message)) => Err(CliError::Classed {
            class: "config".into(),
            message,
        }),
        Err(err) => Err(CliError::Classed {
            class: "config".into(),
            message: err.to_string(),
        }),
    }
}
