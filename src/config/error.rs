use std::path::PathBuf;

/// Everything that can be wrong with configuration, each saying where and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{path} is readable by group or others (mode {mode:o}); it holds secrets, so ghlsync refuses it. \
         Fix with: chmod 600 {path}"
    )]
    InsecureSecretsFile { path: PathBuf, mode: u32 },
    #[error("missing secret {name}: {hint}")]
    MissingSecret { name: String, hint: String },
    #[error("no home directory found to place ghlsync's files; set HOME or pass --config")]
    NoHome,
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A TOML error's message as ghlsync shows it: cut to 300 bytes (toml quotes a value of the wrong
/// type whole, and a value may be megabytes) and ended with what to do.
pub(crate) fn toml_problem(message: &str) -> String {
    let message = message.trim_end();
    let cut = (0..=message.len().min(300))
        .rev()
        .find(|at| message.is_char_boundary(*at))
        .unwrap_or(0);
    let ellipsis = if cut < message.len() { "…" } else { "" };
    format!("{}{ellipsis}{}", &message[..cut], toml_next_step(message))
}

/// What to do about a TOML error, by its kind: toml's own words say what is wrong at the
/// position, not what to do. Every file ghlsync reads as TOML ends its parse errors with this.
pub(crate) fn toml_next_step(message: &str) -> &'static str {
    if message.contains("duplicate key") {
        "; each key and [table] may appear once: remove or merge the second one"
    } else if message.contains("recursion limit") {
        "; remove the nesting: no ghlsync file needs more than a few levels of arrays or tables"
    } else if message.starts_with("invalid type")
        || message.starts_with("invalid value")
        || message.starts_with("invalid length")
    {
        "; fix the value: text in double quotes, numbers and true/false bare, lists in [ ]"
    } else if message.starts_with("missing field") {
        "; add it"
    } else if message.starts_with("unknown field") || message.starts_with("unknown variant") {
        "; fix the name (a typo?) or remove the line"
    } else {
        "; fix the TOML syntax there (text in double quotes, one key = value per line, [table] headers on their own line); is this the right file?"
    }
}

/// Converts a byte offset in `text` to a 1-based (line, column), counting columns in characters.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::line_column;

    #[test]
    fn line_column_is_one_based() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 9), (2, 3));
        assert_eq!(line_column(text, 999), (3, 1));
    }
}
