//! `ghlsync connector check|try` as a person runs them: the binary, an isolated home, the
//! secret in the environment, the sandbox's generic app.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use ghlsync::sandbox::SandboxOptions;
use serde_json::Value;

#[tokio::test]
async fn connector_check_and_try_from_the_command_line() {
    let h = Harness::with_options(SandboxOptions {
        contacts: 20,
        rate_limit: None,
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/connectors");
    let file = root.join("crm-offset.toml");
    let file = file.to_str().unwrap();
    let run = |args: &[&str], token: Option<&str>| {
        let mut command = common::binary::isolated(home.path(), args);
        if let Some(token) = token {
            command.env("GHLSYNC_CRM_OFFSET_API_TOKEN", token);
        }
        command.output()
    };
    let out = run(&["connector", "check", file], None).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "GHLSYNC_CRM_OFFSET_API_TOKEN or crm-offset_api_token in secrets.toml (not set)"
        ),
        "{text}"
    );
    let bad = home.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\nbase_url = \"http://h\"\n[contact]\nprimary_kee = \"id\"\n",
    )
    .unwrap();
    let out = run(&["connector", "check", bad.to_str().unwrap()], None)
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("bad.toml:4:1") && err.contains("primary_key"),
        "{err}"
    );
    // `try` without its secret: a configuration problem naming the variable.
    let base = h.sandbox.generic_base_url.as_str();
    let out = run(&["connector", "try", file, "--base-url", base], None)
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GHLSYNC_CRM_OFFSET_API_TOKEN"));
    let token = h.sandbox.generic_token.expose();
    let writes = common::sync::sandbox_writes(&h, common::sync::Routes::All).await;
    let mapping = root.join("crm-offset.mapping.toml");
    let out = run(
        &[
            "connector",
            "try",
            file,
            "--base-url",
            base,
            "--mapping",
            mapping.to_str().unwrap(),
        ],
        Some(token),
    )
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("## contact ") && text.contains("email ="),
        "{text}"
    );
    assert!(
        text.contains("firstName") && text.contains("-> GHL"),
        "{text}"
    );
    assert!(!text.contains(token));
    let out = run(
        &[
            "connector",
            "try",
            file,
            "--base-url",
            base,
            "--entity",
            "note",
            "--json",
        ],
        Some(token),
    )
    .await
    .unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).expect("one JSON answer");
    assert!(
        answer["records"]
            .as_array()
            .is_some_and(|r| !r.is_empty() && r[0]["parentId"].is_string()),
        "{answer}"
    );
    assert_eq!(
        common::sync::sandbox_writes(&h, common::sync::Routes::All).await,
        writes,
        "try writes nothing"
    );
    // A wrong token: the auth class's exit code.
    let out = run(
        &["connector", "try", file, "--base-url", base],
        Some("nope-nope-nope"),
    )
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
