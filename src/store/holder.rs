//! Who holds the store. sled lets one process open a store (an exclusive lock on its `db`
//! file), and says only "could not acquire lock … WouldBlock" to the next one. The process that
//! opened the store writes its pid and command line to `holder` in the store folder, so the
//! next one can say who holds it and what to do.

use std::path::{Path, PathBuf};

const HOLDER_FILE: &str = "holder";

/// The holder file of an open store; removed when the store's last clone drops.
#[derive(Debug)]
pub(super) struct HolderFile {
    path: PathBuf,
    /// What this opening wrote: removed on drop only if the file still says it (the same
    /// process may have opened the store again since, as a restarted demo engine does).
    text: String,
}

/// Tells two openings by one process apart in the holder file.
static OPENINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl HolderFile {
    /// Records this process as the holder. Best effort: a store that cannot say who holds it
    /// still works, and the next process then says it does not know.
    pub(super) fn write(store: &Path) -> HolderFile {
        let path = store.join(HOLDER_FILE);
        let opening = OPENINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pid = std::process::id();
        let text = format!("{pid} {}\nopening {opening}\n", command_line(pid));
        if let Err(err) = crate::private_file::write_atomic(&path, text.as_bytes()) {
            tracing::debug!(path = %path.display(), %err, "could not record the store's holder");
        }
        HolderFile { path, text }
    }
}

impl Drop for HolderFile {
    fn drop(&mut self) {
        // Only our own: whoever opened the store after us owns the file now.
        if std::fs::read_to_string(&self.path).is_ok_and(|text| text == self.text) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The process that holds `store`, as a person reads it: `process 1234 (ghlsync sync)`.
/// `None` when no live holder is recorded (a release before holder files, another tool).
pub fn holder_of(store: &Path) -> Option<String> {
    let text = std::fs::read_to_string(store.join(HOLDER_FILE)).ok()?;
    let pid: u32 = text
        .lines()
        .next()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // A holder that died without removing its file does not hold the lock any more; if the
    // pid was reused, the command line read now shows it.
    let live = Path::new("/proc").join(pid.to_string()).exists();
    if !live {
        return None;
    }
    let command = command_line(pid);
    Some(if command.is_empty() {
        format!("process {pid}")
    } else {
        format!("process {pid} ({command})")
    })
}

/// A process's command line from /proc, arguments joined by spaces ("" when unreadable), cut
/// to 200 characters. A `--token` value is redacted: this line lands on screens.
fn command_line(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let mut line = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i > 0 && words[i - 1] == "--token" {
                "[redacted]".to_string()
            } else if w.starts_with("--token=") {
                "--token=[redacted]".to_string()
            } else if i == 0 {
                // The program by its name, not its path.
                Path::new(w)
                    .file_name()
                    .map_or_else(|| w.clone(), |n| n.to_string_lossy().into_owned())
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    if line.chars().count() > 200 {
        line = line.chars().take(199).collect::<String>() + "…";
    }
    line
}

/// Whether sled refused to open a store because another process holds its lock.
pub(super) fn is_lock_error(err: &sled::Error) -> bool {
    match err {
        sled::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::WouldBlock
                || io.to_string().contains("could not acquire lock")
        }
        _ => false,
    }
}
