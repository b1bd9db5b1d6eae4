//! A mapping previewed on one real record, in the direction that record syncs: a peer record
//! as it would go to GHL (GHL's field names), a GHL contact as it would go to the peer (the
//! peer's field names, the rules with direction `to_peer` or `both`). The engine's
//! `mapping_preview` and `ghlsync mapping preview` both read the record here.

use super::mapping::{EntityMapping, FieldPreview, preview, preview_to_peer};
use crate::ghl::{GhlClient, GhlError};
use crate::net::ErrorClass;
use crate::peers::{EntityKind, Peer, PeerError};
use crate::store::Direction;
use serde::{Deserialize, Serialize};

/// The record a preview is about: a peer record by its id (Repsly: the client Code), or a GHL
/// contact by its id. On the wire: `{"side": "peer", "id": "C-1"}` / `{"side": "ghl", "id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "side", content = "id", rename_all = "snake_case")]
pub enum RecordRef {
    Peer(String),
    Ghl(String),
}

impl RecordRef {
    /// Where the record's values go: a peer record's to GHL, a GHL contact's to the peer.
    pub fn direction(&self) -> Direction {
        match self {
            RecordRef::Peer(_) => Direction::ToGhl,
            RecordRef::Ghl(_) => Direction::ToPeer,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            RecordRef::Peer(id) | RecordRef::Ghl(id) => id,
        }
    }
}

/// Why a record could not be previewed.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("{side} has no {kind} {id:?}")]
    NotFound {
        side: String,
        kind: EntityKind,
        id: String,
    },
    #[error(
        "a GHL id previews a contact only (a GHL {kind} is read through its contact); pass the peer's id"
    )]
    GhlKind { kind: EntityKind },
    #[error("reading the record: {0}")]
    Peer(#[from] PeerError),
    #[error("reading the record: {0}")]
    Ghl(Box<GhlError>),
}

impl From<GhlError> for PreviewError {
    fn from(err: GhlError) -> Self {
        PreviewError::Ghl(Box::new(err))
    }
}

/// `entity` applied to `record`, read from its side: one row per rule that writes in the
/// record's direction, in the target's field names.
pub async fn preview_record(
    ghl: &GhlClient,
    peer: &dyn Peer,
    entity: &EntityMapping,
    record: &RecordRef,
) -> Result<Vec<FieldPreview>, PreviewError> {
    let kind = entity.kind();
    match record {
        RecordRef::Peer(id) => {
            let found = peer
                .get(kind, id)
                .await?
                .ok_or_else(|| PreviewError::NotFound {
                    side: peer.name().to_string(),
                    kind,
                    id: id.clone(),
                })?;
            Ok(preview(entity, &found))
        }
        RecordRef::Ghl(id) => {
            if kind != EntityKind::Contact {
                return Err(PreviewError::GhlKind { kind });
            }
            let not_found = || PreviewError::NotFound {
                side: "GHL".into(),
                kind,
                id: id.clone(),
            };
            let contact = match ghl.get_contact(id).await {
                Ok(found) => found.contact,
                Err(err) if err.class() == ErrorClass::NotFound => return Err(not_found()),
                Err(err) => return Err(err.into()),
            };
            // The contact as the run reads it: GHL's JSON, which `to_peer` maps.
            let json = serde_json::to_value(contact).map_err(|_| not_found())?;
            Ok(preview_to_peer(entity, &json))
        }
    }
}
