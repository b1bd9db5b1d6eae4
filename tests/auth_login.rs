//! `ghlsync auth …` through the binary against the sandbox: the code flow with the redirect
//! pasted on stdin or caught by `--listen`, a refused code, and an agency's installed
//! locations and minted location token, each token then used by `ghlsync ghl`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::Harness;
use common::binary::isolated;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const REDIRECT: &str = "http://127.0.0.1:8976/callback";

/// A config for OAuth against the sandbox, its client secret in a 0600 secrets.toml.
fn write_config(h: &Harness, home: &Path) -> (PathBuf, PathBuf) {
    let token_file = home.join("state/ghl-token.json");
    let config = home.join("ghlsync.toml");
    std::fs::write(
        &config,
        format!(
            "[ghl]\nbase_url = \"{}\"\nlocation_id = \"{}\"\nauth = \"oauth\"\nclient_id = \"{}\"\ntoken_file = \"{}\"\n",
            h.sandbox.base_url,
            h.sandbox.location_id,
            h.sandbox.oauth_client_id,
            token_file.display()
        ),
    )
    .unwrap();
    let secrets = home.join("secrets.toml");
    std::fs::write(
        &secrets,
        format!(
            "ghl_client_secret = \"{}\"\n",
            h.sandbox.oauth_client_secret.expose()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    (config, token_file)
}

/// Starts `ghlsync --config CFG auth login ARGS`, reads stdout up to the authorize URL, and
/// answers the child with that URL's `state`.
async fn start_login(
    home: &Path,
    config: &Path,
    args: &[&str],
) -> (tokio::process::Child, url::Url, String) {
    let mut full = vec!["--config", config.to_str().unwrap(), "auth", "login"];
    full.extend(args);
    let mut child = isolated(home, &full)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the authorize URL within 30 s")
            .unwrap()
            .expect("the authorize URL before stdout closes");
        if let Some(at) = line.find("https://") {
            break url::Url::parse(line[at..].trim()).unwrap();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state in the authorize URL");
    (child, url, state)
}

async fn paste(child: &mut tokio::process::Child, line: &str) {
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{line}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
}

async fn finish(child: tokio::process::Child) -> std::process::Output {
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the login ends")
        .unwrap()
}

async fn code(h: &Harness, body: Value) -> String {
    h.admin_post("auth-codes", body).await["code"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn ghlsync(home: &Path, args: &[&str]) -> std::process::Output {
    isolated(home, args).output().await.unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn token_json(file: &Path) -> Value {
    let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", file.display());
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

async fn contact_list_works(home: &Path, config: &Path) {
    let out = ghlsync(
        home,
        &[
            "--config",
            config.to_str().unwrap(),
            "ghl",
            "contact",
            "list",
            "--limit",
            "2",
            "--json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["contacts"].as_array().unwrap().len(), 2, "{body}");
}

#[tokio::test]
async fn a_pasted_redirect_saves_the_pair_0600_and_the_client_uses_it() {
    let h = Harness::start(10).await;
    let home = tempfile::tempdir().unwrap();
    let (config, token_file) = write_config(&h, home.path());
    let (mut child, url, state) =
        start_login(home.path(), &config, &["--redirect-uri", REDIRECT]).await;
    assert_eq!(url.host_str(), Some("marketplace.gohighlevel.com"));
    assert_eq!(url.path(), "/v2/oauth/chooselocation");
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], h.sandbox.oauth_client_id);
    assert_eq!(query["redirect_uri"], REDIRECT);
    assert!(query["scope"].split(' ').any(|s| s == "contacts.write"));
    let code = code(&h, json!({})).await;
    paste(&mut child, &format!("{REDIRECT}?code={code}&state={state}")).await;
    let out = finish(child).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stored = token_json(&token_file);
    assert!(
        stored["access_token"]
            .as_str()
            .unwrap()
            .starts_with("sbxat_")
    );
    assert!(
        stored["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("sbxrt_")
    );
    assert_eq!(stored["location_id"], json!(h.sandbox.location_id));
    assert!(!text(&out.stderr).contains(stored["access_token"].as_str().unwrap()));
    contact_list_works(home.path(), &config).await;
}

#[tokio::test]
async fn a_bad_code_or_a_foreign_state_is_an_auth_error_and_saves_nothing() {
    let h = Harness::start(5).await;
    let home = tempfile::tempdir().unwrap();
    let (config, token_file) = write_config(&h, home.path());
    let (mut child, _, _) = start_login(home.path(), &config, &["--redirect-uri", REDIRECT]).await;
    paste(&mut child, "not-a-code-the-sandbox-minted").await;
    let out = finish(child).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("authorization code"),
        "{}",
        text(&out.stderr)
    );
    assert!(!token_file.exists());

    let good = code(&h, json!({})).await;
    let (mut child, _, _) = start_login(home.path(), &config, &["--redirect-uri", REDIRECT]).await;
    paste(
        &mut child,
        &format!("{REDIRECT}?code={good}&state=someone-elses"),
    )
    .await;
    let out = finish(child).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("state"), "{}", text(&out.stderr));
    assert!(!token_file.exists());
}

/// A paste that never ends its line (a file of anything piped in, /dev/zero): read up to 64 KB,
/// then refused, where the whole stream used to be read waiting for a line break.
#[tokio::test]
async fn an_endless_paste_is_cut_at_its_limit_and_refused() {
    let h = Harness::start(5).await;
    let home = tempfile::tempdir().unwrap();
    let (config, token_file) = write_config(&h, home.path());
    let (mut child, _, _) = start_login(home.path(), &config, &["--redirect-uri", REDIRECT]).await;
    let mut stdin = child.stdin.take().unwrap();
    // 100 KB, no line break, and stdin stays open: only the limit ends the read.
    stdin.write_all(&vec![b'x'; 100 * 1024]).await.ok();
    let out = finish(child).await;
    drop(stdin);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!token_file.exists());
}

#[tokio::test]
async fn listen_catches_the_browsers_redirect() {
    let h = Harness::start(10).await;
    let home = tempfile::tempdir().unwrap();
    let (config, token_file) = write_config(&h, home.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let (child, _, state) = start_login(
        home.path(),
        &config,
        &["--redirect-uri", &redirect, "--listen", "--wait", "60s"],
    )
    .await;
    let code = code(&h, json!({})).await;
    let browser = reqwest::Client::new();
    let mut answer = None;
    for _ in 0..400 {
        match browser
            .get(format!("{redirect}?code={code}&state={state}"))
            .send()
            .await
        {
            Ok(response) => {
                answer = Some(response);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
    let answer = answer.expect("the listener answers");
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("authorized"));
    let out = finish(child).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        token_json(&token_file)["location_id"],
        json!(h.sandbox.location_id)
    );
    contact_list_works(home.path(), &config).await;
}

#[tokio::test]
async fn an_agency_lists_its_locations_and_mints_a_location_token_that_works() {
    let h = Harness::start(10).await;
    let home = tempfile::tempdir().unwrap();
    let (config, token_file) = write_config(&h, home.path());
    let cfg = config.to_str().unwrap();
    let agency_file = home.path().join("agency.json");
    let agency = agency_file.to_str().unwrap();
    let (mut child, url, _) = start_login(
        home.path(),
        &config,
        &[
            "--redirect-uri",
            REDIRECT,
            "--agency",
            "--agency-token-file",
            agency,
        ],
    )
    .await;
    let scope = url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .into_owned();
    assert!(scope.split(' ').any(|s| s == "oauth.write"), "{scope}");
    let code = code(&h, json!({"userType": "Company"})).await;
    paste(&mut child, &code).await;
    let out = finish(child).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stored = token_json(&agency_file);
    assert!(stored["company_id"].is_string(), "{stored}");
    assert!(stored.get("location_id").is_none_or(Value::is_null));

    let out = ghlsync(
        home.path(),
        &[
            "--config",
            cfg,
            "auth",
            "locations",
            "--agency-token-file",
            agency,
            "--json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = listed["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    assert!(ids.contains(&h.sandbox.location_id.as_str()));

    let out = ghlsync(
        home.path(),
        &[
            "--config",
            cfg,
            "auth",
            "location-token",
            "--location",
            &h.sandbox.location_id,
            "--agency-token-file",
            agency,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        token_json(&token_file)["location_id"],
        json!(h.sandbox.location_id)
    );
    contact_list_works(home.path(), &config).await;

    // A location the app is not installed on is GHL's 400, exit 6, and the file stays.
    let before = std::fs::read(&token_file).unwrap();
    let out = ghlsync(
        home.path(),
        &[
            "--config",
            cfg,
            "auth",
            "location-token",
            "--location",
            "elsewhere",
            "--agency-token-file",
            agency,
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&token_file).unwrap(), before);
}
