//! Step 3 of the operation lifecycle (sync-design.md §2.8): after a 2xx, everything the write
//! established — the operation's end, the id link, the new baseline, the log entry and the
//! contact list entry — in one transaction.
//!
//! A commit is not flushed on its own: it becomes durable with the next flush (the next intent's,
//! the end of the run's, sled's 1 s backstop). Until then the flushed intent stands for it, and
//! an intent found in flight after a crash is reconciled by lookup before anything is resent —
//! so a lost commit costs a lookup, never a duplicate.

use super::contact_list::{ContactListEntry, FiledEntry, LinkWrite, ListTrees};
use super::keys::{entity_key, log_key};
use super::ops::{OpWrite, TxResult};
use super::records::{Baseline, IdLink, LogEntry, Operation};
use super::{Store, StoreError, codec};
use crate::peers::EntityKind;
use sled::Transactional;
use sled::transaction::TransactionalTree;

/// What a successful write commits together: the operation's end, the id link, the new baseline
/// and the log entry — all or nothing.
pub struct Commit<'a> {
    pub op: &'a Operation,
    /// `(peer_id, ghl_id)` to link.
    pub link: Option<(&'a str, &'a str)>,
    /// The peer id of the contact a child record belongs to, kept on its link.
    pub parent: Option<&'a str>,
    /// Baseline to store under the op's peer/kind and this peer id.
    pub baseline: Option<(&'a str, &'a Baseline)>,
    pub log: &'a LogEntry,
}

/// A commit with its keys and values encoded: done once, outside the transaction (which sled may
/// run more than once).
struct Staged {
    op: OpWrite,
    /// `idmap` and `idmap_rev` keys and values.
    link: Option<[(Vec<u8>, Vec<u8>); 2]>,
    baseline: Option<(Vec<u8>, Vec<u8>)>,
    log: ([u8; 16], Vec<u8>),
    list: Option<ListUpdate>,
}

/// What a contact's commit changes in the contact list.
enum ListUpdate {
    /// The commit carries both the link and the baseline: the entry is known in full.
    Filed(FiledEntry),
    /// It carries one of the two; the other is read inside the transaction.
    ReadRest {
        peer: String,
        peer_id: String,
        baseline: Option<Baseline>,
    },
}

/// The trees a commit writes, inside one transaction.
struct CommitTrees<'a> {
    ops: &'a TransactionalTree,
    index: &'a TransactionalTree,
    idmap: &'a TransactionalTree,
    idmap_rev: &'a TransactionalTree,
    baselines: &'a TransactionalTree,
    synclog: &'a TransactionalTree,
    list: ListTrees<'a>,
}

impl Staged {
    fn new(store: &Store, commit: &Commit<'_>) -> Result<Staged, StoreError> {
        let op = commit.op;
        let contact = commit
            .link
            .map(|(peer_id, _)| peer_id)
            .or(commit.baseline.map(|(peer_id, _)| peer_id));
        let list = match (op.kind, contact) {
            (EntityKind::Contact, Some(peer_id)) => Some(match (commit.link, commit.baseline) {
                (Some((_, ghl_id)), Some((_, baseline))) => ListUpdate::Filed(FiledEntry::new(
                    &op.peer,
                    ContactListEntry::new(peer_id, ghl_id, Some(baseline)),
                )?),
                (_, baseline) => ListUpdate::ReadRest {
                    peer: op.peer.clone(),
                    peer_id: peer_id.to_string(),
                    baseline: baseline.map(|(_, baseline)| baseline.clone()),
                },
            }),
            _ => None,
        };
        let link = commit
            .link
            .map(|(peer_id, ghl_id)| -> Result<_, StoreError> {
                let link = IdLink {
                    ghl_id: ghl_id.to_string(),
                    linked_at: commit.log.at,
                    parent: commit.parent.map(str::to_string),
                    // Known in full, the entry's name goes on the link now; otherwise the
                    // transaction adds it once it has read the rest.
                    listed_as: match &list {
                        Some(ListUpdate::Filed(filed)) => Some(filed.name.clone()),
                        _ => None,
                    },
                };
                Ok([
                    (
                        entity_key(&op.peer, op.kind, peer_id),
                        codec::encode(&link)?,
                    ),
                    (
                        entity_key(&op.peer, op.kind, ghl_id),
                        codec::encode(&peer_id)?,
                    ),
                ])
            })
            .transpose()?;
        let baseline = commit
            .baseline
            .map(|(peer_id, baseline)| -> Result<_, StoreError> {
                Ok((
                    entity_key(&op.peer, op.kind, peer_id),
                    codec::encode(baseline)?,
                ))
            })
            .transpose()?;
        Ok(Staged {
            op: OpWrite::new(op)?,
            link,
            baseline,
            log: (
                log_key(commit.log.at.timestamp_millis(), store.db.generate_id()?),
                codec::encode(commit.log)?,
            ),
            list,
        })
    }

    fn apply(&self, trees: &CommitTrees<'_>) -> TxResult<()> {
        self.op.apply(trees.ops, trees.index)?;
        // The link this replaces, when it writes one: sled's insert reads it anyway, and it
        // says where the contact's list entry was filed.
        let mut replaced = None;
        if let Some([(key, value), (rev_key, rev_value)]) = &self.link {
            replaced = Some((key, trees.idmap.insert(key.as_slice(), value.as_slice())?));
            trees
                .idmap_rev
                .insert(rev_key.as_slice(), rev_value.as_slice())?;
        }
        if let Some((key, value)) = &self.baseline {
            trees.baselines.insert(key.as_slice(), value.as_slice())?;
        }
        let (log_key, log_value) = &self.log;
        trees.synclog.insert(log_key, log_value.as_slice())?;
        let link_write = match &replaced {
            Some((key, old)) => LinkWrite::Replaced {
                key,
                old: old.as_deref(),
            },
            None => LinkWrite::Untouched,
        };
        match &self.list {
            // A filed entry comes with its link (`Staged::new`), which carries its name; the
            // replaced link says where it was filed.
            Some(ListUpdate::Filed(filed)) => {
                trees
                    .list
                    .file(filed, link_write.replaced_name()?.as_deref())?;
            }
            Some(ListUpdate::ReadRest {
                peer,
                peer_id,
                baseline,
            }) => trees
                .list
                .refresh(peer, peer_id, baseline.as_ref(), link_write)?,
            None => {}
        }
        Ok(())
    }
}

impl Store {
    /// Commits a write that landed, in one transaction. Applied when this returns
    /// (read-your-writes for the caller), not flushed (see the module's note).
    pub fn commit(&self, commit: &Commit<'_>) -> Result<(), StoreError> {
        let staged = Staged::new(self, commit)?;
        self.transaction(&staged)
    }

    fn transaction(&self, staged: &Staged) -> Result<(), StoreError> {
        (
            &self.ops,
            &self.ops_by_state,
            &self.idmap,
            &self.idmap_rev,
            &self.baselines,
            &self.synclog,
            &self.contact_list,
        )
            .transaction(|(ops, index, idmap, idmap_rev, baselines, synclog, list)| {
                let trees = CommitTrees {
                    ops,
                    index,
                    idmap,
                    idmap_rev,
                    baselines,
                    synclog,
                    list: ListTrees::new(list, idmap, baselines),
                };
                staged.apply(&trees)
            })?;
        Ok(())
    }
}
