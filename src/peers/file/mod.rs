//! The file peer (`connector = "file"`): contacts read from CSV or JSONL files dropped in an
//! inbox folder, and written to one export file.
//!
//! - Each `*.csv` / `*.jsonl` file in the inbox is one page, files in name order. The page's
//!   cursor names the file and a hash of its content; once the page is committed
//!   (`Peer::page_committed`) the file's records join the export and the file moves to `done/`.
//!   A cursor read back from the store whose file is still in the inbox (a kill between the
//!   cursor and the move) settles that file on the next read. A walk that is never committed
//!   (a dry run) moves nothing.
//! - A file that cannot be read moves to `rejected/` with `<file>.reason.txt` (line:column,
//!   problem, fix); the walk goes on with the next file.
//! - The export file is the peer's contact book: what the inbox brought and what GHL wrote, one
//!   record per id, rewritten atomically (0600). Writes that arrive while the file is being
//!   saved share the next save (a group commit): a write returns once a save holding it is on
//!   disk, and a page of N records costs far fewer than N rewrites of the whole file. `get`
//!   reads it, after the pages handed out and not yet committed.

mod connector;
mod export;
mod inbox;
pub(crate) mod parse;
mod records;
mod walk;

#[cfg(test)]
mod tests;

pub use connector::CONNECTOR;
pub(crate) use inbox::ensure_dir;
pub use parse::{FileFormat, FileLimits, Rejection};

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::Deserialize;

use self::export::{ExportBook, Layout, LoadError};
use self::records::RecordShape;
use self::walk::Walk;
use super::{
    ChangeDetection, ChangePage, EntityCapability, EntityKind, HealthRecorder, Peer, PeerError,
    PeerHealth, PeerRecord, WriteOutcome,
};
use crate::net::ErrorClass;

/// The id column of the export when the peer has no `id_field`.
pub const DEFAULT_ID_COLUMN: &str = "ghlsync_id";

/// `[peers.<name>.connection]` of a file peer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConnection {
    /// The folder files are dropped in; `done/` and `rejected/` are made inside it.
    pub inbox: PathBuf,
    /// The file GHL's contacts (and the inbox's, once synced) are written to.
    pub export: PathBuf,
    /// The export file's format; inbox files are read by their extension.
    #[serde(default)]
    pub format: FileFormat,
    /// The column (JSON key) holding each record's id. Without it, a record's id is a hash of
    /// its row, so an edited row is a new record (matched to its GHL contact by email/phone).
    #[serde(default)]
    pub id_field: Option<String>,
    /// The column holding when the record last changed (RFC 3339, `YYYY-MM-DD HH:MM:SS` or
    /// `YYYY-MM-DD`, UTC unless the value says otherwise): what `conflict = "latest"` compares.
    #[serde(default)]
    pub updated_at_field: Option<String>,
    /// The CSV delimiter, one ASCII character (default `,`).
    #[serde(default)]
    pub delimiter: Option<char>,
}

impl FileConnection {
    /// Makes relative `inbox` and `export` paths relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        for path in [&mut self.inbox, &mut self.export] {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }
}

/// What a file peer can do: contacts, read from the inbox and written to the export.
pub(crate) fn capabilities() -> Vec<EntityCapability> {
    vec![EntityCapability {
        kind: EntityKind::Contact,
        read: true,
        write: true,
        changes: ChangeDetection::Cursor,
    }]
}

pub struct FilePeer {
    name: String,
    connection: FileConnection,
    delimiter: u8,
    limits: FileLimits,
    state: Mutex<State>,
    /// Held by whoever writes the export file (a group save, or a committed page joining it), so
    /// that an older snapshot can never land after a newer one.
    saver: tokio::sync::Mutex<()>,
    health: HealthRecorder,
}

impl std::fmt::Debug for FilePeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilePeer")
            .field("name", &self.name)
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    walk: Walk,
    /// The export as last read or written; `None` until first needed.
    export: Option<ExportBook>,
    /// Generations of the book's changes: made in memory, saved to the file, and lost with a
    /// book dropped after a failed save (their writers are told so).
    changed: u64,
    saved: u64,
    lost: u64,
    /// A save is writing the file outside the lock: the book must not be read back meanwhile.
    saving: bool,
    /// Group saves written (what the group commit saves is seen in tests).
    saves: u64,
}

impl State {
    /// After a save of the whole book failed: the changes it held are lost, the file is read
    /// again by the next use.
    fn drop_unsaved(&mut self) {
        self.export = None;
        self.lost = self.changed;
    }
}

impl FilePeer {
    /// Checks the connection and creates `done/` and `rejected/` (0700) in the inbox.
    pub fn new(peer_name: &str, connection: FileConnection) -> Result<FilePeer, PeerError> {
        let config = |detail: String| PeerError::unsupported(peer_name, detail);
        let delimiter = match connection.delimiter {
            None => b',',
            Some(c) if c.is_ascii() && !matches!(c, '"' | '\n' | '\r') => c as u8,
            Some(c) => {
                return Err(config(format!(
                    "delimiter {c:?} cannot be used; set `delimiter` to one ASCII character such as \",\", \";\" or \"\\t\""
                )));
            }
        };
        for (key, value) in [
            ("id_field", &connection.id_field),
            ("updated_at_field", &connection.updated_at_field),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(config(format!(
                    "`{key}` is empty; name a column or leave the key out"
                )));
            }
        }
        let inbox = &connection.inbox;
        if !inbox.is_dir() {
            return Err(config(format!(
                "the inbox folder {} does not exist; create it (mkdir -p {}) or fix `inbox`",
                inbox.display(),
                inbox.display()
            )));
        }
        let export_dir = match connection.export.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !export_dir.is_dir() {
            return Err(config(format!(
                "the folder of the export file {} does not exist; create it or fix `export`",
                connection.export.display()
            )));
        }
        let export_name = connection.export.file_name().map(|n| n.to_string_lossy());
        let in_inbox = same_dir(&export_dir, inbox)
            && export_name.is_some_and(|n| FileFormat::of_name(&n).is_some());
        if in_inbox {
            return Err(config(format!(
                "the export file {} is in the inbox, where it would be read back as changes; put it beside the inbox",
                connection.export.display()
            )));
        }
        for dir in [inbox::DONE, inbox::REJECTED] {
            inbox::ensure_dir(&inbox.join(dir)).map_err(|err| {
                config(format!(
                    "cannot create {}: {err}; check the inbox folder's permissions",
                    inbox.join(dir).display()
                ))
            })?;
        }
        Ok(FilePeer {
            name: peer_name.to_string(),
            connection,
            delimiter,
            limits: FileLimits::default(),
            state: Mutex::new(State::default()),
            saver: tokio::sync::Mutex::new(()),
            health: HealthRecorder::default(),
        })
    }

    /// Other bounds than the defaults (tests use small ones).
    pub fn with_limits(mut self, limits: FileLimits) -> FilePeer {
        self.limits = limits;
        self
    }

    pub fn connection(&self) -> &FileConnection {
        &self.connection
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn shape(&self) -> RecordShape<'_> {
        RecordShape {
            id_field: self.connection.id_field.as_deref(),
            updated_at_field: self.connection.updated_at_field.as_deref(),
        }
    }

    fn layout(&self) -> Layout<'_> {
        Layout {
            format: self.connection.format,
            delimiter: self.delimiter,
            id_column: self
                .connection
                .id_field
                .as_deref()
                .unwrap_or(DEFAULT_ID_COLUMN),
            id_is_field: self.connection.id_field.is_some(),
        }
    }

    fn error(&self, operation: &str, class: ErrorClass, detail: String) -> PeerError {
        PeerError::new(&self.name, operation, class, detail)
    }

    fn io_error(&self, operation: &str, path: &Path, err: &std::io::Error) -> PeerError {
        use std::io::ErrorKind;
        let class = match err.kind() {
            ErrorKind::NotFound | ErrorKind::PermissionDenied => ErrorClass::ScopeOrConfig,
            _ => ErrorClass::Transient,
        };
        self.error(
            operation,
            class,
            format!(
                "{}: {err}; check that the folder exists and this user may write it",
                path.display()
            ),
        )
    }

    /// The export book, read again if the file changed under it.
    fn export<'s>(&self, state: &'s mut State) -> Result<&'s mut ExportBook, PeerError> {
        let path = &self.connection.export;
        // Changes not saved yet are newer than the file: never replaced by it.
        let settled = state.changed == state.saved && !state.saving;
        let stale = state
            .export
            .as_ref()
            .is_none_or(|book| settled && !book.is_current(path));
        if stale {
            let book =
                ExportBook::load(path, &self.layout(), &self.limits).map_err(|err| match err {
                    LoadError::Io(err) => self.io_error("read export", path, &err),
                    LoadError::Unreadable(why) => self.error(
                        "read export",
                        ErrorClass::Decode,
                        why.inline(&path.display().to_string()),
                    ),
                })?;
            state.export = Some(book);
        }
        state
            .export
            .as_mut()
            .ok_or_else(|| self.error("read export", ErrorClass::Decode, "not loaded".into()))
    }

    fn find(&self, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        let mut state = self.lock();
        let pending = state.walk.pending(id);
        if pending.is_some() {
            return Ok(pending);
        }
        let shape = self.shape();
        let book = self.export(&mut state)?;
        Ok(book.get(id).map(|fields| shape.exported(id, fields)))
    }

    async fn write(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        self.check_record(record)?;
        let (created, generation) = {
            let mut state = self.lock();
            let layout = self.layout();
            // A record read from an inbox file not committed yet is not in the book: its whole
            // row goes in first, or the columns the sync does not write back would be lost
            // (committing the file skips a record written meanwhile).
            let pending = state.walk.pending(&record.id);
            let book = self.export(&mut state)?;
            let created = if record.active {
                if let Some(pending) = pending {
                    book.upsert(&record.id, &pending.fields, &layout);
                }
                book.upsert(&record.id, &record.fields, &layout)
            } else {
                book.remove(&record.id);
                false
            };
            state.changed += 1;
            (created, state.changed)
        };
        self.save_through(generation).await?;
        self.lock().walk.note_written(&record.id);
        Ok(WriteOutcome {
            id: record.id.clone(),
            created,
            reference: None,
        })
    }

    /// Returns once the book's changes up to `generation` are on disk: saved by this call, or by
    /// a save another write started after it (the group commit). The file is written outside
    /// the lock, so other writes join the book meanwhile and share the next save.
    async fn save_through(&self, generation: u64) -> Result<(), PeerError> {
        let path = &self.connection.export;
        let _turn = self.saver.lock().await;
        let (bytes, upto) = {
            let mut state = self.lock();
            if state.saved >= generation {
                return Ok(());
            }
            if state.lost >= generation {
                return Err(self.error(
                    "write export",
                    ErrorClass::Transient,
                    format!(
                        "{} could not be saved with this record in it; it is written again on the next try",
                        path.display()
                    ),
                ));
            }
            let layout = self.layout();
            let rendered = match state.export.as_ref() {
                Some(book) => book.render(&layout),
                None => Err(std::io::Error::other("the export was not loaded")),
            };
            match rendered {
                Ok(bytes) => {
                    state.saving = true;
                    (bytes, state.changed)
                }
                Err(err) => {
                    state.drop_unsaved();
                    return Err(self.io_error("write export", path, &err));
                }
            }
        };
        let target = path.clone();
        let written =
            tokio::task::spawn_blocking(move || crate::private_file::write_atomic(&target, &bytes))
                .await
                .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())));
        let mut state = self.lock();
        state.saving = false;
        match written {
            Ok(()) => {
                state.saved = upto;
                state.saves += 1;
                if let Some(book) = state.export.as_mut() {
                    book.mark_saved(path);
                }
                Ok(())
            }
            Err(err) => {
                state.drop_unsaved();
                Err(self.io_error("write export", path, &err))
            }
        }
    }

    fn check_record(&self, record: &PeerRecord) -> Result<(), PeerError> {
        let operation = "write export";
        if record.kind != EntityKind::Contact {
            return Err(PeerError::unsupported(
                &self.name,
                format!(
                    "{}s cannot be written to a file peer; it holds contacts only",
                    record.kind
                ),
            ));
        }
        if record.id.trim().is_empty() {
            return Err(self.error(
                operation,
                ErrorClass::Validation,
                "the record has no id".into(),
            ));
        }
        if let Some(name) = record.fields.keys().find(|name| name.trim().is_empty()) {
            return Err(self
                .error(
                    operation,
                    ErrorClass::Validation,
                    format!("a field has an empty name ({name:?}); fix the mapping's peer names"),
                )
                .with_field(name.clone()));
        }
        Ok(())
    }

    fn only_contacts(&self, kind: EntityKind) -> Result<(), PeerError> {
        match kind {
            EntityKind::Contact => Ok(()),
            other => Err(PeerError::unsupported(
                &self.name,
                format!("a file peer holds contacts only, not {other}s"),
            )),
        }
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[async_trait::async_trait]
impl Peer for FilePeer {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        capabilities()
    }

    async fn fetch_changes(
        &self,
        kind: EntityKind,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        self.only_contacts(kind)?;
        // A walk may settle a committed page into the export: its save takes its turn.
        let _turn = self.saver.lock().await;
        let page = self.fetch(cursor);
        self.health.record(&page);
        page
    }

    async fn page_committed(&self, kind: EntityKind, cursor: &str) -> Result<(), PeerError> {
        self.only_contacts(kind)?;
        let _turn = self.saver.lock().await;
        let settled = self.committed(cursor);
        self.health.record(&settled);
        settled
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        if kind != EntityKind::Contact {
            return Ok(None);
        }
        let found = self.find(id);
        self.health.record(&found);
        found
    }

    async fn upsert(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        let written = self.write(record).await;
        self.health.record(&written);
        written
    }

    fn check(&self, record: &PeerRecord) -> Result<(), PeerError> {
        self.check_record(record)
    }

    fn health(&self) -> PeerHealth {
        self.health.snapshot()
    }
}
