//! The embedded store (sled 0.34.7): ghlsync's durable state. Opened once per process, by the
//! engine only. Trees and key layouts are listed in ARCHITECTURE.md ("The store").
//!
//! Rules (sync-design.md §4.9): every value carries a version byte; flush at every point that
//! guards an external side effect (intent, commit, cursor advance); no HTTP and no UI work inside
//! a transaction; nobody subscribes to trees (the console gets events from the engine instead).

mod backup;
mod binding;
pub mod codec;
mod commit;
mod contact_list;
mod durable;
mod error;
mod holder;
mod identity;
mod inbox;
mod keys;
mod log;
mod ops;
pub mod records;
mod restore;
mod verify;

pub use backup::BackupReport;
pub use binding::{BindCheck, Binding, BindingConflict, BoundTo, PeerAccount};
pub use commit::Commit;
pub use contact_list::{ContactListEntry, display_name, sort_name};
pub use error::StoreError;
pub use holder::holder_of;
pub use identity::KnownPerson;
pub use inbox::{InboxEntry, Pushed};
pub use keys::{entity_key, entity_prefix};
pub use records::*;
pub use restore::{Restored, TrailerCheck};
pub use verify::{Finding, FindingKind, VerifyReport};

use crate::peers::EntityKind;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// Schema version this release writes. Bump with a migration in `migrate`.
pub const SCHEMA_VERSION: u32 = 5;

pub(crate) const TREE_NAMES: [&str; 13] = [
    "meta",
    "idmap",
    "idmap_rev",
    "baselines",
    "ops",
    "ops_by_state",
    "cursors",
    "mappings",
    "runs",
    "synclog",
    "contact_list",
    "peer_identity",
    "child_surveys",
];

/// Trees earlier schemas had and a migration removed; a backup taken then may still hold them.
/// `contact_list_keys` (schema 2): a contact's list name, now on its link (`IdLink::listed_as`).
pub(crate) const RETIRED_TREE_NAMES: [&str; 1] = ["contact_list_keys"];

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    path: PathBuf,
    meta: sled::Tree,
    idmap: sled::Tree,
    idmap_rev: sled::Tree,
    baselines: sled::Tree,
    ops: sled::Tree,
    ops_by_state: sled::Tree,
    cursors: sled::Tree,
    mappings: sled::Tree,
    runs: sled::Tree,
    synclog: sled::Tree,
    contact_list: sled::Tree,
    /// The peer's contacts by match key (`identity.rs`).
    peer_identity: sled::Tree,
    /// GHL contacts whose children were listed and matched (`identity.rs`).
    child_surveys: sled::Tree,
    /// Webhook deliveries in transit and the delivery ids seen (`inbox.rs`; not in backups).
    inbox: inbox::InboxTrees,
    /// Shared by every clone: concurrent writers share fsyncs (`durable.rs`).
    group: std::sync::Arc<durable::GroupFlush>,
    /// Says which process holds the store while it is open (`holder.rs`).
    _holder: std::sync::Arc<holder::HolderFile>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (or creates) the store at `path`: a directory readable by its owner only.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        create_private_dir(path)?;
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(16 * 1024 * 1024)
            // A backstop only: every commit point flushes explicitly (a commit rides the next
            // flush; lost, its flushed intent is reconciled). Each wake-up also runs sled's
            // segment cleaning, which an idle console would otherwise pay for twice a second.
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|source| {
                if holder::is_lock_error(&source) {
                    StoreError::Locked {
                        path: path.to_path_buf(),
                        holder: holder::holder_of(path),
                    }
                } else {
                    StoreError::Open {
                        path: path.to_path_buf(),
                        source,
                    }
                }
            })?;
        let holder = std::sync::Arc::new(holder::HolderFile::write(path));
        restrict_files(path)?;
        let tree = |name: &str| db.open_tree(name);
        let store = Store {
            meta: tree("meta")?,
            idmap: tree("idmap")?,
            idmap_rev: tree("idmap_rev")?,
            baselines: tree("baselines")?,
            ops: tree("ops")?,
            ops_by_state: tree("ops_by_state")?,
            cursors: tree("cursors")?,
            mappings: tree("mappings")?,
            runs: tree("runs")?,
            synclog: tree("synclog")?,
            contact_list: tree("contact_list")?,
            peer_identity: tree("peer_identity")?,
            child_surveys: tree("child_surveys")?,
            inbox: inbox::InboxTrees::open(&db)?,
            group: Default::default(),
            _holder: holder,
            path: path.to_path_buf(),
            db,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Operations in flight are not indexed (`ops::indexed`); a store written before that may
    /// still hold their index entries, which nothing would ever remove (schema 2).
    fn drop_in_flight_index(&self) -> Result<(), StoreError> {
        for key in self.ops_by_state.scan_prefix(b"in_flight/").keys() {
            self.ops_by_state.remove(key?)?;
        }
        Ok(())
    }

    /// The tree a backup line or `TREE_NAMES` names; `None` for a name this release lacks.
    pub(super) fn tree_by_name(&self, name: &str) -> Option<&sled::Tree> {
        Some(match name {
            "meta" => &self.meta,
            "idmap" => &self.idmap,
            "idmap_rev" => &self.idmap_rev,
            "baselines" => &self.baselines,
            "ops" => &self.ops,
            "ops_by_state" => &self.ops_by_state,
            "cursors" => &self.cursors,
            "mappings" => &self.mappings,
            "runs" => &self.runs,
            "synclog" => &self.synclog,
            "contact_list" => &self.contact_list,
            "peer_identity" => &self.peer_identity,
            "child_surveys" => &self.child_surveys,
            _ => return None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let found = match self.meta.get("schema_version")? {
            Some(bytes) => codec::decode::<u32>("meta", b"schema_version", &bytes)?,
            None => 0,
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        // Version 0 is a new store (nothing to convert). Each step below is idempotent and the
        // version is bumped only after it, so a crash mid-migration repeats the step.
        if (1..2).contains(&found) {
            // 2: in-flight operations leave the state index.
            self.drop_in_flight_index()?;
        }
        if (1..5).contains(&found) {
            // 2: the contact list in name order (`contact_list.rs`), built from links and
            // baselines. 3: the name a contact is filed under moves onto its link. 5: each
            // entry carries the contact's company, for the console's filter.
            self.rebuild_contact_list()?;
        }
        if (1..3).contains(&found) {
            // 3: the list names' own tree is retired (they are on the links now).
            for retired in RETIRED_TREE_NAMES {
                self.db.drop_tree(retired)?;
            }
        }
        if (1..4).contains(&found) {
            // 4: the peer's contacts by match key (`identity.rs`). Read every peer's contacts
            // again from the start once, which files each of them; unchanged records cost no
            // writes on either side.
            for key in self.cursors.iter().keys() {
                let key = key?;
                if key.windows(b"/contact/".len()).any(|w| w == b"/contact/") {
                    self.cursors.remove(key)?;
                }
            }
        }
        if found < SCHEMA_VERSION {
            self.meta
                .insert("schema_version", codec::encode(&SCHEMA_VERSION)?)?;
            self.db.flush()?;
        }
        Ok(())
    }

    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.get(&self.meta, "meta", b"schema_version")
            .map(|v| v.unwrap_or(0))
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn get<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        name: &str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        tree.get(key)?
            .map(|bytes| codec::decode(name, key, &bytes))
            .transpose()
    }

    fn put<T: Serialize>(
        &self,
        tree: &sled::Tree,
        key: &[u8],
        value: &T,
    ) -> Result<(), StoreError> {
        tree.insert(key, codec::encode(value)?)?;
        Ok(())
    }

    // ---- id mappings, baselines, cursors -------------------------------------------------

    pub fn link(
        &self,
        peer: &str,
        kind: EntityKind,
        peer_id: &str,
    ) -> Result<Option<IdLink>, StoreError> {
        self.get(&self.idmap, "idmap", &entity_key(peer, kind, peer_id))
    }

    /// The peer id linked to a GHL id.
    pub fn peer_id_for(
        &self,
        peer: &str,
        kind: EntityKind,
        ghl_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.get(
            &self.idmap_rev,
            "idmap_rev",
            &entity_key(peer, kind, ghl_id),
        )
    }

    pub fn links(&self, peer: &str, kind: EntityKind) -> Result<Vec<(String, IdLink)>, StoreError> {
        let prefix = entity_prefix(peer, kind);
        self.idmap
            .scan_prefix(&prefix)
            .map(|item| {
                let (key, value) = item?;
                let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                Ok((id, codec::decode("idmap", &key, &value)?))
            })
            .collect()
    }

    pub fn baseline(
        &self,
        peer: &str,
        kind: EntityKind,
        peer_id: &str,
    ) -> Result<Option<Baseline>, StoreError> {
        self.get(
            &self.baselines,
            "baselines",
            &entity_key(peer, kind, peer_id),
        )
    }

    pub fn cursor(&self, peer: &str, kind: EntityKind) -> Result<Option<String>, StoreError> {
        self.get(&self.cursors, "cursors", &entity_prefix(peer, kind))
    }

    /// Saves a cursor durably. Call only after every record of its page is committed or queued.
    pub fn set_cursor(&self, peer: &str, kind: EntityKind, cursor: &str) -> Result<(), StoreError> {
        self.put(&self.cursors, &entity_prefix(peer, kind), &cursor)?;
        self.flush()
    }

    pub fn cursors(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.cursors
            .iter()
            .map(|item| {
                let (key, value) = item?;
                Ok((
                    codec::printable_key(&key),
                    codec::decode("cursors", &key, &value)?,
                ))
            })
            .collect()
    }

    // ---- mapping versions -------------------------------------------------------------------

    /// Saves a new version of a peer's mapping text; returns its version number.
    pub fn save_mapping(
        &self,
        peer: &str,
        text: &str,
        fingerprint: &str,
    ) -> Result<u32, StoreError> {
        let next = self
            .mapping_versions(peer)?
            .last()
            .map_or(1, |v| v.version + 1);
        let version = MappingVersion {
            version: next,
            text: text.to_string(),
            saved_at: chrono::Utc::now(),
            fingerprint: fingerprint.to_string(),
        };
        self.put(&self.mappings, &keys::mapping_key(peer, next), &version)?;
        self.flush()?;
        Ok(next)
    }

    pub fn mapping_versions(&self, peer: &str) -> Result<Vec<MappingVersion>, StoreError> {
        let prefix = keys::peer_prefix(peer);
        self.mappings
            .scan_prefix(&prefix)
            .map(|item| {
                let (key, value) = item?;
                codec::decode("mappings", &key, &value)
            })
            .collect()
    }
}

fn create_private_dir(path: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(path).map_err(|source| StoreError::Io {
        context: format!("creating the store directory {}", path.display()),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(
            |source| StoreError::Io {
                context: format!("restricting {} to its owner", path.display()),
                source,
            },
        )?;
    }
    Ok(())
}

/// sled creates its files with the process umask; the store holds customer data, so owner-only.
fn restrict_files(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let entries = std::fs::read_dir(dir).map_err(|source| StoreError::Io {
            context: format!("listing {}", dir.display()),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let mode = if path.is_dir() { 0o700 } else { 0o600 };
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode));
            if path.is_dir() {
                restrict_files(&path)?;
            }
        }
    }
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests;
