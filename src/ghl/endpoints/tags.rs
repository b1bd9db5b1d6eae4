//! Contact tags (`Version: 2021-07-28`). Adding or removing a tag twice has the same effect as
//! once, so both are retried like reads.

use reqwest::Method;

use super::scope::CONTACTS_WRITE;
use super::segment;
use crate::ghl::client::GhlClient;
use crate::ghl::error::GhlError;
use crate::ghl::models::{CONTACTS_API_VERSION, TagsDto, TagsResponse};
use crate::ghl::transport::Call;

impl GhlClient {
    /// `POST /contacts/:id/tags`: the contact's tags after the change.
    pub async fn add_tags(
        &self,
        contact_id: &str,
        tags: &[String],
    ) -> Result<TagsResponse, GhlError> {
        self.tag_call(Method::POST, contact_id, tags).await
    }

    /// `DELETE /contacts/:id/tags` with a JSON body.
    pub async fn remove_tags(
        &self,
        contact_id: &str,
        tags: &[String],
    ) -> Result<TagsResponse, GhlError> {
        self.tag_call(Method::DELETE, contact_id, tags).await
    }

    async fn tag_call(
        &self,
        method: Method,
        contact_id: &str,
        tags: &[String],
    ) -> Result<TagsResponse, GhlError> {
        let path = format!("/contacts/{}/tags", segment(contact_id)?);
        let body = TagsDto {
            tags: tags.to_vec(),
        };
        self.execute(
            Call::new(method, path, CONTACTS_API_VERSION, CONTACTS_WRITE)
                .json(&body)?
                .wrapped_in("tags"),
        )
        .await
    }
}
