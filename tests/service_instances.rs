//! Two locations on one machine: two sandboxes (two GHL locations), two real `ghlsync run`
//! processes sharing one XDG runtime dir, each with its own `[service] instance` and store.
//! Each gets its own socket there (0600 in a 0700 folder); `status` attaches to the service
//! of the config it is given; `sync --contact` through service A writes to A's sandbox and
//! nothing to B's, and `sync --peer` through B the other way round; the console (in a real pseudo-terminal) lists both with `:ctx` and,
//! switched, shows B's location. Both stop on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use common::binary::{isolated, write_config};
use common::pty::Tty;
use common::sync::{Routes, sandbox_writes};
use ghlsync::sandbox::SandboxOptions;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Child;

/// One location: its sandbox, its home (config, secrets, store, log) and its service.
struct Location {
    h: Harness,
    home: tempfile::TempDir,
    config: PathBuf,
    instance: &'static str,
}

impl Location {
    async fn start(seed: u64, instance: &'static str) -> Location {
        let h = Harness::with_options(SandboxOptions {
            seed,
            contacts: 20,
            rate_limit: None,
            daily_limit: None,
            ..SandboxOptions::default()
        })
        .await;
        h.create_mapping_fields(None).await;
        h.admin_post("repsly/settings", serde_json::json!({"importDelayMs": 0}))
            .await;
        let home = tempfile::tempdir().unwrap();
        let config = write_config(&h, home.path(), "retry_ladder = [\"1ms\"]");
        // No scheduled runs: every write in this test is one the test asked for.
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(&format!(
            "\n[service]\ninstance = \"{instance}\"\n\n[service.schedule]\nall = \"off\"\n"
        ));
        std::fs::write(&config, text).unwrap();
        Location {
            h,
            home,
            config,
            instance,
        }
    }

    fn config(&self) -> String {
        self.config.display().to_string()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("run.log")).unwrap_or_default()
    }

    fn run(&self, runtime: &Path) -> Child {
        let log = std::fs::File::create(self.home.path().join("run.log")).unwrap();
        isolated(self.home.path(), &["--config", &self.config(), "run"])
            .env("XDG_RUNTIME_DIR", runtime)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap()
    }

    /// `ghlsync --config THIS ARGS` with the shared runtime dir: (stdout, stderr).
    async fn cli(&self, runtime: &Path, args: &[&str]) -> (String, String) {
        let mut all = vec!["--config", self.config.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = isolated(self.home.path(), &all)
            .env("XDG_RUNTIME_DIR", runtime)
            .output()
            .await
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        );
        assert!(
            out.status.success(),
            "ghlsync {args:?} failed: {stderr}\nservice log:\n{}",
            self.log()
        );
        (stdout, stderr)
    }

    async fn wait_started(&self) {
        for _ in 0..600 {
            if self.log().contains("ghlsync run: started") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} never started; its log:\n{}", self.instance, self.log());
    }
}

fn rows(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map.values().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A GHL contact of the sandbox with a company and an email no Repsly client has: a sync of
/// it alone creates it in Repsly. (Its id, its email.)
async fn new_ghl_contact(h: &Harness) -> (String, String) {
    let dump = h.dump().await;
    let peer_emails: Vec<String> = rows(&dump["repsly"]["clients"])
        .iter()
        .filter_map(|c| c["Email"].as_str().map(|e| e.trim().to_lowercase()))
        .collect();
    rows(&dump["ghl"]["contacts"])
        .iter()
        .find_map(|c| {
            let email = c["email"].as_str()?.trim().to_lowercase();
            let company = c["companyName"].as_str().unwrap_or_default();
            (email.contains('@') && !company.is_empty() && !peer_emails.contains(&email))
                .then(|| (c["id"].as_str().unwrap_or_default().to_string(), email))
        })
        .expect("the seed has a GHL contact Repsly does not know")
}

async fn repsly_has_email(h: &Harness, email: &str) -> bool {
    // Imports are asynchronous in the sandbox: let accepted ones finish first.
    for _ in 0..200 {
        let dump = h.dump().await;
        if dump["repsly"]["pendingImportJobs"].as_u64() == Some(0) {
            return rows(&dump["repsly"]["clients"]).iter().any(|c| {
                c["Email"]
                    .as_str()
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(email))
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the sandbox's Repsly imports never finished");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn signal(child: &Child, signal: i32) {
    let pid = child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_locations_two_services_separate_sockets_and_the_console_switches() {
    let a = Location::start(11, "alpha").await;
    let b = Location::start(22, "bravo").await;
    assert_ne!(a.h.sandbox.location_id, b.h.sandbox.location_id);
    let runtime_dir = tempfile::tempdir().unwrap();
    let runtime = runtime_dir.path();
    let mut service_a = a.run(runtime);
    let mut service_b = b.run(runtime);
    a.wait_started().await;
    b.wait_started().await;

    // One socket each, in one folder only this user can enter.
    let sockets = runtime.join("ghlsync");
    assert_eq!(mode(&sockets), 0o700, "the socket folder");
    for name in ["alpha", "bravo"] {
        let socket = sockets.join(format!("{name}.sock"));
        assert_eq!(mode(&socket), 0o600, "{}", socket.display());
    }

    // `status` attaches to the service of the config it is given.
    let mut seen = Vec::new();
    for location in [&a, &b] {
        let (stdout, stderr) = location.cli(runtime, &["status", "--json"]).await;
        assert!(
            stderr.contains(&format!("attached to ghlsync run {}", location.instance)),
            "{stderr}"
        );
        let status: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            status["location_id"],
            location.h.sandbox.location_id.as_str()
        );
        assert_eq!(status["service"]["instance"], location.instance);
        let store = status["store_path"].as_str().unwrap().to_string();
        assert!(
            store.starts_with(&location.home.path().display().to_string()),
            "{store}"
        );
        seen.push(store);
    }
    assert_ne!(seen[0], seen[1], "one store each");

    // One contact now, through service A: A's Repsly gets it, B's sandbox sees no write.
    let (contact, email) = new_ghl_contact(&a.h).await;
    let b_writes = sandbox_writes(&b.h, Routes::All).await;
    let a_writes = sandbox_writes(&a.h, Routes::All).await;
    assert!(!repsly_has_email(&a.h, &email).await);
    let (stdout, stderr) = a
        .cli(runtime, &["sync", "--contact", &contact, "--json"])
        .await;
    assert!(stderr.contains("attached to ghlsync run alpha"), "{stderr}");
    let reports: Value = serde_json::from_str(&stdout).unwrap();
    let counts = &reports[0]["run"]["counts"];
    let written: u64 = counts
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, _)| key.ends_with("/ok"))
        .filter_map(|(_, n)| n.as_u64())
        .sum();
    assert!(written >= 1, "the contact was not written: {stdout}");
    eprintln!("sync --contact {contact} through alpha: {counts}");
    assert!(repsly_has_email(&a.h, &email).await, "A's Repsly has it");
    assert!(sandbox_writes(&a.h, Routes::All).await > a_writes);
    assert_eq!(
        sandbox_writes(&b.h, Routes::All).await,
        b_writes,
        "nothing reached B's sandbox"
    );
    // The service wrote it: its store (not one of this process) recorded the run.
    let (stdout, _) = a.cli(runtime, &["status", "--json"]).await;
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        rows(&status["last_runs"])
            .iter()
            .any(|run| run["trigger"] == "contact"),
        "{stdout}"
    );

    // One peer now, through service B: B's sandbox is written, A's is not.
    let a_writes = sandbox_writes(&a.h, Routes::All).await;
    let (stdout, stderr) = b
        .cli(runtime, &["sync", "--peer", "repsly", "--json"])
        .await;
    assert!(stderr.contains("attached to ghlsync run bravo"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["run"]["peer"], "repsly", "{stdout}");
    assert!(sandbox_writes(&b.h, Routes::All).await > b_writes);
    assert_eq!(sandbox_writes(&a.h, Routes::All).await, a_writes);

    // The console, attached to A, lists both services and switches to B.
    let console_home = tempfile::tempdir().unwrap();
    let (config_a, runtime_path) = (a.config.clone(), runtime.to_path_buf());
    let (location_a, location_b) = (
        a.h.sandbox.location_id.clone(),
        b.h.sandbox.location_id.clone(),
    );
    let home_path = console_home.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut tty = Tty::console(&home_path, &config_a, &runtime_path);
        tty.wait("attached to alpha, its location", |s| {
            s.contains("svc alpha") && s.contains(&location_a)
        });
        tty.send(b":ctx\r");
        tty.wait("the picker lists both services", |s| {
            s.contains("Services on this host") && s.contains("alpha") && s.contains("bravo")
        });
        tty.send(b"\x1b");
        tty.send(b":ctx bravo\r");
        let screen = tty.wait("switched to bravo, B's location", |s| {
            s.contains("svc bravo") && s.contains(&location_b)
        });
        assert!(!screen.contains(&location_a), "{screen}");
        eprintln!(
            "after :ctx bravo:\n{}",
            screen.lines().take(3).collect::<Vec<_>>().join("\n")
        );
        tty.send(b"q");
        tty.wait_exit();
    })
    .await
    .unwrap();

    for (service, location) in [(&mut service_a, &a), (&mut service_b, &b)] {
        signal(service, libc::SIGTERM);
        let exit = tokio::time::timeout(Duration::from_secs(30), service.wait())
            .await
            .expect("the service drains within its drain time")
            .unwrap();
        assert!(exit.success(), "exit {exit:?}; log:\n{}", location.log());
    }
    for name in ["alpha", "bravo"] {
        assert!(
            !sockets.join(format!("{name}.sock")).exists(),
            "{name}'s socket is removed on exit"
        );
    }

    // No service: `sync --contact` runs in this process, over A's store.
    let (contact, email) = new_ghl_contact(&a.h).await;
    let (stdout, stderr) = a.cli(runtime, &["sync", "--contact", &contact]).await;
    assert!(!stderr.contains("attached"), "{stderr}");
    assert!(stdout.contains("create     ok"), "{stdout}");
    assert!(repsly_has_email(&a.h, &email).await);
    // A peer id nothing links, and flags a single contact does not take, are refused.
    let out = isolated(
        a.home.path(),
        &["--config", &a.config(), "sync", "--contact", "peer:NO-SUCH"],
    )
    .env("XDG_RUNTIME_DIR", runtime)
    .output()
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("linked to no GHL contact"), "{stderr}");
    let out = isolated(
        a.home.path(),
        &[
            "--config",
            &a.config(),
            "sync",
            "--contact",
            "x",
            "--dry-run",
        ],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
}
