//! A location's custom fields (`apps/locations.json`, `Version: 2021-07-28`): listed to resolve
//! the keys a mapping names, created by `ghlsync mapping check --create-fields`.

use reqwest::Method;

use super::scope::{CUSTOM_FIELDS_READ, CUSTOM_FIELDS_WRITE};
use super::segment;
use crate::ghl::client::GhlClient;
use crate::ghl::error::GhlError;
use crate::ghl::models::{
    CONTACTS_API_VERSION, CreateCustomFieldDto, CustomFieldEnvelope, CustomFieldList,
};
use crate::ghl::transport::Call;

fn fields_path(location_id: &str) -> Result<String, GhlError> {
    Ok(format!("/locations/{}/customFields", segment(location_id)?))
}

impl GhlClient {
    /// `GET /locations/{locationId}/customFields?model=contact`: the contact fields of the
    /// client's location.
    pub async fn list_custom_fields(&self) -> Result<CustomFieldList, GhlError> {
        let request = Call::new(
            Method::GET,
            fields_path(self.location_id())?,
            CONTACTS_API_VERSION,
            CUSTOM_FIELDS_READ,
        )
        .query("model", "contact")
        // The list's type defaults a missing `customFields` to none: an answer without it (an
        // error body sent as 200) must not read as a location with no fields, or the missing
        // ones would be created again.
        .requires_key("customFields");
        self.execute(request).await
    }

    /// `POST /locations/{locationId}/customFields`. Not idempotent: an unknown outcome is
    /// `ErrorClass::Ambiguous` (list the fields before creating again).
    pub async fn create_custom_field(
        &self,
        dto: &CreateCustomFieldDto,
    ) -> Result<CustomFieldEnvelope, GhlError> {
        let request = Call::new(
            Method::POST,
            fields_path(self.location_id())?,
            CONTACTS_API_VERSION,
            CUSTOM_FIELDS_WRITE,
        )
        .json(dto)?
        .create()
        .wrapped_in("customField");
        self.execute(request).await
    }
}
