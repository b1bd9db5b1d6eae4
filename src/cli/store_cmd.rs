//! `ghlsync store backup|restore|export`.

use super::CliError;
use super::args::StoreCommand;
use super::engine_setup;
use crate::store::Store;
use std::path::Path;

pub fn run(
    config: Option<&Path>,
    store: Option<&Path>,
    command: StoreCommand,
) -> Result<(), CliError> {
    let (_, config) = engine_setup::load_config(config)?;
    let path = engine_setup::store_path(store, &config)?;
    let store_err = |err: crate::store::StoreError| CliError::Usage(err.to_string());
    match command {
        StoreCommand::Backup { path: backup } => {
            let records = Store::open(&path)
                .map_err(store_err)?
                .backup(&backup)
                .map_err(store_err)?;
            println!(
                "backed up {records} records from {} to {}",
                path.display(),
                backup.display()
            );
        }
        StoreCommand::Restore { path: backup } => {
            let records = Store::restore(&backup, &path).map_err(store_err)?;
            println!("restored {records} records into {}", path.display());
        }
        StoreCommand::Export { .. } => {
            let opened = Store::open(&path).map_err(store_err)?;
            let mut stdout = std::io::stdout().lock();
            opened.export_jsonl(&mut stdout).map_err(store_err)?;
        }
    }
    Ok(())
}
