//! A running `ghlsync run`: its alerts webhook URL (the delivery failing, so its error path
//! runs) and a `rest` peer's push signing secret (unsigned, forged and signed pushes) reach
//! neither its log, nor its log files, `/metrics`, nor what `status`, `log` and `failures`
//! print while attached to it.

use crate::common::Harness;
use crate::common::binary::isolated;
use crate::leaks::{
    ALERTS_URL, PUSH_SECRET, assert_clean, create_fields, files_under, home_for, run, runtime_dir,
};
use serde_json::json;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The alerts webhook's secret part, served on loopback by a receiver that always fails.
const HOOK_PATH: &str = "/services/T0SVCLEAK/B0SVCLEAK/kP3mZ8qW2xR7vN4tY6uB";

async fn wait_for(what: &str, test: impl Fn() -> bool) {
    for _ in 0..600 {
        if test() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("waited 60 s for {what}");
}

fn text(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_service_keeps_its_alerts_url_and_push_secret_out_of_everything() {
    use axum::{Router, routing::post};
    let h = Harness::start(20).await;
    h.admin_post("repsly/settings", json!({"importDelayMs": 0}))
        .await;
    let (home, config, mut known) = home_for(&h).await;
    let home = home.path();
    let mut runs = create_fields(home, &config).await;

    // Slack answering 500: the service's failed delivery is logged, and must not say where to.
    let attempts: Arc<Mutex<usize>> = Arc::default();
    let counted = attempts.clone();
    let app = Router::new().route(
        "/services/{*rest}",
        post(move || {
            let counted = counted.clone();
            async move {
                *counted.lock().unwrap() += 1;
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "no_service")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}{HOOK_PATH}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let secrets = config.with_file_name("secrets.toml");
    std::fs::write(&secrets, text(&secrets).replace(ALERTS_URL, &hook)).unwrap();
    for (name, value) in known.iter_mut() {
        if name == "alerts_webhook_url" {
            *value = HOOK_PATH.to_string();
        }
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config_text = text(&config);
    config_text.push_str(&format!(
        "\n[service]\ninstance = \"leaks\"\nlisten = \"127.0.0.1:{port}\"\nmetrics = true\n\n\
         [service.schedule]\nall = \"1h\"\n\n[service.alerts]\ncheck_secs = 1\npeer_failures = 1\n"
    ));
    std::fs::write(&config, config_text).unwrap();

    // Repsly is down when the service starts: an alert, delivered to the failing hook.
    h.admin_post("repsly/settings", json!({"downForMs": 600_000}))
        .await;
    let service_log = home.join("run.log");
    let mut service = isolated(
        home,
        &[
            "--config",
            config.to_str().unwrap(),
            "--log-level",
            "trace",
            "run",
        ],
    )
    .env("XDG_RUNTIME_DIR", runtime_dir(home))
    .stdout(Stdio::null())
    .stderr(Stdio::from(std::fs::File::create(&service_log).unwrap()))
    .spawn()
    .unwrap();
    wait_for("the alert", || {
        text(&service_log).contains("alert: repsly is not answering")
    })
    .await;
    wait_for("a delivery to the hook", || *attempts.lock().unwrap() > 0).await;

    // Pushes from the `rest` app: unsigned and forged refused, signed taken.
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/webhooks/peer/crm");
    let body = r#"{"changed":"contacts"}"#;
    let ts = chrono::Utc::now().timestamp().to_string();
    let push = |secret: Option<&[u8]>| {
        let mut request = http.post(&url).body(body);
        if let Some(secret) = secret {
            request = request.header("X-Ghlsync-Timestamp", ts.clone()).header(
                "X-Ghlsync-Signature",
                ghlsync::peers::push::signature(secret, &ts, body.as_bytes()),
            );
        }
        async move {
            let answer = request.send().await.unwrap();
            let status = answer.status().as_u16();
            (status, answer.text().await.unwrap())
        }
    };
    let mut answers = Vec::new();
    for (what, secret, status) in [
        ("unsigned", None, 401),
        ("forged", Some(b"not the secret".as_slice()), 401),
        ("signed", Some(PUSH_SECRET.as_bytes()), 200),
    ] {
        let (got, answer) = push(secret).await;
        assert_eq!(got, status, "{what} push: {answer}");
        answers.push((format!("the answer to a {what} push"), answer));
    }

    h.admin_post("repsly/settings", json!({"downForMs": 0}))
        .await;
    // A run of Repsly now, through the service (the schedule's next one is an hour away).
    let synced = run(home, &config, &["sync", "--peer", "repsly"]).await;
    assert_eq!(synced.code, Some(0), "{}", synced.stderr);
    runs.push(synced);
    wait_for("the recovery", || {
        text(&service_log).contains("recovered: repsly answers again")
    })
    .await;
    let metrics = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("ghlsync_"), "{metrics}");
    answers.push(("/metrics".into(), metrics));
    for args in [
        vec!["status"],
        vec!["status", "--json"],
        vec!["log", "--limit", "10000"],
        vec!["log", "--json", "--limit", "10000"],
        vec!["failures", "list"],
    ] {
        runs.push(run(home, &config, &args).await);
    }
    let status = runs.iter().find(|r| r.what == "status").unwrap();
    assert!(
        status.stdout.contains("leaks") || status.stdout.contains("service"),
        "status attached to the service: {}",
        status.stdout
    );

    // SAFETY: a signal to our own child.
    assert_eq!(
        unsafe { libc::kill(service.id().unwrap() as i32, libc::SIGTERM) },
        0
    );
    service.wait().await.unwrap();

    let logged = text(&service_log);
    assert!(
        logged.contains("alert") && logged.len() > 5_000,
        "the service logged at trace: {} bytes",
        logged.len()
    );
    assert_clean("the service's stderr", &logged, &known);
    for (place, answer) in &answers {
        assert_clean(place, answer, &known);
    }
    for r in &runs {
        assert_clean(&format!("stdout of `{}`", r.what), &r.stdout, &known);
        assert_clean(&format!("stderr of `{}`", r.what), &r.stderr, &known);
    }
    for file in files_under(&home.join("state/ghlsync/logs")) {
        assert_clean(&file.display().to_string(), &text(&file), &known);
    }
}
