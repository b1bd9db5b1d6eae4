//! Backup, restore and export. A backup is JSON Lines of raw `{tree, key, value}` (hex) so it
//! restores byte for byte whatever the value versions; an export decodes values for people and
//! scripts.

use super::{Store, StoreError, TREE_NAMES, codec};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::Path;

#[derive(Serialize, Deserialize)]
struct RawLine {
    tree: String,
    key: String,
    value: String,
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

impl Store {
    fn tree_by_name(&self, name: &str) -> Option<&sled::Tree> {
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

    /// Writes a consistent-enough backup (each tree is read in order; run it between syncs, or
    /// accept that a concurrent run's newest records may be missing) to `path`, owner-only.
    pub fn backup(&self, path: &Path) -> Result<u64, StoreError> {
        self.flush()?;
        let mut out = Vec::new();
        let mut lines = 0u64;
        for name in TREE_NAMES {
            let Some(tree) = self.tree_by_name(name) else {
                continue;
            };
            for item in tree.iter() {
                let (key, value) = item?;
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
        crate::private_file::write_atomic(path, &out)
            .map_err(io_err(format!("writing the backup {}", path.display())))?;
        Ok(lines)
    }

    /// Restores a backup into `target`, which must not hold a store yet. Returns the records
    /// restored. A bad line names its line number and nothing is half-restored into a live store.
    pub fn restore(backup: &Path, target: &Path) -> Result<u64, StoreError> {
        if target.join("conf").exists() || target.join("db").exists() {
            return Err(StoreError::Io {
                context: format!(
                    "restoring into {}: a store already exists there; move it aside first",
                    target.display()
                ),
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
        }
        let file =
            std::fs::File::open(backup).map_err(io_err(format!("opening {}", backup.display())))?;
        let store = Store::open(target)?;
        let mut restored = 0u64;
        for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(io_err(format!("reading {}", backup.display())))?;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |detail: &str| StoreError::Corrupt {
                tree: "backup".into(),
                key: format!("{}:{}", backup.display(), number + 1),
                detail: detail.to_string(),
            };
            let raw: RawLine = serde_json::from_str(&line).map_err(|err| bad(&err.to_string()))?;
            if super::RETIRED_TREE_NAMES.contains(&raw.tree.as_str()) {
                // An older schema's tree: its meta line makes the next open migrate, which
                // rebuilds what it held.
                continue;
            }
            let tree = store
                .tree_by_name(&raw.tree)
                .ok_or_else(|| bad("unknown tree"))?;
            let key = unhex(&raw.key).ok_or_else(|| bad("key is not hex"))?;
            let value = unhex(&raw.value).ok_or_else(|| bad("value is not hex"))?;
            tree.insert(key, value)?;
            restored += 1;
        }
        store.flush()?;
        Ok(restored)
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
