//! No secret leaks: a full sync of three peers (Repsly's password, Robly's query-string key, a
//! `rest` app's token and push signing secret) with the GHL token and an alerts webhook URL,
//! under injected faults, then every reading command; none of the secret values, nor their
//! first or last 12 characters, appear in any command's output, the log files, the store's
//! export or backup, nor on any console screen drawn headless. Files holding secrets, the
//! store, backups and logs are owner-only. `--read-only` is refused with a subcommand (it is the
//! console's flag), and the console's read-only engine handle refuses every write itself.
//!
//! `leaks.rs` holds what every test shares (the home with known secrets, the needles);
//! `commands.rs` runs the CLI, `service.rs` a running `ghlsync run`, `console.rs` the screens.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod commands;
#[path = "../common/mod.rs"]
mod common;
mod console;
mod leaks;
mod service;
