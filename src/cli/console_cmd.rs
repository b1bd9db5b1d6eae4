//! `ghlsync console` (and `ghlsync` alone): hands over to the console.

use super::CliError;
use super::args::ConsoleArgs;
use crate::console::{ConsoleError, ConsoleOptions, run as run_console, runner::Exit};
use std::path::Path;

pub async fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    policy: super::engine_setup::BindingPolicy,
    args: ConsoleArgs,
) -> Result<(), CliError> {
    let options = ConsoleOptions {
        config: config.map(Path::to_path_buf),
        store: store.map(Path::to_path_buf),
        peer: args.peer,
        demo_peers: args.demo_peers,
        read_only: args.read_only,
        ephemeral: args.ephemeral,
        demo: args.demo,
        mouse: args.mouse,
        binding: policy,
    };
    match run_console(options).await {
        Ok(Exit::Quit | Exit::InputClosed) => Ok(()),
        // Killed by a signal: the terminal is restored; say so in the exit status.
        Ok(Exit::Signal) => Err(CliError::Usage("stopped by a signal".into())),
        // The engine's setup failed: its own error, with its own exit code (a store bound to
        // another location is a configuration error, 3, as it is for `sync`).
        Err(ConsoleError::Setup(err)) => Err(*err),
        Err(err) => Err(CliError::Usage(err.to_string())),
    }
}
