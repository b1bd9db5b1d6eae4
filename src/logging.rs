//! tracing goes to a daily-rotated file in the XDG state dir, never to the terminal: the console
//! draws on that terminal, and a service's stdout is for humans reading `systemctl status`.
//! Log lines name records, people and errors, so the folder is 0700 and each file 0600.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
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
    #[error(
        "cannot make {path} owner-only: {source}; check who owns it (`ls -ld {path}`) and run ghlsync as that user"
    )]
    Permissions {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
    owner_only(dir)?;
    let today = chrono::Utc::now().date_naive();
    // The appender opens today's file as soon as it is built: it must exist, 0600, first.
    prepare_day(dir, today)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(LOG_PREFIX)
        .filename_suffix(LOG_SUFFIX)
        .max_log_files(14)
        .build(dir)
        .map_err(|err| LoggingError::Appender {
            dir: dir.to_path_buf(),
            message: err.to_string(),
        })?;
    let (writer, guard) = non_blocking(OwnerOnlyDays {
        inner: appender,
        dir: dir.to_path_buf(),
        day: today,
    });
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

/// The log folder 0700, and any log file already in it 0600 (from a version that left them
/// group-readable).
fn owner_only(dir: &Path) -> Result<(), LoggingError> {
    let restrict = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
            LoggingError::Permissions {
                path: path.to_path_buf(),
                source,
            }
        })
    };
    restrict(dir, 0o700)?;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(LOG_PREFIX) && name.ends_with(LOG_SUFFIX) && path.is_file() {
            restrict(&path, 0o600)?;
        }
    }
    Ok(())
}

const LOG_PREFIX: &str = "ghlsync";
const LOG_SUFFIX: &str = "log";

/// The file the daily appender writes on `day` (UTC, its naming): created 0600 if absent,
/// made 0600 if it is not.
fn prepare_day(dir: &Path, day: chrono::NaiveDate) -> Result<(), LoggingError> {
    let path = dir.join(format!(
        "{LOG_PREFIX}.{}.{LOG_SUFFIX}",
        day.format("%Y-%m-%d")
    ));
    let permissions = |source| LoggingError::Permissions {
        path: path.clone(),
        source,
    };
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .map_err(permissions)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(permissions)
}

/// The rolling appender, with each new day's file made 0600 before its first line: the
/// appender creates files with the process's umask. A line written in the instant between
/// the day changing here and in the appender lands in a file made 0600 by the next line;
/// the folder is 0700 all along.
struct OwnerOnlyDays {
    inner: tracing_appender::rolling::RollingFileAppender,
    dir: PathBuf,
    day: chrono::NaiveDate,
}

impl std::io::Write for OwnerOnlyDays {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let today = chrono::Utc::now().date_naive();
        if today != self.day {
            // A file that cannot be prepared is still written by the appender: losing the
            // log would hide more than a mode that the 0700 folder covers.
            let _ = prepare_day(&self.dir, today);
            self.day = today;
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_folder_is_0700_and_every_log_file_0600_old_ones_too() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("logs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let old = dir.join("ghlsync.2020-01-01.log");
        std::fs::write(&old, "old\n").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        // What `init_with` does before the appender opens today's file (`init` itself would
        // install the process's subscriber; tests/secrets.rs checks it through the binary).
        owner_only(&dir).unwrap();
        prepare_day(&dir, chrono::Utc::now().date_naive()).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&old), 0o600);
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(files.len(), 2, "{files:?}");
        for file in files {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[test]
    fn a_new_day_s_file_is_0600_before_its_first_line() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().to_path_buf();
        let today = chrono::Utc::now().date_naive();
        let yesterday = today.pred_opt().unwrap();
        prepare_day(&dir, yesterday).unwrap();
        let inner = tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(LOG_PREFIX)
            .filename_suffix(LOG_SUFFIX)
            .build(&dir)
            .unwrap();
        let mut writer = OwnerOnlyDays {
            inner,
            dir: dir.clone(),
            day: yesterday,
        };
        writer.write_all(b"a line\n").unwrap();
        writer.flush().unwrap();
        let todays = dir.join(format!("ghlsync.{}.log", today.format("%Y-%m-%d")));
        assert_eq!(mode(&todays), 0o600);
        assert_eq!(std::fs::read_to_string(&todays).unwrap(), "a line\n");
        assert_eq!(writer.day, today);
    }
}
