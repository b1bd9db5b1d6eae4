//! `ghlsync run`, the real binary against the sandbox: it syncs on its schedule, serves
//! `/healthz` and `/metrics`, keeps its files in force when a reload brings a broken one (and
//! alerts), recovers on a good reload, and drains on SIGTERM with nothing left in flight — even
//! in the middle of a slow first sync, after which a restart finishes with no duplicate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use common::binary::{isolated, write_config};
use common::oracle::EndState;
use ghlsync::sandbox::SandboxOptions;
use ghlsync::store::Store;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Child;

/// A free loopback port for the service's listener.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The rig's config with a `[service]` section appended.
fn service_config(h: &Harness, home: &Path, service: &str) -> PathBuf {
    let config = write_config(h, home, "retry_ladder = [\"1ms\"]");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("\n[service]\ninstance = \"test\"\n{service}\n"));
    std::fs::write(&config, text).unwrap();
    config
}

fn start(home: &Path, config: &Path) -> Child {
    let log = std::fs::File::create(home.join("run.log")).unwrap();
    isolated(home, &["--config", &config.display().to_string(), "run"])
        .env("XDG_RUNTIME_DIR", home.join("runtime"))
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

fn log(home: &Path) -> String {
    std::fs::read_to_string(home.join("run.log")).unwrap_or_default()
}

/// Waits (up to 60 s) until the service's log holds `needle`.
async fn wait_for_log(home: &Path, needle: &str) {
    for _ in 0..600 {
        if log(home).contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the service never logged {needle:?}; its log:\n{}",
        log(home)
    );
}

fn signal(child: &Child, signal: i32) {
    let pid = child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

async fn get(url: &str) -> (u16, String) {
    let answer = reqwest::get(url).await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_syncs_on_schedule_reloads_safely_and_drains_on_sigterm() {
    let h = Harness::start(40).await;
    h.create_mapping_fields(None).await;
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = service_config(
        &h,
        home.path(),
        &format!(
            "listen = \"127.0.0.1:{port}\"\nmetrics = true\n\n[service.schedule]\nall = \"10s\"\n\n[service.alerts]\ncheck_secs = 1\n"
        ),
    );
    let mut child = start(home.path(), &config);
    wait_for_log(home.path(), "ghlsync run: started").await;
    let (status, body) = get(&format!("http://127.0.0.1:{port}/healthz")).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"instance\":\"test\""), "{body}");

    // The schedule's first run is due at start: the peer's clients reach GHL.
    for _ in 0..300 {
        let (_, metrics) = get(&format!("http://127.0.0.1:{port}/metrics")).await;
        if metrics.contains("ghlsync_last_run_timestamp_seconds{peer=\"repsly\"}") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, metrics) = get(&format!("http://127.0.0.1:{port}/metrics")).await;
    assert!(metrics.contains("ghlsync_up 1"), "{metrics}");
    let writes: f64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("ghlsync_writes_last_hour{peer=\"repsly\"} "))
        .unwrap_or_else(|| panic!("no writes figure in:\n{metrics}"))
        .parse()
        .unwrap();
    assert!(
        writes > 0.0,
        "the first scheduled run wrote nothing:\n{metrics}"
    );

    // A broken schedule on reload: the old one stays, an alert says why, the service goes on.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("all = \"10s\"", "all = \"soon\"")).unwrap();
    signal(&child, libc::SIGHUP);
    wait_for_log(home.path(), "alert: reload: [service.schedule] all").await;
    let (status, _) = get(&format!("http://127.0.0.1:{port}/healthz")).await;
    assert_eq!(status, 200, "the service stopped after a bad reload");
    std::fs::write(&config, &text).unwrap();
    signal(&child, libc::SIGHUP);
    wait_for_log(home.path(), "recovered: reload: every file loaded").await;

    signal(&child, libc::SIGTERM);
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the service drains within its drain time")
        .unwrap();
    assert!(exit.success(), "exit {exit:?}; log:\n{}", log(home.path()));
    assert!(
        log(home.path()).contains("ended=Drained"),
        "{}",
        log(home.path())
    );
    let store = Store::open(&home.path().join("store")).unwrap();
    assert!(store.operations_in("in_flight").unwrap().is_empty());
    assert!(!store.runs(10).unwrap().is_empty(), "no run was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_the_middle_of_a_slow_first_sync_leaves_nothing_in_flight_or_doubled() {
    let h = Harness::with_options(SandboxOptions {
        contacts: 150,
        rate_limit: None,
        daily_limit: None,
        latency: Some((Duration::from_millis(40), Duration::from_millis(80))),
        ..SandboxOptions::default()
    })
    .await;
    h.create_mapping_fields(None).await;
    h.admin_post("repsly/settings", serde_json::json!({"importDelayMs": 0}))
        .await;
    let baseline = EndState::capture(&h).await;
    let home = tempfile::tempdir().unwrap();
    let config = service_config(&h, home.path(), "drain_secs = 30\n");
    let mut child = start(home.path(), &config);
    wait_for_log(home.path(), "ghlsync run: started").await;
    // Some records are written, many are not yet.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stopped_at = std::time::Instant::now();
    signal(&child, libc::SIGTERM);
    let exit = tokio::time::timeout(Duration::from_secs(40), child.wait())
        .await
        .expect("the service drains within its drain time")
        .unwrap();
    assert!(exit.success(), "exit {exit:?}; log:\n{}", log(home.path()));
    assert!(
        log(home.path()).contains("ended=Drained"),
        "{}",
        log(home.path())
    );
    let drain = stopped_at.elapsed();
    {
        let store = Store::open(&home.path().join("store")).unwrap();
        assert!(
            store.operations_in("in_flight").unwrap().is_empty(),
            "a write was left in flight by the drain"
        );
    }
    // The drain stopped the run part-way: a restart still has records to write.
    let written_before = common::sync::sandbox_writes(&h, common::sync::Routes::All).await;
    let mut sync = isolated(
        home.path(),
        &["--config", &config.display().to_string(), "sync"],
    );
    let out = sync.output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written_after = common::sync::sandbox_writes(&h, common::sync::Routes::All).await;
    eprintln!(
        "writes by the drained service: {written_before}, by the restart: {}",
        written_after - written_before
    );
    assert!(
        written_after > written_before,
        "the service finished the whole sync before SIGTERM; slow the sandbox down"
    );
    let after = EndState::capture(&h).await;
    assert_eq!(
        after.duplicates(&baseline),
        Vec::<String>::new(),
        "drain then restart made duplicates"
    );
    eprintln!("drain took {drain:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_outage_alerts_once_to_the_webhook_and_the_command_and_once_on_recovery() {
    use axum::{Router, routing::post};
    use std::sync::{Arc, Mutex};
    let h = Harness::start(20).await;
    h.create_mapping_fields(None).await;
    // A Slack-compatible receiver in the test.
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let sink = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let home = tempfile::tempdir().unwrap();
    let alerts_file = home.path().join("alerts.jsonl");
    let config = service_config(
        &h,
        home.path(),
        &format!(
            "[service.schedule]\nall = \"10s\"\n\n[service.alerts]\ncheck_secs = 1\npeer_failures = 1\ncommand = [\"sh\", \"-c\", \"cat >> {}; echo >> {}\"]\n",
            alerts_file.display(),
            alerts_file.display()
        ),
    );
    // The URL is a secret: in secrets.toml, never in the config.
    let secrets = home.path().join("secrets.toml");
    let mut text = std::fs::read_to_string(&secrets).unwrap();
    text.push_str(&format!("alerts_webhook_url = \"{hook}\"\n"));
    std::fs::write(&secrets, text).unwrap();

    // Repsly is down when the service starts, and back once the alert is out.
    h.admin_post("repsly/settings", serde_json::json!({"downForMs": 600_000}))
        .await;
    let mut child = start(home.path(), &config);
    wait_for_log(home.path(), "alert: repsly is not answering").await;
    h.admin_post("repsly/settings", serde_json::json!({"downForMs": 0}))
        .await;
    wait_for_log(home.path(), "recovered: repsly answers again").await;
    signal(&child, libc::SIGTERM);
    child.wait().await.unwrap();

    let bodies = received.lock().unwrap().clone();
    let states: Vec<&str> = bodies
        .iter()
        .filter(|b| b["alert"]["key"]["kind"] == "peer_down")
        .map(|b| b["alert"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["raised", "recovered"], "{bodies:#?}");
    assert!(
        bodies[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("ghlsync alert: repsly")
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&alerts_file)
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let command_states: Vec<&str> = lines
        .iter()
        .filter(|a| a["key"]["kind"] == "peer_down")
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(command_states, vec!["raised", "recovered"]);
    assert!(
        !log(home.path()).contains(&hook),
        "the alert webhook's URL reached the log"
    );
}

/// Waits (up to 60 s) until `/metrics` shows a finished run of Repsly.
async fn wait_first_run(port: u16) {
    for _ in 0..600 {
        let (_, metrics) = get(&format!("http://127.0.0.1:{port}/metrics")).await;
        if metrics.contains("ghlsync_last_run_timestamp_seconds{peer=\"repsly\"}") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no run of repsly ended in 60 s");
}

/// Repsly clients (the dump's) whose `City` is `city`.
async fn repsly_clients_in(h: &Harness, city: &str) -> usize {
    let dump = h.dump().await;
    dump["repsly"]["clients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["City"] == city)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_acknowledged_then_killed_is_processed_after_restart() {
    use ed25519_dalek::Signer;
    use ed25519_dalek::pkcs8::EncodePublicKey;
    let h = Harness::start(20).await;
    h.create_mapping_fields(None).await;
    h.admin_post("repsly/settings", serde_json::json!({"importDelayMs": 0}))
        .await;
    let home = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let pem = key
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    std::fs::write(home.path().join("ghl-test-key.pem"), pem).unwrap();
    let port = free_port();
    let config = service_config(
        &h,
        home.path(),
        &format!(
            "listen = \"127.0.0.1:{port}\"\nmetrics = true\n\n[service.schedule]\nall = \"1h\"\n\n[service.webhooks]\ned25519_keys = [\"ghl-test-key.pem\"]\n"
        ),
    );
    let mut child = start(home.path(), &config);
    wait_for_log(home.path(), "ghlsync run: started").await;
    wait_first_run(port).await;

    // A change in GHL that nothing has told the service about yet.
    let contact = h.dump().await["ghl"]["contacts"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let answer = h
        .http
        .put(h.url(&format!("/contacts/{contact}")))
        .bearer_auth(h.sandbox.token.expose())
        .header("Version", "2021-07-28")
        .json(&serde_json::json!({"city": "Durable City"}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    // GHL refuses every request for now: the event cannot be processed before the kill.
    h.admin_post("limits", serde_json::json!({"throttleForMs": 600_000}))
        .await;
    let body = serde_json::json!({
        "type": "ContactUpdate",
        "locationId": h.sandbox.location_id,
        "id": contact,
        "webhookId": "durable-1",
        "timestamp": chrono::Utc::now().to_rfc3339(),
    })
    .to_string();
    let signature = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        key.sign(body.as_bytes()).to_bytes(),
    );
    let delivered = h
        .http
        .post(format!("http://127.0.0.1:{port}/webhooks/ghl"))
        .header("X-GHL-Signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status().as_u16(), 200);
    // Killed right after the 200, before anything reached the peer.
    signal(&child, libc::SIGKILL);
    child.wait().await.unwrap();
    assert_eq!(repsly_clients_in(&h, "Durable City").await, 0);

    h.admin_post("limits", serde_json::json!({"throttleForMs": 0}))
        .await;
    // No scheduled run after the restart: only the inbox can bring the change.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("all = \"1h\"", "all = \"off\"")).unwrap();
    let mut child = start(home.path(), &config);
    let mut arrived = 0;
    for _ in 0..300 {
        arrived = repsly_clients_in(&h, "Durable City").await;
        if arrived > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        arrived,
        1,
        "the acknowledged event was lost with the process; log:\n{}",
        log(home.path())
    );
    signal(&child, libc::SIGTERM);
    child.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_on_the_running_service_sync_follow_the_log_retry_reload_and_see_it_stop() {
    use ghlsync::engine::{Command, Event, Reply};
    use ghlsync::sync::{RetryMode, RunOptions, Selection};
    let h = Harness::start(40).await;
    h.create_mapping_fields(None).await;
    let home = tempfile::tempdir().unwrap();
    // No schedule: the clients drive it.
    let config = service_config(&h, home.path(), "\n[service.schedule]\nall = \"off\"\n");
    let mut child = start(home.path(), &config);
    wait_for_log(home.path(), "ghlsync run: started").await;
    let socket = home.path().join("runtime/ghlsync/test.sock");
    let a = ghlsync::engine::socket::connect(&socket).await.unwrap();
    let b = ghlsync::engine::socket::connect(&socket).await.unwrap();
    let mut live = b.subscribe();

    let reply = a
        .call(Command::Sync {
            options: RunOptions::default(),
        })
        .await
        .unwrap();
    assert!(
        matches!(reply, Reply::Run { .. } | Reply::Runs { .. }),
        "{reply:?}"
    );
    // B followed A's run live.
    let mut seen = 0;
    while let Ok(Ok(event)) = tokio::time::timeout(Duration::from_millis(500), live.recv()).await {
        if matches!(event, Event::Log { .. }) {
            seen += 1;
        }
    }
    assert!(seen > 0, "the second client saw none of the run's outcomes");

    // The seed's dirt leaves failures; B lists them, A retries one.
    let Reply::FailedQueue { operations } = b.call(Command::FailedQueue).await.unwrap() else {
        panic!("no failed queue");
    };
    assert!(
        !operations.is_empty(),
        "the seed's dirty records left no failure"
    );
    let id = operations[0].id;
    let Reply::Retried { report } = a
        .call(Command::Retry {
            selection: Selection::Ids(vec![id]),
            mode: RetryMode::CurrentMapping,
        })
        .await
        .unwrap()
    else {
        panic!("no retry report");
    };
    assert!(
        report.succeeded.contains(&id)
            || report.failed.contains(&id)
            || report.not_claimed.contains(&id),
        "{report:?}"
    );

    signal(&child, libc::SIGHUP);
    wait_for_log(home.path(), "reloaded reloaded=").await;
    assert!(matches!(
        b.call(Command::Status).await.unwrap(),
        Reply::Status { .. }
    ));

    signal(&child, libc::SIGTERM);
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success());
    // The clients are told the service is gone.
    let mut lost = false;
    while let Ok(Ok(event)) = tokio::time::timeout(Duration::from_secs(5), live.recv()).await {
        if matches!(
            event,
            Event::Connection {
                connected: false,
                ..
            }
        ) {
            lost = true;
            break;
        }
    }
    assert!(lost, "the client was not told the service stopped");
    let store = Store::open(&home.path().join("store")).unwrap();
    assert!(store.operations_in("in_flight").unwrap().is_empty());
}
