//! The `ghlsync` binary end to end: config, secrets, `ghl` subcommands, exit codes, logs.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Harness, total_in};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

/// Runs the binary with an isolated XDG environment under `home`.
async fn ghlsync(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = common::binary::isolated(home, args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().await.expect("binary runs")
}

fn sandbox_env(h: &Harness) -> Vec<(&'static str, String)> {
    vec![
        ("GHLSYNC_GHL_BASE_URL", h.sandbox.base_url.clone()),
        ("GHLSYNC_GHL_LOCATION_ID", h.sandbox.location_id.clone()),
        ("GHLSYNC_GHL_TOKEN", h.sandbox.token.expose().to_string()),
    ]
}

fn as_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn contact_list_prints_compact_json() {
    let h = Harness::start(40).await;
    let home = tempfile::tempdir().unwrap();
    let env = sandbox_env(&h);
    let out = ghlsync(
        home.path(),
        &as_refs(&env),
        &["ghl", "contact", "list", "--limit", "3", "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.trim().lines().count(), 1, "compact: one line");
    let body: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(body["contacts"].as_array().unwrap().len(), 3);

    let out = ghlsync(
        home.path(),
        &as_refs(&env),
        &["ghl", "contact", "list", "--all", "--limit", "15"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["count"], 40);
}

#[tokio::test]
async fn an_unknown_body_field_is_refused_locally_naming_it() {
    let h = Harness::start(5).await;
    let home = tempfile::tempdir().unwrap();
    let env = sandbox_env(&h);
    h.reset_counters().await;
    let out = ghlsync(
        home.path(),
        &as_refs(&env),
        &[
            "ghl",
            "contact",
            "create",
            "--body",
            r#"{"firstName":"Ann","additionalEmails":[{"email":"a@b.co"}]}"#,
        ],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(6),
        "validation exit code; stderr: {}",
        text(&out.stderr)
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("additionalEmails"), "{stderr}");
    assert!(stderr.contains("CreateContactDto"), "{stderr}");
    assert_eq!(total_in(&h.stats().await), 0, "no request was sent");
}

#[tokio::test]
async fn create_fills_the_location_and_tasks_round_trip() {
    let h = Harness::start(5).await;
    let home = tempfile::tempdir().unwrap();
    let env = sandbox_env(&h);
    let out = ghlsync(
        home.path(),
        &as_refs(&env),
        &[
            "ghl",
            "contact",
            "create",
            "--json",
            "--body",
            r#"{"firstName":"Cli","email":"cli@example.org"}"#,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = created["contact"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["contact"]["locationId"],
        h.sandbox.location_id.as_str()
    );

    let out = ghlsync(
        home.path(),
        &as_refs(&env),
        &[
            "ghl",
            "task",
            "create",
            &id,
            "--json",
            "--body",
            r#"{"title":"t","dueDate":"2026-12-01T00:00:00Z","completed":false}"#,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let task: Value = serde_json::from_slice(&out.stdout).unwrap();
    let task_id = task["task"]["id"].as_str().unwrap();
    let out = ghlsync(
        home.path(),
        &as_refs(&env),
        &["ghl", "task", "complete", &id, task_id, "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let done: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(done["task"]["completed"], true);
}

#[tokio::test]
async fn a_missing_record_exits_7_with_a_json_error() {
    let h = Harness::start(5).await;
    let home = tempfile::tempdir().unwrap();
    let env = sandbox_env(&h);
    let out = ghlsync(
        home.path(),
        &as_refs(&env),
        &["ghl", "contact", "get", "nosuchcontact0000000", "--json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let first_line = text(&out.stderr)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let error: Value = serde_json::from_str(&first_line).unwrap();
    assert_eq!(error["error"]["class"], "not_found");
    assert_eq!(error["error"]["status"], 404);
    assert!(error["error"]["traceId"].is_string());
}

#[tokio::test]
async fn secrets_never_reach_logs_stdout_or_stderr() {
    let h = Harness::start(5).await;
    let home = tempfile::tempdir().unwrap();
    let env = sandbox_env(&h);
    let token = h.sandbox.token.expose().to_string();
    let ok = ghlsync(
        home.path(),
        &as_refs(&env),
        &[
            "--log-level",
            "trace",
            "ghl",
            "contact",
            "list",
            "--limit",
            "2",
        ],
    )
    .await;
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let bad_token = "pit-11111111-2222-3333-4444-555555555555";
    let mut bad_env = env.clone();
    bad_env[2].1 = bad_token.to_string();
    let bad = ghlsync(
        home.path(),
        &as_refs(&bad_env),
        &["--log-level", "trace", "ghl", "contact", "list"],
    )
    .await;
    assert_eq!(
        bad.status.code(),
        Some(4),
        "auth exit code: {}",
        text(&bad.stderr)
    );

    let mut logs = String::new();
    let log_dir = home.path().join("state/ghlsync/logs");
    for entry in std::fs::read_dir(&log_dir).expect("log dir exists") {
        logs.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    assert!(
        logs.contains("/contacts/"),
        "trace logs record requests: {logs:.300}"
    );
    for secret in [token.as_str(), bad_token] {
        assert!(!logs.contains(secret), "secret in log file");
        for out in [&ok, &bad] {
            assert!(!text(&out.stdout).contains(secret) && !text(&out.stderr).contains(secret));
        }
    }
}

#[tokio::test]
async fn a_bad_config_names_file_line_column_and_alternatives() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("ghlsync.toml");
    std::fs::write(&config, "[ghl]\nlocation_id = \"abc\"\nlocaton = \"x\"\n").unwrap();
    let out = ghlsync(
        home.path(),
        &[],
        &[
            "--config",
            config.to_str().unwrap(),
            "ghl",
            "contact",
            "list",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:3:1", config.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("location_id") && stderr.contains("base_url"),
        "{stderr}"
    );
}

/// A mapping, connector or keymap path that names something else — a huge file, or one that
/// never ends — is refused at its size limit, naming the file, where it used to be read whole.
#[tokio::test]
async fn a_file_that_is_far_too_large_is_refused_naming_it() {
    let home = tempfile::tempdir().unwrap();
    let huge = home.path().join("huge.toml");
    std::fs::write(&huge, vec![b'#'; 2 * 1024 * 1024]).unwrap();
    for (args, what) in [
        (
            vec!["mapping", "check", huge.to_str().unwrap()],
            "mapping file",
        ),
        (vec!["mapping", "check", "/dev/zero"], "mapping file"),
        (vec!["connector", "check", "/dev/zero"], "/dev/zero"),
        (vec!["keymap", "check", "/dev/zero"], "/dev/zero"),
    ] {
        let out = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            ghlsync(home.path(), &[], &args),
        )
        .await
        .unwrap_or_else(|_| panic!("{args:?} reads to the end of an endless file"));
        let stderr = text(&out.stderr);
        let stdout = text(&out.stdout);
        assert_ne!(out.status.code(), Some(0), "{args:?}: {stdout}{stderr}");
        assert!(
            (stderr.contains(what) || stdout.contains(what))
                && (stderr.contains("larger than") || stdout.contains("larger than")),
            "{args:?}: {stdout}{stderr}"
        );
    }
}

#[tokio::test]
async fn a_world_readable_secrets_file_is_refused_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("ghlsync.toml");
    std::fs::write(&config, "[ghl]\nlocation_id = \"abc\"\n").unwrap();
    let secrets = home.path().join("secrets.toml");
    std::fs::write(&secrets, "ghl_token = \"pit-secret-value\"\n").unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = ghlsync(
        home.path(),
        &[],
        &[
            "--config",
            config.to_str().unwrap(),
            "ghl",
            "contact",
            "list",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("chmod 600"), "{stderr}");
    assert!(!stderr.contains("pit-secret-value"));
}

#[tokio::test]
async fn sandbox_write_config_gives_a_ready_config() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("rehearsal/ghlsync.toml");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"))
        .args([
            "sandbox",
            "--contacts",
            "25",
            "--write-config",
            config.to_str().unwrap(),
        ])
        .env("XDG_STATE_HOME", home.path().join("state"))
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let secrets = home.path().join("rehearsal/secrets.toml");
    for _ in 0..200 {
        if secrets.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let mode = std::fs::metadata(&secrets)
        .expect("secrets written")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let out = ghlsync(
        home.path(),
        &[],
        &[
            "--config",
            config.to_str().unwrap(),
            "ghl",
            "contact",
            "list",
            "--all",
            "--json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["count"], 25);
    child.kill().await.unwrap();
}

/// Starts `ghlsync sandbox --write-config` as a child and waits for its config.
async fn sandbox_child(home: &Path, contacts: &str) -> (tokio::process::Child, std::path::PathBuf) {
    sandbox_child_with(home, &["--contacts", contacts, "--rate-limit", "off"]).await
}

/// `sandbox_child` with these sandbox flags. The config holds the Repsly peer only (`--peers
/// repsly`): these tests follow Repsly's records; tests/peers.rs covers every emulated peer.
async fn sandbox_child_with(
    home: &Path,
    flags: &[&str],
) -> (tokio::process::Child, std::path::PathBuf) {
    let config = home.join("rehearsal/ghlsync.toml");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"))
        .arg("sandbox")
        .args(flags)
        .args([
            "--write-config",
            config.to_str().unwrap(),
            "--peers",
            "repsly",
        ])
        .env("XDG_STATE_HOME", home.join("state"))
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let secrets = home.join("rehearsal/secrets.toml");
    for _ in 0..400 {
        if secrets.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(secrets.exists(), "sandbox wrote its config");
    (child, config)
}

#[tokio::test]
async fn the_sync_commands_work_end_to_end_through_the_binary() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, config) = sandbox_child(home.path(), "60").await;
    let cfg = config.to_str().unwrap();
    let run = |args: Vec<&'static str>| {
        let home = home.path().to_path_buf();
        let mut full = vec!["--config", cfg];
        full.extend(args);
        let full: Vec<String> = full.into_iter().map(String::from).collect();
        async move {
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            ghlsync(&home, &[], &refs).await
        }
    };

    let dry = run(vec!["sync", "--dry-run", "--json"]).await;
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let plan: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert!(plan["plan"].as_array().unwrap().len() > 20);
    assert_eq!(plan["run"]["dry_run"], true);

    let real = run(vec!["sync"]).await;
    assert!(real.status.success(), "{}", text(&real.stderr));
    let table = text(&real.stdout);
    assert!(table.contains("create") && table.contains("ok"), "{table}");

    let again = run(vec!["sync", "--json"]).await;
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    let counts = report["run"]["counts"].as_object().unwrap();
    assert!(
        !counts.contains_key("create/ok") && !counts.contains_key("update/ok"),
        "{counts:?}"
    );

    let status = run(vec!["status", "--json"]).await;
    assert!(status.status.success(), "{}", text(&status.stderr));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["last_runs"].as_array().unwrap().len(), 2);

    let failures = run(vec!["failures", "list", "--json"]).await;
    assert!(failures.status.success());
    let queue: Value = serde_json::from_slice(&failures.stdout).unwrap();
    if let Some(first) = queue.as_array().and_then(|q| q.first()) {
        let id = first["id"].to_string();
        let id: &'static str = Box::leak(id.into_boxed_str());
        let skipped = run(vec!["failures", "skip", id]).await;
        assert!(skipped.status.success(), "{}", text(&skipped.stderr));
        assert!(
            text(&skipped.stdout).contains("skipped 1"),
            "{}",
            text(&skipped.stdout)
        );
    }

    let log = run(vec!["log", "--json", "--limit", "5"]).await;
    assert!(log.status.success());
    assert_eq!(text(&log.stdout).lines().count(), 5);
    let csv = run(vec!["log", "--csv"]).await;
    assert!(text(&csv.stdout).starts_with("at,trigger,peer,direction,entity"));

    let export = run(vec!["store", "export", "--jsonl"]).await;
    assert!(
        text(&export.stdout)
            .lines()
            .any(|l| l.contains("\"tree\":\"idmap\""))
    );
    let backup = home.path().join("backup.jsonl");
    let backed = run(vec![
        "store",
        "backup",
        Box::leak(backup.display().to_string().into_boxed_str()),
    ])
    .await;
    assert!(backed.status.success(), "{}", text(&backed.stderr));

    // Preview the mapping on a real Repsly client.
    let code = text(&export.stdout)
        .lines()
        .find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            let key = v["key"].as_str()?;
            (v["tree"] == "idmap").then(|| {
                key.strip_prefix("repsly/contact/C-")
                    .map(|rest| format!("C-{rest}"))
            })?
        })
        .expect("a linked Repsly client");
    let code: &'static str = Box::leak(code.into_boxed_str());
    let preview = run(vec!["mapping", "preview", "--id", code]).await;
    assert!(preview.status.success(), "{}", text(&preview.stderr));
    assert!(
        text(&preview.stdout).contains("email"),
        "{}",
        text(&preview.stdout)
    );
    let check = run(vec!["mapping", "check"]).await;
    assert!(
        text(&check.stdout).starts_with("mapping OK"),
        "{}",
        text(&check.stdout)
    );
    child.kill().await.unwrap();
}

/// `ghlsync sandbox` with these arguments, waited for at most 20 s (a sandbox that starts
/// instead of refusing would run until killed).
async fn sandbox_exits(home: &Path, args: &[&str]) -> Output {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"))
        .arg("sandbox")
        .args(args)
        .env("XDG_STATE_HOME", home.join("state"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the sandbox refused and exited instead of starting")
        .unwrap()
}

#[tokio::test]
async fn sandbox_write_config_never_overwrites_without_force() {
    let home = tempfile::tempdir().unwrap();
    let (mut first, config) = sandbox_child(home.path(), "5").await;
    first.kill().await.unwrap();
    let secrets = config.with_file_name("secrets.toml");
    let config_before = std::fs::read(&config).unwrap();
    let secrets_before = std::fs::read(&secrets).unwrap();
    let cfg = config.to_str().unwrap();

    let out = sandbox_exits(home.path(), &["--contacts", "5", "--write-config", cfg]).await;
    assert_eq!(out.status.code(), Some(2), "usage: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(cfg) && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&config).unwrap(), config_before);
    assert_eq!(std::fs::read(&secrets).unwrap(), secrets_before);

    // The secrets file alone is enough to refuse: it is the one that holds a real token.
    std::fs::remove_file(&config).unwrap();
    let out = sandbox_exits(home.path(), &["--contacts", "5", "--write-config", cfg]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(secrets.to_str().unwrap()), "{stderr}");
    assert!(!config.exists(), "nothing written");
    assert_eq!(std::fs::read(&secrets).unwrap(), secrets_before);

    // --force replaces both: the new config points at the new sandbox and works. (Another seed:
    // the same one would mint the same token, and an unchanged secrets file proves nothing.)
    std::fs::write(&config, &config_before).unwrap();
    let mut forced = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"))
        .args(["sandbox", "--seed", "7", "--contacts", "7", "--force"])
        .args(["--write-config", cfg])
        .env("XDG_STATE_HOME", home.path().join("state"))
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..400 {
        if std::fs::read(&secrets).unwrap_or_default() != secrets_before
            && std::fs::read(&config).unwrap_or_default() != config_before
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_ne!(std::fs::read(&config).unwrap(), config_before, "rewritten");
    assert_ne!(
        std::fs::read(&secrets).unwrap(),
        secrets_before,
        "rewritten"
    );
    let mode = std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let out = ghlsync(
        home.path(),
        &[],
        &["--config", cfg, "ghl", "contact", "list", "--all", "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        body["count"], 7,
        "the forced config points at the new sandbox"
    );
    forced.kill().await.unwrap();
}

/// A config for the offline `store` commands: they read no secrets and call no API.
fn offline_config(home: &Path) -> std::path::PathBuf {
    let config = home.join("ghlsync.toml");
    std::fs::write(&config, "[ghl]\nlocation_id = \"abc\"\n").unwrap();
    config
}

#[tokio::test]
async fn store_restore_is_all_or_nothing_and_verify_exits_12_on_findings() {
    use ghlsync::peers::EntityKind;
    use ghlsync::store::Store;
    let home = tempfile::tempdir().unwrap();
    let config = offline_config(home.path());
    let (clean, shared) = (
        home.path().join("clean.jsonl"),
        home.path().join("shared.jsonl"),
    );
    {
        // Written by the library in a folder of its own (sled allows one process per store).
        let store = Store::open(&home.path().join("original")).unwrap();
        store
            .set_link("repsly", EntityKind::Contact, "C-1", "G1")
            .unwrap();
        store.backup(&clean).unwrap();
        // Two Repsly clients on one GHL contact: a finding, but not damage.
        store
            .set_link("repsly", EntityKind::Contact, "C-2", "G1")
            .unwrap();
        store.backup(&shared).unwrap();
    }
    let run = |store: &Path, args: &[&Path]| {
        let mut full = vec![
            "--config".to_string(),
            config.display().to_string(),
            "--store".to_string(),
            store.display().to_string(),
            "store".to_string(),
        ];
        full.extend(args.iter().map(|a| a.display().to_string()));
        let home = home.path().to_path_buf();
        async move {
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            ghlsync(&home, &[], &refs).await
        }
    };

    // Cut at a line boundary (the end line lost) and inside a line: refused, nothing left.
    let whole = std::fs::read_to_string(&clean).unwrap();
    let lines: Vec<&str> = whole.lines().collect();
    let cut = home.path().join("cut.jsonl");
    let target = home.path().join("restored");
    for (body, says) in [
        (
            lines[..lines.len() - 1].join("\n") + "\n",
            "ends after line",
        ),
        (whole[..whole.len() - 20].to_string(), "cut short"),
        // One flipped bit inside a line that still decodes (the reverse link's key "G1" as
        // "G0"; keys and values are hex): the checksum catches it.
        (
            whole.replacen("636f6e746163742f4731", "636f6e746163742f4730", 1),
            "does not match",
        ),
    ] {
        std::fs::write(&cut, body).unwrap();
        let out = run(&target, &[Path::new("restore"), &cut]).await;
        assert_eq!(out.status.code(), Some(12), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(cut.to_str().unwrap()) && stderr.contains(says),
            "{stderr}"
        );
        assert!(!target.exists(), "no store left behind: {stderr}");
    }

    // The whole clean backup restores and verifies clean.
    let out = run(&target, &[Path::new("restore"), &clean]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("checksum matched"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&target, &[Path::new("verify")]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains(": clean ("),
        "{}",
        text(&out.stdout)
    );

    // The shared link restores (it is what the store held) and verify reports it: exit 12.
    let other = home.path().join("restored-shared");
    let out = run(&other, &[Path::new("restore"), &shared]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("note: idmap repsly/contact/C-1"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&other, &[Path::new("verify"), Path::new("--json")]).await;
    assert_eq!(out.status.code(), Some(12), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["clean"], false);
    let finding = &report["findings"][0];
    assert_eq!(finding["kind"], "shared_ghl_record");
    assert_eq!(finding["tree"], "idmap");
    assert_eq!(finding["key"], "repsly/contact/C-1");
    assert!(
        finding["fix"]
            .as_str()
            .unwrap()
            .contains("merge them in repsly")
    );

    // Verify never creates a store where there is none.
    let nowhere = home.path().join("nowhere");
    let out = run(&nowhere, &[Path::new("verify")]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!nowhere.exists());
}

/// A copy of the sandbox's config in `dir` (with its secrets file, 0600) where `from` is replaced
/// by `to`: the same store, another location or account.
fn config_variant(config: &Path, dir: &Path, from: &str, to: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let text = std::fs::read_to_string(config).unwrap();
    assert!(text.contains(from), "{text}");
    let variant = dir.join("ghlsync.toml");
    std::fs::write(&variant, text.replace(from, to)).unwrap();
    let secrets = dir.join("secrets.toml");
    std::fs::copy(config.with_file_name("secrets.toml"), &secrets).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    variant
}

/// The value of `key = "…"` in a config file.
fn config_value(config: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(config).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap();
    line.split('"').nth(1).unwrap().to_string()
}

/// Every request the sandbox has answered, GHL and Repsly: what a refused run must not change.
async fn sandbox_requests(base_url: &str) -> (u64, Value) {
    let stats: Value = reqwest::get(format!("{base_url}/_sandbox/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (total_in(&stats), stats["repsly"].clone())
}

/// The store's binding as `store export` shows it: (key, value) of the meta `binding/` lines.
async fn bound(home: &Path, config: &Path) -> Vec<(String, Value)> {
    let out = ghlsync(
        home,
        &[],
        &[
            "--config",
            config.to_str().unwrap(),
            "store",
            "export",
            "--jsonl",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["tree"] == "meta" && v["key"].as_str().unwrap().starts_with("binding/"))
        .map(|v| (v["key"].as_str().unwrap().to_string(), v["value"].clone()))
        .collect()
}

#[tokio::test]
async fn a_store_bound_to_one_location_or_account_refuses_another_until_rebound() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, config) = sandbox_child(home.path(), "20").await;
    let base_url = config_value(&config, "base_url");
    let location_a = config_value(&config, "location_id");
    let user = config_value(&config, "username");
    let sync = |config: &Path, extra: &[(&str, &str)], rebind: bool| {
        let mut args = vec!["--config".to_string(), config.display().to_string()];
        if rebind {
            args.push("--rebind-store".into());
        }
        args.push("sync".into());
        let env: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let home = home.path().to_path_buf();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            ghlsync(&home, &env, &refs).await
        }
    };

    let first = sync(&config, &[], false).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    let binding = bound(home.path(), &config).await;
    assert_eq!(
        binding,
        vec![
            (
                "binding/ghl_location".to_string(),
                Value::from(location_a.as_str())
            ),
            (
                "binding/peer/repsly".to_string(),
                serde_json::json!({"base_url": format!("{base_url}/repsly/v3"), "user": user}),
            ),
        ],
        "the first sync binds the store; never the password"
    );

    // The same store, configured for the sandbox's other location: refused before any request.
    let info: Value = reqwest::get(format!("{base_url}/_sandbox/info"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let location_b = info["otherLocationId"].as_str().unwrap().to_string();
    let moved = config_variant(
        &config,
        &home.path().join("moved"),
        &location_a,
        &location_b,
    );
    let before = sandbox_requests(&base_url).await;
    let refused = sync(&moved, &[], false).await;
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    let store = home.path().join("rehearsal/store");
    for needle in [
        location_a.as_str(),
        location_b.as_str(),
        store.to_str().unwrap(),
        "[store] path",
        "--rebind-store",
    ] {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }
    assert_eq!(sandbox_requests(&base_url).await, before, "nothing ran");

    // A Repsly account change is refused the same way.
    let other_user = config_variant(
        &config,
        &home.path().join("other-user"),
        &format!("username = \"{user}\""),
        "username = \"sbx_someone_else\"",
    );
    let refused = sync(&other_user, &[], false).await;
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("repsly account")
            && stderr.contains(&user)
            && stderr.contains("sbx_someone_else"),
        "{stderr}"
    );

    // With --rebind-store (and a token for location B) the sync runs and the store is re-bound.
    let minted: Value = reqwest::Client::new()
        .post(format!("{base_url}/_sandbox/tokens"))
        .json(&serde_json::json!({"locationId": location_b}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = minted["access_token"].as_str().unwrap();
    // Location B is a location of its own: the mapping's custom fields are made there first.
    let fields = ghlsync(
        home.path(),
        &[("GHLSYNC_GHL_TOKEN", token)],
        &[
            "--config",
            moved.to_str().unwrap(),
            "mapping",
            "check",
            "--create-fields",
        ],
    )
    .await;
    assert!(fields.status.success(), "{}", text(&fields.stderr));
    let rebound = sync(&moved, &[("GHLSYNC_GHL_TOKEN", token)], true).await;
    assert!(rebound.status.success(), "{}", text(&rebound.stderr));
    assert!(
        text(&rebound.stderr).contains("--rebind-store")
            && text(&rebound.stderr).contains(&location_a),
        "says it re-bound: {}",
        text(&rebound.stderr)
    );
    assert!(
        sandbox_requests(&base_url).await.0 > before.0,
        "the sync ran"
    );
    let mut logs = String::new();
    for entry in std::fs::read_dir(home.path().join("state/ghlsync/logs")).unwrap() {
        logs.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    assert!(logs.contains("re-bound the store"), "logged: {logs:.2000}");
    assert_eq!(
        bound(home.path(), &moved).await[0],
        (
            "binding/ghl_location".to_string(),
            Value::from(location_b.as_str())
        )
    );
    // Now the old location is the other one.
    let refused = sync(&config, &[], false).await;
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    child.kill().await.unwrap();
}

/// Every flag, argument and subcommand of the command tree says what it is in `--help`.
#[test]
fn every_argument_and_subcommand_has_help() {
    use clap::CommandFactory;
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") || arg.is_hide_set() {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_name() != "help" && sub.get_about().is_none() {
                missing.push(format!("{sub_path} (no description)"));
            }
            walk(sub, &sub_path, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&ghlsync::cli::Cli::command(), "ghlsync", &mut missing);
    assert!(
        missing.is_empty(),
        "without help text:\n{}",
        missing.join("\n")
    );
}

/// `ghlsync ARGS` with the config, its output as text: (exit code, stdout, stderr).
async fn with_config(home: &Path, config: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut full = vec!["--config", config.to_str().unwrap()];
    full.extend_from_slice(args);
    let out = ghlsync(home, &[], &full).await;
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Runs `ghlsync ARGS` with its stdout a pipe whose reader is already gone, the way
/// `ghlsync … | head -1` ends once head has its line: every write fails with EPIPE.
fn into_closed_pipe(home: &Path, config: &Path, args: &[&str]) -> std::process::Output {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0i32; 2];
    // SAFETY: pipe() fills two fresh descriptors, each owned exactly once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    std::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .stdout(std::process::Stdio::from(writer))
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("binary runs")
}

#[tokio::test]
async fn output_commands_end_quietly_on_a_closed_pipe_and_exit_by_class() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, config) = sandbox_child(home.path(), "60").await;
    let (code, plan, stderr) = with_config(home.path(), &config, &["sync", "--dry-run"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        plan.matches("Dry run:").count(),
        1,
        "the header once: {plan}"
    );
    let (code, _, stderr) = with_config(home.path(), &config, &["sync"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = with_config(home.path(), &config, &["sync"]).await;
    assert_eq!(code, Some(0), "{stderr}");

    // `| head -1` on every command that prints: no panic, exit 0, nothing on stderr.
    for args in [
        &["failures", "list"][..],
        &["sync", "--dry-run"],
        &["log"],
        &["log", "--csv"],
        &["status"],
        &["store", "export", "--jsonl"],
        &["mapping", "default"],
        &["completions", "bash"],
    ] {
        let out = into_closed_pipe(home.path(), &config, args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.trim().is_empty(), "{args:?}: {stderr}");
    }

    // Run ids count 1, 2 (the dry run records nothing).
    let (_, status, _) = with_config(home.path(), &config, &["status", "--json"]).await;
    let status: Value = serde_json::from_str(&status).unwrap();
    let ids: Vec<u64> = status["last_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [2, 1], "{status}");

    // `log --csv` honours --limit: a header and three entries.
    let (code, csv, _) = with_config(home.path(), &config, &["log", "--csv", "--limit", "3"]).await;
    assert_eq!(code, Some(0));
    assert_eq!(csv.lines().count(), 4, "{csv}");

    // A retry that leaves failures exits with their class (the demo data's are validation).
    let (_, queue, _) = with_config(home.path(), &config, &["failures", "list", "--json"]).await;
    let queue: Value = serde_json::from_str(&queue).unwrap();
    let classes: Vec<&str> = queue
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|op| op["error"]["class"].as_str())
        .collect();
    assert!(!classes.is_empty(), "the seed leaves failures");
    assert!(classes.iter().all(|c| *c == "validation"), "{classes:?}");
    let (code, _, stderr) = with_config(
        home.path(),
        &config,
        &["failures", "retry", "--class", "validation"],
    )
    .await;
    assert_eq!(code, Some(6), "{stderr}");
    assert!(stderr.contains("still failing"), "{stderr}");

    // A 401 exits 4, says what to do, and names no command that does not exist.
    let bad = config_variant(
        &config,
        &home.path().join("bad-token"),
        "base_url",
        "base_url",
    );
    std::fs::write(
        bad.with_file_name("secrets.toml"),
        std::fs::read_to_string(config.with_file_name("secrets.toml"))
            .unwrap()
            .lines()
            .map(|l| {
                if l.starts_with("ghl_token") {
                    "ghl_token = \"pit-00000000-0000-0000-0000-000000000000\"".to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let store = home.path().join("bad-token-store");
    let (code, _, stderr) = with_config(
        home.path(),
        &bad,
        &["--store", store.to_str().unwrap(), "sync"],
    )
    .await;
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("Private Integration token"), "{stderr}");
    assert!(!stderr.contains("auth login"), "{stderr}");
    // With --json, the same failure once, as JSON.
    let (code, _, stderr) = with_config(
        home.path(),
        &bad,
        &["--store", store.to_str().unwrap(), "sync", "--json"],
    )
    .await;
    assert_eq!(code, Some(4), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let error: Value = serde_json::from_str(stderr.trim()).unwrap();
    assert_eq!(error["error"]["class"], "auth");

    // GHL answering 503 to everything: transient, exit 9 once the retries are spent.
    let base_url = config_value(&config, "base_url");
    let faults = |body: Value| {
        let url = format!("{base_url}/_sandbox/faults");
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap();
        }
    };
    faults(serde_json::json!({"rate": 1.0, "repslyRate": 0.0, "kinds": ["status503"]})).await;
    let (code, _, stderr) = with_config(home.path(), &config, &["sync"]).await;
    assert_eq!(code, Some(9), "{stderr}");
    assert!(stderr.contains("error [transient]"), "{stderr}");
    faults(serde_json::json!({"rate": 0.0})).await;
    child.kill().await.unwrap();
}

/// Every `ghlsync …` command a message tells people to run is one that exists.
#[test]
fn hints_name_only_commands_that_exist() {
    use clap::CommandFactory;
    let commands: Vec<String> = ghlsync::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let mut wrong = Vec::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![src];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            for (number, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
                // Only messages (string literals), not comments about later issues.
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for hit in line.split("`ghlsync ").skip(1) {
                    let word = hit
                        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                        .next()
                        .unwrap_or_default();
                    if !word.starts_with('-') && !commands.iter().any(|c| c == word) {
                        wrong.push(format!("{}:{}: ghlsync {word}", path.display(), number + 1));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "hints naming no command:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn a_store_in_use_names_its_holder_and_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, config) = sandbox_child(home.path(), "20").await;
    let base_url = config_value(&config, "base_url");
    // Every request waits a minute: the sync holds the store for as long as the test needs.
    reqwest::Client::new()
        .post(format!("{base_url}/_sandbox/faults"))
        .json(&serde_json::json!({"rate": 1.0, "kinds": ["slow"], "slowMs": 60_000}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let store = home.path().join("store");
    let mut sync = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"))
        .args(["--config", config.to_str().unwrap(), "--store"])
        .arg(&store)
        .arg("sync")
        .env("XDG_STATE_HOME", home.path().join("state"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = sync.id().unwrap();
    let holder = store.join("holder");
    for _ in 0..400 {
        if std::fs::read_to_string(&holder).is_ok_and(|t| t.starts_with(&pid.to_string())) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    for args in [&["status"][..], &["failures", "list"], &["log"]] {
        let mut full = vec!["--store", store.to_str().unwrap()];
        full.extend_from_slice(args);
        let (code, _, stderr) = with_config(home.path(), &config, &full).await;
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("in use by process {pid} (ghlsync --config")),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains(" sync)"), "{args:?}: {stderr}");
        assert!(stderr.contains("wait until it ends"), "{args:?}: {stderr}");
        assert!(!stderr.contains("WouldBlock"), "{args:?}: {stderr}");
        assert!(!stderr.contains("restore"), "{args:?}: {stderr}");
    }
    sync.kill().await.unwrap();
    child.kill().await.unwrap();
}

#[tokio::test]
async fn status_shows_the_limit_ghl_reported() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, config) =
        sandbox_child_with(home.path(), &["--contacts", "10", "--rate-limit", "37/5s"]).await;
    let (_, before, _) = with_config(home.path(), &config, &["status"]).await;
    assert!(
        before.contains("no run has heard GHL's limits yet"),
        "{before}"
    );
    let (code, _, stderr) = with_config(home.path(), &config, &["sync"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let (_, after, _) = with_config(home.path(), &config, &["status"]).await;
    assert!(
        after.contains("rate limit  37 per 5000 ms (as GHL reported it "),
        "{after}"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn bad_inputs_get_errors_naming_the_place_and_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let config = dir.join("ghlsync.toml");
    let run = |args: Vec<String>| async move {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ghlsync(dir, &[], &refs).await
    };
    let cfg = |rest: &[&str]| {
        let mut args = vec!["--config".to_string(), config.display().to_string()];
        args.extend(rest.iter().map(|a| a.to_string()));
        args
    };

    // An empty value, and a 50 MB one: the key is named, the value never echoed.
    std::fs::write(&config, "[ghl]\nlocation_id = \"  \"\n").unwrap();
    let out = run(cfg(&["config", "check"])).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("`ghl.location_id` is empty"),
        "{}",
        text(&out.stderr)
    );
    let huge = format!(
        "[ghl]\nlocation_id = \"abc\"\nbase_url = \"{}\"\n",
        "x".repeat(50 * 1024 * 1024)
    );
    std::fs::write(&config, huge).unwrap();
    let out = run(cfg(&["config", "check"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        &stderr[..stderr.len().min(500)]
    );
    assert!(
        stderr.contains("line 3 (the value of `base_url`)"),
        "{stderr}"
    );
    assert!(stderr.len() < 1000, "the value is not echoed");

    // secrets.toml: an unknown key names the valid ones.
    std::fs::write(&config, "[ghl]\nlocation_id = \"abc\"\n").unwrap();
    let secrets = dir.join("secrets.toml");
    std::fs::write(&secrets, "ghl_tokn = \"pit-secret-value\"\n").unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(cfg(&["config", "check"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("unknown key `ghl_tokn`"), "{stderr}");
    assert!(
        stderr.contains("ghl_token, ghl_client_secret") && stderr.contains("repsly_password"),
        "{stderr}"
    );
    assert!(!stderr.contains("pit-secret-value"), "{stderr}");
    std::fs::remove_file(&secrets).unwrap();

    // A mapping for a peer ghlsync does not know.
    let zoho = dir.join("zoho.toml");
    std::fs::write(
        &zoho,
        "# a mapping\npeer = \"zoho\"\n\n[contact]\nmatch = [\"email\"]\n",
    )
    .unwrap();
    let out = run(cfg(&["mapping", "check", zoho.to_str().unwrap()])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("zoho.toml:2: peer = \"zoho\" is not a peer ghlsync knows"),
        "{stderr}"
    );
    assert!(stderr.contains("repsly"), "{stderr}");

    // A config naming a mapping file that does not exist: `config check` finds it.
    std::fs::write(
        &config,
        "[ghl]\nlocation_id = \"abc\"\n\n[peers.repsly]\nmapping = \"missing.toml\"\n[peers.repsly.connection]\nusername = \"u\"\n",
    )
    .unwrap();
    let out = run(cfg(&["config", "check"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("missing.toml does not exist"), "{stderr}");
    assert!(
        stderr.contains("ghlsync mapping default --peer repsly"),
        "{stderr}"
    );

    // `mapping check` without a file on a broken config: the config's error, not a silent
    // check of the built-in mapping.
    std::fs::write(&config, "[ghl]\nlocaton_id = \"abc\"\n").unwrap();
    let out = run(cfg(&["mapping", "check"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("unknown field `locaton_id`"), "{stderr}");
    assert!(stderr.contains("ghlsync mapping check FILE"), "{stderr}");
    assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));

    // A body from /dev/zero is refused at 10 MB, before any request.
    let out = ghlsync(
        dir,
        &[
            ("GHLSYNC_GHL_BASE_URL", "http://127.0.0.1:9"),
            ("GHLSYNC_GHL_LOCATION_ID", "abc"),
            ("GHLSYNC_GHL_TOKEN", "pit-x"),
        ],
        &["ghl", "contact", "create", "--body", "@/dev/zero"],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("larger than 10 MB"), "{stderr}");

    // A full disk, in words.
    std::fs::write(&config, "[ghl]\nlocation_id = \"abc\"\n").unwrap();
    let full = std::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"))
        .args(["--config", config.to_str().unwrap(), "config", "path"])
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    let stderr = text(&full.stderr);
    assert_eq!(full.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("writing to stdout: no space left on device. Free some space"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_damaged_store_says_verify_and_still_backs_up_what_decodes() {
    use ghlsync::peers::EntityKind;
    use ghlsync::store::Store;
    let home = tempfile::tempdir().unwrap();
    let config = offline_config(home.path());
    let store = home.path().join("store");
    {
        let opened = Store::open(&store).unwrap();
        opened
            .set_link("repsly", EntityKind::Contact, "C-1", "G1")
            .unwrap();
    }
    {
        // A value that does not decode, written under the store's back.
        let db = sled::open(&store).unwrap();
        db.open_tree("runs")
            .unwrap()
            .insert(7u64.to_be_bytes(), &[1u8, b'{'][..])
            .unwrap();
        db.open_tree("synclog")
            .unwrap()
            .insert([0u8; 16], &[1u8, b'['][..])
            .unwrap();
        db.flush().unwrap();
    }
    let cli = |args: &[&str]| {
        let mut full = vec![
            "--config".to_string(),
            config.display().to_string(),
            "--store".to_string(),
            store.display().to_string(),
        ];
        full.extend(args.iter().map(|a| a.to_string()));
        let home = home.path().to_path_buf();
        async move {
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            ghlsync(&home, &[], &refs).await
        }
    };
    // Reading it: damaged data (12), and the command that says more.
    let out = cli(&["log"]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(12), "{stderr}");
    assert!(
        stderr.contains("tree synclog") && stderr.contains("`ghlsync store verify`"),
        "{stderr}"
    );
    let backup = home.path().join("backup.jsonl");
    let out = cli(&["store", "backup", backup.to_str().unwrap()]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(12), "{stderr}");
    assert!(
        stdout.contains("left out (does not decode): runs "),
        "{stdout}"
    );
    assert!(stderr.contains("`ghlsync store verify`"), "{stderr}");
    // What decodes is in the backup, and it restores.
    let restored = home.path().join("restored");
    let out = ghlsync(
        home.path(),
        &[],
        &[
            "--config",
            config.to_str().unwrap(),
            "--store",
            restored.to_str().unwrap(),
            "store",
            "restore",
            backup.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("checksum matched"),
        "{}",
        text(&out.stdout)
    );
    // A second backup to the same file is refused without --force, replaced with it.
    std::fs::write(&backup, "keep me").unwrap();
    let out = cli(&["store", "backup", backup.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), "keep me");
    let out = cli(&["store", "backup", "--force", backup.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(12), "{}", text(&out.stderr));
    assert_ne!(std::fs::read_to_string(&backup).unwrap(), "keep me");
}

#[tokio::test]
async fn completions_and_the_man_page_come_from_the_command_tree() {
    let home = tempfile::tempdir().unwrap();
    let out = ghlsync(home.path(), &[], &["completions", "bash"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(
        script.contains("ghlsync") && script.contains("failures"),
        "{script}"
    );
    let out = ghlsync(home.path(), &[], &["man"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    // roff: after the quote-character preamble every page has, the title line.
    let page = text(&out.stdout);
    let first = page
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"));
    assert!(
        first.is_some_and(|l| l.starts_with(".TH ghlsync 1")),
        "{page}"
    );
    // Each subcommand has its page, as the top page's SEE ALSO says.
    let out = ghlsync(home.path(), &[], &["man", "sync"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(".TH ghlsync-sync 1"));
    // The console's flags work without its name, and are refused before another command.
    let out = ghlsync(home.path(), &[], &["--read-only", "status"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the console's flags"),
        "{}",
        text(&out.stderr)
    );
}

/// `ghlsync --config CONFIG ARGS…` under `home`.
async fn configured(home: &Path, config: &Path, args: &[&str]) -> Output {
    let mut full = vec!["--config", config.to_str().unwrap()];
    full.extend_from_slice(args);
    ghlsync(home, &[], &full).await
}

/// The failed queue as `failures list --json [--reason CODE]` prints it, by operation id.
async fn queue_by_id(
    home: &Path,
    config: &Path,
    reason: Option<&str>,
) -> std::collections::BTreeMap<u64, Value> {
    let mut args = vec!["failures", "list", "--json"];
    if let Some(code) = reason {
        args.extend(["--reason", code]);
    }
    let out = configured(home, config, &args).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| (row["id"].as_u64().unwrap(), row.clone()))
        .collect()
}

/// §1: every failure has a reason code; `failures list --reason` shows one group, and
/// `failures retry --reason` retries that group only: the failures of another validation
/// reason are left exactly as they were.
#[tokio::test]
async fn a_reason_is_listed_and_retried_as_a_group_and_other_reasons_are_untouched() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, config) = sandbox_child(home.path(), "300").await;

    // A dry run lists each record that would fail, with its reason, and writes to the peer in
    // the peer's field names.
    let dry = configured(home.path(), &config, &["sync", "--dry-run", "--json"]).await;
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let plan: Value = serde_json::from_slice(&dry.stdout).unwrap();
    let plan = plan["plan"].as_array().unwrap();
    let would_fail = |code: &str| {
        plan.iter()
            .filter(|change| change["failure"]["reason"] == code)
            .count()
    };
    assert!(would_fail("peer_requires_field") > 0 && would_fail("no_match_key") > 0);
    let to_peer: Vec<&Value> = plan
        .iter()
        .filter(|change| change["direction"] == "to_peer")
        .collect();
    assert!(!to_peer.is_empty());
    for change in &to_peer {
        // Repsly's names (`ContactName`, `StreetAddress`, …), never GHL's (`firstName`, …).
        let fields = change["fields"].as_object().unwrap();
        assert!(!fields.is_empty(), "{change}");
        assert!(
            fields
                .keys()
                .all(|key| key.starts_with(|c: char| c.is_ascii_uppercase())),
            "{change}"
        );
    }
    let listing = configured(home.path(), &config, &["sync", "--dry-run"]).await;
    let listing = text(&listing.stdout);
    assert!(
        listing.contains("would fail: peer_requires_field (Name): the peer requires `Name`")
            && listing.contains("would fail: no_match_key: "),
        "{listing}"
    );

    let synced = configured(home.path(), &config, &["sync"]).await;
    assert!(synced.status.success(), "{}", text(&synced.stderr));

    let before = queue_by_id(home.path(), &config, None).await;
    let of_reason = |queue: &std::collections::BTreeMap<u64, Value>, code: &str| {
        queue
            .values()
            .filter(|row| row["reason"] == code)
            .map(|row| row["id"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    // Two validation reasons of the seed: GHL contacts without a company name (Repsly requires
    // a client's Name) and Repsly clients with nothing to match them by.
    let required = of_reason(&before, "peer_requires_field");
    let unmatched = of_reason(&before, "no_match_key");
    assert!(!required.is_empty() && !unmatched.is_empty(), "{before:?}");
    for id in &required {
        let row = &before[id];
        assert_eq!(row["error"]["class"], "validation", "{row}");
        assert_eq!(row["direction"], "to_peer", "{row}");
        assert_eq!(row["error"]["field"], "Name", "{row}");
        assert_eq!(row["fixable_by_mapping"], true, "{row}");
        assert!(row["advice"].as_str().unwrap().contains("`Name`"), "{row}");
    }
    for row in before.values() {
        assert!(
            row["error"]["reason"].is_string(),
            "every failure records its reason: {row}"
        );
    }

    // The list filtered by a reason holds that reason's failures and no other.
    let listed = queue_by_id(home.path(), &config, Some("no_match_key")).await;
    assert_eq!(listed.keys().copied().collect::<Vec<_>>(), unmatched);
    let table = configured(home.path(), &config, &["failures", "list"]).await;
    let table = text(&table.stdout);
    assert!(
        table.contains("  peer_requires_field (")
            && table.contains("  no_match_key (")
            && table.contains("→ peer")
            && table.contains("→ GHL"),
        "{table}"
    );

    let retried = configured(
        home.path(),
        &config,
        &["failures", "retry", "--reason", "peer_requires_field"],
    )
    .await;
    let said = text(&retried.stdout);
    assert!(
        said.contains(&format!("{} failed again", required.len())),
        "{said}{}",
        text(&retried.stderr)
    );

    let after = queue_by_id(home.path(), &config, None).await;
    for id in &unmatched {
        assert_eq!(after.get(id), before.get(id), "op {id} of another reason");
    }
    for id in &required {
        let (was, now) = (&before[id], &after[id]);
        assert_eq!(now["reason"], "peer_requires_field", "{now}");
        assert_ne!(was["updated_at"], now["updated_at"], "op {id} was retried");
    }

    // The fix is previewed on such a GHL contact in its direction: GHL → Repsly, in Repsly's
    // field names, where the empty `Name` shows.
    let ghl_id = before[&required[0]]["source_id"]
        .as_str()
        .unwrap()
        .to_string();
    let preview = configured(
        home.path(),
        &config,
        &["mapping", "preview", "--ghl", &ghl_id],
    )
    .await;
    assert!(preview.status.success(), "{}", text(&preview.stderr));
    let shown = text(&preview.stdout);
    assert!(shown.contains("repsly's field names"), "{shown}");
    assert!(
        shown
            .lines()
            .any(|line| line.starts_with("companyName") && line.contains(" Name ")),
        "{shown}"
    );

    // An unknown code is a usage error that lists the valid ones.
    for args in [
        &["failures", "list", "--reason", "validaton"][..],
        &["failures", "retry", "--reason", "validaton"][..],
    ] {
        let refused = configured(home.path(), &config, args).await;
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        let said = text(&refused.stderr);
        assert!(
            said.contains("\"validaton\"") && said.contains("peer_requires_field"),
            "{said}"
        );
    }
    child.kill().await.unwrap();
}

/// A config file that is not there is a configuration problem (exit 3), and an empty value is
/// named with its line.
#[tokio::test]
async fn a_missing_config_exits_3_and_an_empty_value_names_its_line() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("nowhere/ghlsync.toml");
    let out = ghlsync(
        home.path(),
        &[],
        &["--config", missing.to_str().unwrap(), "status"],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no config at"), "{stderr}");
    let config = home.path().join("ghlsync.toml");
    std::fs::write(&config, "[ghl]\n\nlocation_id = \"\"\n").unwrap();
    let out = ghlsync(
        home.path(),
        &[],
        &["--config", config.to_str().unwrap(), "config", "check"],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("line 3") && stderr.contains("`ghl.location_id` is empty"),
        "{stderr}"
    );
}
