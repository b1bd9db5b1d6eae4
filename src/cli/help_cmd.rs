//! `ghlsync completions SHELL` and `ghlsync man`: generated from the clap definitions, so they
//! never fall behind the flags.

use super::CliError;
use super::args::Cli;
use clap::CommandFactory;

pub fn completions(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ghlsync", &mut script);
    out!("{}", String::from_utf8_lossy(&script))
}

pub fn man() -> Result<(), CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|source| CliError::io("rendering the manual page", source))?;
    out!("{}", String::from_utf8_lossy(&page))
}
