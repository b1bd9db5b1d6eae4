//! Step 3 of the operation lifecycle (sync-design.md §2.8): after a 2xx, everything the write
//! established — the operation's end, the id link, the new baseline, the log entry and the
//! contact list entry — in one transaction.
//!
//! Commits that arrive together share that transaction. sled 0.34 seals its log buffer twice for
//! every multi-tree transaction (`PageCache::pin_log`), and each seal is a `pwrite` and a
//! `sync_file_range` on sled's IO threads: an fsync's cost per transaction, whether anything
//! waits for it or not. One transaction per record was two of those per contact (15,808
//! `sync_file_range` calls for a 7,487-contact import, against 1,300 flushes asked for). Each
//! commit of a batch stays all or nothing with the rest of its batch; a batch that fails is
//! applied again one commit at a time, so one commit's error is never another's.
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use tokio::sync::oneshot;

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
/// run more than once), and owned, so whichever writer's task applies the batch can apply it.
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

/// A commit in the queue: its number (to take it back out), what it writes, and who waits.
pub(super) struct Waiting {
    number: u64,
    staged: Staged,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// Takes a commit back out of the queue if its caller stops waiting before a transaction took
/// it (its task was cancelled: a run stopped at another lane's error). Left in the queue, it
/// would be applied by some later commit, possibly after its record was synced again, and put
/// back a stale link and baseline. Taken out, it is what a crash makes of a commit: a flushed
/// intent found in flight and reconciled by lookup. Once a transaction took it, this finds
/// nothing to remove.
struct Unqueue<'a> {
    queue: &'a CommitQueue,
    number: u64,
}

impl Drop for Unqueue<'_> {
    fn drop(&mut self) {
        lock(&self.queue.waiting).retain(|waiting| waiting.number != self.number);
    }
}

/// Commits waiting for the next transaction, shared by every clone of the store.
#[derive(Default)]
pub(crate) struct CommitQueue {
    pub(super) waiting: Mutex<Vec<Waiting>>,
    /// One transaction at a time; the commits that arrive meanwhile wait here and share the next.
    pub(super) turn: tokio::sync::Mutex<()>,
    /// Numbers handed to waiting commits.
    numbered: AtomicU64,
    /// Told whenever a commit joins the queue (a wave waits for its records: `wave.rs`).
    pub(super) arrived: tokio::sync::Notify,
    commits: AtomicU64,
    transactions: AtomicU64,
}

impl CommitQueue {
    /// Commits waiting for a transaction (a wave's release counts them: `wave.rs`).
    pub(super) fn waiting(&self) -> usize {
        lock(&self.waiting).len()
    }

    fn counts(&self) -> (u64, u64) {
        (
            self.commits.load(Ordering::Relaxed),
            self.transactions.load(Ordering::Relaxed),
        )
    }
}

impl Store {
    /// Commits a write that landed, in the next transaction, shared with the commits that are
    /// waiting at the same time. Returns once it is applied (read-your-writes for the caller),
    /// not once it is flushed (see the module's note).
    pub async fn commit(&self, commit: &Commit<'_>) -> Result<(), StoreError> {
        let staged = Staged::new(self, commit)?;
        let queue = &self.commits;
        let (done, mut result) = oneshot::channel();
        let number = queue.numbered.fetch_add(1, Ordering::Relaxed);
        lock(&queue.waiting).push(Waiting {
            number,
            staged,
            done,
        });
        let _unqueue = Unqueue { queue, number };
        queue.arrived.notify_waiters();
        let _turn = queue.turn.lock().await;
        // Batches are taken and applied only by the holder of the turn, with no await in
        // between: holding it, this commit is either applied already or still waiting.
        if let Ok(applied) = result.try_recv() {
            return applied;
        }
        // Let commits that are ready to run join this transaction.
        tokio::task::yield_now().await;
        self.apply_waiting();
        // Proven invariant: the batch just applied held this commit (it was waiting, and only
        // the turn's holder takes commits) and every commit of a batch is answered.
        result
            .try_recv()
            .unwrap_or(Err(StoreError::Unanswered("a commit")))
    }

    /// (commits, transactions that applied them) since the store was opened.
    pub fn commit_counts(&self) -> (u64, u64) {
        self.commits.counts()
    }

    /// Applies every waiting commit, in one transaction. Only the holder of the turn calls this.
    pub(super) fn apply_waiting(&self) {
        let batch = std::mem::take(&mut *lock(&self.commits.waiting));
        if !batch.is_empty() {
            self.apply_commits(batch);
        }
    }

    /// Applies a batch in one transaction; if that fails, each commit alone, so each gets its
    /// own answer.
    fn apply_commits(&self, batch: Vec<Waiting>) {
        let queue = &self.commits;
        let staged: Vec<&Staged> = batch.iter().map(|waiting| &waiting.staged).collect();
        queue
            .commits
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        queue.transactions.fetch_add(1, Ordering::Relaxed);
        match self.transaction(&staged) {
            Ok(()) => {
                for waiting in batch {
                    // A caller may stop waiting while the transaction runs (its task cancelled
                    // on another thread); the commit stands either way.
                    let _ = waiting.done.send(Ok(()));
                }
            }
            Err(err) if batch.len() == 1 => {
                if let Some(waiting) = batch.into_iter().next() {
                    let _ = waiting.done.send(Err(err));
                }
            }
            Err(_) => {
                for waiting in batch {
                    queue.transactions.fetch_add(1, Ordering::Relaxed);
                    let _ = waiting.done.send(self.transaction(&[&waiting.staged]));
                }
            }
        }
    }

    fn transaction(&self, batch: &[&Staged]) -> Result<(), StoreError> {
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
                batch.iter().try_for_each(|staged| staged.apply(&trees))
            })?;
        Ok(())
    }
}

/// The queue's lock guards a plain list: a panic elsewhere cannot leave it half-changed.
fn lock(waiting: &Mutex<Vec<Waiting>>) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
    waiting.lock().unwrap_or_else(PoisonError::into_inner)
}
