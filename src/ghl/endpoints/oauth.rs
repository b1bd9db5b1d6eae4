//! An agency app's calls (`apps/oauth.json`, `Version: 2021-07-28`, an agency token): the
//! locations that installed the app, and a location token minted from the agency's.

use reqwest::Method;

use super::scope::{OAUTH_READ, OAUTH_WRITE};
use crate::ghl::client::GhlClient;
use crate::ghl::error::GhlError;
use crate::ghl::models::{CONTACTS_API_VERSION, InstalledLocations, TokenResponse};
use crate::ghl::transport::Call;

impl GhlClient {
    /// `GET /oauth/installedLocations?companyId&appId&isInstalled=true`: one page of up to
    /// `limit` locations from `skip`.
    pub async fn installed_locations(
        &self,
        company_id: &str,
        app_id: &str,
        skip: u32,
        limit: u32,
    ) -> Result<InstalledLocations, GhlError> {
        let call = Call::new(
            Method::GET,
            "/oauth/installedLocations".into(),
            CONTACTS_API_VERSION,
            OAUTH_READ,
        )
        .query("companyId", company_id)
        .query("appId", app_id)
        .query("isInstalled", "true")
        .query("skip", skip.to_string())
        .query("limit", limit.to_string())
        .wrapped_in("locations");
        self.execute(call).await
    }

    /// `POST /oauth/locationToken` (form `{companyId, locationId}`): a token for one location.
    /// Retrying it only mints another token, so it is not treated as a create.
    pub async fn location_token(
        &self,
        company_id: &str,
        location_id: &str,
    ) -> Result<TokenResponse, GhlError> {
        let call = Call::new(
            Method::POST,
            "/oauth/locationToken".into(),
            CONTACTS_API_VERSION,
            OAUTH_WRITE,
        )
        .form(&[("companyId", company_id), ("locationId", location_id)])
        .wrapped_in("access_token");
        self.execute(call).await
    }
}
