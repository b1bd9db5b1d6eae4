//! `ghlsync store restore FILE`: a backup is a file a person names, so it is outside input too.
//! Each hostile backup is refused naming `file:line`, with nothing restored; a file without line
//! breaks is refused after one bounded line, not read into memory whole.

use crate::{Failures, corpus};
use ghlsync::store::{Store, TrailerCheck};

fn check_refused(failures: &mut Failures, name: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join(name.replace([' ', ':', ','], "_"));
    std::fs::write(&backup, bytes).unwrap();
    let target = dir.path().join("restored");
    for check in [TrailerCheck::Required, TrailerCheck::IfPresent] {
        let what = format!("{name} ({check:?})");
        let err = match Store::restore(&backup, &target, check) {
            Ok(restored) => {
                failures.check(false, || {
                    format!("{what}: restored {} records", restored.records)
                });
                continue;
            }
            Err(err) => err.to_string(),
        };
        failures.names_place(&what, &err, &backup.display().to_string());
        let after = &err[err
            .find(&backup.display().to_string())
            .map_or(0, |at| at + backup.display().to_string().len())..];
        let line = after
            .strip_prefix(':')
            .and_then(|rest| rest.split(':').next())
            .map(str::parse::<u64>);
        let whole = after.contains(" line ");
        failures.check(matches!(line, Some(Ok(_))) || whole, || {
            format!("{what}: no line in {err}")
        });
        failures.check(!target.join("db").exists(), || {
            format!("{what}: a store was left behind")
        });
    }
}

#[test]
fn hostile_backups_are_refused_naming_file_and_line() {
    let (mut checked, mut failures) = (0, Failures::default());
    for (name, bytes) in corpus("store_backup") {
        check_refused(&mut failures, &name, &bytes);
        checked += 1;
    }
    failures.finish(checked);
}

#[test]
fn a_backup_without_line_breaks_is_refused_after_one_bounded_line() {
    let mut failures = Failures::default();
    check_refused(
        &mut failures,
        "generated: 20 MB without a line break",
        &vec![b'x'; 20 << 20],
    );
    failures.finish(1);
}
