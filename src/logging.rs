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
    init_with(dir, level, Output::File, Format::Text)
}

/// Where the service's lines go: journald reads stderr; `File` is the rotating file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stderr,
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

fn filter(level: Option<&str>) -> Result<EnvFilter, LoggingError> {
    let filter_text = level
        .map(str::to_string)
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".to_string());
    EnvFilter::try_new(&filter_text).map_err(|err| LoggingError::Filter {
        filter: filter_text.clone(),
        message: err.to_string(),
    })
}

/// `init` with a choice of output and format (`ghlsync run`). `dir` is the file's folder.
pub fn init_with(
    dir: &Path,
    level: Option<&str>,
    output: Output,
    format: Format,
) -> Result<LogGuard, LoggingError> {
    let filter = filter(level)?;
    if output == Output::Stderr {
        let (writer, guard) = non_blocking(std::io::stderr());
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer)
            .with_ansi(false);
        // journald stamps each line itself.
        let _ = match format {
            Format::Json => builder.json().without_time().try_init(),
            Format::Text => builder.without_time().try_init(),
        };
        return Ok(LogGuard {
            _guard: guard,
            dir: dir.to_path_buf(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| LoggingError::CreateDir {
        dir: dir.to_path_buf(),
        source,
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
    let (writer, guard) = non_blocking(appender);
    // A second init (tests, embedding) keeps the first subscriber; that is not an error.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    let _ = match format {
        Format::Json => builder.json().try_init(),
        Format::Text => builder.try_init(),
    };
    Ok(LogGuard {
        _guard: guard,
        dir: dir.to_path_buf(),
    })
}

/// The log writer's thread and its queue. The queue is allocated whole up front, and the
/// default (128,000 lines, 4 MB) is a tenth of an idle service's memory; past these lines a
/// burst drops lines rather than blocking the sync (the default's trade too).
fn non_blocking<W: std::io::Write + Send + 'static>(
    writer: W,
) -> (tracing_appender::non_blocking::NonBlocking, WorkerGuard) {
    tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(writer)
}

const LOG_QUEUE_LINES: usize = 8_192;
