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

/// The top page, or `subcommand`'s own (titled ghlsync-SUBCOMMAND, as the top page's SEE ALSO
/// names it).
pub fn man(subcommand: Option<&str>) -> Result<(), CliError> {
    let top = Cli::command();
    let man = match subcommand {
        None => clap_mangen::Man::new(top),
        Some(name) => {
            let Some(sub) = top.find_subcommand(name) else {
                let names: Vec<&str> = top
                    .get_subcommands()
                    .map(|sub| sub.get_name())
                    .filter(|sub| *sub != "help")
                    .collect();
                return Err(CliError::Usage(format!(
                    "no subcommand {name:?}; pages exist for: {}",
                    names.join(", ")
                )));
            };
            clap_mangen::Man::new(sub.clone()).title(format!("ghlsync-{name}"))
        }
    };
    let mut page = Vec::new();
    man.render(&mut page)
        .map_err(|source| CliError::io("rendering the manual page", source))?;
    out!("{}", String::from_utf8_lossy(&page))
}
