use crate::config::ConfigError;
use crate::ghl::GhlError;
use crate::net::ErrorClass;
use crate::sandbox::SandboxError;
use crate::store::StoreError;
use std::io::Write;

/// A failed command. `exit_code` is part of the CLI contract (see README "Exit codes").
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Boxed: a classified GHL error carries its request context and would bloat every `Result`.
    #[error(transparent)]
    Ghl(Box<GhlError>),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error("{0}")]
    Usage(String),
    /// The store, or a backup of it, holds something it should not (`store verify` findings, a
    /// backup line that fails its checks, a value that does not decode).
    #[error("{0}")]
    Damaged(String),
    /// A failure known by its class name (the engine's `Reply::Error`, a mapping's "config"):
    /// the exit code follows the class, as for a GHL error of that class.
    #[error("{message}")]
    Classed { class: String, message: String },
    /// The store could not be opened or written (not damage: a lock held by another process, a
    /// permission, a full disk). The message says what to do.
    #[error("{0}")]
    Store(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A full disk, in words: the raw `os error 28` says nothing to most people.
    #[error(
        "{context}: no space left on device. Free some space on that disk (or write somewhere else) and run the command again"
    )]
    DiskFull { context: String },
    /// Whoever read our output went away (`| head`): not a failure, nothing to report.
    #[error("stdout was closed")]
    ClosedPipe,
}

impl From<GhlError> for CliError {
    fn from(err: GhlError) -> Self {
        CliError::Ghl(Box::new(err))
    }
}

impl From<StoreError> for CliError {
    fn from(err: StoreError) -> Self {
        if let Some(context) = disk_full_context(&err) {
            return CliError::DiskFull { context };
        }
        match err {
            StoreError::Io { context, source } => CliError::io(context, source),
            // A backup without its end line may be an old one (the flag restores it), but may
            // as well be cut short: damaged until shown otherwise.
            StoreError::BadBackup { .. }
            | StoreError::NoTrailer { .. }
            | StoreError::RestoredDamaged { .. }
            | StoreError::Corrupt { .. } => CliError::Damaged(err.to_string()),
            other => CliError::Store(other.to_string()),
        }
    }
}

/// The exit code of an error class, by the name the engine and GHL errors use. The one
/// place the README's exit-code table lives in code.
pub fn exit_code_for_class(class: &str) -> i32 {
    match class {
        "auth" => 4,
        "scope_or_config" => 5,
        "validation" => 6,
        "not_found" => 7,
        "rate_limited" => 8,
        // "stopping": a service draining (SIGTERM) refused a write; run it again once it is back.
        "transient" | "stopping" => 9,
        "ambiguous" => 10,
        "decode" => 11,
        "damaged" => 12,
        "config" => 3,
        "usage" => 2,
        // "store" and anything unforeseen: an I/O failure of ours.
        _ => 1,
    }
}

impl CliError {
    /// An I/O failure: a closed pipe and a full disk are told apart from the rest.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> CliError {
        let context = context.into();
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::ClosedPipe
        } else if is_disk_full(&source) {
            CliError::DiskFull { context }
        } else {
            CliError::Io { context, source }
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::ClosedPipe => 0,
            CliError::Usage(_) => exit_code_for_class("usage"),
            CliError::Config(_) => exit_code_for_class("config"),
            CliError::Io { .. } | CliError::DiskFull { .. } | CliError::Store(_) => 1,
            CliError::Sandbox(_) => 1,
            CliError::Damaged(_) => exit_code_for_class("damaged"),
            CliError::Classed { class, .. } => exit_code_for_class(class),
            CliError::Ghl(err) => class_code(err.class()),
        }
    }

    /// The class name scripts see (`--json` errors), matching `exit_code`.
    pub fn class_name(&self) -> &str {
        match self {
            CliError::Ghl(err) => err.class().as_str(),
            CliError::Classed { class, .. } => class,
            CliError::Config(_) => "config",
            CliError::Usage(_) => "usage",
            CliError::Damaged(_) => "damaged",
            CliError::DiskFull { .. } | CliError::Io { .. } | CliError::ClosedPipe => "io",
            CliError::Store(_) => "store",
            CliError::Sandbox(_) => "sandbox",
        }
    }

    /// Prints the error for a person on stderr, once. A closed stderr is ignored: there is no
    /// one left to tell, and `eprintln!` would panic.
    pub fn report(&self) {
        let text = match self {
            CliError::ClosedPipe => return,
            CliError::Ghl(err) => format!("error [{}]: {err}", err.class().as_str()),
            CliError::Classed { class, message } => format!("error [{class}]: {message}"),
            other => format!("error: {other}"),
        };
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

impl CliError {
    /// Prints the error once on stderr as one JSON line, for `--json`: what a script needs to
    /// decide (`class` matches the exit code; a GHL error adds its request).
    pub fn report_json(&self) {
        if matches!(self, CliError::ClosedPipe) {
            return;
        }
        let error = match self {
            CliError::Ghl(err) => serde_json::json!({
                "class": err.class().as_str(),
                "status": err.status(),
                "method": err.method(),
                "path": err.path(),
                "traceId": err.trace_id(),
                "message": err.to_string(),
            }),
            other => serde_json::json!({
                "class": other.class_name(),
                "message": other.to_string(),
            }),
        };
        let line = serde_json::json!({ "error": error });
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

fn class_code(class: ErrorClass) -> i32 {
    exit_code_for_class(class.as_str())
}

fn is_disk_full(err: &std::io::Error) -> bool {
    err.kind() == std::io::ErrorKind::StorageFull || err.raw_os_error() == Some(28)
}

/// sled reports a full disk as its own I/O error; find it wherever the store wrapped it.
fn disk_full_context(err: &StoreError) -> Option<String> {
    match err {
        StoreError::Io { context, source } if is_disk_full(source) => Some(context.clone()),
        StoreError::Sled(sled::Error::Io(source)) if is_disk_full(source) => {
            Some("writing the store".into())
        }
        StoreError::Open {
            path,
            source: sled::Error::Io(source),
        } if is_disk_full(source) => Some(format!("opening the store at {}", path.display())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_the_readme_code() {
        for (class, code) in [
            (ErrorClass::Auth, 4),
            (ErrorClass::ScopeOrConfig, 5),
            (ErrorClass::Validation, 6),
            (ErrorClass::NotFound, 7),
            (ErrorClass::RateLimited, 8),
            (ErrorClass::Transient, 9),
            (ErrorClass::Ambiguous, 10),
            (ErrorClass::Decode, 11),
        ] {
            assert_eq!(class_code(class), code, "{class:?}");
        }
        assert_eq!(exit_code_for_class("config"), 3);
        assert_eq!(exit_code_for_class("store"), 1);
    }

    #[test]
    fn a_full_disk_and_a_closed_pipe_are_named() {
        let full = CliError::io("writing x", std::io::Error::from_raw_os_error(28));
        assert!(
            full.to_string().contains("no space left on device"),
            "{full}"
        );
        assert_eq!(full.exit_code(), 1);
        let closed = CliError::io("w", std::io::ErrorKind::BrokenPipe.into());
        assert!(matches!(closed, CliError::ClosedPipe));
        assert_eq!(closed.exit_code(), 0);
    }
}
