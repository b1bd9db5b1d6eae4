//! GHL's answers: every corpus body served (as a 200 and as a 422) to each read the client
//! makes — contact, contact list, task, note, appointment, calendars, custom fields — and to the
//! OAuth token exchange. Each is an error naming the request (`GET /contacts/c-1`) or the token
//! endpoint, with a next step; never a panic, never a hang.

use crate::serve::Server;
use crate::{Failures, corpus, generated_json};
use ghlsync::config::Secret;
use ghlsync::ghl::{AuthSettings, ClientSettings, GhlClient, GhlError, LimiterSettings};
use ghlsync::net::RetryPolicy;
use std::time::Duration;

fn client(server: &Server) -> GhlClient {
    let mut settings = ClientSettings::new(
        server.base_url.clone(),
        "loc-1",
        AuthSettings::PrivateToken(Secret::new("pit-hostile-0123456789")),
    );
    settings.timeout = Duration::from_secs(10);
    settings.retry = RetryPolicy {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
        ..settings.retry
    };
    // The loopback server sends no rate headers; nothing here should be paced.
    settings.limiter = LimiterSettings {
        initial_max: 1_000_000,
        initial_interval: Duration::from_secs(1),
        ..LimiterSettings::default()
    };
    GhlClient::new(settings).unwrap()
}

/// Each read, and the path its errors must name.
async fn reads(client: &GhlClient) -> Vec<(&'static str, Result<(), GhlError>)> {
    fn done<T>(result: Result<T, GhlError>) -> Result<(), GhlError> {
        result.map(drop)
    }
    vec![
        ("GET /contacts/c-1", done(client.get_contact("c-1").await)),
        (
            "GET /contacts/",
            done(client.list_contacts_page(&Default::default()).await),
        ),
        (
            "GET /contacts/c-1/tasks",
            done(client.list_tasks("c-1").await),
        ),
        (
            "GET /contacts/c-1/tasks/t-1",
            done(client.get_task("c-1", "t-1").await),
        ),
        (
            "GET /contacts/c-1/notes",
            done(client.list_notes("c-1").await),
        ),
        (
            "GET /contacts/c-1/notes/n-1",
            done(client.get_note("c-1", "n-1").await),
        ),
        (
            "GET /contacts/c-1/appointments",
            done(client.list_contact_appointments("c-1").await),
        ),
        (
            "GET /calendars/events/appointments/e-1",
            done(client.get_appointment("e-1").await),
        ),
        ("GET /calendars/", done(client.list_calendars().await)),
        (
            "GET /locations/loc-1/customFields",
            done(client.list_custom_fields().await),
        ),
    ]
}

/// Bodies a read takes, on purpose (RELIABILITY.md, "Hostile input"): a repeated key is read
/// as JSON.parse reads it (the last one wins); invalid UTF-8 inside a string is read as U+FFFD
/// (the lossy second pass that names what is wrong); a 10 MB value is a valid answer under the
/// 32 MB body limit.
fn graceful(name: &str, _path: &str) -> bool {
    matches!(
        name,
        "duplicate_keys.json" | "invalid_utf8.json" | "generated: a 10 MB field"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_answer_is_an_error_naming_the_request() {
    let server = Server::start().await;
    let client = client(&server);
    let (mut checked, mut failures) = (0, Failures::default());
    for (name, body) in corpus("ghl_answers").into_iter().chain(generated_json()) {
        for status in [200, 422] {
            server.answer(status, &name, &body);
            for (path, result) in reads(&client).await {
                let what = format!("{name} as HTTP {status} to {path}");
                match result {
                    Ok(()) => failures.check(graceful(&name, path), || format!("{what}: accepted")),
                    Err(err) => failures.names_place(&what, &err.to_string(), path),
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 600, "{checked} answers checked");
    failures.finish(checked);
}

/// Token answers that are token answers: a string `access_token` is all OAuth's answer needs.
fn token_graceful(name: &str, status: u16) -> bool {
    status == 200 && matches!(name, "wrong_types_strings.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_token_answer_is_an_error_naming_the_token_endpoint() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token.json");
    let (mut checked, mut failures) = (0, Failures::default());
    for (name, body) in corpus("ghl_answers").into_iter().chain(generated_json()) {
        for status in [200, 400] {
            server.answer(status, &name, &body);
            let result = ghlsync::ghl::auth::exchange_code(
                &server.base_url,
                "client-1",
                &Secret::new("client-secret-0123456789"),
                &Secret::new("code-0123456789"),
                None,
                &token_file,
            )
            .await;
            let what = format!("{name} as HTTP {status} to POST /oauth/token");
            match result {
                Ok(info) => failures.check(token_graceful(&name, status), || {
                    format!("{what}: accepted as {info:?}")
                }),
                Err(err) => {
                    failures.names_place(&what, &err.to_string(), "/oauth/token");
                    failures.check(!token_file.exists(), || {
                        format!("{what}: a token file was written")
                    });
                }
            }
            let _ = std::fs::remove_file(&token_file);
            checked += 1;
        }
    }
    failures.finish(checked);
}
