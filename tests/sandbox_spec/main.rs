//! The sandbox held to GHL's official spec (`../shared/ghl-api/apps/*.json`): raw HTTP over a
//! real socket, so each request is exactly the one the spec judges, not what the client sends.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod calendars;
#[path = "../common/mod.rs"]
mod common;
mod contacts;
mod queries;

use common::Harness;
use serde_json::{Value, json};

pub const CONTACTS: &str = "2021-07-28";
pub const CALENDARS: &str = "2021-04-15";

pub struct Api {
    pub h: Harness,
}

impl Api {
    pub async fn start() -> Api {
        Api {
            h: Harness::start(5).await,
        }
    }

    pub fn location(&self) -> String {
        self.h.sandbox.location_id.clone()
    }

    /// `method path` with `body` sent as raw bytes (so non-objects go out as they are).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        version: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .h
            .http
            .request(method, self.h.url(path))
            .bearer_auth(self.h.sandbox.token.expose())
            .header("Version", version);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn json(
        &self,
        method: &str,
        path: &str,
        version: &str,
        body: &Value,
    ) -> (u16, Value) {
        self.send(method, path, version, Some(&body.to_string()))
            .await
    }

    pub async fn contact(&self) -> String {
        let body = json!({"locationId": self.location(), "firstName": "Spec", "email": "spec@example.org"});
        let (status, answer) = self.json("POST", "/contacts/", CONTACTS, &body).await;
        assert_eq!(status, 201, "{answer}");
        answer["contact"]["id"].as_str().unwrap().to_string()
    }

    pub async fn calendar(&self) -> String {
        let path = format!("/calendars/?locationId={}", self.location());
        let (status, answer) = self.send("GET", &path, CALENDARS, None).await;
        assert_eq!(status, 200, "{answer}");
        answer["calendars"][0]["id"].as_str().unwrap().to_string()
    }
}

/// Every string in an error body's `message`, joined, so a test can look for words in it.
pub fn messages(answer: &Value) -> String {
    match &answer["message"] {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        other => other.as_str().unwrap_or_default().to_string(),
    }
}

/// Words only Rust's serde uses; GHL's NestJS pipes never do.
pub fn assert_no_serde_words(answer: &Value) {
    let text = messages(answer);
    for word in [
        "missing field",
        "invalid type",
        "unknown field",
        "expected struct",
        "`",
    ] {
        assert!(
            !text.contains(word),
            "serde's words reach the client: {text}"
        );
    }
}
