//! `/oauth/token` (`GetAccessCodebodyDto`, form-encoded; `GetAccessCodeSuccessfulResponseDto`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The form fields of `POST /oauth/token`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequestForm {
    pub client_id: String,
    pub client_secret: String,
    pub grant_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// The token answer. Deliberately not `Debug`-printable with its secrets: see
/// `crate::config::Secret`, which the auth layer wraps these strings in at once.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(rename = "userType", default)]
    pub user_type: Option<String>,
    #[serde(rename = "locationId", default)]
    pub location_id: Option<String>,
    #[serde(rename = "companyId", default)]
    pub company_id: Option<String>,
    #[serde(rename = "userId", default)]
    pub user_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("location_id", &self.location_id)
            .finish()
    }
}

/// One location of `GET /oauth/installedLocations` (`InstalledLocationSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstalledLocation {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(
        rename = "isInstalled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_installed: Option<bool>,
    #[serde(
        rename = "installedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub installed_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GetInstalledLocationsSuccessfulResponseDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstalledLocations {
    #[serde(default)]
    pub locations: Vec<InstalledLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(
        rename = "installToFutureLocations",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub install_to_future_locations: Option<bool>,
}

/// The form of `POST /oauth/locationToken` (`GetLocationAccessCodeBodyDto`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationTokenForm {
    #[serde(rename = "companyId")]
    pub company_id: String,
    #[serde(rename = "locationId")]
    pub location_id: String,
}
