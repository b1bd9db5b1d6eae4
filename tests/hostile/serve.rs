//! A loopback HTTP server that answers every request with one body (set per case): the hostile
//! answer reaches each client through its real HTTP stack, over a real socket.

use axum::body::Body;
use axum::http::{Response, StatusCode, header};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub struct Server {
    pub base_url: String,
    answer: Arc<Mutex<Answer>>,
    hits: Arc<Mutex<u64>>,
}

impl Server {
    pub async fn start() -> Server {
        let answer = Arc::new(Mutex::new(Answer {
            status: 200,
            content_type: "application/json",
            body: b"{}".to_vec(),
        }));
        let hits = Arc::new(Mutex::new(0));
        let (served, counted) = (answer.clone(), hits.clone());
        let app = axum::Router::new().fallback(move || {
            let answer = served.lock().unwrap().clone();
            *counted.lock().unwrap() += 1;
            async move {
                Response::builder()
                    .status(StatusCode::from_u16(answer.status).unwrap())
                    .header(header::CONTENT_TYPE, answer.content_type)
                    .body(Body::from(answer.body))
                    .unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Server {
            base_url,
            answer,
            hits,
        }
    }

    /// Every request from now on gets `body` with `status`; the content type follows the
    /// corpus file's extension (an HTML page says it is one, as a proxy's would).
    pub fn answer(&self, status: u16, name: &str, body: &[u8]) {
        let content_type = match name.rsplit('.').next() {
            Some("html") => "text/html; charset=utf-8",
            Some("xml") => "application/xml",
            Some("txt" | "bin") => "text/plain",
            Some("csv") => "text/csv",
            _ => "application/json",
        };
        *self.answer.lock().unwrap() = Answer {
            status,
            content_type,
            body: body.to_vec(),
        };
    }

    pub fn hits(&self) -> u64 {
        *self.hits.lock().unwrap()
    }
}
