//! Rezora's requests on the shared peer client: `RESOURCE.json` paths (the extension picks the
//! answer's format), bodies wrapped in `data`, answers as arrays (`[{"contact_id":"123"}]` for
//! a create, `[{"status":"200"}]` for other writes, `[{"status":"403","message":…}]` for a
//! refusal).
//!
//! **No collection-level DELETE can be written with these types.** `DELETE contacts` wipes
//! every contact but the self contact and `DELETE lists` every list but the Primary Sphere, so
//! [`RezoraClient::delete`] takes an [`ItemPath`], which is only made from a [`ContactId`] or
//! a membership of a [`ManagedList`]; the collections ([`Collection`]) can be listed and posted
//! to, never deleted:
//!
//! ```compile_fail
//! use ghlsync::peers::rezora::client::{Collection, RezoraClient};
//! async fn wipe(client: &RezoraClient) {
//!     // No such conversion: a collection is not an item.
//!     client.delete(Collection::Contacts).await;
//! }
//! ```
//!
//! and a list write takes a [`ManagedList`], which the Primary Sphere (`list_type = 1`)
//! cannot become.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::settings::{AuthMode, RezoraSettings};
use crate::net::ErrorClass;
use crate::peers::http::{Auth, ErrorBody, HttpSettings, PeerHttp, Request, StatusClasses};
use crate::peers::{PeerError, PeerHealth};
use crate::sync::reason::ReasonCode;

pub const PEER: &str = "rezora";

/// A contact's id: Rezora's are numbers (sent as strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContactId(u64);

impl ContactId {
    /// `None` for anything but a number (a GHL id handed over for a create).
    pub fn parse(text: &str) -> Option<ContactId> {
        text.trim().parse().ok().map(ContactId)
    }
}

impl std::fmt::Display for ContactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A distribution list ghlsync may change the members of: any list but the Primary Sphere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedList {
    id: u64,
    name: String,
}

impl ManagedList {
    /// A list row (`list_id`, `list_name`, `list_type`) as a list ghlsync may write; the Primary
    /// Sphere (`list_type = 1`) is refused, whatever is asked of it.
    pub fn from_row(row: &Value) -> Result<ManagedList, PeerError> {
        let id = text_of(row, "list_id").and_then(|id| id.trim().parse().ok());
        let name = text_of(row, "list_name").unwrap_or_default();
        if text_of(row, "list_type").as_deref() == Some("1") {
            return Err(PeerError::new(
                PEER,
                "lists",
                ErrorClass::Validation,
                format!("{name:?} is the Primary Sphere, which ghlsync never writes"),
            )
            .with_reason(ReasonCode::PeerRecordLocked));
        }
        let id = id.ok_or_else(|| {
            PeerError::new(
                PEER,
                "GET lists.json",
                ErrorClass::Decode,
                "a list without a list_id",
            )
        })?;
        Ok(ManagedList { id, name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A collection: listed (GET) and added to (POST), never deleted.
#[derive(Debug, Clone, Copy)]
pub enum Collection {
    Contacts,
    Lists,
    /// A managed list's members.
    Members(u64),
}

impl Collection {
    pub fn members(list: &ManagedList) -> Collection {
        Collection::Members(list.id)
    }

    fn path(self) -> String {
        match self {
            Collection::Contacts => "contacts.json".into(),
            Collection::Lists => "lists.json".into(),
            Collection::Members(list) => format!("lists/{list}/contacts.json"),
        }
    }
}

/// One record: what a PUT, a GET by id or a DELETE may name.
#[derive(Debug, Clone, Copy)]
pub struct ItemPath(Item);

#[derive(Debug, Clone, Copy)]
enum Item {
    Contact(ContactId),
    Member(u64, ContactId),
}

impl ItemPath {
    pub fn contact(id: ContactId) -> ItemPath {
        ItemPath(Item::Contact(id))
    }

    pub fn member(list: &ManagedList, contact: ContactId) -> ItemPath {
        ItemPath(Item::Member(list.id, contact))
    }

    fn path(self) -> String {
        match self.0 {
            Item::Contact(id) => format!("contacts/{id}.json"),
            Item::Member(list, id) => format!("lists/{list}/contacts/{id}.json"),
        }
    }
}

pub struct RezoraClient {
    http: PeerHttp,
}

impl std::fmt::Debug for RezoraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RezoraClient")
            .field("http", &self.http)
            .finish()
    }
}

impl RezoraClient {
    pub fn new(settings: &RezoraSettings) -> Result<RezoraClient, PeerError> {
        let config =
            |detail: &str| PeerError::unsupported(PEER, format!("configuration: {detail}"));
        if settings.username.trim().is_empty() {
            return Err(config(
                "username is empty; set it to the API username from your Rezora account manager",
            ));
        }
        if settings.password.is_empty() {
            return Err(config(
                "the API password is empty; set GHLSYNC_REZORA_PASSWORD (from your Rezora account manager)",
            ));
        }
        let auth = match settings.auth {
            AuthMode::Basic => Auth::Basic {
                username: settings.username.clone(),
                password: settings.password.clone(),
            },
            AuthMode::Query => Auth::Query {
                params: vec![
                    (
                        settings.query_username_param.clone(),
                        crate::config::Secret::new(settings.username.clone()),
                    ),
                    (
                        settings.query_password_param.clone(),
                        settings.password.clone(),
                    ),
                ],
            },
        };
        let mut http = HttpSettings::new(PEER, &settings.base_url, auth);
        http.timeout = Duration::from_secs(settings.timeout_secs.max(1));
        http.min_interval = Duration::from_millis(settings.min_request_interval_ms);
        http.retry = settings.retry.clone();
        // Rezora answers 403 for a record it will not change (a locked contact, the Primary
        // Sphere): a refusal of that record, not of the credentials (401).
        http.statuses = StatusClasses::new([(403, ErrorClass::Validation)].into());
        http.error_reader = Some(read_error_body);
        Ok(RezoraClient {
            http: PeerHttp::new(http)?,
        })
    }

    pub fn set_retry(&mut self, retry: crate::net::RetryPolicy, timeout: Duration) {
        self.http.set_retry(retry, timeout);
    }

    pub fn health(&self) -> PeerHealth {
        self.http.health()
    }

    /// Every row of a collection (Rezora documents no paging: one call is everything).
    pub async fn list(&self, collection: Collection) -> Result<Vec<Value>, PeerError> {
        let path = collection.path();
        let operation = format!("GET {path}");
        let json = self
            .send(Request::get(path).operation(operation.clone()))
            .await
            .map_err(level_hint)?;
        rows(json, &operation)
    }

    /// One record; `None` when Rezora has no such record.
    pub async fn get(&self, item: ItemPath) -> Result<Option<Value>, PeerError> {
        let path = item.path();
        let operation = format!("GET {path}");
        match self
            .send(Request::get(path).operation(operation.clone()))
            .await
        {
            Ok(json) => Ok(rows(json, &operation)?.into_iter().next()),
            Err(err) if err.class() == ErrorClass::NotFound => Ok(None),
            Err(err) => Err(level_hint(err)),
        }
    }

    /// POSTs `{"data": fields}` to a collection; the new record's id (`id_key` of the answer's
    /// first row).
    pub async fn create(
        &self,
        collection: Collection,
        fields: Map<String, Value>,
        id_key: &str,
    ) -> Result<String, PeerError> {
        let path = collection.path();
        let operation = format!("POST {path}");
        let request = Request::new(Method::POST, path)
            .operation(operation.clone())
            .json(json!({ "data": fields }));
        let json = self.send(request).await?;
        let row = written(json, &operation)?;
        text_of(&row, id_key)
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| {
                PeerError::new(
                    PEER,
                    &operation,
                    ErrorClass::Ambiguous,
                    format!(
                        "the answer holds no {id_key}; look the record up before writing again"
                    ),
                )
            })
    }

    /// PUTs `{"data": fields}` to one record.
    pub async fn update(
        &self,
        item: ItemPath,
        fields: Map<String, Value>,
    ) -> Result<(), PeerError> {
        let path = item.path();
        let operation = format!("PUT {path}");
        let request = Request::new(Method::PUT, path)
            .operation(operation.clone())
            .json(json!({ "data": fields }));
        written(self.send(request).await?, &operation).map(|_| ())
    }

    /// DELETEs one record: only ever an item (see the module docs).
    pub async fn delete(&self, item: ItemPath) -> Result<(), PeerError> {
        let path = item.path();
        let operation = format!("DELETE {path}");
        match self
            .send(Request::new(Method::DELETE, path).operation(operation.clone()))
            .await
        {
            Ok(json) => written(json, &operation).map(|_| ()),
            Err(err) if err.class() == ErrorClass::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }

    async fn send(&self, request: Request) -> Result<Value, PeerError> {
        Ok(self.http.send(request).await?.json)
    }
}

/// A read refused with 403 is about the credentials' level, not a record.
fn level_hint(err: PeerError) -> PeerError {
    if is_forbidden(&err) {
        let detail = format!(
            "{}; contacts and lists need agent-level credentials (company-level ones only see agents)",
            err.detail
        );
        return PeerError::new(PEER, err.operation, ErrorClass::ScopeOrConfig, detail);
    }
    err
}

/// Whether Rezora answered 403 (how the shared client words a refusal's status).
pub fn is_forbidden(err: &PeerError) -> bool {
    err.class() == ErrorClass::Validation && err.detail.starts_with("HTTP 403")
}

fn rows(json: Value, operation: &str) -> Result<Vec<Value>, PeerError> {
    match json {
        Value::Array(rows) => Ok(rows),
        Value::Null => Ok(Vec::new()),
        other => Err(PeerError::new(
            PEER,
            operation,
            ErrorClass::Decode,
            format!(
                "expected an array of records, got {}",
                crate::net::excerpt(other.to_string().as_bytes(), &[])
            ),
        )),
    }
}

/// A write's answer: its first row; a row whose `status` is not 2xx is a refusal.
fn written(json: Value, operation: &str) -> Result<Value, PeerError> {
    let row = match json {
        Value::Array(rows) => rows.into_iter().next().unwrap_or(Value::Null),
        other => other,
    };
    match text_of(&row, "status") {
        Some(status) if !status.starts_with('2') => Err(PeerError::new(
            PEER,
            operation,
            ErrorClass::Validation,
            format!(
                "status {status}: {}",
                text_of(&row, "message").unwrap_or_default()
            ),
        )),
        _ => Ok(row),
    }
}

/// `[{"status":"403","message":…}]`: the message of the first row.
fn read_error_body(json: &Value) -> ErrorBody {
    let row = json
        .as_array()
        .and_then(|rows| rows.first())
        .unwrap_or(json);
    let message = text_of(row, "message").or_else(|| text_of(row, "error"));
    ErrorBody {
        field: message
            .as_deref()
            .and_then(crate::sync::reason::field_in_peer_message),
        message,
    }
}

/// A field as text: Rezora sends strings, but numbers are read too.
pub fn text_of(row: &Value, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_items_have_paths_a_delete_can_take() {
        let contact = ContactId::parse("123").expect("a number");
        assert_eq!(ItemPath::contact(contact).path(), "contacts/123.json");
        assert_eq!(ContactId::parse("aBc123GhlId"), None);
        let list = ManagedList::from_row(
            &json!({"list_id": "7", "list_name": "Hot Leads", "list_type": "0"}),
        )
        .expect("a managed list");
        assert_eq!(
            ItemPath::member(&list, contact).path(),
            "lists/7/contacts/123.json"
        );
        assert_eq!(Collection::Contacts.path(), "contacts.json");
    }

    #[test]
    fn the_primary_sphere_is_never_a_managed_list() {
        let refused = ManagedList::from_row(
            &json!({"list_id": "1", "list_name": "Primary Sphere", "list_type": "1"}),
        )
        .expect_err("refused");
        assert_eq!(refused.reason, Some(ReasonCode::PeerRecordLocked));
        assert_eq!(refused.class(), ErrorClass::Validation);
    }

    #[test]
    fn answers_are_arrays() {
        assert_eq!(
            written(json!([{"status": "200"}]), "PUT").expect("ok")["status"],
            "200"
        );
        let refused = written(json!([{"status": "400", "message": "no"}]), "PUT").unwrap_err();
        assert_eq!(refused.class(), ErrorClass::Validation);
        assert!(rows(json!({"contacts": []}), "GET").is_err());
        let body =
            read_error_body(&json!([{"status": "400", "message": "contact_email is required"}]));
        assert_eq!(body.field.as_deref(), Some("contact_email"));
    }
}
