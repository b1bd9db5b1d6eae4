//! Command dispatch. Each subcommand family has its own module; this file only routes and maps
//! failures to exit codes, so scripts can tell an auth problem from a missing record.

#[macro_use]
mod output;
pub mod args;
pub mod attach;
mod auth_cmd;
mod config_cmd;
mod connection;
mod connector_cmd;
mod console_cmd;
mod doctor;
mod doctor_cmd;
pub mod engine_setup;
mod error;
mod failures_cmd;
mod ghl_cmd;
mod help_cmd;
mod keymap_cmd;
mod log_cmd;
mod mapping_cmd;
mod progress;
mod run_cmd;
mod sandbox_cmd;
mod status_cmd;
mod store_cmd;
mod sync_cmd;

pub use args::Cli;
pub use error::{CliError, exit_code_for_class};

use args::Command;

/// Runs a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let policy = if cli.rebind_store {
        engine_setup::BindingPolicy::Rebind
    } else {
        engine_setup::BindingPolicy::Refuse
    };
    let json = cli.command.as_ref().is_some_and(Command::wants_json);
    // The console's flags work without its name (`ghlsync --read-only`); before another
    // subcommand they would be ignored, so they are refused.
    if cli.console.any() && !matches!(cli.command, None | Some(Command::Console(_))) {
        let err = CliError::Usage(
            "--read-only, --demo, --ephemeral and --mouse are the console's flags; give them without a subcommand (`ghlsync --read-only`) or after `console`".into(),
        );
        err.report();
        return err.exit_code();
    }
    let result = match cli.command {
        Some(Command::Ghl(args)) => ghl_cmd::run(cli.config.as_deref(), args).await,
        Some(Command::Sandbox(args)) => sandbox_cmd::run(args).await,
        Some(Command::Config(command)) => config_cmd::run(cli.config.as_deref(), command),
        Some(Command::Sync(args)) => {
            sync_cmd::run(cli.config.as_deref(), cli.store.as_deref(), policy, args).await
        }
        Some(Command::Failures(command)) => {
            failures_cmd::run(cli.config.as_deref(), cli.store.as_deref(), policy, command).await
        }
        Some(Command::Log(args)) => {
            log_cmd::run(cli.config.as_deref(), cli.store.as_deref(), args).await
        }
        Some(Command::Status(args)) => {
            status_cmd::run(cli.config.as_deref(), cli.store.as_deref(), policy, args).await
        }
        Some(Command::Mapping(command)) => {
            mapping_cmd::run(cli.config.as_deref(), cli.store.as_deref(), command).await
        }
        Some(Command::Connector(command)) => {
            connector_cmd::run(cli.config.as_deref(), command).await
        }
        Some(Command::Store(command)) => {
            store_cmd::run(cli.config.as_deref(), cli.store.as_deref(), command)
        }
        Some(Command::Keymap(command)) => keymap_cmd::run(command),
        Some(Command::Completions { shell }) => help_cmd::completions(shell),
        Some(Command::Man { subcommand }) => help_cmd::man(subcommand.as_deref()),
        Some(Command::Run(args)) => {
            run_cmd::run(
                cli.config.as_deref(),
                cli.store.as_deref(),
                policy,
                cli.log_level.as_deref(),
                args,
            )
            .await
        }
        Some(Command::Console(args)) => {
            let args = cli.console.merged(args);
            console_cmd::run(cli.config.as_deref(), cli.store.as_deref(), policy, args).await
        }
        Some(Command::Auth(command)) => auth_cmd::run(cli.config.as_deref(), command).await,
        // The console is the default, so a fresh checkout shows something real with one
        // command (demo mode when there is no configuration); its flags work without the
        // subcommand's name (`ghlsync --read-only`).
        None => {
            console_cmd::run(
                cli.config.as_deref(),
                cli.store.as_deref(),
                policy,
                cli.console,
            )
            .await
        }
        Some(Command::Doctor(args)) => {
            doctor_cmd::run(cli.config.as_deref(), cli.store.as_deref(), args).await
        }
    };
    // Whatever was printed is flushed before the exit code is decided: a reader that went away
    // shows only here when output was buffered.
    let result = result.and_then(|()| output::flush());
    match result {
        Ok(()) => 0,
        Err(err) => {
            if json {
                err.report_json();
            } else {
                err.report();
            }
            err.exit_code()
        }
    }
}
