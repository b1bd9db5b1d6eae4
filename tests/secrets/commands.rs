//! Every command's output, the log files, exports, backups and the store: no secret.

use crate::common::{self, Harness};
use crate::leaks::{assert_clean, create_fields, files_under, home_for, mode, needles, run};
use serde_json::{Value, json};

#[tokio::test]
async fn no_secret_reaches_output_logs_exports_or_backups_and_their_files_are_owner_only() {
    let h = Harness::start(40).await;
    h.admin_post("repsly/settings", json!({"importDelayMs": 0}))
        .await;
    let (home, config, known) = home_for(&h).await;
    let mut runs = create_fields(home.path(), &config).await;

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
