//! Driving the real `ghlsync` binary against a sandbox: a config and secrets file in a temporary
//! home, and the `sync` command with that home's XDG dirs (logs go there, never to the terminal).
#![allow(dead_code)]

use super::Harness;
use super::oracle::EndState;
use super::scenario::Scenario;
use super::sync::{Routes, sandbox_writes};
use ghlsync::config::secrets::Secrets;
use ghlsync::store::{OpState, Store};
use std::path::{Path, PathBuf};

/// A sandbox of the scenario's seed made ready for the binary: its state before any sync, the
/// scenario's picks, and a home whose config puts what waits on the retry ladder due at the
/// next run (convergence needs no person).
pub struct BinaryRig {
    pub baseline: EndState,
    pub scenario: Scenario,
    pub home: tempfile::TempDir,
    pub config: PathBuf,
    pub store_path: PathBuf,
}

impl BinaryRig {
    pub async fn start(h: &Harness, rounds: usize) -> BinaryRig {
        h.create_mapping_fields(None).await;
        h.admin_post("repsly/settings", serde_json::json!({"importDelayMs": 0}))
            .await;
        let baseline = EndState::capture(h).await;
        let scenario = Scenario::plan(h, rounds).await;
        let home = tempfile::tempdir().unwrap();
        let config = write_config(h, home.path(), "retry_ladder = [\"1ms\"]");
        let store_path = home.path().join("store");
        BinaryRig {
            baseline,
            scenario,
            home,
            config,
            store_path,
        }
    }
}

/// What `ghlsync sandbox --write-config` writes, with faster import polling, the store in
/// `home`, and `sync` (TOML lines) under `[peers.repsly.sync]`.
pub fn write_config(h: &Harness, home: &Path, sync: &str) -> PathBuf {
    let s = &h.sandbox;
    let quote = |text: &str| toml::Value::String(text.to_string()).to_string();
    let text = format!(
        "[ghl]\nbase_url = {}\nlocation_id = {}\nauth = \"private-token\"\n\n\
         [store]\npath = {}\n\n\
         [peers.repsly.connection]\nbase_url = {}\nusername = {}\n\
         min_request_interval_ms = 0\nimport_poll_interval_ms = 5\n\
         schedule_window_days_back = {}\n\n\
         [peers.repsly.sync]\n{sync}\n",
        quote(&s.base_url),
        quote(&s.location_id),
        quote(&home.join("store").display().to_string()),
        quote(&s.repsly_base_url),
        quote(&s.repsly_username),
        super::sync::TEST_WINDOW_DAYS_BACK,
    );
    let path = home.join("ghlsync.toml");
    std::fs::write(&path, text).unwrap();
    let mut secrets = Secrets {
        ghl_token: Some(s.token.clone()),
        ..Secrets::default()
    };
    secrets.set_peer_secret("repsly", "password", s.repsly_password.clone());
    secrets.write(&home.join("secrets.toml")).unwrap();
    path
}

/// `ghlsync ARGS` with nothing of this machine's: an empty environment but PATH, and HOME and
/// the XDG dirs under `home`. Killed if dropped.
pub fn isolated(home: &Path, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .kill_on_drop(true);
    command
}

/// `ghlsync --config CFG sync` with an isolated HOME and XDG dirs.
pub fn sync_command(home: &Path, config: &Path) -> tokio::process::Command {
    let mut command = isolated(home, &["--config"]);
    command.arg(config).arg("sync");
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
