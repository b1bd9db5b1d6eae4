#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use axum::http::HeaderValue;

const SECRET: &str = "shared-secret-for-tests";

fn receiver(dir: &std::path::Path) -> Receiver {
    Receiver::open(
        EventFolders::new(&dir.join("events")),
        Secret::new(SECRET.to_string()),
        ReceiverOptions::default(),
    )
    .unwrap()
}

fn event(id: &str, kind: &str) -> Vec<u8> {
    let mut event = json!({
        "id": id, "type": kind, "occurred_at": "2025-01-02T10:00:00Z",
        "prospect": {"email": "ann@example.com", "first_name": "Ann"},
    });
    if kind == "replied" {
        event["reply"] = json!({"subject": "Re: hello", "body": "Let's talk"});
    }
    serde_json::to_vec(&event).unwrap()
}

fn signed(secret: &str, at: i64, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let ts = at.to_string();
    headers.insert(TIMESTAMP_HEADER, HeaderValue::from_str(&ts).unwrap());
    let sig = signature(secret.as_bytes(), &ts, body);
    headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(&sig).unwrap());
    headers
}

#[test]
fn a_signed_event_is_stored_before_it_is_accepted_and_found_by_a_fresh_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now().timestamp();
    let body = event("evt_1", "replied");
    let first = receiver(dir.path());
    let accepted = first.accept(&signed(SECRET, now, &body), &body).unwrap();
    assert_eq!((accepted.status, accepted.duplicate), (200, false));
    let stored: Vec<_> = std::fs::read_dir(dir.path().join("events/replies"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    // A fresh receiver (a restart) knows the event and the request.
    let second = receiver(dir.path());
    let again = second
        .accept(&signed(SECRET, now + 1, &body), &body)
        .unwrap();
    assert!(again.duplicate);
    let replay = second
        .accept(&signed(SECRET, now, &body), &body)
        .unwrap_err();
    assert_eq!(replay.status, 409, "{replay}");
}

#[test]
fn forged_unsigned_stale_oversized_and_malformed_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = receiver(dir.path());
    let now = chrono::Utc::now().timestamp();
    let body = event("evt_2", "qualified");
    let forged = receiver
        .accept(&signed("guess", now, &body), &body)
        .unwrap_err();
    assert_eq!(forged.status, 401);
    assert!(!forged.message.contains(SECRET));
    assert_eq!(
        receiver
            .accept(&HeaderMap::new(), &body)
            .unwrap_err()
            .status,
        401
    );
    let stale = receiver
        .accept(&signed(SECRET, now - 3600, &body), &body)
        .unwrap_err();
    assert!(
        stale.status == 401 && stale.message.contains("stale"),
        "{stale}"
    );
    // The timestamp is signed: moving it forward breaks the signature.
    let mut moved = signed(SECRET, now - 3600, &body);
    moved.insert(
        TIMESTAMP_HEADER,
        HeaderValue::from_str(&now.to_string()).unwrap(),
    );
    assert_eq!(receiver.accept(&moved, &body).unwrap_err().status, 401);
    let big = vec![b' '; 70_000];
    assert_eq!(
        receiver
            .accept(&signed(SECRET, now, &big), &big)
            .unwrap_err()
            .status,
        413
    );
    let junk = b"<html>502</html>".to_vec();
    let refused = receiver
        .accept(&signed(SECRET, now, &junk), &junk)
        .unwrap_err();
    assert_eq!(refused.status, 422, "{refused}");
    let no_email =
        br#"{"id":"e","type":"created","occurred_at":"2025-01-02T10:00:00Z","prospect":{}}"#;
    assert_eq!(
        receiver
            .accept(&signed(SECRET, now, no_email), no_email)
            .unwrap_err()
            .status,
        422
    );
    let nothing_stored = std::fs::read_dir(dir.path().join("events/prospects"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .all(|n| !n.ends_with(".jsonl"));
    assert!(nothing_stored);
}
