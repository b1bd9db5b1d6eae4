//! The release `ghlsync` as a process of a bench: its home in the bench's temp dir, and the
//! sandbox's announcement of its address. Shared by the benches that start processes
//! (`limits`, `locations`, `service`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ghlsync");

/// `ghlsync` with its logs, default paths and control sockets under `root`, not the user's home.
pub fn ghlsync(root: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("XDG_STATE_HOME", root.join("state"))
        .env("XDG_CONFIG_HOME", root.join("config"))
        .env("XDG_DATA_HOME", root.join("data"))
        .env("XDG_RUNTIME_DIR", root.join("runtime"))
        .stdin(Stdio::null());
    command
}

/// The base URL a `ghlsync sandbox` printed to `out` (its stdout), once it has (the config it
/// writes is written before); panics after `limit`.
pub fn sandbox_url(out: &Path, limit: Duration) -> String {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        if let Some(url) = text
            .lines()
            .find_map(|l| l.strip_prefix("GHL sandbox listening on "))
        {
            return url.trim().to_string();
        }
        assert!(
            started.elapsed() < limit,
            "the sandbox did not announce itself in {limit:?}: see {}",
            out.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
