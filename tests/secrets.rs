//! No secret leaks: a full sync of three peers (Repsly's password, Robly's query-string key, a
//! `rest` app's token and push signing secret) with the GHL token and an alerts webhook URL,
//! under injected faults, then every reading command; none of the secret values, nor their
//! first or last 12 characters, appear in any command's output, the log files, the store's
//! export or backup, nor on any console screen drawn headless. Files holding secrets, the
//! store, backups and logs are owner-only. `--read-only` is refused with a subcommand (it is the
//! console's flag), and the console's read-only engine handle refuses every write itself.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use common::binary::isolated;
use ghlsync::config::Secret;
use ghlsync::config::secrets::Secrets;
use ghlsync::peers::registry;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Chosen here (the sandbox never sees them): the `rest` peer's push signing secret and the
/// alerts webhook, whose URL is the credential.
const PUSH_SECRET: &str = "whsec_Qm7vX2pL9dKe4RtY8uWz1NbC";
const ALERTS_URL: &str =
    "https://hooks.slack.com/services/T0LEAKCHK/B0LEAKCHK/aZ9yX8wV7uT6sR5qP4oN";

struct Run {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// A home with the sandbox's config for repsly, robly and crm (`rest`, push on), its secrets
/// written by the tooling (`Secrets::write`), and the mappings' custom fields created.
async fn home_for(h: &Harness) -> (tempfile::TempDir, PathBuf, Vec<(String, String)>) {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("cfg");
    std::fs::create_dir_all(&dir).unwrap();
    let only: Vec<String> = ["repsly", "robly", "crm"].map(String::from).to_vec();
    let rehearsals = registry::rehearsals_named(&h.sandbox, &only).unwrap();
    ghlsync::config::write_rehearsal_files(&rehearsals, &dir).unwrap();
    let quote = |text: &str| toml::Value::String(text.to_string()).to_string();
    let mut text = format!(
        "[ghl]\nbase_url = {}\nlocation_id = {}\nauth = \"private-token\"\n\n[store]\npath = {}\n",
        quote(&h.sandbox.base_url),
        quote(&h.sandbox.location_id),
        quote(&home.path().join("store").display().to_string()),
    );
    let mut secrets = Secrets {
        ghl_token: Some(h.sandbox.token.clone()),
        alerts_webhook_url: Some(Secret::new(ALERTS_URL)),
        ..Secrets::default()
    };
    let mut known = vec![
        (
            "ghl_token".to_string(),
            h.sandbox.token.expose().to_string(),
        ),
        ("alerts_webhook_url".to_string(), ALERTS_URL.to_string()),
    ];
    for rehearsal in &rehearsals {
        text.push('\n');
        let mut section = rehearsal.config.clone();
        if rehearsal.peer == "crm" {
            section = section.replace(
                "[peers.crm.connection]\n",
                "[peers.crm.connection]\npush = true\n",
            );
            secrets.set_peer_secret("crm", "webhook_secret", Secret::new(PUSH_SECRET));
            known.push(("crm_webhook_secret".into(), PUSH_SECRET.into()));
        }
        text.push_str(&section);
        for (key, value) in &rehearsal.secrets {
            secrets.set_peer_secret(&rehearsal.peer, key, value.clone());
            known.push((
                format!("{}_{key}", rehearsal.peer),
                value.expose().to_string(),
            ));
        }
    }
    let config = dir.join("ghlsync.toml");
    std::fs::write(&config, text).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    secrets.write(&dir.join("secrets.toml")).unwrap();
    for (name, value) in &known {
        assert!(
            value.len() >= 16,
            "{name} is too short to look for: {value:?}"
        );
    }
    (home, config, known)
}

async fn run(home: &Path, config: &Path, args: &[&str]) -> Run {
    let mut command = isolated(home, &["--config", config.to_str().unwrap()]);
    command.args(args);
    let out = command.output().await.expect("binary runs");
    Run {
        what: args.join(" "),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Each value whole, and its first and last 12 characters.
fn needles(known: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in known {
        let chars: Vec<char> = value.chars().collect();
        out.push((name.clone(), value.clone()));
        out.push((format!("{name}[..12]"), chars[..12].iter().collect()));
        out.push((
            format!("{name}[-12..]"),
            chars[chars.len() - 12..].iter().collect(),
        ));
    }
    out
}

fn assert_clean(place: &str, text: &str, known: &[(String, String)]) {
    for (name, needle) in needles(known) {
        if let Some(at) = text.find(&needle) {
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(200)
                .map_or(0, |(i, _)| i);
            let to = (at + needle.len() + 200).min(text.len());
            let to = (to..=text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            panic!("{name} leaked in {place}:\n…{}…", &text[from..to]);
        }
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file under `dir` (recursively).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn no_secret_reaches_output_logs_exports_or_backups_and_their_files_are_owner_only() {
    let h = Harness::start(40).await;
    h.admin_post("repsly/settings", json!({"importDelayMs": 0}))
        .await;
    let (home, config, known) = home_for(&h).await;
    let mut runs = Vec::new();
    for peer in ["repsly", "robly", "crm"] {
        let created = run(
            home.path(),
            &config,
            &["mapping", "check", "--create-fields", "--peer", peer],
        )
        .await;
        assert_eq!(
            created.code,
            Some(0),
            "{}: {}",
            created.what,
            created.stderr
        );
        runs.push(created);
    }

    // A clean first sync, then one under faults: GHL 5xx, HTML pages and dropped connections
    // at random, Robly's connection dropped (its key travels in the query string) and pages
    // of HTML; logging at trace, so every request line is written.
    let first = run(home.path(), &config, &["--log-level", "trace", "sync"]).await;
    runs.push(first);
    h.admin_post(
        "faults",
        json!({"rate": 0.3, "kinds": ["status500", "html502", "drop", "write422"]}),
    )
    .await;
    h.admin_post(
        "robly/faults",
        json!({"rate": 0.5, "kinds": ["drop", "html502", "status500"]}),
    )
    .await;
    for _ in 0..2 {
        runs.push(
            run(
                home.path(),
                &config,
                &["--log-level", "trace", "sync", "--json"],
            )
            .await,
        );
    }
    // Robly down for good: the run fails, and its error (about requests whose URL holds the
    // key) is printed.
    h.admin_post("faults", json!({"rate": 0.0})).await;
    h.admin_post("robly/faults", json!({"rate": 1.0, "kinds": ["drop"]}))
        .await;
    let down = run(
        home.path(),
        &config,
        &["--log-level", "trace", "sync", "--peer", "robly"],
    )
    .await;
    assert_ne!(down.code, Some(0), "{}", down.stdout);
    assert!(down.stderr.contains("robly"), "{}", down.stderr);
    runs.push(down);
    h.admin_post("robly/faults", json!({"rate": 0.0})).await;

    let listed = run(home.path(), &config, &["failures", "list", "--json"]).await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    let queue: Value = serde_json::from_str(&listed.stdout).unwrap();
    let ids: Vec<String> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].to_string())
        .collect();
    assert!(!ids.is_empty(), "the runs left failures: {}", listed.stdout);
    runs.push(listed);
    runs.push(run(home.path(), &config, &["failures", "list"]).await);
    for id in ids.iter().take(25) {
        let shown = run(home.path(), &config, &["failures", "show", id]).await;
        assert_eq!(shown.code, Some(0), "{}", shown.stderr);
        runs.push(shown);
    }
    // A retry of everything under faults again, so retry's errors are looked at too.
    h.admin_post("robly/faults", json!({"rate": 1.0, "kinds": ["drop"]}))
        .await;
    runs.push(
        run(
            home.path(),
            &config,
            &["--log-level", "trace", "failures", "retry", "--all"],
        )
        .await,
    );
    h.admin_post("robly/faults", json!({"rate": 0.0})).await;

    let backup = home.path().join("backups/store.backup");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    for args in [
        vec!["status"],
        vec!["status", "--json"],
        vec!["log", "--json", "--limit", "100000"],
        vec!["log", "--csv", "--limit", "100000"],
        vec!["log", "--limit", "100000"],
        vec!["store", "export", "--jsonl"],
        vec!["store", "backup", backup.to_str().unwrap()],
        vec!["doctor"],
        vec!["doctor", "--json"],
        vec!["config", "check"],
        vec!["config", "path"],
    ] {
        runs.push(run(home.path(), &config, &args).await);
    }

    // The commands did their work (a leak test over empty answers proves nothing).
    let by = |what: &str| runs.iter().find(|r| r.what == what).unwrap();
    let log_json = by("log --json --limit 100000");
    assert!(log_json.stdout.lines().count() > 40, "{}", log_json.stderr);
    assert!(
        log_json.stdout.contains("\"failed\""),
        "failures are logged"
    );
    assert!(by("log --csv --limit 100000").stdout.starts_with("at,"));
    let export = by("store export --jsonl");
    assert!(
        export.stdout.contains("\"tree\":\"idmap\""),
        "{}",
        export.stderr
    );
    let backed = runs
        .iter()
        .find(|r| r.what.starts_with("store backup "))
        .unwrap();
    assert_eq!(backed.code, Some(0), "{}", backed.stderr);
    let check = by("config check");
    assert_eq!(check.code, Some(0), "{}", check.stderr);
    assert!(
        check.stdout.contains("ghl_token: set") && check.stdout.contains("webhook_secret set"),
        "config check shows that secrets are set: {}",
        check.stdout
    );
    let doctor_json: Value = serde_json::from_str(by("doctor --json").stdout.trim())
        .unwrap_or_else(|err| panic!("doctor --json: {err}: {}", by("doctor --json").stdout));
    assert!(doctor_json.as_array().unwrap().len() > 3);

    for r in &runs {
        assert_clean(&format!("stdout of `{}`", r.what), &r.stdout, &known);
        assert_clean(&format!("stderr of `{}`", r.what), &r.stderr, &known);
    }
    let log_dir = home.path().join("state/ghlsync/logs");
    let log_files = files_under(&log_dir);
    assert!(
        !log_files.is_empty(),
        "no log file in {}",
        log_dir.display()
    );
    let mut logged = 0;
    for file in &log_files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        logged += text.len();
        assert_clean(&file.display().to_string(), &text, &known);
    }
    assert!(logged > 10_000, "trace logs were written: {logged} bytes");
    let backup_text = String::from_utf8_lossy(&std::fs::read(&backup).unwrap()).into_owned();
    assert!(backup_text.lines().count() > 40);
    assert_clean("the backup", &backup_text, &known);
    // The store's own files: the sync log, the failed queue and the cursors live there.
    for file in files_under(&home.path().join("store")) {
        let bytes = std::fs::read(&file).unwrap();
        for (name, needle) in needles(&known) {
            assert!(
                !bytes
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes()),
                "{name} is in the store file {}",
                file.display()
            );
        }
    }

    // Owner-only: the secrets file the tooling wrote, the store, the backup, the logs.
    assert_eq!(mode(&config.with_file_name("secrets.toml")), 0o600);
    assert_eq!(
        mode(&home.path().join("store")),
        0o700,
        "the store directory"
    );
    assert_eq!(mode(&backup), 0o600, "the backup");
    assert_eq!(mode(&log_dir), 0o700, "the log directory");
    for file in &log_files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
}

/// `--read-only` is the console's flag: with a writing subcommand it is refused before anything
/// runs, and nothing is written to GHL or the peer.
#[tokio::test]
async fn read_only_with_a_writing_subcommand_is_refused_and_writes_nothing() {
    let h = Harness::start(20).await;
    h.admin_post("repsly/settings", json!({"importDelayMs": 0}))
        .await;
    let (home, config, _) = home_for(&h).await;
    let before = common::total_in(&h.stats().await);
    for args in [
        vec!["--read-only", "sync"],
        vec!["--read-only", "failures", "retry", "--all"],
        vec!["--read-only", "sync", "--peer", "repsly"],
    ] {
        let out = run(home.path(), &config, &args).await;
        assert_ne!(out.code, Some(0), "`{}` ran: {}", out.what, out.stdout);
        assert!(out.stderr.contains("--read-only"), "{}", out.stderr);
    }
    assert_eq!(
        common::total_in(&h.stats().await),
        before,
        "no request at all"
    );
    assert!(!home.path().join("store").exists(), "no store was created");
}

/// The console's screens over a store with failures, drawn headless at 80×24 and 240×70: no
/// secret in any buffer. Then the engine itself, behind a read-only handle (what `--read-only`
/// gives the console), refuses every write however it is asked, and still answers reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_screens_show_no_secret_and_a_read_only_engine_refuses_writes() {
    use common::sync::{Routes, context, sandbox_writes};
    use ghlsync::console::action::{Action, FocusTarget};
    use ghlsync::console::msg::{Effect, Msg};
    use ghlsync::console::runner::effects::perform;
    use ghlsync::console::screen::Screen;
    use ghlsync::console::state::{AppState, Mode};
    use ghlsync::console::theme::Theme;
    use ghlsync::console::update::{init, update};
    use ghlsync::engine::{Command, ContactRef, EngineOptions, Reply, start_in_process};
    use ghlsync::sync::failed::{RetryMode, Selection};

    let h = Harness::start(120).await;
    h.create_mapping_fields(None).await;
    h.admin_post("repsly/settings", json!({"importDelayMs": 0}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let store = ghlsync::store::Store::open(&dir.path().join("store")).unwrap();
    let ctx = context(&h, store, Default::default(), None);
    let engine = start_in_process(ctx, EngineOptions::default());
    h.admin_post(
        "faults",
        json!({"rate": 0.2, "kinds": ["status500", "html502", "write422"]}),
    )
    .await;
    let mut state = AppState::new(Mode::Live, "repsly", false, Theme::monochrome());
    let mut queue: std::collections::VecDeque<Effect> = init(&mut state, true).into();
    let act = |state: &mut AppState, action: Action| update(state, Msg::Action(action));
    let mut frames = Vec::new();
    let draw = |state: &AppState, frames: &mut Vec<(String, String)>, what: &str| {
        for (width, height) in [(80, 24), (240, 70)] {
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
            terminal
                .draw(|frame| ghlsync::console::views::render(state, frame))
                .unwrap();
            let buffer = terminal.backend().buffer();
            let text: String = buffer
                .content()
                .chunks(usize::from(width))
                .map(|row| row.iter().map(|cell| cell.symbol()).collect::<String>() + "\n")
                .collect();
            frames.push((format!("{what} at {width}×{height}"), text));
        }
    };
    // Every tab, and Alerts, which sits under Status.
    let screens = Screen::TABS.into_iter().chain([Screen::Alerts]);
    let mut steps: Vec<Action> = Vec::new();
    for screen in screens {
        steps.push(Action::Focus(FocusTarget::Screen(screen)));
        if matches!(screen, Screen::Contacts | Screen::Failures) {
            steps.push(Action::Select);
            steps.push(Action::Back);
        }
    }
    let mut step = 0;
    loop {
        while let Some(effect) = queue.pop_front() {
            if let Effect::Call(request) = effect {
                let answer = perform(&engine, &request).await;
                queue.extend(update(&mut state, Msg::Answer(answer)));
            }
        }
        let Some(action) = steps.get(step).cloned() else {
            break;
        };
        draw(
            &state,
            &mut frames,
            &format!("{:?} before {action:?}", state.screen()),
        );
        if step == 0 {
            // The first run happened under faults; the rest is read without them.
            h.admin_post("faults", json!({"rate": 0.0})).await;
        }
        queue.extend(act(&mut state, action));
        step += 1;
    }
    draw(&state, &mut frames, "the last screen");
    assert!(
        !state.failures.operations.is_empty(),
        "the runs left failures to show"
    );
    assert!(
        frames
            .iter()
            .any(|(_, text)| text.contains("Failure #") && text.contains("message")),
        "a failure was drawn in full, its error message too"
    );
    let known = vec![
        (
            "ghl_token".to_string(),
            h.sandbox.token.expose().to_string(),
        ),
        (
            "repsly_password".to_string(),
            h.sandbox.repsly_password.expose().to_string(),
        ),
    ];
    for (what, text) in &frames {
        assert_clean(what, text, &known);
    }

    // Read-only: every writer refused by the engine's door, nothing sent anywhere.
    let read_only = engine.clone().read_only();
    let before = sandbox_writes(&h, Routes::All).await;
    let contact = state
        .contacts
        .rows
        .iter()
        .find_map(|row| row.peer_id.clone())
        .expect("a contact with a peer id");
    for command in [
        Command::Sync {
            options: Default::default(),
        },
        Command::Retry {
            selection: Selection::All,
            mode: RetryMode::CurrentMapping,
        },
        Command::Close {
            selection: Selection::All,
            resolved: false,
        },
        Command::SyncContact {
            contact: ContactRef::Peer(contact),
        },
        Command::UndoMapping,
        Command::Drain,
    ] {
        let what = format!("{command:?}");
        match read_only.call(command).await.unwrap() {
            Reply::Error { class, message } => {
                assert_eq!(class, "read_only", "{what}: {message}");
                assert!(message.contains("--read-only"), "{message}");
            }
            other => panic!("{what} was not refused: {other:?}"),
        }
    }
    assert_eq!(sandbox_writes(&h, Routes::All).await, before);
    let queued = state.failures.operations.len();
    match read_only.call(Command::FailedQueue).await.unwrap() {
        Reply::FailedQueue { operations } => assert_eq!(operations.len(), queued),
        other => panic!("a read was refused: {other:?}"),
    }
    // The same engine through a writable handle still writes: the refusal is the handle's.
    match engine
        .call(Command::Sync {
            options: Default::default(),
        })
        .await
        .unwrap()
    {
        Reply::Run { .. } | Reply::Runs { .. } => {}
        other => panic!("a normal handle's sync: {other:?}"),
    }
}
