//! Rezora connector (peer-apis.md §4): the legacy v1 API, contacts only.
//!
//! - **Reads**: no timestamps, cursors or webhooks, so every run reads everything
//!   (`ChangeDetection::FullListing`): `GET contacts.json`, `GET lists.json` and each list's
//!   members, in one page. The engine skips records whose content hash matches the baseline,
//!   so an unchanged account costs reads only.
//! - **Records** (`records.rs`): the `contact_*` fields, one `contact_name` (split and joined by
//!   the mapping's name transforms), and `lists`, the contact's distribution lists (GHL tags in
//!   the default mapping); the self contact (`contact_self = 1`) is never read nor written.
//! - **Writes** (`client.rs`): `PUT contacts/{id}.json`, or `POST contacts.json` after looking
//!   the email up in the listing (Rezora has no upsert; a create whose answer was lost is found
//!   by its email on the retry, never made twice); then the list memberships the record asks
//!   for, never the Primary Sphere's. Contacts Rezora will not edit (synced, brokerage Master)
//!   fail as `peer_record_locked`, refused locally once known.

pub mod client;
mod connector;
pub(crate) mod records;
mod settings;

pub use connector::CONNECTOR;
pub use settings::{AuthMode, DEFAULT_BASE_URL, Level, RezoraSettings};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value, json};

use self::client::{
    Collection, ContactId, ItemPath, ManagedList, PEER, RezoraClient, is_forbidden, text_of,
};
use self::records::{contact_record, email_of, is_self, wanted_lists, write_body};
use super::{
    ChangePage, EntityCapability, EntityKind, Peer, PeerError, PeerHealth, PeerRecord, WriteOutcome,
};
use crate::net::{ErrorClass, RetryPolicy};
use crate::sync::reason::ReasonCode;

/// What the last listing and this process's own writes say about the account.
#[derive(Debug, Default)]
struct Known {
    /// Contact rows by id, the self contact included.
    rows: BTreeMap<String, Value>,
    /// Contacts Rezora refused to edit (learned from its 403s).
    locked: BTreeSet<String>,
    /// Lists ghlsync may write, by lowercase name (the Primary Sphere is not one).
    lists: BTreeMap<String, ManagedList>,
    primary_sphere: Option<String>,
    /// A contact's managed lists, by lowercase name.
    members: BTreeMap<String, BTreeSet<String>>,
    /// Whether `rows` can answer an email lookup: not before the first listing, nor after a
    /// create whose outcome is unknown.
    fresh: bool,
}

impl Known {
    fn is_self(&self, id: &str) -> bool {
        self.rows.get(id).is_some_and(is_self)
    }

    fn list_names(&self, id: &str) -> Vec<String> {
        self.members
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|key| self.lists.get(key).map(|list| list.name().to_string()))
            .collect()
    }

    fn by_email(&self, email: &str) -> Option<(String, &Value)> {
        self.rows
            .iter()
            .find(|(_, row)| email_of(row).as_deref() == Some(email))
            .map(|(id, row)| (id.clone(), row))
    }
}

pub struct RezoraPeer {
    client: RezoraClient,
    known: Mutex<Known>,
    /// Held by a full read and by a create from its email lookup to its POST's answer: a
    /// listing read while a create lands must not replace what that create taught `known`,
    /// or a retried create would miss the contact it made and make it again.
    writing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for RezoraPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RezoraPeer")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

fn locked(operation: &str, detail: impl Into<String>) -> PeerError {
    PeerError::new(PEER, operation, ErrorClass::Validation, detail)
        .with_reason(ReasonCode::PeerRecordLocked)
}

fn outcome(id: &str, created: bool) -> WriteOutcome {
    WriteOutcome {
        id: id.to_string(),
        created,
        reference: None,
    }
}

impl RezoraPeer {
    pub fn new(settings: RezoraSettings) -> Result<RezoraPeer, PeerError> {
        if settings.level == Level::Company {
            return Err(PeerError::unsupported(
                PEER,
                "configuration: company-level credentials see agents only; contacts and lists need an agent's API credentials (level = \"agent\")",
            ));
        }
        Ok(RezoraPeer {
            client: RezoraClient::new(&settings)?,
            known: Mutex::new(Known::default()),
            writing: tokio::sync::Mutex::new(()),
        })
    }

    /// The same peer with another retry policy and request timeout (tests).
    pub fn with_retry(mut self, retry: RetryPolicy, timeout: Duration) -> RezoraPeer {
        self.client.set_retry(retry, timeout);
        self
    }

    fn known(&self) -> MutexGuard<'_, Known> {
        self.known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the whole account (contacts, lists, members) into `known`; the contact records.
    async fn read_all(&self) -> Result<Vec<PeerRecord>, PeerError> {
        let _turn = self.writing.lock().await;
        self.read_all_held().await
    }

    /// `read_all` for a caller that holds `writing`.
    async fn read_all_held(&self) -> Result<Vec<PeerRecord>, PeerError> {
        let rows = self.client.list(Collection::Contacts).await?;
        let list_rows = self.client.list(Collection::Lists).await?;
        let mut lists = BTreeMap::new();
        let mut primary = None;
        let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in &list_rows {
            let list = match ManagedList::from_row(row) {
                Ok(list) => list,
                Err(err) if err.reason == Some(ReasonCode::PeerRecordLocked) => {
                    primary = text_of(row, "list_name");
                    continue;
                }
                Err(err) => return Err(err),
            };
            let key = list.name().trim().to_ascii_lowercase();
            for member in self.client.list(Collection::members(&list)).await? {
                if let Some(contact) = text_of(&member, "contact_id") {
                    members.entry(contact).or_default().insert(key.clone());
                }
            }
            lists.insert(key, list);
        }
        let mut known = self.known();
        known.rows = rows
            .into_iter()
            .filter_map(|row| Some((text_of(&row, "contact_id")?.trim().to_string(), row)))
            .collect();
        known.lists = lists;
        known.primary_sphere = primary;
        known.members = members;
        known.fresh = true;
        Ok(known
            .rows
            .iter()
            .filter(|(_, row)| !is_self(row))
            .filter_map(|(id, row)| contact_record(row, &known.list_names(id)))
            .collect())
    }

    /// The local refusals of a write: the self contact and known locked contacts, and a
    /// create without an email (Rezora's dedupe key, and required by it).
    fn refusal(&self, record: &PeerRecord) -> Option<PeerError> {
        let known = self.known();
        let (id, operation) = match ContactId::parse(&record.id) {
            Some(id) => (id.to_string(), format!("PUT contacts/{id}.json")),
            None => {
                let email = write_body(record)
                    .get("contact_email")
                    .and_then(Value::as_str)
                    .map(|email| email.trim().to_ascii_lowercase())
                    .filter(|email| !email.is_empty());
                let Some(email) = email else {
                    return Some(
                        PeerError::new(
                            PEER,
                            "POST contacts.json",
                            ErrorClass::Validation,
                            "contact_email is required: Rezora contacts are created, and found again, by email",
                        )
                        .with_field("contact_email"),
                    );
                };
                let (id, _) = known.by_email(&email)?;
                (id, "POST contacts.json".to_string())
            }
        };
        if known.is_self(&id) {
            return Some(locked(
                &operation,
                format!("contact {id} is the account's self contact, which ghlsync never writes"),
            ));
        }
        // A create matching a locked contact adopts it instead (`create`).
        if known.locked.contains(&id) && operation.starts_with("PUT") {
            return Some(locked(
                &operation,
                format!("Rezora refused earlier to edit contact {id} (a synced or Master contact)"),
            ));
        }
        None
    }

    async fn update(&self, id: ContactId, record: &PeerRecord) -> Result<(), PeerError> {
        let body = write_body(record);
        if !body.is_empty() {
            match self
                .client
                .update(ItemPath::contact(id), body.clone())
                .await
            {
                Ok(()) => {}
                Err(err) if is_forbidden(&err) => {
                    self.known().locked.insert(id.to_string());
                    return Err(locked(&err.operation, err.detail).with_field("contact_id"));
                }
                Err(err) => return Err(err),
            }
            if let Some(Value::Object(row)) = self.known().rows.get_mut(&id.to_string()) {
                row.extend(body);
            }
        }
        self.write_lists(id, record).await
    }

    /// No upsert in Rezora: the listing is searched by email first (read again when it may be
    /// stale), and a contact found is answered as `PeerError::exists`, for the sync to adopt
    /// (then update) or refuse.
    async fn create(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        let _turn = self.writing.lock().await;
        if !self.known().fresh {
            self.read_all_held().await?;
        }
        if let Some(refused) = self.refusal(record) {
            return Err(refused);
        }
        let body = write_body(record);
        let email = body
            .get("contact_email")
            .and_then(Value::as_str)
            .map(|email| email.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let found = self.known().by_email(&email).map(|(id, _)| id);
        if let Some(found) = found.as_deref().and_then(ContactId::parse) {
            if self.known().locked.contains(&found.to_string()) {
                tracing::warn!(peer = PEER, contact = %found, "linked to a contact Rezora will not edit; its values stay Rezora's");
                return Ok(outcome(&found.to_string(), false));
            }
            // Whether this is our own lost create or another GHL contact's record is the
            // sync's to say (it knows the links): nothing is written here.
            return Err(PeerError::exists(
                PEER,
                "POST contacts.json",
                found.to_string(),
                "email",
            ));
        }
        let id = match self
            .client
            .create(Collection::Contacts, body.clone(), "contact_id")
            .await
        {
            Ok(id) => id,
            Err(err) => {
                if err.class() == ErrorClass::Ambiguous {
                    self.known().fresh = false;
                }
                return Err(err);
            }
        };
        let contact = ContactId::parse(&id).ok_or_else(|| {
            PeerError::new(
                PEER,
                "POST contacts.json",
                ErrorClass::Ambiguous,
                format!("the new contact_id {id:?} is not a number; look the contact up before writing again"),
            )
        })?;
        let mut row = body;
        row.insert("contact_id".into(), json!(id));
        self.known().rows.insert(id.clone(), Value::Object(row));
        // The contact exists now whatever its lists do: a failure there leaves the create's
        // outcome partly unknown, so the retry looks the contact up (and adopts it) rather
        // than taking the whole create for not done.
        self.write_lists(contact, record).await.map_err(|err| {
            PeerError::new(
                PEER,
                err.operation.clone(),
                ErrorClass::Ambiguous,
                format!(
                    "contact {id} was created, but its lists were not all written: {}",
                    err.detail
                ),
            )
        })?;
        Ok(outcome(&id, true))
    }

    /// Puts the contact in the lists the record names and takes it out of the others (lists
    /// made when missing, matched by name without case); the Primary Sphere is never touched.
    async fn write_lists(&self, id: ContactId, record: &PeerRecord) -> Result<(), PeerError> {
        let Some(wanted) = wanted_lists(record) else {
            return Ok(());
        };
        let key = id.to_string();
        let (current, primary) = {
            let known = self.known();
            let current = known.members.get(&key).cloned().unwrap_or_default();
            let primary = known.primary_sphere.as_deref().map(str::to_ascii_lowercase);
            (current, primary)
        };
        for (name_key, name) in &wanted {
            if current.contains(name_key) {
                continue;
            }
            if primary.as_deref() == Some(name_key.as_str()) {
                tracing::warn!(peer = PEER, list = %name, "the Primary Sphere is Rezora's own; its members are never written");
                continue;
            }
            let list = self.list_named(name).await?;
            let member = Map::from_iter([("contact_id".to_string(), json!(key))]);
            match self
                .client
                .create(Collection::members(&list), member, "contacttolist_id")
                .await
            {
                Ok(_) => {}
                // Already a member (a membership made by a write whose answer was lost).
                Err(err) if err.class() == ErrorClass::Validation => {}
                Err(err) => return Err(err),
            }
            self.known()
                .members
                .entry(key.clone())
                .or_default()
                .insert(name_key.clone());
        }
        for name_key in current.difference(&wanted.keys().cloned().collect()) {
            let list = self.known().lists.get(name_key).cloned();
            if let Some(list) = list {
                self.client.delete(ItemPath::member(&list, id)).await?;
            }
            if let Some(set) = self.known().members.get_mut(&key) {
                set.remove(name_key);
            }
        }
        Ok(())
    }

    /// The managed list called `name` (without case), made when Rezora has none.
    async fn list_named(&self, name: &str) -> Result<ManagedList, PeerError> {
        let key = name.trim().to_ascii_lowercase();
        if let Some(list) = self.known().lists.get(&key) {
            return Ok(list.clone());
        }
        let fields = Map::from_iter([("list_name".to_string(), json!(name.trim()))]);
        let made = self
            .client
            .create(Collection::Lists, fields, "list_id")
            .await;
        let list = match made {
            Ok(id) => ManagedList::from_row(
                &json!({"list_id": id, "list_name": name.trim(), "list_type": "0"}),
            )?,
            // Taken (made by a write whose answer was lost): read the lists again.
            Err(err) if err.class() == ErrorClass::Validation => self
                .client
                .list(Collection::Lists)
                .await?
                .iter()
                .filter(|row| {
                    text_of(row, "list_name")
                        .is_some_and(|found| found.trim().eq_ignore_ascii_case(name.trim()))
                })
                .find_map(|row| ManagedList::from_row(row).ok())
                .ok_or(err)?,
            Err(err) => return Err(err),
        };
        self.known().lists.insert(key, list.clone());
        Ok(list)
    }
}

#[async_trait::async_trait]
impl Peer for RezoraPeer {
    fn name(&self) -> &str {
        PEER
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        connector::capabilities()
    }

    /// The whole account in one page (Rezora documents no paging).
    async fn fetch_changes(
        &self,
        kind: EntityKind,
        _cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        if kind != EntityKind::Contact {
            return Err(PeerError::unsupported(
                PEER,
                format!("{kind}s are not synced with Rezora (contacts only)"),
            ));
        }
        Ok(ChangePage {
            records: self.read_all().await?,
            next_cursor: None,
            done: true,
        })
    }

    /// `GET contacts/{id}.json`, with the lists the last listing and this process's writes
    /// put it in.
    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        let Some(contact) = ContactId::parse(id).filter(|_| kind == EntityKind::Contact) else {
            return Ok(None);
        };
        let Some(row) = self.client.get(ItemPath::contact(contact)).await? else {
            return Ok(None);
        };
        let mut known = self.known();
        let lists = known.list_names(&contact.to_string());
        known.rows.insert(contact.to_string(), row.clone());
        Ok(contact_record(&row, &lists))
    }

    async fn upsert(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        if record.kind != EntityKind::Contact {
            return Err(PeerError::unsupported(
                PEER,
                format!("{}s cannot be written to Rezora", record.kind),
            ));
        }
        if let Some(refused) = self.refusal(record) {
            return Err(refused);
        }
        match ContactId::parse(&record.id) {
            Some(id) => {
                self.update(id, record).await?;
                Ok(outcome(&id.to_string(), false))
            }
            None => self.create(record).await,
        }
    }

    fn check(&self, record: &PeerRecord) -> Result<(), PeerError> {
        match self.refusal(record) {
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }

    /// One contact by id (`DELETE contacts/{id}.json`); never the self contact.
    async fn delete(&self, kind: EntityKind, id: &str) -> Result<(), PeerError> {
        let Some(contact) = ContactId::parse(id).filter(|_| kind == EntityKind::Contact) else {
            return Ok(());
        };
        if self.known().is_self(&contact.to_string()) {
            return Err(locked(
                "DELETE contacts",
                "the self contact cannot be deleted",
            ));
        }
        match self.client.delete(ItemPath::contact(contact)).await {
            Err(err) if is_forbidden(&err) => Err(locked(&err.operation, err.detail)),
            other => other,
        }
    }

    fn health(&self) -> PeerHealth {
        self.client.health()
    }
}
