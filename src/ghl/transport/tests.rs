//! Transport tests: decoding and classification on canned answers, then retry, ambiguity, 429
//! and OAuth behaviour against a throwaway axum stub on 127.0.0.1 (not the sandbox: these pin
//! the client's own rules).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap as AxumHeaders, StatusCode as AxumStatus};
use axum::routing::{get, post};
use serde_json::json;

use reqwest::header::HeaderMap;

use super::decode::*;
use super::*;
use crate::ghl::models::ErrorMessage;
use crate::ghl::models::{Appointment, ContactEnvelope, CreateContactDto};
use crate::ghl::{AuthSettings, ClientSettings};
use crate::net::ErrorClass;
use crate::net::RetryPolicy;

fn ctx() -> RequestContext {
    RequestContext {
        method: "GET".into(),
        path: "/contacts/abc".into(),
    }
}

fn answer(status: u16, content_type: &str, body: &str) -> Answer {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
    Answer {
        status,
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn classify(status: u16, content_type: &str, body: &str, create: bool) -> GhlError {
    error_from_answer(
        &ctx(),
        &answer(status, content_type, body),
        create,
        "contacts.readonly",
        "loc1",
        &[],
    )
}

#[test]
fn html_success_page_is_a_decode_error_with_an_excerpt() {
    let html = format!(
        "<!DOCTYPE html><html><body>Bearer sk-abcdef {}</body></html>",
        "x".repeat(500)
    );
    let err = decode::<ContactEnvelope>(
        &ctx(),
        &answer(200, "text/html", &html),
        Some("contact"),
        false,
        &[],
    )
    .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode);
    let text = err.to_string();
    assert!(
        text.contains("HTTP 200") && text.contains("text/html") && text.contains("<!DOCTYPE html>"),
        "{text}"
    );
    assert!(!text.contains("sk-abcdef"), "{text}");
    match err {
        GhlError::Decode(decode) => assert!(decode.excerpt.chars().count() <= 200),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_wrapping_key_is_named() {
    let body = r#"{"contacts": [], "traceId": "t-9"}"#;
    let err = decode::<ContactEnvelope>(
        &ctx(),
        &answer(200, "application/json", body),
        Some("contact"),
        false,
        &[],
    )
    .unwrap_err();
    assert!(err.to_string().contains("no `contact`"), "{err}");
    assert_eq!(err.trace_id(), Some("t-9"));
    let malformed = decode::<ContactEnvelope>(
        &ctx(),
        &answer(200, "application/json", "{\"contact\": "),
        Some("contact"),
        false,
        &[],
    )
    .unwrap_err();
    assert!(malformed.to_string().contains("not JSON"), "{malformed}");
}

/// An appointment's `id` defaults when absent, so its calls look for the key before decoding.
#[test]
fn a_key_the_type_would_default_is_looked_for_first() {
    let body = answer(200, "application/json", r#"{"calendarId": "cal-1"}"#);
    let unchecked = decode::<Appointment>(&ctx(), &body, Some("id"), false, &[]).unwrap();
    assert_eq!(unchecked.id, "", "the type alone lets the answer through");
    let err = decode::<Appointment>(&ctx(), &body, Some("id"), true, &[]).unwrap_err();
    assert!(err.to_string().contains("no `id`"), "{err}");
    let found = answer(
        200,
        "application/json",
        r#"{"id": "ev-1", "calendarId": "cal-1"}"#,
    );
    let appointment = decode::<Appointment>(&ctx(), &found, Some("id"), true, &[]).unwrap();
    assert_eq!(appointment.id, "ev-1");
}

#[test]
fn error_bodies_are_classified_with_their_messages() {
    let body = r#"{"statusCode":422,"message":["property additionalEmails should not exist","email must be an email"],"error":"Unprocessable Entity","traceId":"t-1"}"#;
    let err = classify(422, "application/json", body, false);
    assert_eq!(err.class(), ErrorClass::Validation);
    assert!(
        err.to_string().contains(
            "HTTP 422: property additionalEmails should not exist, email must be an email"
        ),
        "{err}"
    );
    assert_eq!(err.trace_id(), Some("t-1"));
    assert!(matches!(err.ghl_message(), Some(ErrorMessage::List(items)) if items.len() == 2));
    assert_eq!(
        classify(422, "application/json", body, true).class(),
        ErrorClass::Ambiguous
    );

    let scope = classify(
        401,
        "application/json",
        r#"{"statusCode":401,"message":"The token is not authorized for this scope."}"#,
        false,
    );
    assert_eq!(scope.class(), ErrorClass::ScopeOrConfig);
    assert!(
        scope
            .to_string()
            .contains("needs scope `contacts.readonly`"),
        "{scope}"
    );
    let location = classify(
        403,
        "application/json",
        r#"{"statusCode":403,"message":"The token does not have access to this location."}"#,
        false,
    );
    assert!(location.to_string().contains("`loc1`"), "{location}");
    assert_eq!(
        classify(
            401,
            "application/json",
            r#"{"message":"Invalid JWT"}"#,
            false
        )
        .class(),
        ErrorClass::Auth
    );
}

#[test]
fn unreadable_error_bodies() {
    assert_eq!(
        classify(404, "text/html", "<html>Not Found</html>", false).class(),
        ErrorClass::Decode
    );
    assert_eq!(
        classify(404, "text/plain", "", false).class(),
        ErrorClass::NotFound
    );
    let gateway = classify(502, "text/html", "<html>Bad Gateway</html>", false);
    assert_eq!(gateway.class(), ErrorClass::Transient);
    assert!(
        gateway.to_string().contains("Bad Gateway (text/html"),
        "{gateway}"
    );
    assert_eq!(
        classify(502, "text/html", "<html/>", true).class(),
        ErrorClass::Ambiguous
    );
}

// ---- over HTTP, against a stub ----

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn fast(base_url: &str, auth: AuthSettings) -> GhlClient {
    let mut settings = ClientSettings::new(base_url, "loc1", auth);
    settings.retry = RetryPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        ..RetryPolicy::default()
    };
    settings.timeout = Duration::from_millis(300);
    GhlClient::new(settings).unwrap()
}

fn pit() -> AuthSettings {
    AuthSettings::PrivateToken(Secret::new("pit-test-token"))
}

fn contact_json(id: &str) -> serde_json::Value {
    json!({"contact": {"id": id, "tags": []}, "traceId": "t"})
}

/// Answers `statuses` in turn (then 200 with a contact), counting hits.
fn scripted(
    statuses: Vec<u16>,
    hits: Arc<AtomicUsize>,
) -> impl Fn() -> (AxumStatus, axum::Json<serde_json::Value>) + Clone {
    move || {
        let n = hits.fetch_add(1, Ordering::SeqCst);
        match statuses.get(n) {
            Some(status) => (
                AxumStatus::from_u16(*status).unwrap(),
                axum::Json(json!({"statusCode": status, "message": "boom"})),
            ),
            None => (AxumStatus::OK, axum::Json(contact_json("c1"))),
        }
    }
}

#[tokio::test]
async fn idempotent_calls_retry_transient_failures_and_send_the_headers() {
    let hits = Arc::new(AtomicUsize::new(0));
    let answer = scripted(vec![500, 503], hits.clone());
    let app = axum::Router::new().route(
        "/contacts/{id}",
        get(move |headers: AxumHeaders| {
            let answer = answer.clone();
            async move {
                assert_eq!(headers["authorization"], "Bearer pit-test-token");
                assert_eq!(headers["version"], "2021-07-28");
                assert_eq!(headers["accept"], "application/json");
                answer()
            }
        }),
    );
    let client = fast(&serve(app).await, pit());
    let envelope = client.get_contact("c1").await.unwrap();
    assert_eq!(envelope.contact.id, "c1");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn transient_failures_stop_after_max_attempts() {
    let hits = Arc::new(AtomicUsize::new(0));
    let answer = scripted(vec![500; 10], hits.clone());
    let app = axum::Router::new().route(
        "/contacts/{id}",
        get(move || {
            let a = answer.clone();
            async move { a() }
        }),
    );
    let err = fast(&serve(app).await, pit())
        .get_contact("c1")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn creates_are_never_retried_after_an_unknown_outcome() {
    for status in [500u16, 422] {
        let hits = Arc::new(AtomicUsize::new(0));
        let answer = scripted(vec![status; 10], hits.clone());
        let app = axum::Router::new().route(
            "/contacts/",
            post(move |headers: AxumHeaders, body: String| {
                let a = answer.clone();
                async move {
                    assert_eq!(headers["content-type"], "application/json");
                    assert!(body.contains(r#""locationId":"loc1""#), "{body}");
                    a()
                }
            }),
        );
        let err = fast(&serve(app).await, pit())
            .create_contact(&CreateContactDto::default())
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Ambiguous, "{status}: {err}");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn a_create_that_times_out_is_ambiguous() {
    let app = axum::Router::new().route(
        "/contacts/",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            axum::Json(contact_json("late"))
        }),
    );
    let err = fast(&serve(app).await, pit())
        .create_contact(&CreateContactDto::default())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Ambiguous, "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn connection_refused_is_safe_to_retry_even_for_creates() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = fast(&base, pit())
        .create_contact(&CreateContactDto::default())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient, "{err}");
    assert!(err.to_string().contains("after 4 attempts"), "{err}");
    assert!(!err.to_string().contains(&base), "no URL in errors: {err}");
}

#[tokio::test]
async fn a_429_is_waited_out_and_is_not_an_attempt() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/contacts/{id}",
        get(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let mut headers = AxumHeaders::new();
                headers.insert("x-ratelimit-max", "100".parse().unwrap());
                headers.insert("x-ratelimit-interval-milliseconds", "40".parse().unwrap());
                headers.insert(
                    "x-ratelimit-remaining",
                    if n < 5 { "0" } else { "99" }.parse().unwrap(),
                );
                let status = if n < 5 {
                    AxumStatus::TOO_MANY_REQUESTS
                } else {
                    AxumStatus::OK
                };
                (status, headers, axum::Json(contact_json("c1")))
            }
        }),
    );
    let client = fast(&serve(app).await, pit());
    client.get_contact("c1").await.unwrap();
    assert_eq!(
        hits.load(Ordering::SeqCst),
        6,
        "five 429s did not use up the 4 attempts"
    );
    assert_eq!(client.limiter_state().rate_limited_seen, 5);
}

#[tokio::test]
async fn concurrent_401s_refresh_the_oauth_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token.json");
    let stored = crate::ghl::StoredToken {
        access_token: Secret::new("old-access"),
        refresh_token: Secret::new("refresh-1"),
        expires_at: chrono::Utc::now().timestamp() + 3_600,
        scope: None,
        location_id: Some("loc1".into()),
        company_id: None,
    };
    crate::ghl::write_token_file(&token_file, &stored).unwrap();
    let refreshes = Arc::new(AtomicUsize::new(0));
    let counter = refreshes.clone();
    let app = axum::Router::new()
        .route(
            "/contacts/{id}",
            get(|headers: AxumHeaders| async move {
                if headers["authorization"] == "Bearer new-access" {
                    (AxumStatus::OK, axum::Json(contact_json("c1")))
                } else {
                    (AxumStatus::UNAUTHORIZED, axum::Json(json!({"statusCode": 401, "message": "Invalid JWT"})))
                }
            }),
        )
        .route(
            "/oauth/token",
            post(move |body: String| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    assert!(body.contains("grant_type=refresh_token") && body.contains("refresh_token=refresh-1"), "{body}");
                    assert!(body.contains("user_type=Location") && body.contains("client_secret=s3cret"), "{body}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    axum::Json(json!({"access_token": "new-access", "refresh_token": "refresh-2", "expires_in": 86399, "locationId": "loc1"}))
                }
            }),
        );
    let auth = AuthSettings::OAuth {
        client_id: "client".into(),
        client_secret: Secret::new("s3cret"),
        token_file: token_file.clone(),
        user_type: "Location".into(),
    };
    let client = fast(&serve(app).await, auth);
    let calls = (0..8).map(|_| client.get_contact("c1"));
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    let saved = crate::ghl::load_token_file(&token_file).unwrap();
    assert_eq!(saved.refresh_token, Secret::new("refresh-2"));
}

#[tokio::test]
async fn a_static_token_401_is_an_auth_error() {
    let app = axum::Router::new().route(
        "/contacts/{id}",
        get(|| async {
            (
                AxumStatus::UNAUTHORIZED,
                axum::Json(json!({"statusCode": 401, "message": "Invalid JWT"})),
            )
        }),
    );
    let err = fast(&serve(app).await, pit())
        .get_contact("c1")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    assert!(!err.to_string().contains("pit-test-token"), "{err}");
}
