//! The store's binding: which GHL location, and which account of each peer, its links and
//! baselines are about. A store's id links are only true for the location and accounts they were
//! made with; run against another location, every link would point at records that are not
//! there, and the sync would create everything again or update the wrong records. So the first
//! engine to open a store records what it syncs (`bind`), and a later one configured for
//! something else is refused before anything runs, unless the move is real (`rebind`).
//!
//! Kept in `meta`: `binding/ghl_location` → the location id, `binding/peer/<name>` →
//! `PeerAccount`. Never a secret: a peer account is named by its base URL and user.

use super::{Store, StoreError, codec};
use serde::{Deserialize, Serialize};

pub(super) const KEY_PREFIX: &[u8] = b"binding/";
const LOCATION_KEY: &[u8] = b"binding/ghl_location";
const PEER_PREFIX: &str = "binding/peer/";

/// Which account of a peer app the store's records belong to. Not a secret: the API user, not
/// its password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerAccount {
    /// The API base URL, without a trailing `/` (two spellings of one URL are one account).
    pub base_url: String,
    /// The API user (Repsly: the API username).
    pub user: String,
}

impl PeerAccount {
    pub fn new(base_url: &str, user: &str) -> PeerAccount {
        PeerAccount {
            base_url: base_url.trim().trim_end_matches('/').to_string(),
            user: user.trim().to_string(),
        }
    }
}

impl std::fmt::Display for PeerAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "user {:?} at {}", self.user, self.base_url)
    }
}

/// What an engine is about to sync: one location and one peer's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub location_id: String,
    pub peer: String,
    pub account: PeerAccount,
}

/// One part of the binding that differs from what is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingConflict {
    /// "GHL location" or "<peer> account".
    pub what: String,
    pub stored: String,
    pub configured: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindCheck {
    /// Already bound to exactly this.
    Matches,
    /// Some part had no binding yet (a new store, one older than bindings, or this peer's first
    /// sync): recorded now. Nothing that was recorded differed.
    Recorded,
    /// Bound to something else: nothing was written.
    Mismatch(Vec<BindingConflict>),
    /// (`rebind` only) Bound to something else, now replaced by what was asked.
    Rebound(Vec<BindingConflict>),
}

/// What a store is bound to, for one peer; `None` where nothing is recorded yet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoundTo {
    pub location_id: Option<String>,
    pub account: Option<PeerAccount>,
}

fn peer_key(peer: &str) -> Vec<u8> {
    format!("{PEER_PREFIX}{peer}").into_bytes()
}

/// `verify`'s check of a `meta` value under `binding/`.
pub(super) fn check_value(key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    if key == LOCATION_KEY {
        codec::decode::<String>("meta", key, value).map(|_| ())
    } else if key.starts_with(PEER_PREFIX.as_bytes()) {
        codec::decode::<PeerAccount>("meta", key, value).map(|_| ())
    } else {
        Err(StoreError::Corrupt {
            tree: "meta".into(),
            key: codec::printable_key(key),
            detail: "not a binding this ghlsync knows (binding/ghl_location, binding/peer/NAME)"
                .into(),
        })
    }
}

impl Store {
    /// Binds the store to `binding` where nothing is bound yet, and checks what is. A mismatch
    /// writes nothing.
    pub fn bind(&self, binding: &Binding) -> Result<BindCheck, StoreError> {
        self.bind_with(binding, false)
    }

    /// Binds the store to `binding` whatever it was bound to (the location really moved, e.g. GHL
    /// migrated the sub-account). Returns what it replaced as `Rebound`.
    pub fn rebind(&self, binding: &Binding) -> Result<BindCheck, StoreError> {
        self.bind_with(binding, true)
    }

    pub fn bound_to(&self, peer: &str) -> Result<BoundTo, StoreError> {
        Ok(BoundTo {
            location_id: self.get(&self.meta, "meta", LOCATION_KEY)?,
            account: self.get(&self.meta, "meta", &peer_key(peer))?,
        })
    }

    fn bind_with(&self, binding: &Binding, replace: bool) -> Result<BindCheck, StoreError> {
        let asked = BoundTo {
            location_id: Some(binding.location_id.trim().to_string()),
            account: Some(binding.account.clone()),
        };
        let found = self.bound_to(&binding.peer)?;
        let mut conflicts = Vec::new();
        if let (Some(stored), Some(configured)) = (&found.location_id, &asked.location_id)
            && stored != configured
        {
            conflicts.push(BindingConflict {
                what: "GHL location".into(),
                stored: stored.clone(),
                configured: configured.clone(),
            });
        }
        if let (Some(stored), Some(configured)) = (&found.account, &asked.account)
            && stored != configured
        {
            conflicts.push(BindingConflict {
                what: format!("{} account", binding.peer),
                stored: stored.to_string(),
                configured: configured.to_string(),
            });
        }
        if !conflicts.is_empty() && !replace {
            return Ok(BindCheck::Mismatch(conflicts));
        }
        if found == asked {
            return Ok(BindCheck::Matches);
        }
        // One batch: both parts of the binding change together or not at all.
        let mut batch = sled::Batch::default();
        batch.insert(LOCATION_KEY, codec::encode(&binding.location_id.trim())?);
        batch.insert(peer_key(&binding.peer), codec::encode(&binding.account)?);
        self.meta.apply_batch(batch)?;
        self.flush()?;
        Ok(if conflicts.is_empty() {
            BindCheck::Recorded
        } else {
            BindCheck::Rebound(conflicts)
        })
    }
}
