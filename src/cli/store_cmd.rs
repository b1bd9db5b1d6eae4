//! `ghlsync store backup|restore|verify|export`.

use super::CliError;
use super::args::StoreCommand;
use super::engine_setup;
use super::output::print_json;
use crate::store::{Finding, Store, TrailerCheck, VerifyReport};
use std::path::Path;

pub fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    command: StoreCommand,
) -> Result<(), CliError> {
    let (_, config) = engine_setup::load_config(config)?;
    let path = engine_setup::store_path(store, &config)?;
    match command {
        StoreCommand::Backup {
            path: backup,
            force,
        } => {
            if !force && backup.exists() {
                return Err(CliError::Usage(format!(
                    "{} exists; ghlsync never writes a backup over another file (it may be the backup you need). Name a new file, or pass --force to replace it",
                    backup.display()
                )));
            }
            let report = open_existing(&path)?.backup_readable(&backup)?;
            outln!(
                "backed up {} records from {} to {}",
                report.lines,
                path.display(),
                backup.display()
            )?;
            if !report.skipped.is_empty() {
                for skipped in &report.skipped {
                    outln!("left out (does not decode): {skipped}")?;
                }
                return Err(CliError::Damaged(format!(
                    "the store at {} has {} value(s) that do not decode; the backup holds every other record and restores. `ghlsync store verify` lists each damaged value and its fix",
                    path.display(),
                    report.skipped.len()
                )));
            }
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
            let restored = Store::restore(&backup, &path, check)?;
            if !restored.trailer {
                outln!(
                    "warning: {} has no end line, so it cannot show it is whole; restored as it is (--no-trailer-check)",
                    backup.display()
                )?;
            }
            for finding in &restored.report.findings {
                outln!("note: {}", finding_line(finding))?;
            }
            outln!(
                "restored {} records into {} ({}checked and verified)",
                restored.records,
                path.display(),
                if restored.trailer {
                    "end line and checksum matched; "
                } else {
                    ""
                }
            )?;
        }
        StoreCommand::Verify { json } => {
            let report = open_existing(&path)?.verify()?;
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
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            opened.export_jsonl(&mut stdout)?;
            std::io::Write::flush(&mut stdout)
                .map_err(|source| CliError::io("writing the export", source))?;
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
    Ok(Store::open(path)?)
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
        outln!("{}", finding_line(finding))?;
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
        0 => outln!(
            "store {}: clean ({} records checked{unchecked})",
            path.display(),
            report.records
        ),
        n => outln!(
            "store {}: {n} problem(s) in {} records{unchecked}",
            path.display(),
            report.records
        ),
    }
}
