//! The file connector's entry in the registry: its connection table (paths relative to the
//! config's folder), no secrets, its account (the inbox and export paths) and built-in mapping.

use super::{FileConnection, FilePeer};
use crate::config::ConfigError;
use crate::peers::registry::{ConnectionSource, Connector, PeerSecrets, PeerSetup, SecretNeed};
use crate::peers::{EntityCapability, Peer, PeerError};
use crate::store::PeerAccount;
use std::sync::Arc;

pub struct File;

pub static CONNECTOR: File = File;

impl Connector for File {
    fn name(&self) -> &'static str {
        "file"
    }

    fn summary(&self) -> &'static str {
        "CSV or JSONL files: an inbox folder read in, an export file written out"
    }

    fn configure(&self, source: &ConnectionSource<'_>) -> Result<Box<dyn PeerSetup>, ConfigError> {
        let Some(mut connection) = source.parse::<Option<FileConnection>>()? else {
            return Err(source.invalid(
                "a file peer needs inbox = \"FOLDER\" and export = \"FILE\" in its connection table",
            ));
        };
        if let Some(base) = source.path.parent() {
            connection.resolve_paths(base);
        }
        Ok(Box::new(FileSetup { connection }))
    }

    fn builtin_mapping(&self) -> Option<&'static str> {
        Some(include_str!("../../../assets/mappings/file.toml"))
    }
}

#[derive(Debug)]
struct FileSetup {
    connection: FileConnection,
}

impl PeerSetup for FileSetup {
    fn secrets(&self) -> Vec<SecretNeed> {
        Vec::new()
    }

    /// Files are the account: another inbox or export is another peer's records.
    fn account(&self) -> PeerAccount {
        PeerAccount::new(
            &format!("file://{}", self.connection.inbox.display()),
            &self.connection.export.display().to_string(),
        )
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        super::capabilities()
    }

    fn build(&self, peer: &str, _: &PeerSecrets) -> Result<Arc<dyn Peer>, PeerError> {
        Ok(Arc::new(FilePeer::new(peer, self.connection.clone())?))
    }
}
