//! What the store knows about identity beyond id links, so that nothing is created twice:
//!
//! - **People the peer holds** (`peer_identity`): every peer contact the sync has read, by its
//!   match keys (`email:…`, `phone:…`), linked or not. Before a GHL contact is created in the
//!   peer, the planner looks here: a peer record of the same person that is not linked (inactive,
//!   failed, skipped) or is linked to another GHL contact means "do not create". Rebuilt by any
//!   full read of the peer's contacts, so a lost store rebuilds it in its first run.
//! - **GHL contacts whose children were surveyed** (`child_surveys`): once the children of one
//!   kind under one GHL contact have been listed and matched against the peer's, every child
//!   ghlsync creates there afterwards is linked at commit (or found in flight and reconciled),
//!   so later creates need no lookup. A store without the mark — new, lost, restored — lists
//!   first and adopts what it finds, so it never creates a child twice.
//!
//! Neither is a source of truth on its own: entries are hints the planner checks against live
//! data, written outside the commit transaction (a lost entry only costs a lookup).

use super::keys::{entity_key, peer_prefix};
use super::{Store, StoreError, codec};
use crate::peers::EntityKind;
use serde::{Deserialize, Serialize};

/// One peer contact as the identity index remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownPerson {
    /// Its match keys, as `sync::identity::contact_keys` makes them.
    pub keys: Vec<String>,
    /// False for a record the peer marks inactive or deleted.
    pub active: bool,
}

/// `peer/k/<key>\0<peer id>` → empty: who holds a key.
fn key_entry(peer: &str, key: &str, peer_id: &str) -> Vec<u8> {
    let mut out = key_prefix(peer, key);
    out.extend_from_slice(peer_id.as_bytes());
    out
}

fn key_prefix(peer: &str, key: &str) -> Vec<u8> {
    let mut out = peer_prefix(peer);
    out.extend_from_slice(b"k/");
    out.extend_from_slice(key.as_bytes());
    out.push(0);
    out
}

/// `peer/r/<peer id>` → `KnownPerson`: what a record was last filed under.
fn record_entry(peer: &str, peer_id: &str) -> Vec<u8> {
    let mut out = peer_prefix(peer);
    out.extend_from_slice(b"r/");
    out.extend_from_slice(peer_id.as_bytes());
    out
}

/// Checks one `peer_identity` entry (`store verify`, restore): a key entry is empty, a record
/// entry decodes.
pub(super) fn check_entry(key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    let Some(slash) = key.iter().position(|b| *b == b'/') else {
        return Err(StoreError::Corrupt {
            tree: "peer_identity".into(),
            key: codec::printable_key(key),
            detail: "the key names no peer".into(),
        });
    };
    match key.get(slash + 1..slash + 3) {
        Some(b"k/") if value.is_empty() => Ok(()),
        Some(b"r/") => codec::decode::<KnownPerson>("peer_identity", key, value).map(|_| ()),
        _ => Err(StoreError::Corrupt {
            tree: "peer_identity".into(),
            key: codec::printable_key(key),
            detail: "neither a key entry (empty) nor a record entry".into(),
        }),
    }
}

impl Store {
    /// Files a peer contact under its match keys (replacing what it was filed under before).
    /// Costs one read when nothing changed.
    pub fn remember_person(
        &self,
        peer: &str,
        peer_id: &str,
        person: &KnownPerson,
    ) -> Result<(), StoreError> {
        let record_key = record_entry(peer, peer_id);
        let before: Option<KnownPerson> =
            self.get(&self.peer_identity, "peer_identity", &record_key)?;
        if before.as_ref() == Some(person) {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for key in before.iter().flat_map(|b| b.keys.iter()) {
            if !person.keys.contains(key) {
                batch.remove(key_entry(peer, key, peer_id));
            }
        }
        for key in &person.keys {
            batch.insert(key_entry(peer, key, peer_id), &[] as &[u8]);
        }
        batch.insert(record_key, codec::encode(person)?);
        self.peer_identity.apply_batch(batch)?;
        Ok(())
    }

    /// The peer contacts filed under `key`, with what the index knows of each.
    pub fn people_with(
        &self,
        peer: &str,
        key: &str,
    ) -> Result<Vec<(String, KnownPerson)>, StoreError> {
        let prefix = key_prefix(peer, key);
        let mut out = Vec::new();
        for item in self.peer_identity.scan_prefix(&prefix) {
            let (entry, _) = item?;
            let peer_id = String::from_utf8_lossy(&entry[prefix.len()..]).into_owned();
            if let Some(person) = self.person(peer, &peer_id)? {
                // An entry whose record moved to other keys is stale (a crash between the two
                // writes of `remember_person` cannot leave one: they are one batch).
                if person.keys.iter().any(|k| k == key) {
                    out.push((peer_id, person));
                }
            }
        }
        Ok(out)
    }

    pub fn person(&self, peer: &str, peer_id: &str) -> Result<Option<KnownPerson>, StoreError> {
        self.get(
            &self.peer_identity,
            "peer_identity",
            &record_entry(peer, peer_id),
        )
    }

    /// Whether the `kind` children under GHL contact `ghl_parent` were surveyed in this store.
    pub fn surveyed(
        &self,
        peer: &str,
        kind: EntityKind,
        ghl_parent: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .child_surveys
            .contains_key(entity_key(peer, kind, ghl_parent))?)
    }

    /// Marks the `kind` children under `ghl_parent` surveyed: from now on, every child ghlsync
    /// creates there is known to this store.
    pub fn mark_surveyed(
        &self,
        peer: &str,
        kind: EntityKind,
        ghl_parent: &str,
    ) -> Result<(), StoreError> {
        self.child_surveys
            .insert(entity_key(peer, kind, ghl_parent), &[] as &[u8])?;
        Ok(())
    }
}
