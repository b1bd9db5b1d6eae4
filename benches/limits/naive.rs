//! The client ghlsync is compared with: what GHL's official SDK and n8n's HTTP node do. It sends
//! as fast as its workers go and answers a 429 by waiting and trying again, the wait doubling each
//! time (1 s, 2 s, 4 s … at GHL's real window; divided by the same factor as the window here). It
//! reads no rate-limit headers and keeps no budget.

use std::time::Duration;

pub struct NaiveClient {
    http: reqwest::Client,
    base_url: String,
    token: String,
    /// The first wait after a 429.
    first_backoff: Duration,
}

/// A call's end: its final status.
pub struct Sent {
    pub status: u16,
}

const MAX_TRIES: u32 = 8;

impl NaiveClient {
    pub fn new(base_url: &str, token: &str, first_backoff: Duration) -> NaiveClient {
        NaiveClient {
            http: reqwest::Client::new(),
            base_url: base_url.to_string(),
            token: token.to_string(),
            first_backoff,
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Sent {
        let mut too_many = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base_url))
                .bearer_auth(&self.token)
                .header("Version", "2021-07-28");
            if let Some(body) = body {
                request = request.json(body);
            }
            let status = match request.send().await {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            };
            if status != 429 || too_many + 1 >= MAX_TRIES {
                return Sent { status };
            }
            tokio::time::sleep(self.first_backoff * 2u32.pow(too_many)).await;
            too_many += 1;
        }
    }
}
