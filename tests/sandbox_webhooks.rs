//! The sandbox as GHL's webhook sender: a tiny receiver on 127.0.0.1 verifies both signatures
//! with the keys the sandbox publishes, sees each kind of write as GHL's event, and answers
//! 429s and 500s to see GHL's retry rule (429 only) applied.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::Harness;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// What the receiver was sent, and the statuses it answers per `webhookId` (then 200).
#[derive(Clone)]
struct Receiver {
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
    seen: mpsc::UnboundedSender<(HeaderMap, Bytes)>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["webhookId"].as_str().map(str::to_string))
        .unwrap_or_default();
    let status = r
        .script
        .lock()
        .unwrap()
        .get_mut(&id)
        .and_then(VecDeque::pop_front)
        .unwrap_or(200);
    let _ = r.seen.send((headers, body));
    StatusCode::from_u16(status).unwrap()
}

struct Rig {
    h: Harness,
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
    seen: mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
    keys: Value,
}

impl Rig {
    async fn start(scheme: &str) -> Rig {
        let h = Harness::start(5).await;
        let (tx, seen) = mpsc::unbounded_channel();
        let script = Arc::new(Mutex::new(HashMap::new()));
        let receiver = Receiver {
            script: script.clone(),
            seen: tx,
        };
        let app = axum::Router::new()
            .route("/webhooks/ghl", axum::routing::post(receive))
            .with_state(receiver);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/ghl", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let configured = h
            .admin_post(
                "webhooks",
                json!({"url": url, "scheme": scheme, "retryDelayMs": 20}),
            )
            .await;
        assert_eq!(configured["configured"], json!(true));
        let keys = configured["publicKeys"].clone();
        assert!(
            keys["ed25519"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        Rig {
            h,
            script,
            seen,
            keys,
        }
    }

    async fn next(&mut self) -> (HeaderMap, Bytes, Value) {
        let (headers, body) = tokio::time::timeout(Duration::from_secs(30), self.seen.recv())
            .await
            .expect("a delivery within 30 s")
            .expect("receiver alive");
        let event = serde_json::from_slice(&body).unwrap();
        (headers, body, event)
    }

    fn verifies(&self, headers: &HeaderMap, body: &[u8]) -> (bool, bool) {
        let ed = headers.get("x-ghl-signature").is_some_and(|sig| {
            let key = ed25519_dalek::VerifyingKey::from_public_key_pem(
                self.keys["ed25519"].as_str().unwrap(),
            )
            .unwrap();
            let sig = STANDARD.decode(sig.as_bytes()).unwrap();
            let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
            ed25519_dalek::Verifier::verify(&key, body, &sig).is_ok()
        });
        let rsa = headers.get("x-wh-signature").is_some_and(|sig| {
            let key = <rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_pem(
                self.keys["rsa"].as_str().unwrap(),
            )
            .unwrap();
            let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
            let sig = STANDARD.decode(sig.as_bytes()).unwrap();
            let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
            verifier.verify(body, &sig).is_ok()
        });
        (ed, rsa)
    }

    /// A GHL API call with the sandbox's token; answers the JSON body.
    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let version = if path.starts_with("/calendars") {
            "2021-04-15"
        } else {
            "2021-07-28"
        };
        let mut request = self
            .h
            .http
            .request(method.clone(), self.h.url(path))
            .bearer_auth(self.h.sandbox.token.expose())
            .header("Version", version);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    async fn stats_when_settled(&self) -> Value {
        for _ in 0..600 {
            let view: Value = self
                .h
                .http
                .get(self.h.url("/_sandbox/webhooks"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if view["stats"]["pending"] == json!(0) {
                return view["stats"].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("deliveries did not settle");
    }
}

#[tokio::test]
async fn every_kind_of_write_sends_its_event_signed_both_ways() {
    let mut rig = Rig::start("both").await;
    let location = rig.h.sandbox.location_id.clone();
    let info: Value = rig
        .h
        .http
        .get(rig.h.url("/_sandbox/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let calendar = info["calendars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["locationId"] == json!(location))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    use reqwest::Method as M;
    let created = rig
        .api(
            M::POST,
            "/contacts/",
            Some(json!({"locationId": location, "firstName": "Ada", "email": "ada@example.com"})),
        )
        .await;
    let c = created["contact"]["id"].as_str().unwrap().to_string();
    rig.api(
        M::PUT,
        &format!("/contacts/{c}"),
        Some(json!({"lastName": "Lovelace", "tags": ["vip"]})),
    )
    .await;
    rig.api(
        M::POST,
        &format!("/contacts/{c}/tags"),
        Some(json!({"tags": ["new"]})),
    )
    .await;
    let task = rig
        .api(
            M::POST,
            &format!("/contacts/{c}/tasks"),
            Some(json!({"title": "Call", "dueDate": "2030-01-01T10:00:00Z", "completed": false})),
        )
        .await;
    let t = task["task"]["id"].as_str().unwrap().to_string();
    rig.api(
        M::PUT,
        &format!("/contacts/{c}/tasks/{t}/completed"),
        Some(json!({"completed": true})),
    )
    .await;
    rig.api(M::DELETE, &format!("/contacts/{c}/tasks/{t}"), None)
        .await;
    let note = rig
        .api(
            M::POST,
            &format!("/contacts/{c}/notes"),
            Some(json!({"body": "hello"})),
        )
        .await;
    let n = note["note"]["id"].as_str().unwrap().to_string();
    rig.api(
        M::PUT,
        &format!("/contacts/{c}/notes/{n}"),
        Some(json!({"body": "hello again"})),
    )
    .await;
    rig.api(M::DELETE, &format!("/contacts/{c}/notes/{n}"), None)
        .await;
    let appt = rig
        .api(
            M::POST,
            "/calendars/events/appointments",
            Some(
                json!({"calendarId": calendar, "locationId": location, "contactId": c,
                        "startTime": "2030-01-02T10:00:00Z", "title": "Visit"}),
            ),
        )
        .await;
    let a = appt["id"].as_str().unwrap().to_string();
    rig.api(
        M::PUT,
        &format!("/calendars/events/appointments/{a}"),
        Some(json!({"title": "Visit (moved)"})),
    )
    .await;
    rig.api(M::DELETE, &format!("/calendars/events/{a}"), None)
        .await;
    rig.api(M::DELETE, &format!("/contacts/{c}"), None).await;

    let expected = [
        "ContactCreate",
        "ContactUpdate",
        "ContactTagUpdate",
        "ContactTagUpdate",
        "TaskCreate",
        "TaskComplete",
        "TaskDelete",
        "NoteCreate",
        "NoteUpdate",
        "NoteDelete",
        "AppointmentCreate",
        "AppointmentUpdate",
        "AppointmentDelete",
        "ContactDelete",
    ];
    let mut ids = HashSet::new();
    for kind in expected {
        let (headers, body, event) = rig.next().await;
        assert_eq!(event["type"], json!(kind), "{event}");
        assert_eq!(rig.verifies(&headers, &body), (true, true), "{kind}");
        assert_eq!(event["locationId"], json!(location));
        assert!(ids.insert(event["webhookId"].as_str().unwrap().to_string()));
        let stamp = event["timestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{stamp}"
        );
        match kind {
            k if k.starts_with("Contact") => {
                assert_eq!(event["id"], json!(c));
                assert_eq!(event["email"], json!("ada@example.com"));
                assert!(event.get("contact").is_none(), "flat: {event}");
            }
            k if k.starts_with("Task") => {
                assert_eq!(event["id"], json!(t));
                assert_eq!(event["contactId"], json!(c));
                assert_eq!(event["title"], json!("Call"));
            }
            k if k.starts_with("Note") => {
                assert_eq!(event["id"], json!(n));
                assert_eq!(event["contactId"], json!(c));
            }
            _ => {
                assert_eq!(event["appointment"]["id"], json!(a));
                assert_eq!(event["appointment"]["contactId"], json!(c));
                assert_eq!(event["appointment"]["calendarId"], json!(calendar));
            }
        }
        if kind == "ContactUpdate" {
            assert_eq!(event["lastName"], json!("Lovelace"));
        }
        if kind == "AppointmentUpdate" {
            assert_eq!(event["appointment"]["title"], json!("Visit (moved)"));
        }
    }
    // A read or a refused write tells nothing.
    rig.api(M::GET, &format!("/contacts/?locationId={location}"), None)
        .await;
    let refused = rig
        .h
        .http
        .put(rig.h.url("/contacts/no-such-contact"))
        .bearer_auth(rig.h.sandbox.token.expose())
        .header("Version", "2021-07-28")
        .json(&json!({"firstName": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let stats = rig.stats_when_settled().await;
    assert_eq!(stats["acknowledged"], json!(expected.len()));
    assert_eq!(stats["emitted"], json!(expected.len()));
}

#[tokio::test]
async fn a_429_is_retried_until_answered_and_a_500_is_lost() {
    let mut rig = Rig::start("ed25519").await;
    rig.script
        .lock()
        .unwrap()
        .insert("w-busy".into(), VecDeque::from([429, 429]));
    rig.script
        .lock()
        .unwrap()
        .insert("w-broken".into(), VecDeque::from([500]));
    for id in ["w-busy", "w-broken"] {
        rig.h
            .admin_post(
                "webhooks/send",
                json!({"event": {"type": "ContactCreate", "webhookId": id, "id": "x"}}),
            )
            .await;
    }
    let mut arrivals: HashMap<String, Vec<Bytes>> = HashMap::new();
    for _ in 0..4 {
        let (headers, body, event) = rig.next().await;
        assert_eq!(rig.verifies(&headers, &body), (true, false), "ed25519 only");
        arrivals
            .entry(event["webhookId"].as_str().unwrap().to_string())
            .or_default()
            .push(body);
    }
    let busy = &arrivals["w-busy"];
    assert_eq!(busy.len(), 3, "delivered on the third try");
    assert!(
        busy.iter().all(|b| b == &busy[0]),
        "every try sends the same bytes"
    );
    assert_eq!(arrivals["w-broken"].len(), 1, "a 500 is final");
    let stats = rig.stats_when_settled().await;
    assert_eq!(stats["sent"], json!(4));
    assert_eq!(stats["acknowledged"], json!(1));
    assert_eq!(stats["retried"], json!(2));
    assert_eq!(stats["lost"], json!({"500": 1}));
}

#[tokio::test]
async fn one_shot_faults_forge_duplicate_and_age_a_delivery() {
    let mut rig = Rig::start("both").await;
    let send = |id: &'static str| json!({"event": {"type": "NoteCreate", "webhookId": id, "id": "n", "contactId": "c"}});
    rig.h
        .admin_post("webhooks/faults", json!({"badSignature": true}))
        .await;
    rig.h.admin_post("webhooks/send", send("w-forged")).await;
    let (headers, body, _) = rig.next().await;
    assert_eq!(rig.verifies(&headers, &body), (false, false));

    rig.h
        .admin_post("webhooks/faults", json!({"duplicate": true}))
        .await;
    rig.h.admin_post("webhooks/send", send("w-twice")).await;
    let (_, first, _) = rig.next().await;
    let (headers, second, _) = rig.next().await;
    assert_eq!(first, second);
    assert_eq!(rig.verifies(&headers, &second), (true, true));

    rig.h
        .admin_post("webhooks/faults", json!({"staleTimestamp": true}))
        .await;
    rig.h.admin_post("webhooks/send", send("w-old")).await;
    let (headers, body, event) = rig.next().await;
    assert_eq!(rig.verifies(&headers, &body), (true, true));
    let stamp = chrono::DateTime::parse_from_rfc3339(event["timestamp"].as_str().unwrap()).unwrap();
    assert!(chrono::Utc::now().signed_duration_since(stamp) > chrono::Duration::minutes(30));

    // Spent: the next one is clean and fresh.
    rig.h.admin_post("webhooks/send", send("w-clean")).await;
    let (headers, body, event) = rig.next().await;
    assert_eq!(event["webhookId"], json!("w-clean"));
    assert_eq!(rig.verifies(&headers, &body), (true, true));
}

#[tokio::test]
async fn write_config_points_the_webhooks_at_the_service_it_configures() {
    let (tx, mut seen) = mpsc::unbounded_channel();
    let receiver = Receiver {
        script: Arc::default(),
        seen: tx,
    };
    let app = axum::Router::new()
        .route("/webhooks/ghl", axum::routing::post(receive))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listen = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("rehearsal/ghlsync.toml");
    let _child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghlsync"))
        .args([
            "sandbox",
            "--contacts",
            "3",
            "--rate-limit",
            "off",
            "--peers",
            "repsly",
        ])
        .args(["--write-config", path.to_str().unwrap()])
        .args(["--service-listen", &listen])
        .env("XDG_STATE_HOME", home.path().join("state"))
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let secrets_path = home.path().join("rehearsal/secrets.toml");
    for _ in 0..400 {
        if secrets_path.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let config = ghlsync::config::Config::load(&path).unwrap().unwrap();
    assert_eq!(config.service.listen.as_deref(), Some(listen.as_str()));
    let rsa_pem = std::fs::read_to_string(&config.service.webhooks.rsa_keys[0]).unwrap();
    assert!(rsa_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let inline = config.service.webhooks.ed25519_keys[0].clone();
    let key = ed25519_dalek::VerifyingKey::from_public_key_der(&STANDARD.decode(&inline).unwrap())
        .unwrap();
    let secrets = ghlsync::config::secrets::Secrets::load(&path).unwrap();
    let token = secrets.ghl_token.unwrap();

    let created = reqwest::Client::new()
        .post(format!("{}/contacts/", config.ghl.base_url))
        .bearer_auth(token.expose())
        .header("Version", "2021-07-28")
        .json(&json!({"locationId": config.ghl.location_id, "firstName": "Grace"}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let (headers, body) = tokio::time::timeout(Duration::from_secs(30), seen.recv())
        .await
        .expect("a delivery at the configured listener")
        .unwrap();
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], json!("ContactCreate"));
    assert_eq!(event["firstName"], json!("Grace"));
    let sig = STANDARD
        .decode(headers.get("x-ghl-signature").unwrap().as_bytes())
        .unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
    assert!(ed25519_dalek::Verifier::verify(&key, &body, &sig).is_ok());
}
