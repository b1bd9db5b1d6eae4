//! How the client behaves when GHL does not simply answer 200: token expiry and refresh, 429s,
//! scope and location errors, HTML and malformed bodies, dropped connections, "422 but created".

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Harness, count_in};
use ghlsync::config::Secret;
use ghlsync::ghl::models::CreateContactDto;
use ghlsync::ghl::{AuthSettings, GhlClient, StoredToken, write_token_file};
use ghlsync::net::ErrorClass;
use ghlsync::sandbox::{BurstLimit, SandboxOptions};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// OAuth settings whose token file holds an access token the sandbox will reject and a valid
/// refresh token, so the first call must refresh.
async fn oauth_client(
    h: &Harness,
    dir: &std::path::Path,
    expires_in_future: bool,
) -> (GhlClient, std::path::PathBuf) {
    let (access, refresh) = h.mint_token(None, None, Some(1)).await; // 1 ms lifetime: expired
    tokio::time::sleep(Duration::from_millis(5)).await;
    let token_file = dir.join("ghl-oauth-token.json");
    let expires_at = if expires_in_future { i64::MAX / 4 } else { 0 };
    let stored = StoredToken {
        access_token: access,
        refresh_token: refresh,
        expires_at,
        scope: None,
        location_id: Some(h.sandbox.location_id.clone()),
        company_id: None,
    };
    write_token_file(&token_file, &stored).unwrap();
    let settings = h.settings(AuthSettings::OAuth {
        client_id: h.sandbox.oauth_client_id.clone(),
        client_secret: h.sandbox.oauth_client_secret.clone(),
        token_file: token_file.clone(),
        user_type: "Location".into(),
    });
    (GhlClient::new(settings).unwrap(), token_file)
}

#[tokio::test]
async fn a_401_triggers_one_refresh_and_one_retry_and_the_rotated_pair_is_persisted() {
    let h = Harness::start(5).await;
    let dir = tempfile::tempdir().unwrap();
    // The file claims the token is fresh, so only the server's 401 can reveal it has expired.
    let (client, token_file) = oauth_client(&h, dir.path(), true).await;
    let before = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(client.auth_info().last_unauthorized_at, None);

    let page = client
        .list_contacts_page(&Default::default())
        .await
        .unwrap();
    assert!(!page.contacts.is_empty());

    let stats = h.stats().await;
    assert_eq!(stats["refreshes"], 1, "{stats}");
    assert_eq!(count_in(&stats, "GET", "/contacts/", Some(401)), 1);
    assert_eq!(count_in(&stats, "GET", "/contacts/", Some(200)), 1);
    // The status screens say when GHL last refused the token, even though the retry healed it.
    let refused = client
        .auth_info()
        .last_unauthorized_at
        .expect("the 401 is recorded");
    assert!(
        (chrono::Utc::now().timestamp() - refused).abs() < 60,
        "{refused}"
    );
    let after = std::fs::read_to_string(&token_file).unwrap();
    assert_ne!(before, after, "rotated pair written to the token file");
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // The old refresh token was single-use: a second client reading the new file must work.
    let again = GhlClient::new(h.settings(AuthSettings::OAuth {
        client_id: h.sandbox.oauth_client_id.clone(),
        client_secret: h.sandbox.oauth_client_secret.clone(),
        token_file: token_file.clone(),
        user_type: "Location".into(),
    }))
    .unwrap();
    again.list_contacts_page(&Default::default()).await.unwrap();
    assert_eq!(
        h.stats().await["refreshes"],
        1,
        "the persisted token was fresh: no second refresh"
    );
}

#[tokio::test]
async fn twenty_concurrent_requests_meeting_an_expired_token_cause_exactly_one_refresh() {
    let h = Harness::start(30).await;
    h.admin_post("oauth-delay", json!({"ms": 200})).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, _) = oauth_client(&h, dir.path(), true).await;
    let ids: Vec<String> = h
        .client()
        .list_contacts_page(&ghlsync::ghl::ListContacts {
            limit: 20,
            ..Default::default()
        })
        .await
        .unwrap()
        .contacts
        .into_iter()
        .map(|c| c.id)
        .collect();
    h.reset_counters().await;
    let calls = ids.iter().map(|id| {
        let client = client.clone();
        let id = id.clone();
        async move { client.get_contact(&id).await }
    });
    let results = futures::future::join_all(calls).await;
    assert_eq!(results.len(), 20);
    for result in results {
        result.unwrap();
    }
    assert_eq!(h.stats().await["refreshes"], 1);
}

#[tokio::test]
async fn a_token_known_to_be_expired_is_refreshed_before_use() {
    let h = Harness::start(5).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, _) = oauth_client(&h, dir.path(), false).await;
    client
        .list_contacts_page(&Default::default())
        .await
        .unwrap();
    let stats = h.stats().await;
    assert_eq!(stats["refreshes"], 1);
    assert_eq!(
        count_in(&stats, "GET", "/contacts/", Some(401)),
        0,
        "no wasted request"
    );
}

#[tokio::test]
async fn a_static_token_that_is_invalid_is_an_auth_error_without_the_token_in_it() {
    let h = Harness::start(5).await;
    let client = h.client_with_token(&Secret::new("pit-00000000-dead-beef-0000-000000000000"));
    let err = client
        .list_contacts_page(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth, "{err}");
    assert_eq!(err.status(), Some(401));
    assert!(client.auth_info().last_unauthorized_at.is_some());
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("dead-beef"), "{shown}");
}

#[tokio::test]
async fn a_missing_scope_names_the_scope_and_what_to_do() {
    let h = Harness::start(5).await;
    let (read_only, _) = h.mint_token(Some(&["contacts.readonly"]), None, None).await;
    let client = h.client_with_token(&read_only);
    client
        .list_contacts_page(&Default::default())
        .await
        .unwrap();
    let err = client
        .create_contact(&CreateContactDto {
            email: Some("scope@example.org".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::ScopeOrConfig, "{err}");
    let text = err.to_string();
    assert!(text.contains("contacts.write"), "{text}");
    assert_eq!(
        h.stats().await["contacts"].as_u64().unwrap(),
        5,
        "nothing created"
    );
}

#[tokio::test]
async fn a_token_of_another_location_names_the_location() {
    let h = Harness::start(5).await;
    let (other, _) = h.mint_token(None, Some("OtherLocation0000001"), None).await;
    let client = h.client_with_token(&other);
    let err = client
        .list_contacts_page(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::ScopeOrConfig, "{err}");
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains(&h.sandbox.location_id), "{err}");
}

#[tokio::test]
async fn four_hundred_twenty_nines_are_waited_out_not_counted_as_attempts() {
    let h = Harness::with_options(SandboxOptions {
        contacts: 20,
        rate_limit: Some(BurstLimit {
            max: 5,
            interval: Duration::from_millis(300),
        }),
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await;
    let client = h.client();
    let ids: Vec<String> = client
        .list_contacts_page(&ghlsync::ghl::ListContacts {
            limit: 20,
            ..Default::default()
        })
        .await
        .unwrap()
        .contacts
        .into_iter()
        .map(|c| c.id)
        .collect();
    let calls = ids.iter().map(|id| {
        let client = client.clone();
        let id = id.clone();
        async move { client.get_contact(&id).await }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    let stats = h.stats().await;
    let ok = count_in(&stats, "GET", "/contacts/:contactId", Some(200));
    assert_eq!(ok, 20);
    let limited = count_in(&stats, "GET", "/contacts/:contactId", Some(429));
    assert!(
        limited <= 5,
        "the limiter paces from the headers: {limited} 429s"
    );
    let state = client.limiter_state();
    assert_eq!(state.max, 5, "bucket sized from X-RateLimit-Max");
}

#[tokio::test]
async fn an_html_error_page_and_a_malformed_body_are_decode_errors() {
    let h = Harness::start(5).await;
    let client = h.client();
    h.queue_faults(&[("GET /contacts/", "html200")]).await;
    let err = client
        .list_contacts_page(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode, "{err}");
    assert!(err.to_string().to_lowercase().contains("html"), "{err}");

    h.queue_faults(&[("GET /contacts/", "malformed")]).await;
    let err = client
        .list_contacts_page(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode, "{err}");
}

/// A body that never ends (a broken proxy streaming) is cut off at the answer limit: a decode
/// error naming the size, in seconds and without holding the stream in memory.
#[tokio::test]
async fn an_answer_that_never_ends_is_cut_off_at_the_limit() {
    let h = Harness::start(5).await;
    let client = h.client();
    h.queue_faults(&[("GET /contacts/", "endless200")]).await;
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        client.list_contacts_page(&Default::default()),
    )
    .await
    .expect("the read stops at the limit")
    .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode, "{err}");
    assert!(err.to_string().contains("larger than 32 MB"), "{err}");
    // The next answer is read as usual.
    assert!(client.list_contacts_page(&Default::default()).await.is_ok());
}

#[tokio::test]
async fn transient_faults_on_reads_are_retried() {
    let h = Harness::start(5).await;
    let client = h.client();
    h.queue_faults(&[
        ("GET /contacts/", "html502"),
        ("GET /contacts/", "status500"),
        ("GET /contacts/", "drop"),
    ])
    .await;
    let page = client
        .list_contacts_page(&Default::default())
        .await
        .unwrap();
    assert_eq!(page.contacts.len(), 5);
    let stats = h.stats().await;
    assert_eq!(count_in(&stats, "GET", "/contacts/", Some(200)), 1);
}

#[tokio::test]
async fn a_create_with_an_unknown_outcome_is_ambiguous_and_not_retried() {
    let h = Harness::start(5).await;
    let client = h.client();
    for kind in ["create422", "drop", "status500"] {
        h.queue_faults(&[("POST /contacts/", kind)]).await;
        let email = format!("{kind}@example.org");
        let err = client
            .create_contact(&CreateContactDto {
                email: Some(email.clone()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Ambiguous, "{kind}: {err}");
        if kind == "create422" {
            // GHL's known behaviour: the contact exists anyway, and a lookup finds it.
            let found = client.find_duplicate(Some(&email), None).await.unwrap();
            assert!(
                found.contact.is_some(),
                "422-but-created contact is findable"
            );
        }
    }
    let stats = h.stats().await;
    assert_eq!(
        count_in(&stats, "POST", "/contacts/", None),
        3,
        "one attempt each, never a blind retry"
    );
}

#[tokio::test]
async fn a_slow_response_times_out_and_reads_retry() {
    let h = Harness::start(5).await;
    h.admin_post(
        "faults",
        json!({"rate": 0.0, "slowMs": 3000, "next": [{"route": "GET /contacts/", "kind": "slow"}]}),
    )
    .await;
    let mut settings = h.settings(AuthSettings::PrivateToken(h.sandbox.token.clone()));
    settings.timeout = Duration::from_millis(300);
    let client = GhlClient::new(settings).unwrap();
    let page = client
        .list_contacts_page(&Default::default())
        .await
        .unwrap();
    assert_eq!(page.contacts.len(), 5);
}
