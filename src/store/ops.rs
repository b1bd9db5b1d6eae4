//! The operation lifecycle's durable steps (sync-design.md §2.8) other than the commit
//! (`commit.rs`). Each function is one sled transaction (or a single insert) followed by a flush
//! (an intent shares its flush with concurrent writers: `durable.rs`); none of them does I/O
//! beyond the store.

use super::contact_list::{LinkWrite, ListTrees};
use super::keys::{entity_key, log_key, op_key, state_key};
use super::records::{Baseline, IdLink, LogEntry, OpState, Operation};
use super::{Store, StoreError, codec};
use crate::peers::EntityKind;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

pub(super) fn abort(err: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(err)
}

/// Whether a state has entries in `ops_by_state`. In-flight operations have none: every write
/// passes through that state (intent, then commit), and two index writes per operation cost more
/// than the one scan of `ops` that asks for them (recovery at the start of a run, the status
/// screen). `ops` holds only operations that are not done, so that scan is short.
fn indexed(state: &OpState) -> bool {
    !matches!(state, OpState::InFlight { .. } | OpState::Done)
}

/// Only the old state of a stored operation is needed; payload and source are skipped, not built.
#[derive(serde::Deserialize)]
struct StateOnly {
    state: OpState,
}

/// An operation's next stored form, encoded outside the transaction that writes it.
pub(super) struct OpWrite {
    id: u64,
    /// The encoded operation; `None` when it is done and leaves `ops` (its story stays in the
    /// sync log).
    value: Option<Vec<u8>>,
    /// Its `ops_by_state` entry, when its new state has one.
    index_key: Option<Vec<u8>>,
}

impl OpWrite {
    pub fn new(op: &Operation) -> Result<OpWrite, StoreError> {
        let stays = op.state != OpState::Done;
        Ok(OpWrite {
            id: op.id,
            value: stays.then(|| codec::encode(op)).transpose()?,
            index_key: (stays && indexed(&op.state)).then(|| state_key(op.state.name(), op.id)),
        })
    }

    /// Writes the operation (or removes it) and moves its `ops_by_state` entry. The old value
    /// comes back from the write itself, so the old state costs no separate read.
    pub fn apply(&self, ops: &TransactionalTree, index: &TransactionalTree) -> TxResult<()> {
        let key = op_key(self.id);
        let old = match &self.value {
            Some(value) => ops.insert(&key, value.as_slice())?,
            None => ops.remove(&key)?,
        };
        if let Some(old) = old {
            let old: StateOnly = codec::decode("ops", &key, &old).map_err(abort)?;
            if indexed(&old.state) {
                index.remove(state_key(old.state.name(), self.id))?;
            }
        }
        if let Some(index_key) = &self.index_key {
            index.insert(index_key.as_slice(), &[])?;
        }
        Ok(())
    }
}

fn write_op(ops: &TransactionalTree, index: &TransactionalTree, op: &Operation) -> TxResult<()> {
    OpWrite::new(op).map_err(abort)?.apply(ops, index)
}

impl Store {
    pub fn new_op_id(&self) -> Result<u64, StoreError> {
        // generate_id starts at 0; 0 is kept free so "no operation" never collides with one.
        Ok(self.db.generate_id()? + 1)
    }

    /// Step 1: the intent is durable before the request leaves.
    pub async fn record_intent(&self, op: &Operation) -> Result<(), StoreError> {
        (&self.ops, &self.ops_by_state).transaction(|(ops, index)| write_op(ops, index, op))?;
        self.durable().await
    }

    /// `record_intent` for an operation whose id was just handed out by `new_op_id` and never
    /// written: there is no earlier state to unindex, and an in-flight operation has no index
    /// entry (`indexed`), so the intent is one insert into `ops` (atomic on its own) and needs no
    /// transaction.
    pub async fn record_new_intent(&self, op: &Operation) -> Result<(), StoreError> {
        debug_assert!(matches!(op.state, OpState::InFlight { .. }));
        self.ops.insert(op_key(op.id), codec::encode(op)?)?;
        self.durable().await
    }

    /// Any other state change (retry scheduled, failed, dead, skipped, resolved), with its log
    /// entry when there is one.
    pub fn update_operation(
        &self,
        op: &Operation,
        log: Option<&LogEntry>,
    ) -> Result<(), StoreError> {
        let log_key = log_key(
            chrono::Utc::now().timestamp_millis(),
            self.db.generate_id()?,
        );
        let log_value = log.map(codec::encode).transpose()?;
        (&self.ops, &self.ops_by_state, &self.synclog).transaction(|(ops, index, synclog)| {
            write_op(ops, index, op)?;
            if let Some(value) = &log_value {
                synclog.insert(&log_key, value.clone())?;
            }
            Ok(())
        })?;
        self.flush()
    }

    /// Records a baseline without an operation: a record found already equal on both sides.
    pub fn set_baseline(
        &self,
        peer: &str,
        kind: EntityKind,
        peer_id: &str,
        baseline: &Baseline,
    ) -> Result<(), StoreError> {
        let key = entity_key(peer, kind, peer_id);
        let value = codec::encode(baseline)?;
        (&self.baselines, &self.idmap, &self.contact_list).transaction(
            |(baselines, idmap, list)| {
                baselines.insert(key.as_slice(), value.as_slice())?;
                if kind == EntityKind::Contact {
                    ListTrees::new(list, idmap, baselines).refresh(
                        peer,
                        peer_id,
                        Some(baseline),
                        LinkWrite::Untouched,
                    )?;
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    /// Links ids without an operation (a record matched by key on both sides).
    pub fn set_link(
        &self,
        peer: &str,
        kind: EntityKind,
        peer_id: &str,
        ghl_id: &str,
    ) -> Result<(), StoreError> {
        let link = IdLink {
            ghl_id: ghl_id.to_string(),
            linked_at: chrono::Utc::now(),
            parent: None,
            listed_as: None,
        };
        (
            &self.idmap,
            &self.idmap_rev,
            &self.baselines,
            &self.contact_list,
        )
            .transaction(|(idmap, idmap_rev, baselines, list)| {
                let key = entity_key(peer, kind, peer_id);
                let replaced =
                    idmap.insert(key.as_slice(), codec::encode(&link).map_err(abort)?)?;
                idmap_rev.insert(
                    entity_key(peer, kind, ghl_id),
                    codec::encode(&peer_id).map_err(abort)?,
                )?;
                if kind == EntityKind::Contact {
                    ListTrees::new(list, idmap, baselines).refresh(
                        peer,
                        peer_id,
                        None,
                        LinkWrite::Replaced {
                            key: &key,
                            old: replaced.as_deref(),
                        },
                    )?;
                }
                Ok(())
            })?;
        Ok(())
    }

    /// Claims an operation for `owner` if it is in one of `from` states, atomically: a person
    /// and the scheduler can never both run it. Returns the claimed operation, or None if
    /// someone else moved it first.
    pub fn claim(
        &self,
        id: u64,
        from: &[&str],
        owner: &str,
    ) -> Result<Option<Operation>, StoreError> {
        let now = chrono::Utc::now();
        let claimed = (&self.ops, &self.ops_by_state).transaction(|(ops, index)| {
            let key = op_key(id);
            let Some(bytes) = ops.get(key)? else {
                return Err(abort(StoreError::NoSuchOperation(id)));
            };
            let mut op: Operation = codec::decode("ops", &key, &bytes).map_err(abort)?;
            if !from.contains(&op.state.name()) {
                return Ok(None);
            }
            op.state = OpState::InFlight {
                owner: owner.to_string(),
                since: now,
            };
            op.updated_at = now;
            write_op(ops, index, &op)?;
            Ok(Some(op))
        })?;
        self.flush()?;
        Ok(claimed)
    }

    pub fn operation(&self, id: u64) -> Result<Option<Operation>, StoreError> {
        self.get(&self.ops, "ops", &op_key(id))
    }

    /// Operations in one state (by index), oldest first.
    pub fn operations_in(&self, state: &str) -> Result<Vec<Operation>, StoreError> {
        if state == "in_flight" {
            // Not indexed (`indexed`): scan the operations that are not done.
            let mut found = Vec::new();
            for item in self.ops.iter() {
                let (key, value) = item?;
                let op: Operation = codec::decode("ops", &key, &value)?;
                if matches!(op.state, OpState::InFlight { .. }) {
                    found.push(op);
                }
            }
            return Ok(found);
        }
        let prefix = format!("{state}/").into_bytes();
        let mut found = Vec::new();
        for item in self.ops_by_state.scan_prefix(&prefix) {
            let (key, _) = item?;
            let Some(id_bytes) = key
                .get(prefix.len()..)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
            else {
                continue;
            };
            if let Some(op) = self.operation(u64::from_be_bytes(id_bytes))? {
                found.push(op);
            }
        }
        Ok(found)
    }

    /// Every operation in the failed queue (retry scheduled, failed, dead).
    pub fn failed_queue(&self) -> Result<Vec<Operation>, StoreError> {
        let mut all = Vec::new();
        for state in ["retry_scheduled", "failed", "dead", "parked"] {
            all.extend(self.operations_in(state)?);
        }
        all.sort_by_key(|op| op.id);
        Ok(all)
    }
}
