//! Restore: all or nothing. The backup is read into a store in a temporary directory beside the
//! target (same filesystem, owner-only), every line checked as it comes (JSON, hex, a known
//! tree, a value its tree can decode), the end line's count and checksum compared, the result
//! verified (`Store::verify`), and only then renamed into place. On any failure the temporary
//! directory is removed and the target is left as it was: no store, never half of one. A store
//! that is half restored is worse than none: it looks whole, and links it lacks become
//! duplicates at the next sync.

use super::backup::{RawLine, TRAILER_START, TrailerLine, hex, io_err, unhex};
use super::{RETIRED_TREE_NAMES, Store, StoreError, VerifyReport, verify};
use sha2::{Digest, Sha256};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Whether a backup must end with its end line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrailerCheck {
    /// Refuse a backup without one: it cannot show that it is whole.
    #[default]
    Required,
    /// Accept a backup without one (written before end lines); one that has one is still checked.
    IfPresent,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub records: u64,
    /// Whether the backup had an end line (and it matched).
    pub trailer: bool,
    /// The restored store's verification: clean, or only findings that are not damage (an
    /// operation in flight when the backup was taken).
    pub report: VerifyReport,
}

/// The longest line a backup may hold: one stored value (a record, a mapping version) with
/// its key, well under this.
const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

/// Where the lines read so far stand.
struct Reading<'a> {
    path: &'a Path,
    /// Lines before the end line, in the order read (the end line counts them).
    lines: u64,
    records: u64,
    hasher: Sha256,
    /// The line number of the end line and what it says, once read.
    trailer: Option<(u64, TrailerLine)>,
    saw_schema_version: bool,
}

impl Reading<'_> {
    fn bad(&self, line: u64, detail: impl Into<String>) -> StoreError {
        StoreError::BadBackup {
            path: self.path.to_path_buf(),
            line,
            detail: detail.into(),
        }
    }

    /// Checks one line and writes its record into `store`.
    fn line(&mut self, store: &Store, number: u64, raw: &[u8]) -> Result<(), StoreError> {
        if let Some((end, _)) = &self.trailer {
            return Err(self.bad(
                number,
                format!("a line after the end line (line {end}): the file was appended to, or two backups were joined"),
            ));
        }
        let cut_short = !raw.ends_with(b"\n");
        let text = raw.strip_suffix(b"\n").unwrap_or(raw);
        let not_json = |err: serde_json::Error| {
            let why = if cut_short {
                "; the file ends inside this line: it was cut short"
            } else {
                ""
            };
            format!("not a backup line ({err}){why}")
        };
        if text.starts_with(TRAILER_START) {
            let end: TrailerLine =
                serde_json::from_slice(text).map_err(|e| self.bad(number, not_json(e)))?;
            self.trailer = Some((number, end));
            return Ok(());
        }
        self.hasher.update(raw);
        self.lines += 1;
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let line: RawLine =
            serde_json::from_slice(text).map_err(|e| self.bad(number, not_json(e)))?;
        if RETIRED_TREE_NAMES.contains(&line.tree.as_str()) {
            // An older schema's tree: its meta line makes the next open migrate, which rebuilds
            // what it held.
            return Ok(());
        }
        let key = unhex(&line.key)
            .ok_or_else(|| self.bad(number, "the key is not hex (a changed or lost character)"))?;
        let value = unhex(&line.value).ok_or_else(|| {
            self.bad(number, "the value is not hex (a changed or lost character)")
        })?;
        let (Some(tree), Some(check)) = (
            store.tree_by_name(&line.tree),
            verify::check_value(&line.tree, &key, &value),
        ) else {
            return Err(self.bad(
                number,
                format!("tree {:?} is not one this ghlsync knows (a backup from a newer release, or an edited line)", line.tree),
            ));
        };
        check.map_err(|err| {
            let detail = match err {
                StoreError::Corrupt { detail, .. } => detail,
                other => other.to_string(),
            };
            self.bad(
                number,
                format!(
                    "the value under {} key {} does not decode: {detail}",
                    line.tree, line.key
                ),
            )
        })?;
        self.saw_schema_version |= line.tree == "meta" && key == b"schema_version";
        if line.tree == "child_surveys" {
            // A survey says "every child ghlsync made under this contact is linked here": not
            // true of a restored store, which lacks what was linked after the backup. Checked,
            // then left out, so each contact's children are looked up again before any create.
            return Ok(());
        }
        tree.insert(key, value)?;
        self.records += 1;
        Ok(())
    }

    /// The end line, if any, against what came before it.
    fn check_trailer(&mut self, check: TrailerCheck) -> Result<bool, StoreError> {
        let Some((number, TrailerLine { end })) = &self.trailer else {
            return match check {
                TrailerCheck::Required => Err(StoreError::NoTrailer {
                    path: self.path.to_path_buf(),
                    lines: self.lines,
                }),
                TrailerCheck::IfPresent => Ok(false),
            };
        };
        if end.lines != self.lines {
            return Err(self.bad(
                *number,
                format!(
                    "the end line counts {} lines before it, but the file has {}: lines were lost or added",
                    end.lines, self.lines
                ),
            ));
        }
        let sum = hex(&std::mem::take(&mut self.hasher).finalize());
        if !sum.eq_ignore_ascii_case(&end.sha256) {
            return Err(self.bad(
                *number,
                "the checksum of the lines before the end line does not match: the backup was changed after it was written (a flipped bit, or an edit)",
            ));
        }
        Ok(true)
    }
}

impl Store {
    /// Restores `backup` into `target`, which must not hold a store (or anything else) yet: all
    /// or nothing (see the module comment).
    pub fn restore(
        backup: &Path,
        target: &Path,
        check: TrailerCheck,
    ) -> Result<Restored, StoreError> {
        let parent = check_target(target)?;
        let file = std::fs::File::open(backup)
            .map_err(io_err(format!("opening the backup {}", backup.display())))?;
        // Dropped last (declared first): on every early return it removes what was written.
        let temp = tempfile::Builder::new()
            .prefix(".ghlsync-restore-")
            .tempdir_in(&parent)
            .map_err(io_err(format!(
                "creating a temporary directory in {}",
                parent.display()
            )))?;
        let (records, trailer, report) = {
            let store = Store::open(temp.path())?;
            let mut reading = Reading {
                path: backup,
                lines: 0,
                records: 0,
                hasher: Sha256::new(),
                trailer: None,
                saw_schema_version: false,
            };
            let mut reader = std::io::BufReader::new(file);
            let mut raw = Vec::new();
            let mut number = 0u64;
            loop {
                raw.clear();
                // One line at most MAX_LINE_BYTES (+1 to see it is past): a file without line
                // breaks (a binary, /dev/zero) is refused, not read into memory whole.
                let read = std::io::Read::take(&mut reader, MAX_LINE_BYTES + 1)
                    .read_until(b'\n', &mut raw)
                    .map_err(io_err(format!("reading {}", backup.display())))?;
                if read == 0 {
                    break;
                }
                number += 1;
                if raw.len() as u64 > MAX_LINE_BYTES {
                    return Err(reading.bad(
                        number,
                        format!(
                            "the line is longer than {} MB, far more than a stored record: this is not a ghlsync backup",
                            MAX_LINE_BYTES >> 20
                        ),
                    ));
                }
                reading.line(&store, number, &raw)?;
            }
            let trailer = reading.check_trailer(check)?;
            if !reading.saw_schema_version {
                // A new store's own version would otherwise stand in for the backup's.
                return Err(reading.bad(
                    number,
                    "no line holds meta schema_version: this is not a whole ghlsync backup",
                ));
            }
            store.flush()?;
            let report = store.verify()?;
            if report.damage().next().is_some() {
                return Err(StoreError::RestoredDamaged {
                    path: backup.to_path_buf(),
                    findings: report.damage().cloned().collect(),
                });
            }
            (reading.records, trailer, report)
            // The store closes here, before its directory moves.
        };
        std::fs::rename(temp.path(), target).map_err(|source| StoreError::TargetInUse {
            target: target.to_path_buf(),
            detail: format!(
                "moving the restored store into place failed ({source}); nothing was restored"
            ),
        })?;
        // Renamed away: nothing left for the guard to remove.
        let _ = temp.keep();
        #[cfg(unix)]
        if let Ok(dir) = std::fs::File::open(&parent) {
            // The rename is durable once the folder holding it is.
            let _ = dir.sync_all();
        }
        Ok(Restored {
            records,
            trailer,
            report,
        })
    }
}

/// The folder the target goes in (created if missing). The target itself may be absent or an
/// empty folder, which the rename replaces; anything else is refused.
fn check_target(target: &Path) -> Result<PathBuf, StoreError> {
    let in_use = |detail: &str| StoreError::TargetInUse {
        target: target.to_path_buf(),
        detail: detail.to_string(),
    };
    if target.join("conf").exists() || target.join("db").exists() {
        return Err(in_use("a store already exists there; move it aside first"));
    }
    match std::fs::read_dir(target) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(in_use(
                    "the folder is not empty; restore into a new path, or move its contents aside",
                ));
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(in_use(&format!("it cannot be read as a folder ({err})"))),
    }
    let parent = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_err(format!("creating {}", parent.display())))?;
    Ok(parent)
}
