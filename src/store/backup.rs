//! Backup and export (restore is `restore.rs`). A backup is JSON Lines of raw `{tree, key,
//! value}` (hex) so it restores byte for byte whatever the value versions, ended by one line
//! `{"end":{"lines":N,"sha256":"…"}}` over every byte before it: a file cut at a line boundary
//! has no end line, and a changed byte fails the checksum. An export decodes values for people
//! and scripts.

use super::{Store, StoreError, TREE_NAMES, codec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

#[derive(Serialize, Deserialize)]
pub(super) struct RawLine {
    pub tree: String,
    pub key: String,
    pub value: String,
}

/// The last line of a backup: how many lines came before it and their SHA-256.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Trailer {
    pub lines: u64,
    pub sha256: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TrailerLine {
    pub end: Trailer,
}

/// How every end line starts: restore tells it from a record line by this, before parsing.
pub(super) const TRAILER_START: &[u8] = b"{\"end\":";

/// The end line (with its newline) sealing `body`, which holds `lines` lines.
pub(super) fn trailer_line(body: &[u8], lines: u64) -> Result<Vec<u8>, StoreError> {
    let line = TrailerLine {
        end: Trailer {
            lines,
            sha256: hex(&Sha256::digest(body)),
        },
    };
    let mut out = serde_json::to_vec(&line).map_err(|err| StoreError::Encode {
        detail: err.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(super) fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// What `Store::backup_readable` wrote and what it left out.
#[derive(Debug, Default)]
pub struct BackupReport {
    pub lines: u64,
    /// Values that do not decode, as `tree key: why`: left out, so the backup restores.
    pub skipped: Vec<String>,
}

impl Store {
    /// Writes a consistent-enough backup (each tree is read in order; run it between syncs, or
    /// accept that a concurrent run's newest records may be missing) to `path`, owner-only.
    pub fn backup(&self, path: &Path) -> Result<u64, StoreError> {
        self.backup_readable(path).map(|report| report.lines)
    }

    /// `backup`, which saves every value that decodes and leaves out (and lists) those that do
    /// not: a damaged store still gets a backup that restores, and the list says what is lost.
    pub fn backup_readable(&self, path: &Path) -> Result<BackupReport, StoreError> {
        self.flush()?;
        let mut skipped = Vec::new();
        let mut out = Vec::new();
        let mut lines = 0u64;
        for name in TREE_NAMES {
            let Some(tree) = self.tree_by_name(name) else {
                continue;
            };
            for item in tree.iter() {
                let (key, value) = item?;
                if let Some(Err(err)) = super::verify::check_value(name, &key, &value) {
                    skipped.push(match err {
                        StoreError::Corrupt { tree, key, detail } => {
                            format!("{tree} {key}: {detail}")
                        }
                        other => format!("{name} {}: {other}", codec::printable_key(&key)),
                    });
                    continue;
                }
                let line = RawLine {
                    tree: name.to_string(),
                    key: hex(&key),
                    value: hex(&value),
                };
                serde_json::to_writer(&mut out, &line).map_err(|err| StoreError::Encode {
                    detail: err.to_string(),
                })?;
                out.push(b'\n');
                lines += 1;
            }
        }
        let trailer = trailer_line(&out, lines)?;
        out.extend_from_slice(&trailer);
        crate::private_file::write_atomic(path, &out)
            .map_err(io_err(format!("writing the backup {}", path.display())))?;
        Ok(BackupReport { lines, skipped })
    }

    /// Every record as `{tree, key, value}` JSON Lines with values decoded, for people and jq.
    pub fn export_jsonl(&self, out: &mut dyn Write) -> Result<u64, StoreError> {
        let mut lines = 0u64;
        for name in TREE_NAMES {
            let Some(tree) = self.tree_by_name(name) else {
                continue;
            };
            for item in tree.iter() {
                let (key, value) = item?;
                let decoded = if value.is_empty() {
                    serde_json::Value::Null
                } else {
                    codec::decode::<serde_json::Value>(name, &key, &value)?
                };
                let line = serde_json::json!({"tree": name, "key": codec::printable_key(&key), "value": decoded});
                writeln!(out, "{line}").map_err(io_err("writing the export".into()))?;
                lines += 1;
            }
        }
        Ok(lines)
    }
}
