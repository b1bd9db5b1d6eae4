//! `ghlsync console` (and `ghlsync` alone): hands over to the console.

use super::CliError;
use super::args::ConsoleArgs;
use crate::console::{ConsoleOptions, run as run_console, runner::Exit};
use std::path::Path;

pub async fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    args: ConsoleArgs,
) -> Result<(), CliError> {
    let options = ConsoleOptions {
        config: config.map(Path::to_path_buf),
        store: store.map(Path::to_path_buf),
        peer: if args.peer.is_empty() {
            "repsly".into()
        } else {
            args.peer
        },
        read_only: args.read_only,
        ephemeral: args.ephemeral,
        demo: args.demo,
        mouse: args.mouse,
    };
    match run_console(options).await {
        Ok(Exit::Quit | Exit::InputClosed) => Ok(()),
        // Killed by a signal: the terminal is restored; say so in the exit status.
        Ok(Exit::Signal) => Err(CliError::Usage("stopped by a signal".into())),
        Err(err) => Err(CliError::Usage(err.to_string())),
    }
}
