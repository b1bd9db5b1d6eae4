//! The inbox folder on disk: which files are waiting, reading one within its size bound, the
//! cursor that names a file by name and content, and moving a file on to `done/` or to
//! `rejected/` (with its reason beside it).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::parse::{FileFormat, Rejection};

pub(super) const DONE: &str = "done";
pub(super) const REJECTED: &str = "rejected";

/// The files waiting in `inbox`, in name order: `*.csv` and `*.jsonl`, not hidden (a file being
/// copied in under a `.name` is left alone until it is renamed).
pub(super) fn waiting(inbox: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(inbox)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') || FileFormat::of_name(&name).is_none() {
            continue;
        }
        if std::fs::metadata(entry.path()).is_ok_and(|meta| meta.is_file()) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// A file's bytes, or why it is too large to read. `Ok(None)` when it is gone.
pub(super) fn read(path: &Path, limit: u64) -> std::io::Result<Option<Result<Vec<u8>, Rejection>>> {
    match crate::bounded_file::read_bytes(path, limit) {
        Ok(bytes) => Ok(Some(Ok(bytes))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) if err.kind() == std::io::ErrorKind::FileTooLarge => Ok(Some(Err(Rejection::at(
            1,
            1,
            format!("the file is over the {limit}-byte limit"),
            "split it into smaller files (each keeps the header row) and put those in the inbox",
        )))),
        Err(err) => Err(err),
    }
}

/// A short hash of a file's content: the cursor tells a file from a new one of the same name.
pub(super) fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes)[..8])
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The cursor after a file: `name#hash`.
pub(super) fn cursor(name: &str, hash: &str) -> String {
    format!("{name}#{hash}")
}

/// A cursor's file name and content hash.
pub(super) fn parse_cursor(cursor: &str) -> Option<(&str, &str)> {
    cursor
        .rsplit_once('#')
        .filter(|(name, hash)| !name.is_empty() && !hash.is_empty())
}

/// Creates `dir` owner-only (0700) if it is missing.
pub(crate) fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Moves `inbox/name` into `inbox/dir/`, under a free name (`name`, else `stem-2.ext`, …).
pub(super) fn move_into(inbox: &Path, name: &str, dir: &str) -> std::io::Result<PathBuf> {
    let target_dir = inbox.join(dir);
    ensure_dir(&target_dir)?;
    let target = free_name(&target_dir, name);
    std::fs::rename(inbox.join(name), &target)?;
    #[cfg(unix)]
    {
        std::fs::File::open(&target_dir)?.sync_all()?;
        std::fs::File::open(inbox)?.sync_all()?;
    }
    Ok(target)
}

/// Moves a file that cannot be read into `rejected/`, with `<file>.reason.txt` beside it.
pub(super) fn reject(inbox: &Path, name: &str, why: &Rejection) -> std::io::Result<PathBuf> {
    let target = move_into(inbox, name, REJECTED)?;
    let shown = target
        .file_name()
        .map_or_else(|| name.to_string(), |n| n.to_string_lossy().into_owned());
    let reason = format!(
        "{}\nghlsync moved {name} here from the inbox instead of syncing it. Fix the file, then put it back in the inbox.\n",
        why.describe(&shown)
    );
    let reason_path = target.with_file_name(format!("{shown}.reason.txt"));
    crate::private_file::write_atomic(&reason_path, reason.as_bytes())?;
    Ok(target)
}

fn free_name(dir: &Path, name: &str) -> PathBuf {
    let candidate = dir.join(name);
    if !candidate.exists() {
        return candidate;
    }
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    (2u32..)
        .map(|n| match extension {
            "" => dir.join(format!("{stem}-{n}")),
            _ => dir.join(format!("{stem}-{n}.{extension}")),
        })
        .find(|path| !path.exists())
        .unwrap_or(candidate)
}
