//! `ghlsync keymap check [FILE]|default`.

use super::CliError;
use super::args::KeymapCommand;
use crate::config::ConfigError;
use crate::config::paths::Dirs;
use crate::console::keymap::{self, DEFAULT_KEYMAP, KeymapWarning};
use std::path::{Path, PathBuf};

pub fn run(command: KeymapCommand) -> Result<(), CliError> {
    match command {
        KeymapCommand::Default => {
            out!("{DEFAULT_KEYMAP}")?;
            Ok(())
        }
        KeymapCommand::Check { file } => {
            let path = match file {
                Some(path) => path,
                None => {
                    let path = keymap::user_keymap_path(&Dirs::discover()?);
                    if !path.exists() {
                        // Nothing to check: the console runs on the built-in default.
                        outln!(
                            "no user keymap at {}; the built-in default is in use",
                            path.display()
                        )?;
                        outln!("keymap OK")?;
                        return Ok(());
                    }
                    path
                }
            };
            let warnings = keymap::check(&path);
            out!("{}", report(&warnings))?;
            verdict(&path, &warnings)
        }
    }
}

/// What `check` prints on stdout: "keymap OK" or one warning a line.
fn report(warnings: &[KeymapWarning]) -> String {
    if warnings.is_empty() {
        return "keymap OK\n".to_string();
    }
    warnings.iter().map(|w| format!("{w}\n")).collect()
}

/// Warnings make the check fail with the config exit code (3).
fn verdict(path: &Path, warnings: &[KeymapWarning]) -> Result<(), CliError> {
    if warnings.is_empty() {
        return Ok(());
    }
    Err(CliError::Config(ConfigError::Invalid {
        path: PathBuf::from(path),
        message: format!("{} keymap warning(s) (listed above)", warnings.len()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_reports_ok_or_each_warning_with_exit_code_3() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keymap.toml");
        std::fs::write(
            &path,
            "[global]\nprepend_keymap = [ { on = \"Q\", run = \"quit\" } ]\n",
        )
        .unwrap();
        let warnings = keymap::check(&path);
        assert_eq!(report(&warnings), "keymap OK\n");
        assert!(verdict(&path, &warnings).is_ok());

        std::fs::write(
            &path,
            "[global]\nprepend_keymap = [ { on = \"Q\", run = \"exit\" } ]\n",
        )
        .unwrap();
        let warnings = keymap::check(&path);
        let out = report(&warnings);
        assert!(
            out.starts_with(&format!("{}:2:38: unknown action \"exit\"", path.display())),
            "{out}"
        );
        let err = verdict(&path, &warnings).unwrap_err();
        assert_eq!(err.exit_code(), 3);
    }
}
