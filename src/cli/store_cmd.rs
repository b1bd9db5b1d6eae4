//! `ghlsync store backup|restore|verify|export`.

use super::CliError;
use super::args::StoreCommand;
use super::engine_setup;
use super::output::print_json;
use crate::store::{Finding, Store, StoreError, TrailerCheck, VerifyReport};
use std::path::Path;

pub fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    command: StoreCommand,
) -> Result<(), CliError> {
    let (_, config) = engine_setup::load_config(config)?;
    let path = engine_setup::store_path(store, &config)?;
    match command {
        StoreCommand::Backup { path: backup } => {
            let records = open_existing(&path)?.backup(&backup).map_err(cli_error)?;
            println!(
                "backed up {records} records from {} to {}",
                path.display(),
                backup.display()
            );
        }
        StoreCommand::Restore {
            path: backup,
            no_trailer_check,
        } => {
            let check = if no_trailer_check {
                TrailerCheck::IfPresent
            } else {
                TrailerCheck::Required
            };
            let restored = Store::restore(&backup, &path, check).map_err(cli_error)?;
            if !restored.trailer {
                println!(
                    "warning: {} has no end line, so it cannot show it is whole; restored as it is (--no-trailer-check)",
                    backup.display()
                );
            }
            for finding in &restored.report.findings {
                println!("note: {}", finding_line(finding));
            }
            println!(
                "restored {} records into {} ({}checked and verified)",
                restored.records,
                path.display(),
                if restored.trailer {
                    "end line and checksum matched; "
                } else {
                    ""
                }
            );
        }
        StoreCommand::Verify { json } => {
            let report = open_existing(&path)?.verify().map_err(cli_error)?;
            print_report(&path, &report, json)?;
            if !report.is_clean() {
                return Err(CliError::Damaged(format!(
                    "the store at {} has {} problem(s); each finding above says what to do",
                    path.display(),
                    report.findings.len()
                )));
            }
        }
        StoreCommand::Export { .. } => {
            let opened = open_existing(&path)?;
            let mut stdout = std::io::stdout().lock();
            opened.export_jsonl(&mut stdout).map_err(cli_error)?;
        }
    }
    Ok(())
}

/// These commands read a store; opening a path that holds none would create an empty one and
/// report on that.
fn open_existing(path: &Path) -> Result<Store, CliError> {
    if !path.join("conf").exists() && !path.join("db").exists() {
        return Err(CliError::Usage(format!(
            "there is no store at {}; pass --store PATH or set [store] path in the config",
            path.display()
        )));
    }
    Store::open(path).map_err(cli_error)
}

/// Exit codes by what went wrong (README "Exit codes"): damaged data 12, I/O 1, the rest usage.
fn cli_error(err: StoreError) -> CliError {
    match err {
        StoreError::Io { context, source } => CliError::Io { context, source },
        // A backup without its end line may be an old one (the flag restores it), but may as
        // well be cut short: damaged until shown otherwise.
        StoreError::BadBackup { .. }
        | StoreError::NoTrailer { .. }
        | StoreError::RestoredDamaged { .. }
        | StoreError::Corrupt { .. } => CliError::Damaged(err.to_string()),
        other => CliError::Usage(other.to_string()),
    }
}

fn finding_line(finding: &Finding) -> String {
    format!(
        "{} {}: {}. Fix: {}",
        finding.tree, finding.key, finding.problem, finding.fix
    )
}

fn print_report(path: &Path, report: &VerifyReport, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(
            &serde_json::json!({
                "store": path,
                "clean": report.is_clean(),
                "records": report.records,
                "unchecked_trees": report.unchecked_trees,
                "findings": report.findings,
            }),
            true,
        );
    }
    for finding in &report.findings {
        println!("{}", finding_line(finding));
    }
    let unchecked = if report.unchecked_trees.is_empty() {
        String::new()
    } else {
        format!(
            "; not checked (trees of a newer release): {}",
            report.unchecked_trees.join(", ")
        )
    };
    match report.findings.len() {
        0 => println!(
            "store {}: clean ({} records checked{unchecked})",
            path.display(),
            report.records
        ),
        n => println!(
            "store {}: {n} problem(s) in {} records{unchecked}",
            path.display(),
            report.records
        ),
    }
    Ok(())
}
