//! The control socket of `ghlsync run`: the `EngineHandle` protocol over a Unix domain socket,
//! so `console`, `status`, `failures`, `log --follow` and `sync` drive a running service with
//! the code they use in process.
//!
//! - `frame.rs`: length-delimited JSON frames and the handshake (`Hello` → `Welcome`/`Refused`);
//! - `server.rs`: `serve` — the socket (0600, in a 0700 folder), one task per client, peer uid
//!   checked, every engine event forwarded to every client;
//! - `client.rs`: `connect` — an `EngineHandle` whose calls go over the socket, which says when
//!   the service is lost (`Event::Connection`) and reconnects;
//! - `paths.rs`: where an instance's socket lives, and the instances on this host.

pub mod client;
pub mod frame;
pub mod paths;
pub mod server;

pub use client::{ServerInfo, attach, attach_as, connect};
pub use frame::PROTOCOL;
pub use paths::{Instance, default_path, list_instances, socket_path};
pub use server::{SocketServer, serve};

use std::path::PathBuf;

/// Everything that can go wrong with the control socket, each with what to do.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the socket folder {} is open to other users (mode {mode:o}); anyone there could reach the service. Run `chmod 700 {}` and start again",
        path.display(),
        path.display()
    )]
    OpenFolder { path: PathBuf, mode: u32 },
    #[error(
        "the socket folder {} belongs to uid {owner}, not to this user (uid {me}); remove it (as its owner) or point [service] socket at a folder of your own",
        path.display()
    )]
    ForeignFolder { path: PathBuf, owner: u32, me: u32 },
    #[error(
        "ghlsync run {instance} (pid {pid}) already serves {}; stop it first (`systemctl stop ghlsync@{instance}` or `kill {pid}`), or give this one another [service] instance",
        path.display()
    )]
    InUse {
        path: PathBuf,
        instance: String,
        pid: u32,
    },
    #[error(
        "something answers on {} but does not speak ghlsync's protocol; stop whatever listens there, or set [service] socket to another path",
        path.display()
    )]
    Squatted { path: PathBuf },
    #[error(
        "no ghlsync service answers on {} (is the service started? ghlsync run, or systemctl start ghlsync@<instance>)",
        path.display()
    )]
    NotRunning { path: PathBuf },
    #[error("the service at {} refused this client: {reason}", path.display())]
    Refused { path: PathBuf, reason: String },
    #[error("the control socket {}: {message}", path.display())]
    Protocol { path: PathBuf, message: String },
    #[error(
        "[service] instance = {name:?} cannot name a socket: use letters, digits, '-', '_' and '.' (not first), at most 64"
    )]
    BadInstance { name: String },
    #[error(transparent)]
    Dirs(#[from] crate::config::ConfigError),
}

impl SocketError {
    fn io(what: &'static str, path: &std::path::Path, source: std::io::Error) -> SocketError {
        SocketError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// This process's effective uid: the only user a socket answers.
fn my_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
