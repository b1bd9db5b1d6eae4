//! Key layouts. Text prefixes (`peer/kind/id`) keep keys readable in exports and let one tree
//! serve every peer; numbers are big-endian so byte order is numeric order.

use crate::peers::EntityKind;

/// `peer/kind/` — the prefix of every key about one peer's records of one kind.
pub fn entity_prefix(peer: &str, kind: EntityKind) -> Vec<u8> {
    format!("{peer}/{}/", kind.as_str()).into_bytes()
}

/// `peer/kind/id`. Ids may contain `/`: only the first two separators are structural.
pub fn entity_key(peer: &str, kind: EntityKind, id: &str) -> Vec<u8> {
    let mut key = entity_prefix(peer, kind);
    key.extend_from_slice(id.as_bytes());
    key
}

/// `ops`: the operation id, big-endian.
pub fn op_key(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// `ops_by_state`: `state/` + op id.
pub fn state_key(state: &str, id: u64) -> Vec<u8> {
    let mut key = format!("{state}/").into_bytes();
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// `synclog`: milliseconds since the epoch then a unique sequence, both big-endian, so a range
/// scan is a time range and pruning by age deletes a key prefix range.
pub fn log_key(at_ms: i64, seq: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&(at_ms.max(0) as u64).to_be_bytes());
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// `peer/` — the prefix of a peer's keys in trees that hold one kind only (mappings, the
/// contact list).
pub fn peer_prefix(peer: &str) -> Vec<u8> {
    format!("{peer}/").into_bytes()
}

pub fn mapping_key(peer: &str, version: u32) -> Vec<u8> {
    let mut key = peer_prefix(peer);
    key.extend_from_slice(&version.to_be_bytes());
    key
}
