//! The bench's processes: one `ghlsync sandbox` and one `ghlsync sync` per location.

use crate::{BIN, Settings};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One location: its sandbox process, its engine process, and where they keep their files.
pub struct Location {
    pub dir: PathBuf,
    pub base_url: String,
    pub sandbox: Child,
    pub engine: Option<Child>,
}

impl Drop for Location {
    /// Also on a panic: no sandbox or engine outlives the bench.
    fn drop(&mut self) {
        for child in self.engine.iter_mut().chain([&mut self.sandbox]) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ghlsync(xdg: &Path) -> Command {
    let mut command = Command::new(BIN);
    // Logs and any default paths go to the bench's temp dir, not the user's home.
    command
        .env("XDG_STATE_HOME", xdg.join("state"))
        .env("XDG_CONFIG_HOME", xdg.join("config"))
        .env("XDG_DATA_HOME", xdg.join("data"))
        .stdin(Stdio::null());
    command
}

pub fn start_sandbox(root: &Path, index: usize, s: &Settings) -> Location {
    let dir = root.join(format!("location-{index}"));
    std::fs::create_dir_all(&dir).expect("location dir");
    let out = std::fs::File::create(dir.join("sandbox.out")).expect("sandbox.out");
    let err = std::fs::File::create(dir.join("sandbox.err")).expect("sandbox.err");
    let sandbox = ghlsync(root)
        .args(["sandbox", "--contacts", &s.contacts.to_string()])
        .args([
            "--rate-limit",
            &s.limit,
            "--seed",
            &(42 + index).to_string(),
        ])
        .arg("--write-config")
        .arg(dir.join("ghlsync.toml"))
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("ghlsync sandbox starts");
    // The announcement is printed after the config is written.
    let started = Instant::now();
    let base_url = loop {
        let text = std::fs::read_to_string(dir.join("sandbox.out")).unwrap_or_default();
        if let Some(url) = text
            .lines()
            .find_map(|l| l.strip_prefix("GHL sandbox listening on "))
        {
            break url.trim().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "sandbox {index} did not announce itself in 60 s: see {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    Location {
        dir,
        base_url,
        sandbox,
        engine: None,
    }
}

pub fn start_engine(root: &Path, location: &mut Location) {
    let out = std::fs::File::create(location.dir.join("sync.out")).expect("sync.out");
    let err = std::fs::File::create(location.dir.join("sync.err")).expect("sync.err");
    let engine = ghlsync(root)
        .arg("--config")
        .arg(location.dir.join("ghlsync.toml"))
        .args(["sync", "--json"])
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("ghlsync sync starts");
    location.engine = Some(engine);
}
