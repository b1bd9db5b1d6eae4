//! The bench's processes: one `ghlsync sandbox` and one `ghlsync sync` per location.

use crate::Settings;
use crate::ghlsync_process::{ghlsync, sandbox_url};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

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
    let base_url = sandbox_url(&dir.join("sandbox.out"), Duration::from_secs(60));
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
