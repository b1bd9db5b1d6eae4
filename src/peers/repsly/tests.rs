//! Peer-level tests: settings checks, capabilities, and the HTTP flow against a throwaway axum
//! server (Basic auth, retries, import polling, 404 → None, POST failures → Ambiguous).

use crate::peers::ChangeDetection;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::*;
use crate::config::Secret;
use crate::net::{ErrorClass, RetryPolicy};

fn settings(base_url: &str) -> RepslySettings {
    RepslySettings {
        base_url: base_url.to_string(),
        username: "user".into(),
        password: Secret::new("pw-secret-1"),
        import_poll_interval_ms: 5,
        min_request_interval_ms: 0,
        retry: RetryPolicy {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
            ..RetryPolicy::default()
        },
        ..RepslySettings::default()
    }
}

#[test]
fn new_checks_the_settings() {
    let check = |edit: fn(&mut RepslySettings), expected: &str| {
        let mut bad = settings("https://api.repsly.com/v3");
        edit(&mut bad);
        let err = RepslyPeer::new(bad).unwrap_err();
        assert_eq!(err.class(), ErrorClass::ScopeOrConfig);
        assert!(err.to_string().contains(expected), "{err}");
        assert!(!err.to_string().contains("pw-secret-1"));
    };
    check(
        |s| s.password = Secret::default(),
        "GHLSYNC_REPSLY_PASSWORD",
    );
    check(|s| s.username.clear(), "username");
    check(|s| s.base_url = "not a url".into(), "base_url");
    check(|s| s.base_url = "ftp://x/v3".into(), "http(s)");
    check(
        |s| s.base_url = "https://u:p@api.repsly.com/v3".into(),
        "credentials",
    );
    check(|s| s.utc_offset_minutes = 100_000, "utc_offset_minutes");
    let peer = RepslyPeer::new(settings("https://api.repsly.com/v3/")).unwrap();
    assert_eq!(peer.name(), "repsly");
    assert!(!format!("{peer:?}").contains("pw-secret-1"));
    let url = peer
        .http
        .client
        .url_for(&http::path(&["export", "internal", "client", "A/B 1"]));
    assert_eq!(
        url.as_str(),
        "https://api.repsly.com/v3/export/internal/client/A%2FB%201"
    );
}

#[test]
fn capabilities() {
    let peer = RepslyPeer::new(settings("https://api.repsly.com/v3")).unwrap();
    let caps = peer.capabilities();
    let find = |kind| caps.iter().find(|c| c.kind == kind).copied().unwrap();
    assert_eq!(
        find(EntityKind::Contact),
        EntityCapability {
            kind: EntityKind::Contact,
            read: true,
            write: true,
            changes: ChangeDetection::Cursor
        }
    );
    assert!(!find(EntityKind::Note).write);
    assert_eq!(
        find(EntityKind::Appointment).changes,
        ChangeDetection::PollWindow
    );
    assert!(find(EntityKind::Appointment).write && !find(EntityKind::Task).write);
}

#[derive(Default)]
struct Fake {
    client_gets: AtomicUsize,
    status_polls: AtomicUsize,
    schedule_posts: AtomicUsize,
    bodies: std::sync::Mutex<Vec<Value>>,
}

fn authorised(headers: &HeaderMap) -> bool {
    // base64("user:pw-secret-1")
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some("Basic dXNlcjpwdy1zZWNyZXQtMQ==")
}

async fn start(fake: Arc<Fake>) -> String {
    let app = Router::new()
        .route("/v3/export/clients/{ts}", get(|State(f): State<Arc<Fake>>, headers: HeaderMap, Path(ts): Path<String>| async move {
            if !authorised(&headers) {
                return (StatusCode::UNAUTHORIZED, "<html><title>401 Unauthorized</title></html>").into_response();
            }
            if f.client_gets.fetch_add(1, Ordering::SeqCst) == 0 {
                return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
            }
            if ts == "bad" {
                return "{\"MetaCollectionResult\": ".into_response();
            }
            Json(json!({"MetaCollectionResult": {"TotalCount": 1, "LastTimeStamp": 99},
                        "Clients": [{"ClientID": 1, "Code": "C-1", "Name": "Acme", "TimeStamp": 99}]})).into_response()
        }))
        .route("/v3/export/internal/client/{code}", get(|Path(code): Path<String>| async move {
            match code.as_str() {
                "C-1" => Json(json!({"Code": "C-1", "Name": "Acme"})).into_response(),
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }))
        .route("/v3/import/client", post(|State(f): State<Arc<Fake>>, Json(body): Json<Value>| async move {
            if body["Code"] == "REFUSED" {
                // ASP.NET's refusal, with the password echoed back in it.
                return (StatusCode::BAD_REQUEST, Json(json!({"Code": 3, "Message": "The request is invalid.",
                    "ModelState": {"client.Name": ["Name is required (pw-secret-1)"]}}))).into_response();
            }
            let slow = body["Code"] == "SLOW";
            f.bodies.lock().unwrap().push(body);
            let id = if slow { 8 } else { 7 };
            Json(json!({"Code": 0, "Message": format!("Client import job started asynchronously under ID: {id}")})).into_response()
        }))
        .route("/v3/import/schedule", post(|State(f): State<Arc<Fake>>| async move {
            f.schedule_posts.fetch_add(1, Ordering::SeqCst);
            StatusCode::INTERNAL_SERVER_ERROR
        }))
        .route("/v3/export/importStatus/{id}", get(|State(f): State<Arc<Fake>>, Path(id): Path<String>| async move {
            let polls = f.status_polls.fetch_add(1, Ordering::SeqCst);
            let state = if id == "8" || polls == 0 { "Pending" } else { "Completed" };
            Json(json!({"ImportStatus": state, "RowsInserted": 1, "RowsUpdated": 0, "RowsInvalid": 0, "RowsTotal": 1, "Errors": []}))
        }))
        .route("/v3/export/schedules/{b}/{e}", get(|Path((b, e)): Path<(String, String)>| async move {
            let response: Response = Json(json!({"Schedules": [{"ScheduleCode": "S-1", "ClientCode": "C-1", "UserID": "R1",
                "ScheduledDate": b, "VisitNote": e, "Tasks": [{"TaskType": "Note", "TaskDescription": "x"}]}]})).into_response();
            response
        }))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v3")
}

fn contact(code: &str) -> PeerRecord {
    PeerRecord {
        kind: EntityKind::Contact,
        id: code.into(),
        parent_id: None,
        updated_at: None,
        active: true,
        fields: json!({"Name": "Acme", "TimeStamp": 5})
            .as_object()
            .cloned()
            .unwrap(),
        raw: Value::Null,
    }
}

#[tokio::test]
async fn http_flow_against_a_fake_repsly() {
    let fake = Arc::new(Fake::default());
    let base = start(fake.clone()).await;
    let peer = RepslyPeer::new(settings(&base)).unwrap();

    // A 503 is retried; the page comes back with the cursor as received.
    let page = peer.fetch_changes(EntityKind::Contact, None).await.unwrap();
    assert_eq!(
        (
            page.records[0].id.as_str(),
            page.next_cursor.as_deref(),
            page.done
        ),
        ("C-1", Some("99"), true)
    );
    let err = peer
        .fetch_changes(EntityKind::Contact, Some("bad"))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode);
    assert!(err.to_string().contains("GET export/clients/bad"), "{err}");

    assert_eq!(
        peer.get(EntityKind::Contact, "C-1")
            .await
            .unwrap()
            .unwrap()
            .id,
        "C-1"
    );
    assert!(
        peer.get(EntityKind::Contact, "missing")
            .await
            .unwrap()
            .is_none()
    );

    // Import, then poll Pending → Completed.
    let outcome = peer.upsert(&contact("C-2")).await.unwrap();
    assert_eq!(
        outcome,
        WriteOutcome {
            id: "C-2".into(),
            created: true,
            reference: Some("7".into())
        }
    );
    assert_eq!(
        fake.bodies.lock().unwrap()[0],
        json!({"Code": "C-2", "Name": "Acme", "Active": true})
    );
    assert!(fake.status_polls.load(Ordering::SeqCst) >= 2);

    // A job that stays Pending past the timeout is Ambiguous.
    let mut impatient = settings(&base);
    impatient.import_timeout_secs = 0;
    let impatient = RepslyPeer::new(impatient).unwrap();
    let err = impatient.upsert(&contact("SLOW")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Ambiguous);
    assert!(
        err.to_string().contains("import job 8 still Pending"),
        "{err}"
    );

    // A 500 on an import is not retried and is Ambiguous.
    let schedule = PeerRecord {
        kind: EntityKind::Appointment,
        id: "S-1".into(),
        parent_id: Some("C-1".into()),
        updated_at: None,
        active: true,
        fields: json!({"UserID": "R1", "ScheduledDate": "2024-11-25"})
            .as_object()
            .cloned()
            .unwrap(),
        raw: Value::Null,
    };
    let err = peer.upsert(&schedule).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Ambiguous);
    assert_eq!(fake.schedule_posts.load(Ordering::SeqCst), 1);

    // Repsly's refusal through the shared client: its `Code`, `ModelState` and field, scrubbed.
    let err = peer.upsert(&contact("REFUSED")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Validation);
    assert_eq!(err.field(), Some("Name"));
    let text = err.to_string();
    assert!(
        text.contains("POST import/client")
            && text.contains(
                "HTTP 400: Code 3: The request is invalid. (Name is required ([redacted]))"
            ),
        "{text}"
    );

    // Schedules and tasks from an explicit window.
    let page = peer
        .fetch_changes(EntityKind::Appointment, Some("2024-11-01/2024-11-30"))
        .await
        .unwrap();
    assert_eq!(
        (page.records.len(), page.next_cursor.clone(), page.done),
        (1, None, true)
    );
    assert_eq!(page.records[0].fields["ScheduledDate"], json!("2024-11-01"));
    assert_eq!(page.records[0].fields["VisitNote"], json!("2024-11-30"));
    let tasks = peer
        .fetch_changes(EntityKind::Task, Some("2024-11-01/2024-11-30"))
        .await
        .unwrap();
    assert_eq!(tasks.records[0].id, "S-1#0");
    assert!(peer.get(EntityKind::Task, "S-1#0").await.unwrap().is_some());
    let err = peer
        .fetch_changes(EntityKind::Appointment, Some("yesterday"))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Validation);
    assert_eq!(
        peer.get(EntityKind::Note, "1").await.unwrap_err().class(),
        ErrorClass::ScopeOrConfig
    );
}

#[tokio::test]
async fn wrong_password_is_auth_and_requests_are_paced() {
    let fake = Arc::new(Fake::default());
    let base = start(fake).await;
    let mut wrong = settings(&base);
    wrong.password = Secret::new("not-the-password");
    wrong.min_request_interval_ms = 30;
    let peer = RepslyPeer::new(wrong).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        let err = peer
            .fetch_changes(EntityKind::Contact, None)
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Auth);
        assert!(err.to_string().contains("401 Unauthorized"), "{err}");
        assert!(!err.to_string().contains("not-the-password"));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "{:?}",
        started.elapsed()
    );
}
