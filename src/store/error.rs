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
    /// Another process has the store open (sled allows one): say who, and what to do.
    #[error(
        "the store at {path} is in use by {}. One process at a time can open a store: wait until it ends (a sync ends by itself; quit the console with q), or stop it, then run this command again",
        holder.as_deref().unwrap_or("another process (it did not record which; `fuser -v` on the store's db file shows it)")
    )]
    Locked {
        path: PathBuf,
        holder: Option<String>,
    },
    #[error("store I/O failed: {0}")]
    Sled(#[from] sled::Error),
    #[error(
        "store value in tree {tree} at key {key} cannot be read: {detail}. Run `ghlsync store verify` for every damaged value and its fix; `ghlsync store backup` still saves every value that reads"
    )]
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
    /// A backup line that fails restore's checks. Nothing was restored.
    #[error(
        "{path}:{line}: {detail}. Nothing was restored (no store was created); restore another backup, or keep the store you have"
    )]
    BadBackup {
        path: PathBuf,
        line: u64,
        detail: String,
    },
    /// A backup without the end line `backup` writes. Nothing was restored.
    #[error(
        "{path} ends after line {lines} without the end line `ghlsync store backup` writes: it was cut short, or written by a ghlsync older than end lines. Nothing was restored (no store was created). If it is an older backup you trust to be whole, restore it with --no-trailer-check"
    )]
    NoTrailer { path: PathBuf, lines: u64 },
    /// Every line passed, but the store they make fails `Store::verify`. Nothing was restored.
    #[error(
        "{path} restores a store with {count} problem(s), so nothing was restored (no store was created): {first}{more}. The store it was taken from had them too; restore an older backup, or run `ghlsync store verify` on that store for every finding and its fix",
        count = findings.len(),
        first = findings.first().map_or(String::new(), |f| format!("{} {}: {}", f.tree, f.key, f.problem)),
        more = if findings.len() > 1 { format!(" (and {} more)", findings.len() - 1) } else { String::new() }
    )]
    RestoredDamaged {
        path: PathBuf,
        findings: Vec<super::Finding>,
    },
    /// `restore` never writes over something that is already there.
    #[error("cannot restore into {target}: {detail}")]
    TargetInUse { target: PathBuf, detail: String },
    #[error("operation {0} does not exist")]
    NoSuchOperation(u64),
}

impl From<sled::transaction::TransactionError<StoreError>> for StoreError {
    fn from(err: sled::transaction::TransactionError<StoreError>) -> Self {
        match err {
            sled::transaction::TransactionError::Abort(inner) => inner,
            sled::transaction::TransactionError::Storage(inner) => StoreError::Sled(inner),
        }
    }
}
