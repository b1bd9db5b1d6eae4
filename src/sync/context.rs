//! What a sync needs in hand: the store, the GHL client, the peer, the mapping, the settings,
//! and where to announce outcomes. Built by the engine; passed by reference everywhere.

use super::mapping::{EntityMapping, FieldsError, Mapping, MappingError, resolve_against_location};
use super::settings::SyncSettings;
use crate::ghl::{GhlClient, GhlError};
use crate::peers::{EntityKind, Peer, PeerError};
use crate::store::{LogEntry, Operation, Store, StoreError};
use std::sync::Arc;
use tokio::sync::broadcast;

pub struct SyncContext {
    pub store: Store,
    pub ghl: GhlClient,
    pub peer: Arc<dyn Peer>,
    pub mapping: Mapping,
    pub settings: SyncSettings,
    /// Live outcomes for the console and `ghlsync log --follow`; bounded, lossy for slow readers.
    pub events: Option<broadcast::Sender<LogEntry>>,
}

impl SyncContext {
    pub fn peer_name(&self) -> &str {
        self.peer.name()
    }

    pub fn entity(&self, kind: EntityKind) -> Result<&EntityMapping, SyncError> {
        self.mapping
            .entity(kind)
            .ok_or_else(|| SyncError::NoMapping {
                peer: self.peer.name().to_string(),
                kind,
            })
    }

    /// The GHL fields a read is compared on: the mapping's standard GHL fields of `kind`.
    /// (Custom fields are written by key but read back by id, so they are compared peer-side.)
    pub fn ghl_keys(&self, kind: EntityKind) -> Result<Vec<String>, SyncError> {
        let mut keys: Vec<String> = self
            .entity(kind)?
            .rules()
            .iter()
            .flat_map(|rule| rule.ghl.iter())
            .filter_map(|field| match field {
                super::mapping::GhlField::Standard(name)
                    if name != "customFields" && name != "locationId" =>
                {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect();
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// This context with its mapping's custom fields resolved against the GHL location (one
    /// list call): what a run or a retry works with. A field the location lacks stops it before
    /// anything is read or written, since GHL would drop every value sent to it.
    pub async fn with_location_fields(&self) -> Result<SyncContext, SyncError> {
        let mut mapping = self.mapping.clone();
        resolve_against_location(&mut mapping, &self.ghl).await?;
        Ok(SyncContext {
            store: self.store.clone(),
            ghl: self.ghl.clone(),
            peer: self.peer.clone(),
            mapping,
            settings: self.settings.clone(),
            events: self.events.clone(),
        })
    }

    /// This peer's part of the failed queue. The store holds every peer's operations; a run, a
    /// retry or a query of one peer must never plan another peer's.
    pub fn failed_queue(&self) -> Result<Vec<Operation>, StoreError> {
        let mut ops = self.store.failed_queue()?;
        ops.retain(|op| op.peer == self.peer_name());
        Ok(ops)
    }

    /// This peer's operations in `state` (`in_flight`, `parked`, …).
    pub fn operations_in(&self, state: &str) -> Result<Vec<Operation>, StoreError> {
        let mut ops = self.store.operations_in(state)?;
        ops.retain(|op| op.peer == self.peer_name());
        Ok(ops)
    }

    pub(crate) fn announce(&self, entry: &LogEntry) {
        if let Some(events) = &self.events {
            // No receivers is fine: nobody is watching.
            let _ = events.send(entry.clone());
        }
    }
}

/// Failures that stop a run (record-level failures go to the failed queue instead).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error("reading from {0}")]
    Peer(#[from] PeerError),
    #[error(transparent)]
    Ghl(Box<GhlError>),
    /// The mapping names custom fields the GHL location lacks, or they could not be listed.
    #[error(transparent)]
    Fields(#[from] FieldsError),
    #[error("the {peer} mapping has no [{kind}] section; add one or switch the {kind} flow off")]
    NoMapping { peer: String, kind: EntityKind },
}

impl From<GhlError> for SyncError {
    fn from(err: GhlError) -> Self {
        SyncError::Ghl(Box::new(err))
    }
}
