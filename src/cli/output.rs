//! Everything a command prints on stdout goes through here, so a reader that goes away
//! (`ghlsync failures list | head -1`) ends the command quietly with exit 0 instead of the
//! panic `println!` raises on a closed pipe, and a full disk is said in words.

use super::CliError;
use serde::Serialize;
use std::io::{IsTerminal, Write};

/// `outln!("…", args)`: `println!` that returns `Result<(), CliError>` (use `?`).
macro_rules! outln {
    () => {
        $crate::cli::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `out!("…", args)`: `print!` that returns `Result<(), CliError>`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!($($arg)*))
    };
}

/// Writes to stdout. A closed pipe becomes `CliError::ClosedPipe` (exit 0, nothing reported).
pub fn write_stdout(args: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_fmt(args)
        .map_err(|source| CliError::io("writing to stdout", source))
}

/// Flushes stdout (a closed pipe may show only here, for buffered output).
pub fn flush() -> Result<(), CliError> {
    std::io::stdout()
        .lock()
        .flush()
        .map_err(|source| CliError::io("writing to stdout", source))
}

/// Writes a line on stderr, ignoring a closed stderr (`eprintln!` would panic).
pub fn note(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{args}");
}

/// Prints `value` as JSON on stdout: pretty for a person at a terminal, compact for pipes and
/// for `--json`, so `| jq` and scripts get one line per response.
pub fn print_json<T: Serialize>(value: &T, compact: bool) -> Result<(), CliError> {
    let pretty = !compact && std::io::stdout().is_terminal();
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .map_err(|err| CliError::Usage(format!("cannot print the response as JSON: {err}")))?;
    outln!("{text}")
}
