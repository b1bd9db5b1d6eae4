//! The shared client against a small axum app on 127.0.0.1: credentials, retries, the write
//! rule, classification, decoding and scrubbing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::*;
use crate::config::Secret;
use reqwest::Method;

const KEY: &str = "k3y-very-secret-value";

#[derive(Default)]
struct Seen {
    flaky: AtomicU32,
    posts: AtomicU32,
    limited: AtomicU32,
}

async fn echo_auth(headers: HeaderMap, Query(query): Query<Vec<(String, String)>>) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    axum::Json(json!({
        "authorization": header("authorization"),
        "x_api_key": header("x-api-key"),
        "query": query,
    }))
    .into_response()
}

async fn flaky(State(seen): State<Arc<Seen>>) -> Response {
    if seen.flaky.fetch_add(1, Ordering::SeqCst) < 2 {
        (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
    } else {
        axum::Json(json!({"ok": true})).into_response()
    }
}

async fn limited(State(seen): State<Arc<Seen>>) -> Response {
    if seen.limited.fetch_add(1, Ordering::SeqCst) == 0 {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "0")],
            "",
        )
            .into_response()
    } else {
        (StatusCode::CREATED, axum::Json(json!({"id": 7}))).into_response()
    }
}

async fn slow_post(State(seen): State<Arc<Seen>>) -> Response {
    seen.posts.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(5)).await;
    axum::Json(json!({"id": 1})).into_response()
}

async fn failing_post(State(seen): State<Arc<Seen>>) -> Response {
    seen.posts.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::BAD_GATEWAY,
        "<html><head><title>Bad Gateway</title></head></html>",
    )
        .into_response()
}

async fn html_ok() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html")],
        "<!DOCTYPE html><html><head><title>Please log in</title></head><body>…</body></html>",
    )
        .into_response()
}

async fn conflict() -> Response {
    (
        StatusCode::CONFLICT,
        axum::Json(json!({"message": "already exists", "errors": {"email": "taken"}})),
    )
        .into_response()
}

async fn leaky(Query(query): Query<Vec<(String, String)>>) -> Response {
    let key = query
        .iter()
        .find(|(name, _)| name == "api_key")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": format!("key {key} is not valid")})),
    )
        .into_response()
}

async fn start() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/api/echo", get(echo_auth))
        .route("/api/flaky", get(flaky))
        .route("/api/limited", post(limited))
        .route("/api/slow", post(slow_post))
        .route("/api/failing", post(failing_post))
        .route("/api/html", get(html_ok))
        .route("/api/conflict", post(conflict))
        .route("/api/leaky", get(leaky))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/api"), seen)
}

fn client(base: &str, auth: Auth) -> PeerHttp {
    let mut settings = HttpSettings::new("acme", base, auth);
    settings.retry = RetryPolicy {
        base: Duration::from_millis(2),
        cap: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    settings.timeout = Duration::from_millis(500);
    PeerHttp::new(settings).unwrap()
}

#[tokio::test]
async fn every_auth_style_reaches_the_server() {
    let (base, _) = start().await;
    let basic = client(
        &base,
        Auth::Basic {
            username: "u".into(),
            password: Secret::new("p"),
        },
    );
    let seen = basic.send(Request::get("/echo")).await.unwrap().json;
    assert_eq!(seen["authorization"], "Basic dTpw");
    let bearer = client(
        &base,
        Auth::Bearer {
            token: Secret::new("t0k"),
        },
    );
    let seen = bearer.send(Request::get("echo")).await.unwrap().json;
    assert_eq!(seen["authorization"], "Bearer t0k");
    let header = client(
        &base,
        Auth::Header {
            name: "X-Api-Key".into(),
            prefix: String::new(),
            value: Secret::new(KEY),
        },
    );
    let seen = header.send(Request::get("/echo")).await.unwrap().json;
    assert_eq!(seen["x_api_key"], KEY);
    let query = client(
        &base,
        Auth::Query {
            params: vec![("api_key".into(), Secret::new(KEY))],
        },
    );
    let seen = query
        .send(Request::get("/echo").query("page", "2"))
        .await
        .unwrap()
        .json;
    assert_eq!(seen["query"], json!([["page", "2"], ["api_key", KEY]]));
}

#[tokio::test]
async fn reads_retry_transient_answers() {
    let (base, seen) = start().await;
    let http = client(&base, Auth::None);
    let answer = http.send(Request::get("/flaky")).await.unwrap();
    assert_eq!(answer.json, json!({"ok": true}));
    assert_eq!(
        seen.flaky.load(Ordering::SeqCst),
        3,
        "two 503s, then success"
    );
    assert_eq!(http.health().failures_in_a_row, 0);
}

#[tokio::test]
async fn a_write_refused_with_429_is_sent_again() {
    let (base, seen) = start().await;
    let http = client(&base, Auth::None);
    let answer = http
        .send(Request::new(Method::POST, "/limited").json(json!({"a": 1})))
        .await
        .unwrap();
    assert_eq!((answer.status, answer.json["id"].as_i64()), (201, Some(7)));
    assert_eq!(seen.limited.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_timeout_after_a_post_is_ambiguous_and_not_repeated() {
    let (base, seen) = start().await;
    let http = client(&base, Auth::None);
    let err = http
        .send(Request::new(Method::POST, "/slow").json(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Ambiguous, "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(seen.posts.load(Ordering::SeqCst), 1, "never sent twice");
}

#[tokio::test]
async fn a_5xx_after_a_post_is_ambiguous_with_the_page_title() {
    let (base, seen) = start().await;
    let http = client(&base, Auth::None);
    let err = http
        .send(Request::new(Method::POST, "/failing").json(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Ambiguous, "{err}");
    assert!(err.to_string().contains("HTML page: Bad Gateway"), "{err}");
    assert_eq!(seen.posts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_transient_even_for_a_write() {
    // A port nobody listens on: bind, read the port, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let http = client(&format!("http://127.0.0.1:{port}/api"), Auth::None);
    let err = http
        .send(Request::new(Method::POST, "/x").json(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient, "{err}");
    assert!(err.to_string().contains("after 4 attempts"), "{err}");
    assert_eq!(http.health().verdict(), "unreachable");
}

#[tokio::test]
async fn an_html_page_with_200_is_a_decode_error_with_its_title() {
    let (base, _) = start().await;
    let http = client(&base, Auth::None);
    let err = http.send(Request::get("/html")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode, "{err}");
    let text = err.to_string();
    assert!(text.contains("an HTML page instead of JSON"), "{text}");
    assert!(text.contains("Please log in"), "{text}");
}

#[tokio::test]
async fn status_overrides_and_the_refused_field() {
    let (base, _) = start().await;
    let http = client(&base, Auth::None);
    let err = http
        .send(Request::new(Method::POST, "/conflict").json(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Validation);
    assert_eq!(err.field(), Some("email"));
    assert!(
        err.to_string().contains("already exists (email: taken)"),
        "{err}"
    );
    let mut settings = HttpSettings::new("acme", &base, Auth::None);
    settings.statuses = StatusClasses::new(std::collections::BTreeMap::from([(
        409,
        ErrorClass::NotFound,
    )]));
    let http = PeerHttp::new(settings).unwrap();
    let err = http
        .send(Request::new(Method::POST, "/conflict").json(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);
}

#[tokio::test]
async fn secrets_never_reach_an_error_or_the_health_report() {
    let (base, _) = start().await;
    let http = client(
        &base,
        Auth::Query {
            params: vec![("api_key".into(), Secret::new(KEY))],
        },
    );
    let err = http.send(Request::get("/leaky")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    let text = err.to_string();
    assert!(!text.contains(KEY), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
    let health = format!("{:?}", http.health());
    assert!(!health.contains(KEY), "{health}");
    // A transport failure's message names no URL (query credentials would be in it).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut settings = HttpSettings::new(
        "acme",
        &format!("http://127.0.0.1:{port}"),
        Auth::Query {
            params: vec![("api_key".into(), Secret::new(KEY))],
        },
    );
    settings.retry.max_attempts = 1;
    let err = PeerHttp::new(settings)
        .unwrap()
        .send(Request::get("/x"))
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(KEY), "{err}");
    assert!(!format!("{err:?}").contains(KEY), "{err:?}");
}

#[tokio::test]
async fn link_urls_off_the_base_origin_are_refused() {
    let (base, _) = start().await;
    let http = client(
        &base,
        Auth::Bearer {
            token: Secret::new("t0k"),
        },
    );
    let elsewhere = Url::parse("http://example.invalid/api/echo").unwrap();
    let err = http
        .send(Request::url(Method::GET, elsewhere))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode);
    assert!(
        err.to_string().contains("outside its base URL's origin"),
        "{err}"
    );
    // On the origin, credential parameters copied into the URL are replaced, not doubled.
    let query = client(
        &base,
        Auth::Query {
            params: vec![("api_key".into(), Secret::new(KEY))],
        },
    );
    let next = Url::parse(&format!("{base}/echo?page=3&api_key=old")).unwrap();
    let seen = query
        .send(Request::url(Method::GET, next))
        .await
        .unwrap()
        .json;
    assert_eq!(seen["query"], json!([["page", "3"], ["api_key", KEY]]));
}

#[tokio::test]
async fn pacing_spaces_requests() {
    let (base, _) = start().await;
    let mut settings = HttpSettings::new("acme", &base, Auth::None);
    settings.min_interval = HttpSettings::per_second(20.0);
    let http = PeerHttp::new(settings).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        http.send(Request::get("/echo")).await.unwrap();
    }
    // Three requests, two gaps of at least 50 ms: a lower bound, never flaky.
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[test]
fn bad_settings_are_refused_with_a_reason() {
    let err = PeerHttp::new(HttpSettings::new("acme", "ftp://x", Auth::None)).unwrap_err();
    assert_eq!(err.class(), ErrorClass::ScopeOrConfig);
    assert!(err.to_string().contains("http(s)"), "{err}");
    let err = PeerHttp::new(HttpSettings::new(
        "acme",
        "https://u:p@h.example",
        Auth::None,
    ))
    .unwrap_err();
    assert!(
        err.to_string().contains("must not carry credentials"),
        "{err}"
    );
}

#[test]
fn link_headers_and_segments() {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::LINK,
        r#"<https://h/x?page=1>; rel="prev", <https://h/x?page=3>; rel="next""#
            .parse()
            .unwrap(),
    );
    assert_eq!(link_next(&headers).as_deref(), Some("https://h/x?page=3"));
    headers.insert(
        header::LINK,
        r#"<https://h/x?page=1>; rel="prev""#.parse().unwrap(),
    );
    assert_eq!(link_next(&headers), None);
    assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    let http = client("http://127.0.0.1:1/v2/", Auth::None);
    assert_eq!(
        http.url_for("/contacts").as_str(),
        "http://127.0.0.1:1/v2/contacts"
    );
    let _: Value = json!(null);
}
