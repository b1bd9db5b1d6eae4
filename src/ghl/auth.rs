//! Where the bearer token comes from: a static token (Private Integration Token or a token given
//! on the command line), or OAuth with refresh.
//!
//! GHL rotates the refresh token on every refresh, so two concurrent refreshes with the same
//! refresh token kill the credential (the n8n failure in ghl-api.md §7). Refresh is therefore
//! single-flight behind a `tokio::sync::Mutex`, and the new pair reaches the token file (0600,
//! atomic rename) before anyone uses it.

mod token_file;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use token_file::{StoredToken, TokenInfo, load_token_file, write_token_file};
use token_file::{now_unix, write_token_file_async};

use super::error::{ApiError, DecodeError, GhlError, RequestContext};
use super::models::{ErrorBody, TokenRequestForm, TokenResponse};
use crate::config::Secret;
use crate::net::excerpt;

/// Refresh when the access token has less than this left.
const REFRESH_MARGIN_SECS: i64 = 60;
/// GHL's documented lifetime, used when an answer omits `expires_in`.
const DEFAULT_EXPIRES_IN: u64 = 86_399;

#[derive(Debug, Clone, PartialEq)]
pub enum AuthSettings {
    /// Private Integration Token: a static bearer.
    PrivateToken(Secret),
    /// OAuth 2.0 with refresh. `token_file` holds the current pair (JSON, 0600, atomic writes).
    OAuth {
        client_id: String,
        client_secret: Secret,
        token_file: PathBuf,
        /// `Location` for sub-account tokens.
        user_type: String,
    },
    /// An access token given directly (e.g. `--token`): no refresh.
    AccessToken(Secret),
}

fn token_ctx() -> RequestContext {
    RequestContext {
        method: "POST".to_string(),
        path: "/oauth/token".to_string(),
    }
}

/// `POST /oauth/token`, form-encoded.
async fn request_token(
    http: &reqwest::Client,
    base_url: &str,
    form: &TokenRequestForm,
) -> Result<TokenResponse, GhlError> {
    let url = format!("{}/oauth/token", base_url.trim_end_matches('/'));
    let response = http
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .map_err(|err| GhlError::Network {
            ctx: token_ctx(),
            class: crate::net::ErrorClass::Transient,
            detail: super::transport::describe_reqwest_error(&err),
            hint: Some("retry later".to_string()),
        })?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_string();
    let body = crate::net::body::read_limited(response, crate::net::body::ANSWER_BYTES)
        .await
        .map_err(|err| GhlError::Network {
            ctx: token_ctx(),
            class: crate::net::ErrorClass::Transient,
            detail: match err {
                crate::net::body::BodyError::Network(err) => {
                    super::transport::describe_reqwest_error(&err)
                }
                crate::net::body::BodyError::TooLarge { limit } => {
                    crate::net::body::BodyError::too_large_detail(limit)
                }
            },
            hint: Some("retry later".to_string()),
        })?;
    let secrets = [
        form.client_secret.as_str(),
        form.refresh_token.as_deref().unwrap_or(""),
        form.code.as_deref().unwrap_or(""),
    ];
    if (200..300).contains(&status) {
        return serde_json::from_slice(&body).map_err(|err| {
            GhlError::Decode(Box::new(DecodeError {
                ctx: token_ctx(),
                status,
                content_type,
                excerpt: excerpt(&body, &secrets),
                detail: format!(
                    "not a token answer: {:?} error at line {} column {}",
                    err.classify(),
                    err.line(),
                    err.column()
                ),
                trace_id: None,
            }))
        });
    }
    let message = serde_json::from_slice::<ErrorBody>(&body)
        .map(|b| b.message.to_string())
        .unwrap_or_else(|_| excerpt(&body, &secrets));
    if status >= 500 {
        return Err(GhlError::Api(Box::new(ApiError {
            ctx: token_ctx(),
            status,
            class: crate::net::ErrorClass::Transient,
            message: None,
            summary: excerpt(message.as_bytes(), &secrets),
            trace_id: None,
            hint: Some("GHL's token endpoint failed; retry later".to_string()),
        })));
    }
    Err(GhlError::Auth {
        ctx: Some(token_ctx()),
        status: Some(status),
        detail: format!(
            "HTTP {status}: {} — the OAuth grant was refused; authorise the app on the location again and write its new token pair to the token file (`[ghl] token_file`)",
            excerpt(message.as_bytes(), &secrets)
        ),
    })
}

/// Exchange an authorization code (the `?code=` of the OAuth redirect) for a token pair and
/// save it to `token_file`.
pub async fn exchange_code(
    base_url: &str,
    client_id: &str,
    client_secret: &Secret,
    code: &Secret,
    redirect_uri: Option<&str>,
    token_file: &Path,
) -> Result<TokenInfo, GhlError> {
    let client = OAuthClient {
        base_url,
        client_id,
        client_secret,
        user_type: "Location",
    };
    exchange_code_as(&client, code, redirect_uri, token_file).await
}

/// The app's credentials at `/oauth/token`, and the kind of token asked for (`Location` for a
/// sub-account, `Company` for an agency).
pub struct OAuthClient<'a> {
    pub base_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a Secret,
    pub user_type: &'a str,
}

/// [`exchange_code`] for either kind of token.
pub async fn exchange_code_as(
    app: &OAuthClient<'_>,
    code: &Secret,
    redirect_uri: Option<&str>,
    token_file: &Path,
) -> Result<TokenInfo, GhlError> {
    let (base_url, client_id, client_secret) = (app.base_url, app.client_id, app.client_secret);
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|err| GhlError::Config {
            detail: format!("cannot build the HTTP client: {err}"),
        })?;
    let form = TokenRequestForm {
        client_id: client_id.to_string(),
        client_secret: client_secret.expose().to_string(),
        grant_type: "authorization_code".to_string(),
        code: Some(code.expose().to_string()),
        refresh_token: None,
        user_type: Some(app.user_type.to_string()),
        redirect_uri: redirect_uri.map(str::to_string),
    };
    let token = StoredToken::from_response(request_token(&http, base_url, &form).await?, None);
    write_token_file_async(token_file.to_path_buf(), token.clone()).await?;
    Ok(token.info())
}

/// Saves a location token an agency minted (`GhlClient::location_token`) as `token_file`, the
/// way a refreshed pair is saved (0600, atomic).
pub async fn save_location_token(
    response: TokenResponse,
    token_file: &Path,
) -> Result<TokenInfo, GhlError> {
    let token = StoredToken::from_response(response, None);
    write_token_file_async(token_file.to_path_buf(), token.clone()).await?;
    Ok(token.info())
}

/// How the GHL client authenticates (what `ghlsync status` and the console show).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuthInfo {
    pub method: AuthMethod,
    /// Unix seconds; OAuth only (refreshed a minute before).
    pub expires_at: Option<i64>,
    pub scope: Option<String>,
    /// Unix seconds of the last 401 GHL answered this process (a revoked or rotated token, a
    /// refresh gone wrong); absent when there was none since it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_unauthorized_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A private integration token or a fixed access token: no expiry known.
    #[default]
    StaticToken,
    /// OAuth with a refresh token: renewed before it expires.
    OAuth,
}

/// The OAuth side of [`TokenSource`].
pub(crate) struct OAuthTokens {
    http: reqwest::Client,
    base_url: String,
    client_id: String,
    client_secret: Secret,
    token_file: PathBuf,
    user_type: String,
    /// Read without awaiting; replaced only while `refresh_lock` is held.
    current: Mutex<StoredToken>,
    refresh_lock: tokio::sync::Mutex<()>,
}

pub(crate) enum TokenSource {
    Static(Secret),
    OAuth(Box<OAuthTokens>),
}

impl TokenSource {
    pub(crate) fn from_settings(
        auth: &AuthSettings,
        http: &reqwest::Client,
        base_url: &str,
    ) -> Result<Self, GhlError> {
        match auth {
            AuthSettings::PrivateToken(token) | AuthSettings::AccessToken(token) => {
                if token.is_empty() {
                    return Err(GhlError::Config {
                        detail: "the GHL token is empty; set GHLSYNC_GHL_TOKEN or the secrets file"
                            .to_string(),
                    });
                }
                Ok(TokenSource::Static(token.clone()))
            }
            AuthSettings::OAuth {
                client_id,
                client_secret,
                token_file,
                user_type,
            } => {
                let stored = load_token_file(token_file)?;
                Ok(TokenSource::OAuth(Box::new(OAuthTokens {
                    http: http.clone(),
                    base_url: base_url.to_string(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    token_file: token_file.clone(),
                    user_type: user_type.clone(),
                    current: Mutex::new(stored),
                    refresh_lock: tokio::sync::Mutex::new(()),
                })))
            }
        }
    }

    /// How the client authenticates, for status screens: never the token itself.
    pub(crate) fn info(&self) -> AuthInfo {
        match self {
            TokenSource::Static(_) => AuthInfo {
                method: AuthMethod::StaticToken,
                expires_at: None,
                scope: None,
                last_unauthorized_at: None,
            },
            TokenSource::OAuth(oauth) => {
                let current = oauth.current();
                AuthInfo {
                    method: AuthMethod::OAuth,
                    expires_at: Some(current.expires_at),
                    scope: current.scope,
                    last_unauthorized_at: None,
                }
            }
        }
    }

    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self, TokenSource::OAuth(_))
    }

    /// The location the token file says the token belongs to, when known.
    pub(crate) fn token_location(&self) -> Option<String> {
        match self {
            TokenSource::Static(_) => None,
            TokenSource::OAuth(oauth) => oauth.current().location_id,
        }
    }

    /// The token to send now, refreshed first if it expires within a minute.
    pub(crate) async fn bearer(&self) -> Result<Secret, GhlError> {
        match self {
            TokenSource::Static(token) => Ok(token.clone()),
            TokenSource::OAuth(oauth) => oauth.bearer().await,
        }
    }

    /// After a 401 for `used`: refresh once, unless another task already replaced `used`.
    pub(crate) async fn refresh_after_unauthorized(
        &self,
        used: &Secret,
    ) -> Result<Secret, GhlError> {
        match self {
            TokenSource::Static(token) => Ok(token.clone()),
            TokenSource::OAuth(oauth) => oauth.refresh_unless_replaced(used).await,
        }
    }

    /// Values to scrub from any excerpt shown in an error.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        match self {
            TokenSource::Static(token) => vec![token.clone()],
            TokenSource::OAuth(oauth) => {
                let current = oauth.current();
                vec![
                    current.access_token,
                    current.refresh_token,
                    oauth.client_secret.clone(),
                ]
            }
        }
    }
}

impl OAuthTokens {
    fn current(&self) -> StoredToken {
        // A poisoned lock still holds a complete token: replacement is a single assignment.
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn bearer(&self) -> Result<Secret, GhlError> {
        let current = self.current();
        if !current.expiring(now_unix()) {
            return Ok(current.access_token);
        }
        let _single_flight = self.refresh_lock.lock().await;
        // Someone may have refreshed while we waited for the lock.
        let current = self.current();
        if !current.expiring(now_unix()) {
            return Ok(current.access_token);
        }
        self.refresh_locked(current).await
    }

    async fn refresh_unless_replaced(&self, used: &Secret) -> Result<Secret, GhlError> {
        let _single_flight = self.refresh_lock.lock().await;
        let current = self.current();
        if current.access_token != *used {
            return Ok(current.access_token);
        }
        self.refresh_locked(current).await
    }

    /// Call only with `refresh_lock` held.
    async fn refresh_locked(&self, current: StoredToken) -> Result<Secret, GhlError> {
        let form = TokenRequestForm {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.expose().to_string(),
            grant_type: "refresh_token".to_string(),
            code: None,
            refresh_token: Some(current.refresh_token.expose().to_string()),
            user_type: Some(self.user_type.clone()),
            redirect_uri: None,
        };
        let response = request_token(&self.http, &self.base_url, &form).await?;
        let fresh = StoredToken::from_response(response, Some(&current));
        tracing::debug!(expires_at = fresh.expires_at, "OAuth token refreshed");
        let saved = write_token_file_async(self.token_file.clone(), fresh.clone()).await;
        // Keep the new pair in memory even if saving failed: the old refresh token is spent.
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        if let Err(err) = saved {
            tracing::error!(error = %err, "refreshed OAuth token could not be saved");
            return Err(err);
        }
        Ok(fresh.access_token)
    }
}

#[cfg(test)]
mod tests;
