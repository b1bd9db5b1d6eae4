//! The OAuth token file: `{access_token, refresh_token, expires_at, scope, location_id}`, 0600,
//! replaced atomically so a crash leaves either the old pair or the new one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{DEFAULT_EXPIRES_IN, REFRESH_MARGIN_SECS};
use crate::config::Secret;
use crate::ghl::error::GhlError;
use crate::ghl::models::TokenResponse;

/// The token file: `{access_token, refresh_token, expires_at, scope, location_id}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredToken {
    pub access_token: Secret,
    pub refresh_token: Secret,
    /// Unix seconds.
    pub expires_at: i64,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub location_id: Option<String>,
    /// An agency (Company) token's company: what its location tokens are minted under.
    #[serde(default)]
    pub company_id: Option<String>,
}

/// The serialised form; `Secret` has no `Serialize`, so the two values leave it here, on purpose.
#[derive(Serialize)]
struct StoredTokenOut<'a> {
    access_token: &'a str,
    refresh_token: &'a str,
    expires_at: i64,
    scope: Option<&'a str>,
    location_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_id: Option<&'a str>,
}

/// What an authorization-code exchange produced, without the secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub expires_at: i64,
    pub scope: Option<String>,
    pub location_id: Option<String>,
    pub company_id: Option<String>,
}

impl StoredToken {
    pub(super) fn expiring(&self, now: i64) -> bool {
        self.expires_at - now < REFRESH_MARGIN_SECS
    }

    pub(super) fn info(&self) -> TokenInfo {
        TokenInfo {
            expires_at: self.expires_at,
            scope: self.scope.clone(),
            location_id: self.location_id.clone(),
            company_id: self.company_id.clone(),
        }
    }

    pub(crate) fn from_response(response: TokenResponse, previous: Option<&StoredToken>) -> Self {
        let expires_in = response.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
        StoredToken {
            access_token: Secret::new(response.access_token),
            refresh_token: match (response.refresh_token, previous) {
                (Some(token), _) => Secret::new(token),
                (None, Some(previous)) => previous.refresh_token.clone(),
                (None, None) => Secret::default(),
            },
            expires_at: now_unix() + i64::try_from(expires_in).unwrap_or(i64::MAX / 2),
            scope: response
                .scope
                .or_else(|| previous.and_then(|p| p.scope.clone())),
            location_id: response
                .location_id
                .or_else(|| previous.and_then(|p| p.location_id.clone())),
            company_id: response
                .company_id
                .or_else(|| previous.and_then(|p| p.company_id.clone())),
        }
    }
}

pub(super) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Read the token file. A missing file means nobody has logged in yet.
pub fn load_token_file(path: &Path) -> Result<StoredToken, GhlError> {
    let text = crate::bounded_file::read_text(path, crate::bounded_file::KEY_FILE_BYTES).map_err(|err| GhlError::Auth {
        ctx: None,
        status: None,
        detail: if err.kind() == std::io::ErrorKind::NotFound {
            format!("no OAuth token file at {}: authorise the marketplace app on the location and write its token pair there (`[ghl] token_file`), or use a Private Integration token (auth = \"private-token\")", path.display())
        } else {
            format!("cannot read the OAuth token file {}: {err}", path.display())
        },
    })?;
    if let Some(mode) = std::fs::metadata(path)
        .ok()
        .and_then(|metadata| crate::private_file::loose_mode(&metadata))
    {
        return Err(GhlError::Auth {
            ctx: None,
            status: None,
            detail: format!(
                "the OAuth token file {} is readable by group or others (mode {mode:o}); it holds secrets, so ghlsync refuses it. Fix with: chmod 600 {}",
                path.display(),
                path.display()
            ),
        });
    }
    // Only the position is reported: serde's message could quote a value from the file.
    serde_json::from_str(&text).map_err(|err| GhlError::Auth {
        ctx: None,
        status: None,
        detail: format!(
            "the OAuth token file {} is not a valid token file ({:?} error at line {} column {}): authorise the app again and write its new token pair there",
            path.display(),
            err.classify(),
            err.line(),
            err.column()
        ),
    })
}

/// Write the token file atomically and owner-only (see `crate::private_file`): a crash leaves
/// either the old pair or the new one.
pub fn write_token_file(path: &Path, token: &StoredToken) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(&StoredTokenOut {
        access_token: token.access_token.expose(),
        refresh_token: token.refresh_token.expose(),
        expires_at: token.expires_at,
        scope: token.scope.as_deref(),
        location_id: token.location_id.as_deref(),
        company_id: token.company_id.as_deref(),
    })?;
    crate::private_file::write_atomic(path, &json)
}

pub(super) async fn write_token_file_async(
    path: PathBuf,
    token: StoredToken,
) -> Result<(), GhlError> {
    let shown = path.display().to_string();
    let outcome = tokio::task::spawn_blocking(move || write_token_file(&path, &token)).await;
    let detail = match outcome {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(err)) => err.to_string(),
        Err(join) => join.to_string(),
    };
    Err(GhlError::Auth {
        ctx: None,
        status: None,
        detail: format!(
            "could not save the OAuth token file {shown}: {detail}; fix the directory; if the old refresh token no longer works, authorise the app again and write its new token pair there"
        ),
    })
}
