use serde::Serialize;
use std::io::{IsTerminal, Write};

/// Prints `value` as JSON on stdout: pretty for a person at a terminal, compact for pipes and
/// for `--json`, so `| jq` and scripts get one line per response.
pub fn print_json<T: Serialize>(value: &T, compact: bool) -> Result<(), super::CliError> {
    let pretty = !compact && std::io::stdout().is_terminal();
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .map_err(|err| super::CliError::Usage(format!("cannot print the response as JSON: {err}")))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}").map_err(|source| super::CliError::Io {
        context: "writing to stdout".into(),
        source,
    })
}
