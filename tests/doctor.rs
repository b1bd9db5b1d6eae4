//! `ghlsync doctor` through the real binary against the sandbox: every line passes on a good
//! config; a loose secrets file, a wrong peer password and an unknown GHL token each fail their
//! line with the README's exit code; a store another process holds is "in use"; the webhook
//! receiver is found or said not to run; `--json` parses; no secret is ever printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use common::binary::{isolated, write_config};
use ghlsync::config::secrets::Secrets;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

struct Doctor {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn doctor(home: &Path, config: &Path, json: bool) -> Doctor {
    let mut command = isolated(home, &["--config"]);
    command.arg(config).arg("doctor");
    if json {
        command.arg("--json");
    }
    let out = command.output().await.unwrap();
    Doctor {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `--json` lines by check name.
fn lines(out: &Doctor) -> Vec<(String, String, String, Value)> {
    let parsed: Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|err| panic!("--json is not JSON ({err}): {}", out.stdout));
    parsed
        .as_array()
        .expect("an array")
        .iter()
        .map(|line| {
            (
                line["check"].as_str().unwrap().to_string(),
                line["status"].as_str().unwrap().to_string(),
                line["detail"].as_str().unwrap().to_string(),
                line["fix"].clone(),
            )
        })
        .collect()
}

fn status_of(out: &Doctor, check: &str) -> (String, String, Value) {
    lines(out)
        .into_iter()
        .find(|(name, ..)| name == check)
        .map(|(_, status, detail, fix)| (status, detail, fix))
        .unwrap_or_else(|| panic!("no {check:?} line in {}", out.stdout))
}

/// A home with the sandbox's config (repsly), its store created 0700, every file owner-only.
async fn good_home(h: &Harness) -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(h, home.path(), "");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let store = home.path().join("store");
    drop(ghlsync::store::Store::open(&store).unwrap());
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o700)).unwrap();
    (home, config)
}

fn assert_no_secret(h: &Harness, out: &Doctor) {
    for secret in [h.sandbox.token.expose(), h.sandbox.repsly_password.expose()] {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "a secret was printed:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

#[tokio::test]
async fn a_good_config_passes_every_line_and_json_parses() {
    let h = Harness::start(20).await;
    let (home, config) = good_home(&h).await;

    let text = doctor(home.path(), &config, false).await;
    assert_eq!(text.code, 0, "{}\n{}", text.stdout, text.stderr);
    for line in text.stdout.lines().filter(|l| !l.starts_with(' ')) {
        assert!(line.starts_with("pass"), "not a pass: {line}");
    }
    assert_no_secret(&h, &text);

    let json = doctor(home.path(), &config, true).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let all = lines(&json);
    let names: Vec<&str> = all.iter().map(|(name, ..)| name.as_str()).collect();
    for expected in [
        "config",
        "secrets file mode",
        "store folder",
        "store",
        "ghl token",
        "ghl rate limit",
        "peer repsly",
        "webhook signatures",
        "clock skew",
    ] {
        assert!(names.contains(&expected), "no {expected} in {names:?}");
    }
    assert!(
        all.iter().all(|(_, status, ..)| status == "pass"),
        "{all:?}"
    );
    let (_, store, _) = status_of(&json, "store");
    assert!(store.contains("verify clean"), "{store}");
    let (_, limit, _) = status_of(&json, "ghl rate limit");
    assert!(limit.contains("burst"), "{limit}");
    assert_no_secret(&h, &json);
}

#[tokio::test]
async fn a_loose_secrets_file_fails_with_the_config_code() {
    let h = Harness::start(5).await;
    let (home, config) = good_home(&h).await;
    let secrets = home.path().join("secrets.toml");
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o640)).unwrap();

    let out = doctor(home.path(), &config, true).await;
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let (status, detail, fix) = status_of(&out, "secrets file mode");
    assert_eq!(status, "fail");
    assert!(detail.contains("0640"), "{detail}");
    assert!(fix.as_str().unwrap().contains("chmod 600"), "{fix}");
    assert_no_secret(&h, &out);
}

#[tokio::test]
async fn a_wrong_peer_password_fails_that_peer_with_the_auth_code() {
    let h = Harness::start(5).await;
    let (home, config) = good_home(&h).await;
    let mut secrets = Secrets {
        ghl_token: Some(h.sandbox.token.clone()),
        ..Secrets::default()
    };
    let wrong = "not-the-password-8d1c";
    secrets.set_peer_secret("repsly", "password", ghlsync::config::Secret::new(wrong));
    secrets.write(&home.path().join("secrets.toml")).unwrap();

    let out = doctor(home.path(), &config, false).await;
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let failed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("fail"))
        .collect();
    assert_eq!(failed.len(), 1, "{}", out.stdout);
    assert!(failed[0].contains("peer repsly"), "{}", failed[0]);
    assert!(
        out.stdout.contains("GHLSYNC_REPSLY_PASSWORD"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(wrong) && !out.stderr.contains(wrong));
    let json = doctor(home.path(), &config, true).await;
    assert_eq!(status_of(&json, "ghl token").0, "pass");
    assert_eq!(status_of(&json, "peer repsly").0, "fail");
}

#[tokio::test]
async fn an_unknown_ghl_token_fails_the_token_line_with_the_auth_code() {
    let h = Harness::start(5).await;
    let (home, config) = good_home(&h).await;
    let unknown = "pit-00000000-0000-0000-0000-000000000000";
    let mut secrets = Secrets {
        ghl_token: Some(ghlsync::config::Secret::new(unknown)),
        ..Secrets::default()
    };
    secrets.set_peer_secret("repsly", "password", h.sandbox.repsly_password.clone());
    secrets.write(&home.path().join("secrets.toml")).unwrap();

    let out = doctor(home.path(), &config, true).await;
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let (status, _, fix) = status_of(&out, "ghl token");
    assert_eq!(status, "fail");
    assert!(fix.as_str().unwrap().contains("new"), "{fix}");
    assert_eq!(status_of(&out, "peer repsly").0, "pass");
    assert!(!out.stdout.contains(unknown) && !out.stderr.contains(unknown));
}

#[tokio::test]
async fn a_store_held_by_another_process_is_in_use_not_failed() {
    let h = Harness::start(5).await;
    let (home, config) = good_home(&h).await;
    // sled lets go of a store's lock from a background thread after the drop in `good_home`.
    let mut held = None;
    for _ in 0..100 {
        match ghlsync::store::Store::open(&home.path().join("store")) {
            Ok(store) => {
                held = Some(store);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    let held = held.expect("the store opens once good_home's handle is gone");

    let out = doctor(home.path(), &config, true).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (status, detail, _) = status_of(&out, "store");
    assert_eq!(status, "pass");
    assert!(
        detail.contains(&format!("in use by process {}", std::process::id())),
        "{detail}"
    );
    drop(held);
}

#[tokio::test]
async fn the_webhook_receiver_is_found_or_said_not_to_run() {
    let h = Harness::start(5).await;
    let (home, config) = good_home(&h).await;
    let base = std::fs::read_to_string(&config).unwrap();

    // A stand-in for the service's listener: /healthz answers 200.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    std::fs::write(
        &config,
        format!("{base}\n[service]\ninstance = \"acme\"\nlisten = \"{up}\"\n"),
    )
    .unwrap();
    let out = doctor(home.path(), &config, true).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(status_of(&out, "webhook receiver").0, "pass");

    // Nothing listens: a port bound then let go.
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    std::fs::write(
        &config,
        format!("{base}\n[service]\ninstance = \"acme\"\nlisten = \"{gone}\"\n"),
    )
    .unwrap();
    let out = doctor(home.path(), &config, true).await;
    assert_eq!(out.code, 9, "{}\n{}", out.stdout, out.stderr);
    let (status, detail, fix) = status_of(&out, "webhook receiver");
    assert_eq!(status, "fail");
    assert!(detail.contains("not running"), "{detail}");
    assert!(
        fix.as_str()
            .unwrap()
            .contains("systemctl start ghlsync@acme"),
        "{fix}"
    );
    server.abort();
}
