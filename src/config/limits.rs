//! Size and emptiness limits of config and secrets files. A config is a few KB: a file of
//! megabytes is a mistake (a log or a dump written to the wrong path), and an empty value is
//! never what a person meant. Both are refused naming the key, never echoing the value (a
//! secrets file's values are secrets).

use super::ConfigError;
use std::path::Path;

/// `ghlsync.toml` and `secrets.toml` are refused above this size.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// One value (a URL, an id, a token, a path) is refused above this length.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

/// Reads a file of at most `cap` bytes. A larger one is refused naming the line and key that
/// make it so (the longest line of its first `cap` bytes), without reading more than that: a
/// wrong path (`/dev/zero`, a FIFO, a dump of gigabytes) costs `cap` bytes, never the machine.
/// Text that is not UTF-8 is refused naming the line and column of its first invalid byte.
pub(super) fn read_capped(path: &Path, cap: u64) -> std::io::Result<Result<String, ConfigError>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 <= cap {
        return Ok(
            crate::bounded_file::utf8_text(bytes).map_err(|err| ConfigError::Invalid {
                path: path.to_path_buf(),
                message: err.to_string(),
            }),
        );
    }
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    let lines = bytes.split(|b| *b == b'\n').count();
    let (index, longest) = bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .max_by_key(|(_, line)| line.len())
        .unwrap_or((0, &[][..]));
    let key = key_of(&String::from_utf8_lossy(&longest[..longest.len().min(200)]));
    Ok(Err(ConfigError::Invalid {
        path: path.to_path_buf(),
        message: format!(
            "the file is {} (at most {} is read); line {} ({}) is {}{} long. A config is a few KB: fix that value, or point --config at the right file",
            if len > cap {
                size(len)
            } else {
                format!("larger than {}", size(cap))
            },
            size(cap),
            index + 1,
            key.map_or("not a key = value line".to_string(), |k| format!(
                "the value of `{k}`"
            )),
            // The last line read runs on past the limit.
            if index + 1 == lines { "at least " } else { "" },
            size(longest.len() as u64)
        ),
    }))
}

/// Refuses empty and over-long string values, naming their dotted key.
pub(super) fn check_values(text: &str, path: &Path) -> Result<(), ConfigError> {
    // A text that is not TOML is reported by the typed parse, with its line and column.
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let mut problem = None;
    walk(&toml::Value::Table(table), String::new(), &mut problem);
    match problem {
        None => Ok(()),
        Some((key, message)) => Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            message: match line_of(text, &key) {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            },
        }),
    }
}

/// The 1-based line where `key`'s last part is set (`name = …`), for the error's place. The
/// parsed table keeps no positions; the first such line is the one a person looks at.
fn line_of(text: &str, key: &str) -> Option<usize> {
    let name = key.rsplit('.').next()?.split('[').next()?;
    text.lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|index| index + 1)
}

fn walk(value: &toml::Value, key: String, problem: &mut Option<(String, String)>) {
    if problem.is_some() {
        return;
    }
    match value {
        toml::Value::String(text) if text.trim().is_empty() => {
            *problem = Some((
                key.clone(),
                format!(
                    "`{key}` is empty; give it a value, or remove the line if the setting is optional (README, Configuration, says which are)"
                ),
            ));
        }
        toml::Value::String(text) if text.len() > MAX_VALUE_BYTES => {
            *problem = Some((
                key.clone(),
                format!(
                    "`{key}` is {} long (at most {}); it is not a value ghlsync can use — check what was pasted there",
                    size(text.len() as u64),
                    size(MAX_VALUE_BYTES as u64)
                ),
            ));
        }
        toml::Value::Table(table) => {
            for (name, inner) in table {
                let dotted = if key.is_empty() {
                    name.clone()
                } else {
                    format!("{key}.{name}")
                };
                walk(inner, dotted, problem);
            }
        }
        toml::Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                walk(inner, format!("{key}[{index}]"), problem);
            }
        }
        _ => {}
    }
}

/// `key` of a `key = value` line, if the line has that shape and a plausible key.
fn key_of(line: &str) -> Option<String> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()
        && key.len() <= 80
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.\"".contains(c)))
    .then(|| key.to_string())
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_huge_values_name_their_key() {
        let path = Path::new("/etc/ghlsync.toml");
        let err = check_values("[ghl]\nlocation_id = \"\"\n", path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`ghl.location_id` is empty"), "{err}");
        let huge = format!(
            "[ghl]\nbase_url = \"{}\"\n",
            "x".repeat(MAX_VALUE_BYTES + 1)
        );
        let err = check_values(&huge, path).unwrap_err().to_string();
        assert!(err.contains("`ghl.base_url` is 16 KB long"), "{err}");
        assert!(check_values("[ghl]\nlocation_id = \"abc\"\n", path).is_ok());
    }

    #[test]
    fn an_endless_or_binary_file_is_refused_after_reading_at_most_the_limit() {
        // /dev/zero has no length and no end: refused after `cap` bytes, not read forever.
        let err = read_capped(Path::new("/dev/zero"), 4096)
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(err.contains("larger than 4 KB"), "{err}");
        assert!(
            err.contains("line 1 (not a key = value line) is at least 4 KB"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ghlsync.toml");
        std::fs::write(&path, b"[ghl]\nbase_url = \"\xc3\x28\"\n").unwrap();
        let err = read_capped(&path, 4096).unwrap().unwrap_err().to_string();
        assert!(err.contains("line 2, column 13"), "{err}");
    }
}
