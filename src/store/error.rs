use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the store at {path}: {source}. If another ghlsync is running (the service), attach to it instead; if the store is damaged, `ghlsync store restore BACKUP`"
    )]
    Open {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("store I/O failed: {0}")]
    Sled(#[from] sled::Error),
    #[error("store value in tree {tree} at key {key} cannot be read: {detail}")]
    Corrupt {
        tree: String,
        key: String,
        detail: String,
    },
    #[error("cannot encode a value for the store: {detail}")]
    Encode { detail: String },
    #[error(
        "the store's schema version {found} is newer than this ghlsync understands ({supported}); upgrade ghlsync"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("operation {0} does not exist")]
    NoSuchOperation(u64),
    /// A broken invariant inside the store (a bug): the write in question may not be applied.
    #[error(
        "{0} was taken from the store's queue and never answered; this is a bug, please report it"
    )]
    Unanswered(&'static str),
}

impl From<sled::transaction::TransactionError<StoreError>> for StoreError {
    fn from(err: sled::transaction::TransactionError<StoreError>) -> Self {
        match err {
            sled::transaction::TransactionError::Abort(inner) => inner,
            sled::transaction::TransactionError::Storage(inner) => StoreError::Sled(inner),
        }
    }
}
