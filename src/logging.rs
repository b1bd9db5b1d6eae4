//! tracing goes to a daily-rotated file in the XDG state dir, never to the terminal: the console
//! draws on that terminal, and a service's stdout is for humans reading `systemctl status`.

use std::path::{Path, PathBuf};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Keeps the background writer alive; logs are flushed when it drops at the end of `main`.
pub struct LogGuard {
    _guard: WorkerGuard,
    pub dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("cannot create the log directory {dir}: {source}")]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "invalid log filter {filter:?}: {message}; use a level (error, warn, info, debug, trace) or a RUST_LOG-style filter such as ghlsync=debug"
    )]
    Filter { filter: String, message: String },
    #[error("cannot open the log file in {dir}: {message}")]
    Appender { dir: PathBuf, message: String },
}

/// Installs the global subscriber. `level` (from `--log-level`) wins over `RUST_LOG`; default info.
pub fn init(dir: &Path, level: Option<&str>) -> Result<LogGuard, LoggingError> {
    std::fs::create_dir_all(dir).map_err(|source| LoggingError::CreateDir {
        dir: dir.to_path_buf(),
        source,
    })?;
    let filter_text = level
        .map(str::to_string)
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".to_string());
    let filter = EnvFilter::try_new(&filter_text).map_err(|err| LoggingError::Filter {
        filter: filter_text.clone(),
        message: err.to_string(),
    })?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("ghlsync")
        .filename_suffix("log")
        .max_log_files(14)
        .build(dir)
        .map_err(|err| LoggingError::Appender {
            dir: dir.to_path_buf(),
            message: err.to_string(),
        })?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    // A second init (tests, embedding) keeps the first subscriber; that is not an error.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(LogGuard {
        _guard: guard,
        dir: dir.to_path_buf(),
    })
}
