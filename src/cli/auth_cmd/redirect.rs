//! The way back from GHL's authorize page: the redirect URL (or its bare code) pasted on
//! stdin, or caught by a loopback listener on the redirect URI's port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use tokio::sync::mpsc;

use crate::cli::CliError;
use crate::config::Secret;

fn auth_error(message: String) -> CliError {
    CliError::Classed {
        class: "auth".into(),
        message,
    }
}

/// The code of a redirect's query, once its `state` (when it has one) matched and it carries
/// no `error`.
fn code_from_query(query: &str, state: &str) -> Result<Secret, CliError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(error) = get("error") {
        let why = get("error_description").unwrap_or(error);
        return Err(auth_error(format!(
            "GHL refused the authorization: {why}; run `ghlsync auth login` again and approve the app"
        )));
    }
    if let Some(got) = get("state")
        && got != state
    {
        return Err(auth_error(
            "the redirect's state does not match this login's (it belongs to another login, or was tampered with); use the URL printed above, then paste where it sent you".into(),
        ));
    }
    match get("code").map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => Ok(Secret::new(code)),
        None => Err(CliError::Usage(
            "the redirect URL has no `code` parameter; paste the whole address your browser was sent to after approving, or just its code".into(),
        )),
    }
}

/// A pasted line: the redirect URL, or the bare code.
pub fn code_from_paste(line: &str, state: &str) -> Result<Secret, CliError> {
    let line = line.trim();
    if line.is_empty() {
        return Err(CliError::Usage(
            "nothing was pasted; paste the address your browser was sent to after approving (or its code)".into(),
        ));
    }
    if line.contains("://") || line.starts_with('?') {
        let query = match url::Url::parse(line) {
            Ok(url) => url.query().unwrap_or_default().to_string(),
            Err(_) => line.trim_start_matches('?').to_string(),
        };
        return code_from_query(&query, state);
    }
    if line.contains(char::is_whitespace) || line.contains('&') {
        return Err(CliError::Usage(
            "that is neither a redirect URL nor a code; paste the whole address your browser was sent to".into(),
        ));
    }
    Ok(Secret::new(line))
}

/// Where `--listen` binds: the redirect URI's loopback host and port.
pub fn listen_addr(redirect_uri: &str) -> Result<SocketAddr, CliError> {
    let refuse = || {
        CliError::Usage(format!(
            "--listen needs a loopback redirect URI such as http://127.0.0.1:8976/callback (registered with the app), not {redirect_uri}; over SSH leave out --listen and paste the redirect instead"
        ))
    };
    let url = url::Url::parse(redirect_uri).map_err(|_| refuse())?;
    let ip = match url.host() {
        Some(url::Host::Domain("localhost")) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) if ip.is_loopback() => IpAddr::V6(ip),
        _ => return Err(refuse()),
    };
    let port = url.port_or_known_default().ok_or_else(refuse)?;
    Ok(SocketAddr::new(ip, port))
}

/// Where the listener hands the outcome over, once.
type Handover = Arc<Mutex<Option<mpsc::Sender<Result<Secret, CliError>>>>>;

#[derive(Clone)]
struct Catch {
    state: Arc<str>,
    found: Handover,
}

async fn caught(State(catch): State<Catch>, RawQuery(query): RawQuery) -> (StatusCode, String) {
    let outcome = code_from_query(query.as_deref().unwrap_or_default(), &catch.state);
    // A stray request (a favicon, a wrong state) is answered and the wait goes on.
    let (status, page) = match &outcome {
        Ok(_) => (
            StatusCode::OK,
            "ghlsync: authorized. You can close this tab.".to_string(),
        ),
        Err(e) => (StatusCode::BAD_REQUEST, format!("ghlsync: {e}")),
    };
    let last = outcome.is_ok() || query.as_deref().is_some_and(|q| q.contains("error="));
    if last {
        let sender = catch.found.lock().ok().and_then(|mut s| s.take());
        if let Some(sender) = sender {
            let _ = sender.send(outcome).await;
        }
    }
    (status, page)
}

/// Waits up to `wait` for the browser's redirect on `addr`; answers its code.
pub async fn listen_for_code(
    addr: SocketAddr,
    state: &str,
    wait: Duration,
) -> Result<Secret, CliError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::io(format!("listening on {addr} for the redirect (is another program on that port? pick another redirect URI port registered with the app)"), e))?;
    let (tx, mut rx) = mpsc::channel(1);
    let catch = Catch {
        state: Arc::from(state),
        found: Arc::new(Mutex::new(Some(tx))),
    };
    let app = axum::Router::new()
        .fallback(axum::routing::get(caught))
        .with_state(catch);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    let outcome = tokio::time::timeout(wait, rx.recv()).await;
    let _ = stop.send(());
    let _ = server.await;
    match outcome {
        Ok(Some(result)) => result,
        _ => Err(CliError::Usage(format!(
            "no redirect reached {addr} within {}; open the URL above in a browser on this machine, or run without --listen and paste the redirect",
            humantime::format_duration(wait)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_redirect_or_code_gives_the_code() {
        let code = code_from_paste("http://127.0.0.1:8976/cb?code=abc123&state=s1", "s1").unwrap();
        assert_eq!(code.expose(), "abc123");
        assert_eq!(
            code_from_paste("  abc123 \n", "s1").unwrap().expose(),
            "abc123"
        );
        assert_eq!(
            code_from_paste("https://x/cb?code=zz", "s1")
                .unwrap()
                .expose(),
            "zz"
        );
    }

    #[test]
    fn a_wrong_state_an_error_or_no_code_is_refused_with_the_fix() {
        let wrong = code_from_paste("http://h/cb?code=a&state=other", "s1").unwrap_err();
        assert_eq!(wrong.exit_code(), 4);
        let denied = code_from_paste("http://h/cb?error=access_denied", "s1").unwrap_err();
        assert!(denied.to_string().contains("access_denied"));
        let none = code_from_paste("http://h/cb?state=s1", "s1").unwrap_err();
        assert!(none.to_string().contains("code"), "{none}");
        assert!(code_from_paste("", "s1").is_err());
    }

    #[test]
    fn listen_takes_loopback_redirects_only() {
        assert_eq!(
            listen_addr("http://localhost:8976/cb").unwrap(),
            "127.0.0.1:8976".parse().unwrap()
        );
        assert!(listen_addr("https://example.com/cb").is_err());
    }
}
