//! Driving the real `ghlsync` binary against a sandbox: a config and secrets file in a temporary
//! home, and the `sync` command with that home's XDG dirs (logs go there, never to the terminal).
#![allow(dead_code)]

use super::Harness;
use super::sync::{Routes, sandbox_writes};
use ghlsync::config::secrets::Secrets;
use ghlsync::store::{OpState, Store};
use std::path::{Path, PathBuf};

/// What `ghlsync sandbox --write-config` writes, with faster import polling, the store in
/// `home`, and `sync` (TOML lines) under `[peers.repsly.sync]`.
pub fn write_config(h: &Harness, home: &Path, sync: &str) -> PathBuf {
    let s = &h.sandbox;
    let quote = |text: &str| toml::Value::String(text.to_string()).to_string();
    let text = format!(
        "[ghl]\nbase_url = {}\nlocation_id = {}\nauth = \"private-token\"\n\n\
         [store]\npath = {}\n\n\
         [peers.repsly.connection]\nbase_url = {}\nusername = {}\n\
         min_request_interval_ms = 0\nimport_poll_interval_ms = 5\n\n\
         [peers.repsly.sync]\n{sync}\n",
        quote(&s.base_url),
        quote(&s.location_id),
        quote(&home.join("store").display().to_string()),
        quote(&s.repsly_base_url),
        quote(&s.repsly_username),
    );
    let path = home.join("ghlsync.toml");
    std::fs::write(&path, text).unwrap();
    Secrets {
        ghl_token: Some(s.token.clone()),
        ghl_client_secret: None,
        repsly_password: Some(s.repsly_password.clone()),
    }
    .write(&home.join("secrets.toml"))
    .unwrap();
    path
}

/// `ghlsync --config CFG sync` with an isolated HOME and XDG dirs.
pub fn sync_command(home: &Path, config: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"));
    command
        .arg("--config")
        .arg(config)
        .arg("sync")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .kill_on_drop(true);
    command
}

/// `ghlsync sync`, fault-free, until a run succeeds, writes nothing and leaves nothing on the
/// retry ladder; the store is `home/store`. Returns the runs it took; panics after 25.
pub async fn sync_until_quiet(h: &Harness, home: &Path, config: &Path) -> usize {
    for runs in 1..=25 {
        let before = sandbox_writes(h, Routes::All).await;
        let out = sync_command(home, config).output().await.unwrap();
        let after = sandbox_writes(h, Routes::All).await;
        let store = Store::open(&home.join("store")).unwrap();
        let waiting = store
            .failed_queue()
            .unwrap()
            .iter()
            .any(|op| matches!(op.state, OpState::RetryScheduled { .. }));
        if out.status.success() && before == after && !waiting {
            return runs;
        }
    }
    panic!("no quiet run after 25 runs of the binary");
}
