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
use common::sync::{Routes, sandbox_writes};
use ghlsync::sandbox::SandboxOptions;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::Child;

const COLS: u16 = 120;
const ROWS: u16 = 30;
/// How long one step of the console may take before the test fails with the screen.
const STEP: Duration = Duration::from_secs(60);

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
        let mut tty = Tty::start(&home_path, &config_a, &runtime_path);
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

/// `ghlsync --config CFG console` in a pseudo-terminal, and the screen it draws.
struct Tty {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Tty {
    fn start(home: &Path, config: &Path, runtime: &Path) -> Tty {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_ghlsync"));
        cmd.args(["--config", &config.display().to_string(), "console"]);
        cmd.cwd(home);
        for (name, sub) in [
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_DATA_HOME", "data"),
            ("XDG_STATE_HOME", "state"),
            ("XDG_CACHE_HOME", "cache"),
        ] {
            cmd.env(name, home.join(sub));
        }
        cmd.env("HOME", home);
        cmd.env("XDG_RUNTIME_DIR", runtime);
        cmd.env("NO_COLOR", "1");
        cmd.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(cmd).expect("ghlsync starts");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let p = parser.clone();
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => lock(&p).process(&buf[..n]),
                }
            }
        });
        Tty {
            parser,
            writer,
            child,
        }
    }

    fn screen(&self) -> String {
        lock(&self.parser)
            .screen()
            .rows(0, COLS)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
        // A lone ESC must not merge with what follows into an Alt chord.
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait(&mut self, what: &str, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if test(&screen) {
                return screen;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the console exited ({status:?}) waiting for {what}; screen:\n{screen}");
            }
            assert!(
                start.elapsed() < STEP,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_exit(&mut self) {
        let start = Instant::now();
        while start.elapsed() < STEP {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "the console exited with {status:?}");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the console did not quit; screen:\n{}", self.screen());
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
