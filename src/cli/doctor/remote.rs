//! The checks that ask a server: GHL (token, scopes, expiry, rate-limit headroom, its clock),
//! each peer with its credentials, and the webhook receiver. Messages come from the classified
//! errors (`GhlError`, `PeerError`), which never carry a secret.

use super::Check;
use crate::config::ConfiguredPeer;
use crate::ghl::auth::{AuthInfo, AuthMethod};
use crate::ghl::{GhlClient, GhlError, ListContacts};
use crate::net::ErrorClass;
use crate::peers::Peer;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// How long a peer or the receiver may take to answer a doctor's question.
const PEER_TIMEOUT: Duration = Duration::from_secs(30);
const RECEIVER_TIMEOUT: Duration = Duration::from_secs(5);

/// Skew past these: webhook timestamps and replay windows are judged by our clock.
const SKEW_WARN_SECS: i64 = 5;
const SKEW_FAIL_SECS: i64 = 60;

/// One cheap read (a contact page of 1): whether the token works, then what the client
/// learnt from that answer: the token's scopes and expiry, and the rate-limit headers.
pub async fn ghl(client: &GhlClient) -> Vec<Check> {
    let query = ListContacts {
        limit: 1,
        ..ListContacts::default()
    };
    let token = match client.list_contacts_page(&query).await {
        Ok(_) => Check::pass(
            "ghl token",
            format!(
                "valid for location {} ({})",
                client.location_id(),
                client.base_url()
            ),
        ),
        Err(err) => return vec![ghl_failure(&err)],
    };
    vec![token, auth(&client.auth_info()), headroom(client)]
}

fn ghl_failure(err: &GhlError) -> Check {
    let fix = match err.class() {
        ErrorClass::Auth => {
            "the token is invalid, revoked or expired: put a new Private Integration Token in secrets.toml (ghl_token) or GHLSYNC_GHL_TOKEN, or log in again for OAuth"
        }
        ErrorClass::ScopeOrConfig => {
            "give the token the contacts scopes and access to this location, or fix ghl.location_id"
        }
        ErrorClass::RateLimited => "wait for the limit to reset, then run doctor again",
        ErrorClass::Transient => {
            "GHL did not answer: check the network and ghl.base_url, then run doctor again"
        }
        _ => "check ghl.base_url points at GHL's API (services.leadconnectorhq.com)",
    };
    Check::fail("ghl token", err.class().as_str(), err.to_string(), fix)
}

/// The contacts scopes a sync needs; the others (tasks, notes, calendars) only their flows.
const NEEDED_SCOPES: [&str; 2] = ["contacts.readonly", "contacts.write"];

fn auth(info: &AuthInfo) -> Check {
    let name = "ghl scopes";
    match info.method {
        AuthMethod::StaticToken => Check::pass(
            name,
            "static token (private integration): no expiry; its scopes show on the calls it is refused",
        ),
        AuthMethod::OAuth => {
            let scopes = info.scope.clone().unwrap_or_default();
            let missing: Vec<&str> = NEEDED_SCOPES
                .iter()
                .copied()
                .filter(|s| !scopes.split_whitespace().any(|have| have == *s))
                .collect();
            let expiry = info.expires_at.map_or_else(
                || "expiry unknown".to_string(),
                |at| {
                    let left = at - Utc::now().timestamp();
                    format!(
                        "access token expires in {} min (refreshed before)",
                        left / 60
                    )
                },
            );
            if scopes.is_empty() || missing.is_empty() {
                Check::pass(name, format!("OAuth; {expiry}; scopes: {scopes}"))
            } else {
                Check::fail(
                    name,
                    "scope_or_config",
                    format!("OAuth; {expiry}; missing {}", missing.join(", ")),
                    "add those scopes to the marketplace app, then install it on the location again",
                )
            }
        }
    }
}

fn headroom(client: &GhlClient) -> Check {
    let name = "ghl rate limit";
    let state = client.limiter_state();
    let burst = format!(
        "burst {} of {} per {} s",
        state.window_budget.max(0),
        state.max,
        state.interval.as_secs()
    );
    match (state.daily_remaining, state.daily_limit) {
        (Some(0), Some(limit)) => Check::fail(
            name,
            "rate_limited",
            format!("{burst}; daily quota used up (0 of {limit})"),
            "wait for the daily reset (GHL's midnight); `ghlsync status` shows the quota",
        ),
        (Some(left), Some(limit)) if left.saturating_mul(10) < limit => Check::warn(
            name,
            format!("{burst}; daily {left} of {limit} left (under 10 %: bulk syncs pause)"),
            "space out schedules or wait for the daily reset",
        ),
        (Some(left), Some(limit)) => {
            Check::pass(name, format!("{burst}; daily {left} of {limit} left"))
        }
        _ => Check::pass(name, format!("{burst}; GHL sent no daily quota")),
    }
}

/// Each peer built with its credentials and asked for one page of what it reads first. A
/// refusal fails the line named after the peer, with the peer's own error.
pub async fn peer(configured: &ConfiguredPeer, built: Arc<dyn Peer>) -> Check {
    let name = format!("peer {}", configured.name);
    let Some(kind) = built
        .capabilities()
        .into_iter()
        .find(|cap| cap.read)
        .map(|cap| cap.kind)
    else {
        return Check::pass(name, "write-only: reached on its first write");
    };
    match tokio::time::timeout(PEER_TIMEOUT, built.fetch_changes(kind, None)).await {
        Ok(Ok(page)) => Check::pass(
            name,
            format!(
                "{} answered ({} {kind} record(s) on its first page)",
                configured.connector.name(),
                page.records.len()
            ),
        ),
        Ok(Err(err)) => {
            let fix = match err.class {
                ErrorClass::Auth => {
                    let names: Vec<String> = configured
                        .setup
                        .secrets()
                        .iter()
                        .map(|need| {
                            format!(
                                "{} (or {} in secrets.toml)",
                                crate::peers::registry::secret_env_var(&configured.name, &need.key),
                                crate::peers::registry::secret_file_key(
                                    &configured.name,
                                    &need.key
                                )
                            )
                        })
                        .collect();
                    format!(
                        "check {}'s credentials: {}",
                        configured.name,
                        if names.is_empty() {
                            format!("[peers.{}.connection]", configured.name)
                        } else {
                            names.join(", ")
                        }
                    )
                }
                ErrorClass::Transient => format!(
                    "check [peers.{}.connection] base_url and the network",
                    configured.name
                ),
                _ => format!(
                    "see the message; `ghlsync connector try` or [peers.{}] in the config",
                    configured.name
                ),
            };
            Check::fail(name, err.class.as_str(), err.to_string(), fix)
        }
        Err(_) => Check::fail(
            name,
            "transient",
            format!("no answer in {} s", PEER_TIMEOUT.as_secs()),
            format!(
                "check [peers.{}.connection] base_url and the network",
                configured.name
            ),
        ),
    }
}

/// `GET http://<listen>/healthz` of the running service.
pub async fn receiver(http: &reqwest::Client, listen: &str, instance: &str) -> Check {
    let name = "webhook receiver";
    let url = format!("http://{listen}/healthz");
    let start = format!(
        "start it: systemctl start ghlsync@{instance} (or run the service: ghlsync --config FILE run)"
    );
    match http.get(&url).timeout(RECEIVER_TIMEOUT).send().await {
        Ok(answer) if answer.status().is_success() => {
            Check::pass(name, format!("{url} answered {}", answer.status().as_u16()))
        }
        Ok(answer) => Check::fail(
            name,
            "transient",
            format!(
                "{url} answered {}: something else listens there",
                answer.status().as_u16()
            ),
            format!("make [service] listen an address only ghlsync uses; {start}"),
        ),
        Err(err) if err.is_connect() => Check::fail(
            name,
            "transient",
            format!("not running: nothing listens on {listen}"),
            start,
        ),
        Err(err) => Check::fail(
            name,
            "transient",
            format!("{url}: {}", crate::net::scrub_token_like(&err.to_string())),
            start,
        ),
    }
}

/// Our clock against the `Date` header of GHL's answer (no token sent).
pub async fn clock(http: &reqwest::Client, base_url: &str) -> Check {
    let name = "clock skew";
    let before = Utc::now();
    let answer = http
        .get(base_url)
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let after = Utc::now();
    let date = match &answer {
        Ok(answer) => answer
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok()),
        Err(_) => None,
    };
    let Some(date) = date else {
        return Check::warn(
            name,
            format!("{base_url} sent no Date header to compare with"),
            "keep the clock synced (timedatectl: NTP service active)",
        );
    };
    let middle = before + (after - before) / 2;
    skew_check(
        date.with_timezone(&Utc)
            .signed_duration_since(middle)
            .num_seconds(),
    )
}

/// `skew`: the server's time minus ours, in seconds (the header has whole seconds: ±1 is noise).
pub fn skew_check(skew: i64) -> Check {
    let name = "clock skew";
    let said = format!("{skew:+} s against GHL's clock");
    let fix = "sync the clock: timedatectl set-ntp true (or chrony / ntpd)";
    match skew.abs() {
        s if s > SKEW_FAIL_SECS => Check::fail(
            name,
            "config",
            format!("{said}: webhook deliveries would be refused as replays"),
            fix,
        ),
        s if s > SKEW_WARN_SECS => Check::warn(name, said, fix),
        _ => Check::pass(name, said),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ghl::auth::AuthMethod;

    #[test]
    fn skew_warns_past_five_seconds_and_fails_past_a_minute() {
        assert_eq!(skew_check(1).status, super::super::Status::Pass);
        assert_eq!(skew_check(-6).status, super::super::Status::Warn);
        assert_eq!(skew_check(61).status, super::super::Status::Fail);
        assert_eq!(skew_check(-61).class, "config");
    }

    #[test]
    fn an_oauth_token_without_the_contacts_scopes_fails() {
        let info = AuthInfo {
            method: AuthMethod::OAuth,
            expires_at: Some(Utc::now().timestamp() + 3600),
            scope: Some("contacts.readonly calendars.readonly".into()),
            last_unauthorized_at: None,
        };
        let check = auth(&info);
        assert_eq!(check.status, super::super::Status::Fail);
        assert!(check.detail.contains("contacts.write"), "{}", check.detail);
        assert!(check.detail.contains("expires in"), "{}", check.detail);
    }
}
