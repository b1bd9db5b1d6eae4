//! The Growbots peer's change streams. Contacts: one walk over three inboxes — companies (read
//! into their book, no records of their own), prospects exports, prospect events — behind one
//! cursor naming the phase and each inbox's own file cursor. Notes: the replies inbox, each
//! reply a note under its prospect.
//!
//! A walk starts afresh each run (each inbox read from its first waiting file): a file whose
//! page committed has moved to `done/`, and one a kill left behind is read again, which changes
//! nothing that already landed.

use std::sync::MutexGuard;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::events::EventKind;
use super::{GrowbotsPeer, Walk};
use crate::net::ErrorClass;
use crate::peers::{
    ChangePage, EntityCapability, EntityKind, Peer, PeerError, PeerHealth, PeerRecord, WriteOutcome,
};

const COMPANIES: usize = 0;
const PROSPECTS: usize = 1;
const EVENTS: usize = 2;

/// Where the contact walk is: the phase to read next, the phase that made this page, and each
/// inbox's own cursor.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct WalkCursor {
    phase: usize,
    from: usize,
    inner: [Option<String>; 3],
}

/// Fields an event line carries about itself, not about the prospect.
const EVENT_KEYS: [&str; 3] = ["event_id", "event", "occurred_at"];

fn empty_page() -> ChangePage {
    ChangePage {
        records: Vec::new(),
        next_cursor: None,
        done: true,
    }
}

fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

fn time(fields: &Map<String, Value>) -> Option<DateTime<Utc>> {
    text(fields, "occurred_at")
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&Utc))
}

impl GrowbotsPeer {
    fn walk(&self) -> MutexGuard<'_, Walk> {
        self.walk
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn new_walk(&self) {
        *self.walk() = Walk::default();
    }

    async fn contacts_page(&self, cursor: Option<&str>) -> Result<ChangePage, PeerError> {
        let continuing = cursor.filter(|c| self.walk().handed.contains(*c));
        let resumed = continuing.and_then(|c| serde_json::from_str::<WalkCursor>(c).ok());
        let mut at = match resumed {
            Some(at) => at,
            None => {
                self.new_walk();
                WalkCursor::default()
            }
        };
        loop {
            let phase = at.phase.min(EVENTS);
            let inner = at.inner[phase].clone();
            let inner = inner.as_deref();
            let (page, records) = match phase {
                COMPANIES => match &self.companies {
                    Some(companies) => (
                        companies.fetch_changes(EntityKind::Contact, inner).await?,
                        Vec::new(),
                    ),
                    None => (empty_page(), Vec::new()),
                },
                PROSPECTS => {
                    let page = self
                        .prospects
                        .fetch_changes(EntityKind::Contact, inner)
                        .await?;
                    let mut records = Vec::with_capacity(page.records.len());
                    for record in &page.records {
                        let mut record = record.clone();
                        record.fields = self.columns.to_fields(&record.fields);
                        self.enrich(&mut record.fields).await?;
                        records.push(record);
                    }
                    (page, records)
                }
                _ => {
                    let page = self
                        .prospect_events
                        .fetch_changes(EntityKind::Contact, inner)
                        .await?;
                    let mut records = Vec::new();
                    for line in &page.records {
                        if let Some(record) = self.prospect_after(line).await? {
                            records.push(record);
                        }
                    }
                    (page, records)
                }
            };
            if let Some(next) = &page.next_cursor {
                at.inner[phase] = Some(next.clone());
            }
            at.from = phase;
            let last = phase == EVENTS;
            if page.done && !last {
                at.phase = phase + 1;
            }
            if page.next_cursor.is_none() {
                if last {
                    return Ok(empty_page());
                }
                continue;
            }
            let next = serde_json::to_string(&at).map_err(|err| {
                PeerError::new(&self.name, "walk", ErrorClass::Decode, err.to_string())
            })?;
            {
                let mut walk = self.walk();
                walk.handed.insert(next.clone());
                if last {
                    // Kept as the book will hold them (no company fields) until the page commits.
                    walk.from_events.push((next.clone(), records.clone()));
                }
            }
            let mut out = records;
            if last {
                for record in &mut out {
                    self.enrich(&mut record.fields).await?;
                }
            }
            return Ok(ChangePage {
                records: out,
                next_cursor: Some(next),
                done: last && page.done,
            });
        }
    }

    async fn contacts_committed(&self, cursor: &str) -> Result<(), PeerError> {
        let Ok(at) = serde_json::from_str::<WalkCursor>(cursor) else {
            return Ok(());
        };
        let from_events = {
            let mut walk = self.walk();
            walk.handed.remove(cursor);
            let found = walk.from_events.iter().position(|(c, _)| c == cursor);
            found.map(|index| walk.from_events.remove(index).1)
        };
        let Some(inner) = at.inner.get(at.from).cloned().flatten() else {
            return Ok(());
        };
        match at.from {
            COMPANIES => match &self.companies {
                Some(companies) => companies.page_committed(EntityKind::Contact, &inner).await,
                None => Ok(()),
            },
            PROSPECTS => {
                self.prospects
                    .page_committed(EntityKind::Contact, &inner)
                    .await
            }
            _ => {
                // The prospects first: a kill before the event file moves reads it again.
                for record in from_events.unwrap_or_default() {
                    let cells = PeerRecord {
                        fields: self.columns.to_cells(&record.fields),
                        ..record
                    };
                    self.prospects.upsert(&cells).await?;
                }
                self.prospect_events
                    .page_committed(EntityKind::Contact, &inner)
                    .await
            }
        }
    }

    /// A prospect as the book holds it (by field name), an event's not yet committed first.
    async fn book_record(&self, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        let pending = self
            .walk()
            .from_events
            .iter()
            .rev()
            .find_map(|(_, records)| records.iter().rev().find(|r| r.id == id).cloned());
        if pending.is_some() {
            return Ok(pending);
        }
        let found = self.prospects.get(EntityKind::Contact, id).await?;
        Ok(found.map(|mut record| {
            record.fields = self.columns.to_fields(&record.fields);
            record
        }))
    }

    async fn contact(&self, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        let Some(mut record) = self.book_record(id).await? else {
            return Ok(None);
        };
        self.enrich(&mut record.fields).await?;
        Ok(Some(record))
    }

    /// The prospect's company from the companies book, as `company_<field>`.
    async fn enrich(&self, fields: &mut Map<String, Value>) -> Result<(), PeerError> {
        let (Some(companies), Some(name)) = (&self.companies, text(fields, "company")) else {
            return Ok(());
        };
        let Some(company) = companies.get(EntityKind::Contact, name).await? else {
            return Ok(());
        };
        for (field, value) in self.company_columns.to_fields(&company.fields) {
            if field != "name" {
                fields.entry(format!("company_{field}")).or_insert(value);
            }
        }
        Ok(())
    }

    /// A prospect event's line as its prospect after the event (the book's record with the
    /// event's fields over it); `None` for a line without an email (the receiver refuses those).
    async fn prospect_after(&self, line: &PeerRecord) -> Result<Option<PeerRecord>, PeerError> {
        let Some(email) = text(&line.fields, "email") else {
            tracing::warn!(peer = %self.name, event = %line.id, "growbots event without an email skipped");
            return Ok(None);
        };
        let kind: Option<EventKind> = line
            .fields
            .get("event")
            .and_then(|kind| serde_json::from_value(kind.clone()).ok());
        let mut fields = self
            .book_record(email)
            .await?
            .map(|record| record.fields)
            .unwrap_or_default();
        for (field, value) in &line.fields {
            let blank = value.as_str().is_some_and(|v| v.trim().is_empty()) || value.is_null();
            if !EVENT_KEYS.contains(&field.as_str()) && !blank {
                fields.insert(field.clone(), value.clone());
            }
        }
        if let Some(status) = kind.and_then(EventKind::status) {
            fields.insert("status".into(), json!(status));
        }
        Ok(Some(PeerRecord {
            kind: EntityKind::Contact,
            id: email.to_string(),
            parent_id: None,
            updated_at: time(&line.fields),
            active: true,
            fields,
            raw: json!({"event": line.fields}),
        }))
    }

    /// A reply line as a note under its prospect.
    fn reply(&self, line: PeerRecord) -> Option<PeerRecord> {
        let parent = text(&line.fields, "prospect_email")?.to_string();
        let mut fields = Map::new();
        for key in ["subject", "body"] {
            if let Some(value) = text(&line.fields, key) {
                fields.insert(key.into(), json!(value));
            }
        }
        if let Some(at) = text(&line.fields, "occurred_at") {
            fields.insert("replied_at".into(), json!(at));
        }
        fields.insert("prospect_email".into(), json!(parent));
        Some(PeerRecord {
            kind: EntityKind::Note,
            id: line.id,
            parent_id: Some(parent),
            updated_at: time(&line.fields),
            active: true,
            fields,
            raw: json!({"event": line.fields}),
        })
    }

    fn check_write(&self, record: &PeerRecord) -> Result<(), PeerError> {
        if record.kind != EntityKind::Contact {
            return Err(PeerError::unsupported(
                &self.name,
                format!(
                    "{}s cannot be written to Growbots; ghlsync exports prospects only",
                    record.kind
                ),
            ));
        }
        if !record.id.contains('@') && text(&record.fields, "email").is_none() {
            return Err(PeerError::new(
                &self.name,
                "write prospects export",
                ErrorClass::Validation,
                "a Growbots prospect is keyed by its email and this contact has none; give it an email in GHL",
            )
            .with_field("email"));
        }
        Ok(())
    }

    async fn write(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        self.check_write(record)?;
        // A prospect the book holds (or the walk read) keeps its key; a new one is keyed by its
        // email. The file peer keeps the rest of the prospect's row.
        let known = self.prospects.get(EntityKind::Contact, &record.id).await?;
        let id = match (known, text(&record.fields, "email")) {
            (Some(_), _) => record.id.clone(),
            (None, Some(email)) => {
                if let Some(existing) = self.prospects.get(EntityKind::Contact, email).await? {
                    // A create meeting a prospect of that email: our own earlier write, or
                    // another GHL contact's prospect. The sync knows which (the links) and
                    // adopts or refuses; nothing is written here.
                    return Err(PeerError::exists(
                        self.name.clone(),
                        "write prospects export",
                        existing.id,
                        "email",
                    ));
                }
                email.to_string()
            }
            (None, None) => record.id.clone(),
        };
        let cells = PeerRecord {
            id,
            fields: self.columns.to_cells(&record.fields),
            ..record.clone()
        };
        self.prospects.upsert(&cells).await
    }
}

#[async_trait::async_trait]
impl Peer for GrowbotsPeer {
    fn accept_push(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Option<Result<crate::peers::push::PushAccepted, crate::peers::push::Refused>> {
        let receiver = self.receiver.as_ref()?;
        // The receiver stores the event in its inbox folder (fsynced) and dedupes by event id;
        // the service's inbox only needs to know a run is due.
        Some(
            receiver
                .accept(headers, body)
                .map(|accepted| crate::peers::push::PushAccepted {
                    replay_key: Some(format!("event:{}", accepted.event_id)),
                    duplicate: accepted.duplicate,
                }),
        )
    }
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        super::capabilities()
    }

    async fn fetch_changes(
        &self,
        kind: EntityKind,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        let page = match kind {
            EntityKind::Contact => self.contacts_page(cursor).await,
            EntityKind::Note => {
                let page = self
                    .replies
                    .fetch_changes(EntityKind::Contact, cursor)
                    .await;
                page.map(|page| ChangePage {
                    records: page
                        .records
                        .into_iter()
                        .filter_map(|line| self.reply(line))
                        .collect(),
                    ..page
                })
            }
            other => Err(PeerError::unsupported(
                &self.name,
                format!("Growbots has no {other}s"),
            )),
        };
        self.health.record(&page);
        page
    }

    async fn page_committed(&self, kind: EntityKind, cursor: &str) -> Result<(), PeerError> {
        let settled = match kind {
            EntityKind::Contact => self.contacts_committed(cursor).await,
            EntityKind::Note => {
                self.replies
                    .page_committed(EntityKind::Contact, cursor)
                    .await
            }
            _ => Ok(()),
        };
        self.health.record(&settled);
        settled
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        let found = match kind {
            EntityKind::Contact => self.contact(id).await,
            EntityKind::Note => self
                .replies
                .get(EntityKind::Contact, id)
                .await
                .map(|line| line.and_then(|line| self.reply(line))),
            _ => Ok(None),
        };
        self.health.record(&found);
        found
    }

    async fn upsert(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        let written = self.write(record).await;
        self.health.record(&written);
        written
    }

    fn check(&self, record: &PeerRecord) -> Result<(), PeerError> {
        self.check_write(record)
    }

    fn health(&self) -> PeerHealth {
        self.health.snapshot()
    }
}
