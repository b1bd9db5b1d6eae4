//! Contacts (`Version: 2021-07-28`).

use reqwest::Method;

use super::scope::{CONTACTS_READ, CONTACTS_WRITE};
use super::segment;
use crate::ghl::client::GhlClient;
use crate::ghl::error::GhlError;
use crate::ghl::models::{
    CONTACTS_API_VERSION, Contact, ContactEnvelope, ContactList, ContactSearchBody,
    ContactSearchResponse, CreateContactDto, DuplicateContactResponse, Listed, ListedContact,
    Succeded, UpdateContactDto, UpsertContactDto, UpsertContactResponse,
};
use crate::ghl::transport::Call;
use serde::de::DeserializeOwned;

/// GHL's page size ceiling for `GET /contacts/`.
const MAX_PAGE: u32 = 100;

/// One page of the deprecated but simplest contact walk, `GET /contacts/`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListContacts {
    pub query: Option<String>,
    /// 1..=100; out-of-range values are clamped.
    pub limit: u32,
    /// Cursor: epoch milliseconds of the last contact seen (`meta.startAfter`).
    pub start_after: Option<i64>,
    /// Cursor: id of the last contact seen (`meta.startAfterId`).
    pub start_after_id: Option<String>,
}

impl Default for ListContacts {
    fn default() -> Self {
        ListContacts {
            query: None,
            limit: MAX_PAGE,
            start_after: None,
            start_after_id: None,
        }
    }
}

fn call(method: Method, path: String, scope: &'static str) -> Call {
    Call::new(method, path, CONTACTS_API_VERSION, scope)
}

fn contact_path(id: &str) -> Result<String, GhlError> {
    Ok(format!("/contacts/{}", segment(id)?))
}

/// The cursor after `page`: GHL's meta when present, else the last contact's `dateAdded` and id.
fn next_cursor<C: Listed>(page: &ContactList<C>) -> Option<(i64, String)> {
    let meta = page.meta.as_ref();
    if let Some((after, id)) = meta.and_then(|m| m.start_after.zip(m.start_after_id.clone())) {
        return Some((after, id));
    }
    let last = page.contacts.last()?;
    let added = chrono::DateTime::parse_from_rfc3339(last.date_added()?).ok()?;
    Some((added.timestamp_millis(), last.id().to_string()))
}

impl GhlClient {
    pub async fn get_contact(&self, id: &str) -> Result<ContactEnvelope, GhlError> {
        self.execute(call(Method::GET, contact_path(id)?, CONTACTS_READ).wrapped_in("contact"))
            .await
    }

    /// One page of `GET /contacts/`.
    pub async fn list_contacts_page(&self, q: &ListContacts) -> Result<ContactList, GhlError> {
        self.contacts_page(q).await
    }

    async fn contacts_page<C: Listed + DeserializeOwned>(
        &self,
        q: &ListContacts,
    ) -> Result<ContactList<C>, GhlError> {
        let request = call(Method::GET, "/contacts/".to_string(), CONTACTS_READ)
            .query("locationId", self.location_id())
            .query("limit", q.limit.clamp(1, MAX_PAGE).to_string())
            .query_opt("query", q.query.clone())
            .query_opt("startAfter", q.start_after.map(|v| v.to_string()))
            .query_opt("startAfterId", q.start_after_id.clone())
            .wrapped_in("contacts");
        self.execute(request).await
    }

    /// Every contact, page by page, while a page is full and a cursor exists (not trusting
    /// `meta.total`, like Pipedream). Query and limit are kept on every page (n8n's paginator
    /// drops them). Stops after `max_pages` pages or when the cursor stops moving.
    pub async fn list_all_contacts(
        &self,
        query: Option<&str>,
        page_limit: u32,
        max_pages: usize,
    ) -> Result<Vec<Contact>, GhlError> {
        self.walk_contacts(query, page_limit, max_pages).await
    }

    /// `list_all_contacts`, each contact kept as sent until read (`ListedContact`).
    pub async fn list_all_contacts_unread(
        &self,
        query: Option<&str>,
        page_limit: u32,
        max_pages: usize,
    ) -> Result<Vec<ListedContact>, GhlError> {
        self.walk_contacts(query, page_limit, max_pages).await
    }

    async fn walk_contacts<C: Listed + DeserializeOwned>(
        &self,
        query: Option<&str>,
        page_limit: u32,
        max_pages: usize,
    ) -> Result<Vec<C>, GhlError> {
        let mut request = ListContacts {
            query: query.map(str::to_string),
            limit: page_limit.clamp(1, MAX_PAGE),
            ..ListContacts::default()
        };
        let mut contacts = Vec::new();
        for page_number in 1..=max_pages {
            let page = self.contacts_page::<C>(&request).await?;
            let full = page.contacts.len() as u32 >= request.limit;
            let cursor = next_cursor(&page);
            contacts.extend(page.contacts);
            let Some((after, id)) = cursor.filter(|_| full) else {
                break;
            };
            if request.start_after == Some(after)
                && request.start_after_id.as_deref() == Some(id.as_str())
            {
                tracing::warn!(page_number, "contact list cursor did not move; stopping");
                break;
            }
            if page_number == max_pages {
                tracing::warn!(
                    max_pages,
                    collected = contacts.len(),
                    "contact list stopped at the page cap"
                );
            }
            request.start_after = Some(after);
            request.start_after_id = Some(id);
        }
        Ok(contacts)
    }

    /// `POST /contacts/search`; fills `locationId` when absent. A read, so retried like one.
    pub async fn search_contacts(
        &self,
        body: &ContactSearchBody,
    ) -> Result<ContactSearchResponse, GhlError> {
        let mut body = body.clone();
        body.location_id
            .get_or_insert_with(|| self.location_id().to_string());
        self.execute(
            call(Method::POST, "/contacts/search".to_string(), CONTACTS_READ)
                .json(&body)?
                .wrapped_in("contacts"),
        )
        .await
    }

    pub async fn contacts_by_business(
        &self,
        business_id: &str,
        limit: Option<u32>,
        skip: Option<u32>,
        query: Option<&str>,
    ) -> Result<ContactList, GhlError> {
        let request = call(
            Method::GET,
            format!("/contacts/business/{}", segment(business_id)?),
            CONTACTS_READ,
        )
        .query("locationId", self.location_id())
        .query_opt("limit", limit.map(|v| v.to_string()))
        .query_opt("skip", skip.map(|v| v.to_string()))
        .query_opt("query", query)
        .wrapped_in("contacts");
        self.execute(request).await
    }

    /// `GET /contacts/search/duplicate`: email first, then phone (GHL's rule). The phone's `+`
    /// is sent as `%2B`.
    pub async fn find_duplicate(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<DuplicateContactResponse, GhlError> {
        if email.is_none() && phone.is_none() {
            return Err(GhlError::InvalidArgument {
                detail: "find_duplicate needs an email or a phone".to_string(),
            });
        }
        let request = call(
            Method::GET,
            "/contacts/search/duplicate".to_string(),
            CONTACTS_READ,
        )
        .query("locationId", self.location_id())
        .query_opt("email", email)
        .query_opt("number", phone);
        self.execute(request).await
    }

    /// `POST /contacts/`. Not idempotent: a timeout, dropped connection, 5xx or 422 comes back
    /// as `ErrorClass::Ambiguous` (GHL may have created it), never retried blindly.
    pub async fn create_contact(
        &self,
        dto: &CreateContactDto,
    ) -> Result<ContactEnvelope, GhlError> {
        let mut dto = dto.clone();
        dto.location_id
            .get_or_insert_with(|| self.location_id().to_string());
        self.execute(
            call(Method::POST, "/contacts/".to_string(), CONTACTS_WRITE)
                .json(&dto)?
                .create()
                .wrapped_in("contact"),
        )
        .await
    }

    pub async fn update_contact(
        &self,
        id: &str,
        dto: &UpdateContactDto,
    ) -> Result<ContactEnvelope, GhlError> {
        self.execute(
            call(Method::PUT, contact_path(id)?, CONTACTS_WRITE)
                .json(dto)?
                .wrapped_in("contact"),
        )
        .await
    }

    /// `POST /contacts/upsert`: matches on email/phone, so repeating it is safe.
    pub async fn upsert_contact(
        &self,
        dto: &UpsertContactDto,
    ) -> Result<UpsertContactResponse, GhlError> {
        let mut dto = dto.clone();
        dto.location_id
            .get_or_insert_with(|| self.location_id().to_string());
        self.execute(
            call(Method::POST, "/contacts/upsert".to_string(), CONTACTS_WRITE)
                .json(&dto)?
                .wrapped_in("contact"),
        )
        .await
    }

    pub async fn delete_contact(&self, id: &str) -> Result<Succeded, GhlError> {
        self.execute(call(Method::DELETE, contact_path(id)?, CONTACTS_WRITE).wrapped_in("succeded"))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ghl::models::ContactsMeta;

    fn page(ids: &[&str], meta: Option<ContactsMeta>) -> ContactList {
        let contacts = ids
            .iter()
            .map(|id| Contact {
                id: id.to_string(),
                date_added: Some("2021-07-02T05:18:26.704Z".into()),
                ..Contact::default()
            })
            .collect();
        ContactList {
            contacts,
            count: None,
            meta,
            trace_id: None,
        }
    }

    #[test]
    fn cursor_prefers_meta_then_the_last_contact() {
        let meta = ContactsMeta {
            start_after: Some(5),
            start_after_id: Some("m".into()),
            ..ContactsMeta::default()
        };
        assert_eq!(
            next_cursor(&page(&["a", "b"], Some(meta))),
            Some((5, "m".to_string()))
        );
        assert_eq!(
            next_cursor(&page(&["a", "b"], None)),
            Some((1_625_203_106_704, "b".to_string()))
        );
        assert_eq!(next_cursor(&page(&[], None)), None);
    }
}
