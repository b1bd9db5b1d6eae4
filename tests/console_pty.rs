//! End to end in a real pseudo-terminal, with no external program: `portable-pty` runs
//! `ghlsync console --ephemeral` at 80×24 with NO_COLOR and its XDG dirs in a temp dir, and
//! `vt100` keeps the screen it draws. The walkthrough is the issue's: demo mode starts, the first
//! failures arrive, one is opened, the mapping is fixed in the editor (typed and pasted with
//! bracketed paste), the failure's reason group is retried, the record's `ok` shows in the sync log,
//! and quitting leaves the terminal as it was (main screen, cursor shown). On the way it checks
//! that the status screen refreshes every second and that the console idles at no CPU elsewhere.
//!
//! The failure is a GHL contact without a company: Repsly requires a `Name`, and the built-in
//! mapping fills it from `companyName` only. The fix (as in `tests/sync_e2e.rs`) makes the
//! two-way Name rule one-way to GHL and adds a GHL → peer rule that falls back to the person's
//! name. (A `default` transform on the two-way rule would not do: it applies peer → GHL only.)
//!
//! Every step waits for what a person would see, polling the screen, up to `STEP` each; a step
//! that does not happen fails with the screen printed.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(90);
const COLS: u16 = 80;
const ROWS: u16 = 24;

struct Tty {
    parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte the console wrote, to check what it sent last.
    bytes: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    started: Instant,
    dirs: tempfile::TempDir,
}

impl Tty {
    fn start() -> Tty {
        let dirs = tempfile::tempdir().expect("temp dir");
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_ghlsync"));
        // Repsly alone: the walkthrough fixes Repsly's mapping (the demo's other peers are
        // tests/peers.rs's).
        cmd.args(["console", "--ephemeral", "--demo-peers", "repsly"]);
        cmd.cwd(dirs.path());
        let root = dirs.path();
        for (name, sub) in [
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_DATA_HOME", "data"),
            ("XDG_STATE_HOME", "state"),
            ("XDG_CACHE_HOME", "cache"),
        ] {
            cmd.env(name, root.join(sub));
        }
        cmd.env("HOME", root);
        cmd.env("NO_COLOR", "1");
        cmd.env("TERM", "xterm-256color");
        // A smaller seed: the first sync takes seconds instead of a minute and more.
        cmd.env("GHLSYNC_DEMO_CONTACTS", "200");
        let child = pty.slave.spawn_command(cmd).expect("ghlsync starts");
        // Only the child holds the terminal's slave side now, so its exit ends our reads.
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (p, b) = (parser.clone(), bytes.clone());
        std::thread::spawn(move || {
            // Keeps the master open as long as the reader runs.
            let _master = pty.master;
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        lock(&p).process(&buf[..n]);
                        lock(&b).extend_from_slice(&buf[..n]);
                    }
                }
            }
        });
        Tty {
            parser,
            bytes,
            writer,
            child,
            started: Instant::now(),
            dirs,
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
        // A lone ESC must not merge with what follows into an Alt chord or a sequence.
        std::thread::sleep(Duration::from_millis(120));
    }

    fn keys(&mut self, keys: &[&str]) {
        for key in keys {
            let bytes: &[u8] = match *key {
                "Enter" => b"\r",
                "Esc" => b"\x1b",
                "Down" => b"\x1b[B",
                "Home" => b"\x1b[H",
                "End" => b"\x1b[F",
                "Backspace" => b"\x7f",
                "C-s" => b"\x13",
                text => text.as_bytes(),
            };
            self.send(bytes);
        }
    }

    /// A bracketed paste, as a terminal delivers one.
    fn paste(&mut self, text: &str) {
        let mut bytes = b"\x1b[200~".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(b"\x1b[201~");
        self.send(&bytes);
    }

    /// Waits until the screen satisfies `test`; fails with the screen after `STEP`.
    fn wait(&mut self, what: &str, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if test(&screen) {
                eprintln!(
                    "[{:>5.1}s] {what} ({:.1}s)",
                    self.started.elapsed().as_secs_f64(),
                    start.elapsed().as_secs_f64()
                );
                return screen;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("ghlsync exited ({status:?}) waiting for {what}; screen:\n{screen}");
            }
            assert!(
                start.elapsed() < STEP,
                "timed out after {STEP:?} waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        // A failed step leaves the console running: end it (it is our own child).
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The share of one core the console used over `window` (Linux: /proc), `None` elsewhere.
fn cpu_share(tty: &Tty, window: Duration) -> Option<f64> {
    let pid = tty.child.process_id()?;
    let ticks = || -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) end with ')'.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ')'.
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    };
    let start = ticks()?;
    std::thread::sleep(window);
    let end = ticks()?;
    // The kernel counts in USER_HZ, 100 a second on Linux.
    Some((end - start) as f64 / 100.0 / window.as_secs_f64())
}

/// The number after "failures" in the header.
fn header_failures(screen: &str) -> usize {
    screen
        .lines()
        .next()
        .and_then(|line| line.split("failures").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The source id on the failure popup's `ids  SOURCE → TARGET` line.
fn popup_source_id(screen: &str) -> Option<String> {
    let line = screen.lines().find(|line| line.contains(" ids "))?;
    let after = line.split(" ids ").nth(1)?;
    after.split_whitespace().next().map(str::to_string)
}

/// The 0-based line of the Name rule's `direction = "both"` in the built-in mapping.
fn name_rule_direction_line() -> usize {
    let text = ghlsync::sync::mapping::Mapping::builtin_text("repsly").expect("built-in mapping");
    let lines: Vec<&str> = text.lines().collect();
    let name = lines
        .iter()
        .position(|line| line.starts_with("peer = \"Name\""))
        .expect("the Name rule");
    let offset = lines[name..]
        .iter()
        .position(|line| line.trim() == "direction = \"both\"")
        .expect("the Name rule's direction");
    assert!(offset <= 3, "direction belongs to the Name rule");
    assert_eq!(lines[name + offset + 1].trim(), "authority = \"peer\"");
    assert_eq!(lines[name + offset + 2].trim(), "transforms = [\"trim\"]");
    name + offset
}

/// Fixes the mapping in the editor, typed and pasted as a person would: the Name rule becomes
/// one-way to GHL, its authority (two-way only) is commented out, and GHL → peer gets its own
/// Name rule falling back to the person's name. Leaves the editor open, modified and valid.
fn fix_the_name_rule(tty: &mut Tty, direction_line: usize) {
    tty.keys(&["5"]);
    tty.wait("the mapping, checked", |s| {
        s.contains("┌ Mapping") && s.contains("✓ valid")
    });
    tty.keys(&["e"]);
    tty.wait("editing", |s| s.contains("EDITING"));
    tty.send(&b"\x1b[B".repeat(direction_line));
    tty.keys(&["End"]);
    tty.send(&b"\x7f".repeat("\"both\"".len()));
    tty.send(b"\"to_ghl\"");
    tty.keys(&["Down", "Home", "# "]);
    tty.keys(&["Down", "End"]);
    tty.paste(
        "\n\n[[contact.field]]\npeer = \"Name\"\nghl = [\"companyName\", \"firstName\", \"lastName\"]\ndirection = \"to_peer\"\ntransforms = [{ join = \" \" }]",
    );
    tty.wait("a valid, modified mapping", |s| {
        s.contains("modified") && s.contains("✓ valid") && s.contains("to_peer")
    });
}

#[test]
fn demo_failure_fixed_in_the_editor_then_retried_to_ok_at_80x24() {
    let direction_line = name_rule_direction_line();
    let mut tty = Tty::start();
    tty.wait("the SANDBOX header", |s| s.contains("SANDBOX"));
    assert!(
        lock(&tty.parser).screen().alternate_screen(),
        "the console draws on the alternate screen"
    );
    tty.wait("the first failures", |s| header_failures(s) > 0);

    // Open a failure: the first one of a nameless GHL contact.
    tty.keys(&["7"]);
    tty.wait("the failures screen", |s| s.contains("┌ Failures"));
    let mut source = None;
    for _ in 0..40 {
        tty.keys(&["Enter"]);
        let popup = tty.wait("a failed operation", |s| s.contains("┌ Failure #"));
        // The message may wrap after "Name is" in the popup.
        if popup.contains("import/client: rejected: Name is") {
            source = popup_source_id(&popup);
            tty.keys(&["Esc"]);
            break;
        }
        tty.keys(&["Esc", "j"]);
    }
    let source = source.expect("a 'Name is required' failure with its GHL id");
    tty.wait("the popup closed", |s| !s.contains("┌ Failure #"));

    fix_the_name_rule(&mut tty, direction_line);
    tty.keys(&["C-s"]);
    tty.wait("the save confirmation", |s| s.contains("Save the mapping"));
    tty.keys(&["y"]);
    tty.wait("the saved version", |s| {
        s.contains("mapping saved as version")
    });

    // Retry the failure's reason group with the mapping now in force (R, confirmed).
    tty.keys(&["Esc", "7"]);
    tty.wait("the failures screen again", |s| s.contains("┌ Failures"));
    tty.keys(&["R"]);
    tty.wait("the retry confirmation", |s| {
        s.contains("Retry every failure of reason")
    });
    tty.keys(&["y"]);
    let screen = tty.wait("the retry report", |s| s.contains("retried:"));
    let succeeded: usize = screen
        .split("retried: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(succeeded > 0, "the fixed records went through:\n{screen}");

    // The sync log shows the record going through: filter on its id and outcome.
    tty.keys(&["6", "/"]);
    tty.send(format!("outcome:ok {source}").as_bytes());
    tty.keys(&["Enter"]);
    tty.wait("the record's ok in the sync log", |s| {
        s.contains(&format!("/outcome:ok {source}"))
            && s.lines().any(|line| {
                line.contains(" ok ") && line.contains("→peer") && line.contains(source.as_str())
            })
    });

    // Status refreshes every second while shown (the title carries the time of the last one)…
    tty.keys(&["Esc", "8"]);
    let first = tty.wait("the status screen, refreshed", |s| {
        s.contains("┌ Rate limit") && s.contains("· at ")
    });
    let stamp = |s: &str| {
        s.split("· at ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string)
    };
    let before = stamp(&first);
    tty.wait("the next refresh", |s| stamp(s) != before);
    // …and nothing ticks elsewhere: an idle console on the log costs (almost) no CPU.
    tty.keys(&["6"]);
    tty.wait("the sync log", |s| s.contains("┌ Sync log"));
    if let Some(busy) = cpu_share(&tty, Duration::from_secs(3)) {
        eprintln!("idle CPU on the sync log: {:.1}% of a core", busy * 100.0);
        assert!(busy < 0.10, "idle CPU {:.1}% of a core", busy * 100.0);
    }

    tty.keys(&["?"]);
    tty.wait("help", |s| s.contains("Help"));
    tty.keys(&["Esc", "q"]);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = tty.child.try_wait().expect("the child's status") {
            break status;
        }
        assert!(
            start.elapsed() < STEP,
            "ghlsync did not exit; screen:\n{}",
            tty.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    // Let the reader take the last bytes.
    std::thread::sleep(Duration::from_millis(300));
    let screen = lock(&tty.parser).screen().clone();
    assert!(!screen.alternate_screen(), "back on the main screen");
    assert!(!screen.hide_cursor(), "the cursor is shown again");
    assert!(!screen.bracketed_paste(), "bracketed paste is off again");
    let bytes = lock(&tty.bytes).clone();
    let tail = String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(200)..]).into_owned();
    assert!(
        tail.contains("\x1b[?1049l") && tail.contains("\x1b[?25h"),
        "the last bytes leave the alternate screen and show the cursor: {tail:?}"
    );
    eprintln!(
        "walkthrough done in {:.1}s",
        tty.started.elapsed().as_secs_f64()
    );
}

/// GHL's state in the demo's sandbox, read through the address file demo mode writes.
fn ghl_state(tty: &Tty) -> common::oracle::EndState {
    let file = tty
        .dirs
        .path()
        .join("data/ghlsync")
        .join(ghlsync::console::demo::DEMO_ADDRESS_FILE);
    let address: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("the demo's address file"))
            .expect("the address file is JSON");
    let base = address["ghl"].as_str().expect("the GHL sandbox's address");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let dump: serde_json::Value = runtime.block_on(async {
        reqwest::get(format!("{base}/_sandbox/dump"))
            .await
            .expect("the sandbox answers")
            .json()
            .await
            .expect("a dump")
    });
    common::oracle::EndState::from_dump(&dump)
}

/// How many failures the Failures title counts under the filter: `N of M · /FILTER`.
fn filtered_count(screen: &str) -> Option<usize> {
    let title = screen.lines().find(|line| line.contains("┌ Failures"))?;
    let before = title.split(" of ").next()?;
    before.split_whitespace().last()?.parse().ok()
}

/// The loop of issue 16 from the screen alone: a failure found by its reason, read, its contact
/// opened (a GHL contact the peer has no record of yet), the mapping fixed and previewed on that
/// very record in its direction (GHL → peer, in the peer's field names), the reason's group
/// retried, those failures cleared, and no duplicate made in GHL.
#[test]
fn the_support_loop_from_the_screen_alone_at_80x24() {
    let direction_line = name_rule_direction_line();
    let mut tty = Tty::start();
    tty.wait("the first sync, done", |s| {
        header_failures(s) > 0 && s.lines().next().is_some_and(|l| l.contains("sync idle"))
    });
    let baseline = ghl_state(&tty);

    // Find: the failures of one reason, by filtering on it.
    tty.keys(&["7"]);
    tty.wait("the failures screen", |s| s.contains("┌ Failures"));
    tty.keys(&["/"]);
    tty.send(b"peer_requires_field");
    tty.keys(&["Enter"]);
    let screen = tty.wait("the failures of one reason", |s| {
        s.contains("/peer_requires_field") && filtered_count(s).is_some_and(|n| n > 0)
    });
    let before = filtered_count(&screen).expect("a count");
    // Read: the reason's advice names the field and says a mapping fix can clear it.
    assert!(
        screen.contains("Name") && screen.contains("mapping"),
        "the advice under the list:\n{screen}"
    );
    tty.keys(&["Enter"]);
    let popup = tty.wait("the failure in full", |s| s.contains("Failure #"));
    assert!(popup.contains("peer_requires_field"), "{popup}");
    let source = popup_source_id(&popup).expect("the GHL id on the ids line");
    tty.keys(&["Esc"]);
    tty.wait("the popup closed", |s| !s.contains("Failure #"));

    // Jump to its contact: GHL's record, no peer record yet. Esc comes back.
    tty.keys(&["c"]);
    tty.wait("the contact, by its GHL id", |s| {
        s.contains(source.as_str()) && s.contains("not linked yet")
    });
    tty.keys(&["Esc"]);
    tty.wait("back on the failures", |s| s.contains("┌ Failures"));

    fix_the_name_rule(&mut tty, direction_line);
    // Preview the fix on that record, in its direction: GHL → peer, in the peer's names.
    tty.keys(&["Esc", ":"]);
    tty.send(format!("preview ghl:{source}").as_bytes());
    tty.keys(&["Enter"]);
    let preview = tty.wait("the preview on the failed record", |s| {
        !s.contains(":preview") && s.contains("PEER FIELD") && s.contains(&format!("GHL {source}"))
    });
    assert!(
        preview.lines().any(|line| line.contains("Name")),
        "the Name the peer required, previewed:\n{preview}"
    );
    tty.keys(&["C-s"]);
    tty.wait("the save confirmation", |s| s.contains("Save the mapping"));
    tty.keys(&["y"]);
    tty.wait("the saved version", |s| {
        s.contains("mapping saved as version")
    });

    // Retry that reason's group (R on the row), confirmed.
    tty.keys(&["7"]);
    tty.wait("the failures of that reason again", |s| {
        s.contains("┌ Failures") && s.contains("/peer_requires_field")
    });
    tty.keys(&["R"]);
    tty.wait("the retry confirmation", |s| {
        s.contains("Retry every failure of reason peer_requires_field")
    });
    tty.keys(&["y"]);
    let screen = tty.wait("the retry report", |s| s.contains("retried:"));
    let number = |after: &str| -> usize {
        screen
            .split(after)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let succeeded = number("retried: ");
    assert!(succeeded > 0, "the fixed records went through:\n{screen}");
    // Those failures clear: what is left of the reason is what the retry reported failed.
    let after = tty.wait("the queue reloaded", |s| {
        filtered_count(s).is_some_and(|n| n < before)
    });
    let left = filtered_count(&after).unwrap_or(usize::MAX);
    assert_eq!(
        left + succeeded,
        before,
        "every retried failure either cleared or is still listed:\n{after}"
    );

    // No duplicate in GHL: nobody shares an email or phone that did not before the fix.
    let end = ghl_state(&tty);
    let duplicates = end.duplicates(&baseline);
    assert!(duplicates.is_empty(), "duplicates: {duplicates:#?}");
    eprintln!(
        "support loop: {before} failures of the reason, {succeeded} cleared, {left} left, in {:.1}s",
        tty.started.elapsed().as_secs_f64()
    );
    tty.keys(&["q"]);
}
