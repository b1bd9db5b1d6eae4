//! The file peer on real folders. `inbox.rs`: parsing, rejection with a reason file, the
//! cursor → `done/` lifecycle (a kill before the commit, a dry run). `export.rs`: the export's
//! atomic 0600 writes, the connection's checks.

mod export;
mod inbox;

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;

pub(super) const CONTACTS: &str = "\u{feff}code,first_name,last_name,email,phone,company\n\
C1,Ann,Lee,ann@example.com,555-0101,\"Lee, Ann & Co\"\n\
C2,Bo,Park,bo@example.com,,Park Ltd\n";

pub(super) struct Rig {
    pub dir: tempfile::TempDir,
}

impl Rig {
    pub(super) fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("inbox")).unwrap();
        Rig { dir }
    }

    pub(super) fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    pub(super) fn export(&self) -> PathBuf {
        self.dir.path().join("export.csv")
    }

    pub(super) fn connection(&self, id_field: Option<&str>) -> FileConnection {
        FileConnection {
            inbox: self.inbox(),
            export: self.export(),
            format: FileFormat::Csv,
            id_field: id_field.map(str::to_string),
            updated_at_field: None,
            delimiter: None,
        }
    }

    pub(super) fn peer(&self) -> FilePeer {
        FilePeer::new("shop", self.connection(Some("code"))).unwrap()
    }

    pub(super) fn drop_file(&self, name: &str, text: &[u8]) {
        std::fs::write(self.inbox().join(name), text).unwrap();
    }

    pub(super) fn names(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.inbox().join(sub))
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name != DONE_DIR && name != REJECTED_DIR)
            .collect();
        names.sort();
        names
    }

    pub(super) fn read(&self, path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }
}

const DONE_DIR: &str = "done";
const REJECTED_DIR: &str = "rejected";

pub(super) fn ids(page: &ChangePage) -> Vec<&str> {
    page.records.iter().map(|r| r.id.as_str()).collect()
}

pub(super) async fn fetch(peer: &FilePeer, cursor: Option<&str>) -> ChangePage {
    peer.fetch_changes(EntityKind::Contact, cursor)
        .await
        .unwrap()
}
pub(super) fn contact(id: &str, fields: Value) -> PeerRecord {
    PeerRecord {
        kind: EntityKind::Contact,
        id: id.into(),
        parent_id: None,
        updated_at: None,
        active: true,
        fields: fields.as_object().cloned().unwrap_or_default(),
        raw: Value::Null,
    }
}
