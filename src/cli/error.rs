use crate::config::ConfigError;
use crate::ghl::{ErrorClass, GhlError};
use crate::sandbox::SandboxError;

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
    /// backup line that fails its checks).
    #[error("{0}")]
    Damaged(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<GhlError> for CliError {
    fn from(err: GhlError) -> Self {
        CliError::Ghl(Box::new(err))
    }
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Config(_) => 3,
            CliError::Io { .. } | CliError::Sandbox(_) => 1,
            CliError::Damaged(_) => 12,
            CliError::Ghl(err) => match err.class() {
                ErrorClass::Auth => 4,
                ErrorClass::ScopeOrConfig => 5,
                ErrorClass::Validation => 6,
                ErrorClass::NotFound => 7,
                ErrorClass::RateLimited => 8,
                ErrorClass::Transient => 9,
                ErrorClass::Ambiguous => 10,
                ErrorClass::Decode => 11,
            },
        }
    }

    /// Prints the error for a person on stderr (JSON errors are printed by the `ghl` command).
    pub fn report(&self) {
        match self {
            CliError::Ghl(err) => eprintln!("error [{}]: {err}", err.class().as_str()),
            other => eprintln!("error: {other}"),
        }
    }
}
