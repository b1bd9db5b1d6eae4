//! Token file and refresh tests.

use super::token_file::now_unix;
use super::*;

fn token(access: &str, expires_at: i64) -> StoredToken {
    StoredToken {
        access_token: Secret::new(access),
        refresh_token: Secret::new("refresh-xyz"),
        expires_at,
        scope: Some("contacts.readonly".into()),
        location_id: Some("loc1".into()),
        company_id: None,
    }
}

#[test]
fn token_file_round_trips_with_mode_0600_and_no_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("token.json");
    write_token_file(&path, &token("access-1", 1_700_000_000)).unwrap();
    write_token_file(&path, &token("access-2", 1_700_000_100)).unwrap();
    let loaded = load_token_file(&path).unwrap();
    assert_eq!(loaded, token("access-2", 1_700_000_100));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let entries: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(
        entries.len(),
        1,
        "the temp file was renamed, not left behind"
    );
}

#[cfg(unix)]
#[test]
fn a_group_readable_token_file_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.json");
    write_token_file(&path, &token("access-secret-1", 1_700_000_000)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = load_token_file(&path).unwrap_err();
    assert_eq!(err.class(), crate::net::ErrorClass::Auth);
    let text = err.to_string();
    assert!(text.contains("chmod 600"), "{text}");
    assert!(!text.contains("access-secret-1"), "{text}");
}

#[test]
fn missing_token_file_says_to_log_in() {
    let err = load_token_file(Path::new("/nonexistent/ghlsync/token.json")).unwrap_err();
    assert_eq!(err.class(), crate::net::ErrorClass::Auth);
    assert!(
        err.to_string().contains("write its token pair there"),
        "{err}"
    );
}

#[test]
fn broken_token_file_error_does_not_quote_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.json");
    crate::private_file::write_atomic(
        &path,
        br#"{"access_token": 12345678901234, "refresh_token": "r"}"#,
    )
    .unwrap();
    let err = load_token_file(&path).unwrap_err().to_string();
    assert!(!err.contains("12345678901234"), "{err}");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn debug_redacts_tokens() {
    let shown = format!("{:?}", token("access-very-secret", 1));
    assert!(
        !shown.contains("very-secret") && !shown.contains("refresh-xyz"),
        "{shown}"
    );
}

#[test]
fn expiry_margin_is_one_minute() {
    assert!(token("a", 1_000).expiring(1_000 - 59));
    assert!(!token("a", 1_000).expiring(1_000 - 61));
}

#[tokio::test]
async fn a_401_with_an_already_replaced_token_does_not_refresh_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.json");
    write_token_file(&path, &token("new-access", now_unix() + 3_600)).unwrap();
    let auth = AuthSettings::OAuth {
        client_id: "client".into(),
        client_secret: Secret::new("client-secret"),
        token_file: path,
        user_type: "Location".into(),
    };
    // The base URL is unreachable: any refresh attempt would fail this test.
    let source =
        TokenSource::from_settings(&auth, &reqwest::Client::new(), "http://127.0.0.1:9").unwrap();
    let token = source
        .refresh_after_unauthorized(&Secret::new("old-access"))
        .await
        .unwrap();
    assert_eq!(token, Secret::new("new-access"));
    assert_eq!(source.bearer().await.unwrap(), Secret::new("new-access"));
}
