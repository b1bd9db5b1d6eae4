//! Growbots (outbound prospecting), which has no public API: prospects and companies come from
//! the CSV exports of the Growbots app dropped in inbox folders, prospect events (created,
//! replied, qualified, unqualified) from a Zapier bridge through [`receiver::Receiver`], and
//! GHL's contacts go out as a prospects CSV in Growbots' import headers.
//!
//! A thin layer over the file connector: four `FilePeer`s do the reading, the `done/` and
//! `rejected/` moves and the atomic 0600 export —
//! - `prospects`: the prospects inbox (id: the `Email` column) and the export, the contact book;
//! - `companies` (optional): the companies inbox, its book beside the export (`<export
//!   folder>/growbots-companies.csv`), read to fill a prospect's `company_*` fields;
//! - `prospect_events` and `replies`: the receiver's event inboxes (`events.rs`).
//!
//! This layer renames headers to fields (`columns.rs`), walks the contact inboxes as one
//! change stream (`walk.rs`: companies, then prospects, then prospect events), turns replies
//! into notes under their prospect, and keeps an event's prospect in the contact book once its
//! page is committed.

mod columns;
mod connector;
pub mod events;
pub mod receiver;
mod walk;

#[cfg(test)]
mod tests;

pub use columns::{COMPANY_COLUMNS, Columns, PROSPECT_COLUMNS};
pub use connector::CONNECTOR;
pub use events::{Event, EventFolders, EventKind};
pub use receiver::{Accepted, Receiver, ReceiverOptions, Refused};

#[cfg(test)]
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;

use super::file::{FileConnection, FileFormat, FilePeer};
use super::{ChangeDetection, EntityCapability, EntityKind, HealthRecorder, PeerError, PeerRecord};
use crate::config::Secret;

/// `[peers.<name>.connection]` of a Growbots peer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrowbotsConnection {
    /// Where prospects CSV exports of the Growbots app are dropped.
    pub inbox: PathBuf,
    /// Where companies CSV exports are dropped (optional).
    #[serde(default)]
    pub companies_inbox: Option<PathBuf>,
    /// The prospects CSV ghlsync writes, in Growbots' import headers.
    pub export: PathBuf,
    /// The receiver's folder: event inboxes, ledgers, the log of accepted requests.
    pub events: PathBuf,
    /// Prospect field → its CSV header, over Growbots' usual ones ("First Name", …).
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Company field → its CSV header, over the usual ones ("Company Name", …).
    #[serde(default)]
    pub company_columns: BTreeMap<String, String>,
    /// How far an event's timestamp may be from the receiver's clock (default 300).
    #[serde(default)]
    pub tolerance_secs: Option<u64>,
}

impl GrowbotsConnection {
    /// Makes relative paths relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        let paths = [&mut self.inbox, &mut self.export, &mut self.events]
            .into_iter()
            .chain(self.companies_inbox.as_mut());
        for path in paths {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }

    pub fn event_folders(&self) -> EventFolders {
        EventFolders::new(&self.events)
    }

    /// The companies book: beside the export.
    pub fn companies_book(&self) -> PathBuf {
        self.export.with_file_name("growbots-companies.csv")
    }

    pub fn receiver_options(&self) -> ReceiverOptions {
        let mut options = ReceiverOptions::default();
        if let Some(secs) = self.tolerance_secs {
            options.tolerance = std::time::Duration::from_secs(secs);
        }
        options
    }

    /// The receiver the service's webhook endpoint calls, over this connection's folders.
    pub fn receiver(&self, secret: Secret) -> std::io::Result<Receiver> {
        Receiver::open(self.event_folders(), secret, self.receiver_options())
    }
}

/// Contacts (read from exports and events, written to the export) and notes (replies, read).
pub(crate) fn capabilities() -> Vec<EntityCapability> {
    vec![
        EntityCapability {
            kind: EntityKind::Contact,
            read: true,
            write: true,
            changes: ChangeDetection::Cursor,
        },
        EntityCapability {
            kind: EntityKind::Note,
            read: true,
            write: false,
            changes: ChangeDetection::Cursor,
        },
    ]
}

pub struct GrowbotsPeer {
    name: String,
    prospects: FilePeer,
    companies: Option<FilePeer>,
    prospect_events: FilePeer,
    replies: FilePeer,
    columns: Columns,
    company_columns: Columns,
    walk: Mutex<Walk>,
    health: HealthRecorder,
    /// The bridge's receiver, for `accept_push` (the service's `POST /webhooks/peer/<name>`).
    receiver: Option<Receiver>,
}

/// The contact walk of this process: the cursors handed out, and the prospects events made,
/// by the cursor of their page, until it is committed.
#[derive(Default)]
struct Walk {
    handed: HashSet<String>,
    from_events: Vec<(String, Vec<PeerRecord>)>,
}

impl std::fmt::Debug for GrowbotsPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrowbotsPeer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl GrowbotsPeer {
    /// Checks the connection and makes the event folders; the inboxes must exist.
    pub fn new(
        peer_name: &str,
        connection: &GrowbotsConnection,
    ) -> Result<GrowbotsPeer, PeerError> {
        let config = |detail: String| PeerError::unsupported(peer_name, detail);
        let columns = Columns::new(PROSPECT_COLUMNS, &connection.columns)
            .map_err(|why| config(format!("columns: {why}")))?;
        let company_columns = Columns::new(COMPANY_COLUMNS, &connection.company_columns)
            .map_err(|why| config(format!("company_columns: {why}")))?;
        let folders = connection.event_folders();
        for dir in [folders.prospects(), folders.replies()] {
            crate::peers::file::ensure_dir(&dir).map_err(|err| {
                config(format!(
                    "cannot create {}: {err}; check the events folder's permissions",
                    dir.display()
                ))
            })?;
        }
        let file = |inbox: &Path, export: PathBuf, format, id: &str| {
            FilePeer::new(
                peer_name,
                FileConnection {
                    inbox: inbox.to_path_buf(),
                    export,
                    format,
                    id_field: Some(id.to_string()),
                    updated_at_field: None,
                    delimiter: None,
                },
            )
        };
        let prospects = file(
            &connection.inbox,
            connection.export.clone(),
            FileFormat::Csv,
            columns.header("email"),
        )?;
        let companies = match &connection.companies_inbox {
            Some(inbox) => Some(file(
                inbox,
                connection.companies_book(),
                FileFormat::Csv,
                company_columns.header("name"),
            )?),
            None => None,
        };
        let prospect_events = file(
            &folders.prospects(),
            folders.prospects_ledger(),
            FileFormat::Jsonl,
            "event_id",
        )?;
        let replies = file(
            &folders.replies(),
            folders.replies_ledger(),
            FileFormat::Jsonl,
            "event_id",
        )?;
        Ok(GrowbotsPeer {
            name: peer_name.to_string(),
            prospects,
            companies,
            prospect_events,
            replies,
            columns,
            company_columns,
            walk: Mutex::new(Walk::default()),
            health: HealthRecorder::default(),
            receiver: None,
        })
    }

    /// Takes the bridge's events pushed to the service through `receiver`.
    pub fn with_receiver(mut self, receiver: Receiver) -> GrowbotsPeer {
        self.receiver = Some(receiver);
        self
    }
}
