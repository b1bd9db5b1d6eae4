//! The files a person writes: ghlsync.toml, secrets.toml, mapping files, connector files,
//! keymap.toml and the OAuth token file. Each corpus file is written where its loader looks and
//! loaded: an error naming the file and the line:col (or, for a file refused whole, the file and
//! why), with a next step. The keymap never fails: its problems are warnings, each naming the
//! file, and the built-in keymap stays in force.

use crate::{Failures, corpus, has_position};
use ghlsync::config::{Config, secrets::Secrets};
use ghlsync::console::keymap::Keymap;
use ghlsync::peers::rest::ConnectorFile;
use ghlsync::sync::mapping::Mapping;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Inputs too large to check in: one 10 MB line, a 200 KB value, 100,000 open brackets.
fn generated() -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "generated: a 10 MB value".into(),
            format!("name = \"{}\"\n", crate::huge(10 << 20, 'x')).into_bytes(),
        ),
        (
            "generated: a 200 KB value".into(),
            format!("name = \"{}\"\n", crate::huge(200 << 10, 'x')).into_bytes(),
        ),
        (
            "generated: 100,000 [".into(),
            format!("x = {}\n", "[".repeat(100_000)).into_bytes(),
        ),
        (
            "generated: 50,000 nested inline tables".into(),
            format!("x = {}1{}\n", "{a = ".repeat(50_000), "}".repeat(50_000)).into_bytes(),
        ),
    ]
}

fn inputs(parser: &str) -> Vec<(String, Vec<u8>)> {
    corpus(parser).into_iter().chain(generated()).collect()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The error names `path`, says what to do, and — unless the file was refused whole (too
/// large) — where in it.
fn check(failures: &mut Failures, what: &str, message: &str, path: &Path) {
    failures.names_place(what, message, &path.display().to_string());
    let whole = message.contains("larger than") || message.contains("at most");
    failures.check(whole || has_position(message), || {
        format!("{what}: no line:col in the error:\n{message}")
    });
}

#[test]
fn hostile_config_files_are_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ghlsync.toml");
    let mut failures = Failures::default();
    let mut checked = 0;
    for (name, bytes) in inputs("config_file") {
        write(&path, &bytes);
        match Config::load(&path) {
            Ok(config) => failures.check(false, || format!("{name}: accepted as {config:?}")),
            Err(err) => check(&mut failures, &name, &err.to_string(), &path),
        }
        checked += 1;
    }
    failures.finish(checked);
}

#[test]
fn hostile_secrets_files_are_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ghlsync.toml");
    let path = dir.path().join("secrets.toml");
    let mut failures = Failures::default();
    let mut checked = 0;
    for (name, bytes) in inputs("secrets_file") {
        write(&path, &bytes);
        match Secrets::load(&config) {
            Ok(_) => failures.check(false, || format!("{name}: accepted")),
            Err(err) => {
                let message = err.to_string();
                check(&mut failures, &name, &message, &path);
                failures.check(!message.contains("pit-"), || {
                    format!("{name}: a secret in the error: {message}")
                });
            }
        }
        checked += 1;
    }
    failures.finish(checked);
}

#[test]
fn hostile_mapping_files_are_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mapping.toml");
    let mut failures = Failures::default();
    let mut checked = 0;
    for (name, bytes) in inputs("mapping_file") {
        write(&path, &bytes);
        match Mapping::load(&path) {
            Ok(_) => failures.check(false, || format!("{name}: accepted")),
            Err(err) => check(&mut failures, &name, &err.to_string(), &path),
        }
        checked += 1;
    }
    failures.finish(checked);
}

#[test]
fn hostile_connector_files_are_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.toml");
    let mut failures = Failures::default();
    let mut checked = 0;
    for (name, bytes) in inputs("connector_file") {
        write(&path, &bytes);
        match ConnectorFile::load(&path) {
            Ok(_) => failures.check(false, || format!("{name}: accepted")),
            Err(err) => check(&mut failures, &name, &err.to_string(), &path),
        }
        checked += 1;
    }
    failures.finish(checked);
}

#[test]
fn hostile_keymap_files_leave_the_builtin_keymap_with_warnings_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keymap.toml");
    let (builtin, _) = Keymap::builtin();
    let mut failures = Failures::default();
    let mut checked = 0;
    for (name, bytes) in inputs("keymap_file") {
        write(&path, &bytes);
        let (keymap, warnings) = Keymap::load(Some(&path));
        failures.check(!warnings.is_empty(), || format!("{name}: no warning"));
        for warning in &warnings {
            check(&mut failures, &name, &warning.to_string(), &path);
        }
        failures.check(keymap == builtin, || format!("{name}: the keymap changed"));
        checked += 1;
    }
    failures.finish(checked);
}

#[test]
fn hostile_token_files_are_refused_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.json");
    let mut failures = Failures::default();
    let mut checked = 0;
    for (name, bytes) in corpus("token_file") {
        write(&path, &bytes);
        match ghlsync::ghl::auth::load_token_file(&path) {
            Ok(_) => failures.check(false, || format!("{name}: accepted")),
            Err(err) => check(&mut failures, &name, &err.to_string(), &path),
        }
        checked += 1;
    }
    failures.finish(checked);
}

/// `--config /dev/zero` (or a FIFO, or a dump of gigabytes): refused after the 1 MB limit, where
/// the loader used to read the whole file to find its longest line.
#[test]
fn an_endless_config_file_is_refused_at_its_limit() {
    let err = Config::load(Path::new("/dev/zero"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/dev/zero: the file is larger than 1.0 MB"),
        "{err}"
    );
    assert!(err.contains("point --config at the right file"), "{err}");
}
