//! The durable inbox of webhook deliveries (`ghlsync run`): each accepted delivery is in the
//! `inbox` tree and flushed before the receiver answers 200, and leaves only once the run it
//! triggered has committed; a restart processes what is left. `webhook_seen` holds GHL's
//! delivery ids (and peers' signatures) for twice the replay window, so a delivery sent again
//! is acknowledged without being queued twice.
//!
//! Neither tree is in backups (`TREE_NAMES`): they hold work in transit, which a restored
//! store's next full run catches up with anyway.

use super::{Store, StoreError, codec};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional as _;
use sled::transaction::ConflictableTransactionError;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One accepted delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    /// Arrival order (sled's id generator: increasing across restarts).
    pub seq: u64,
    /// `ghl`, or `peer:<name>`.
    pub source: String,
    pub received_at: DateTime<Utc>,
    /// GHL's `webhookId`, or a peer delivery's replay key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    /// The raw body, as received.
    pub body: String,
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pushed {
    /// The new entry's seq; `None` for a duplicate.
    pub seq: Option<u64>,
    /// The delivery id was seen before: nothing was queued.
    pub duplicate: bool,
}

/// The inbox's trees and its length (sled's `len` walks the whole tree).
#[derive(Clone)]
pub(crate) struct InboxTrees {
    inbox: sled::Tree,
    seen: sled::Tree,
    len: Arc<AtomicUsize>,
}

impl InboxTrees {
    pub(crate) fn open(db: &sled::Db) -> Result<InboxTrees, StoreError> {
        let inbox = db.open_tree("inbox")?;
        let seen = db.open_tree("webhook_seen")?;
        let len = Arc::new(AtomicUsize::new(inbox.len()));
        Ok(InboxTrees { inbox, seen, len })
    }
}

impl Store {
    /// Queues a delivery and returns once it is on disk (the group flush). A `webhook_id`
    /// seen before queues nothing and answers `duplicate` (once that id is on disk too).
    pub async fn inbox_push(
        &self,
        source: &str,
        webhook_id: Option<&str>,
        body: &str,
    ) -> Result<Pushed, StoreError> {
        let trees = &self.inbox;
        let seq = self.db.generate_id()?;
        let now = Utc::now();
        let entry = InboxEntry {
            seq,
            source: source.to_string(),
            received_at: now,
            webhook_id: webhook_id.map(str::to_string),
            body: body.to_string(),
        };
        let value = codec::encode(&entry)?;
        let seen_value = codec::encode(&now.timestamp_millis())?;
        let queued = (&trees.inbox, &trees.seen).transaction(|(inbox, seen)| {
            if let Some(id) = webhook_id {
                if seen.get(id.as_bytes())?.is_some() {
                    return Ok(false);
                }
                seen.insert(id.as_bytes(), seen_value.clone())?;
            }
            inbox.insert(&seq.to_be_bytes(), value.clone())?;
            Ok::<_, ConflictableTransactionError<StoreError>>(true)
        })?;
        if queued {
            trees.len.fetch_add(1, Ordering::SeqCst);
        }
        self.durable().await?;
        Ok(Pushed {
            seq: queued.then_some(seq),
            duplicate: !queued,
        })
    }

    /// Deliveries waiting.
    pub fn inbox_len(&self) -> usize {
        self.inbox.len.load(Ordering::SeqCst)
    }

    /// The delivery waiting longest.
    pub fn inbox_oldest(&self) -> Result<Option<InboxEntry>, StoreError> {
        Ok(self.inbox_batch(1)?.into_iter().next())
    }

    /// The first `limit` deliveries, oldest first.
    pub fn inbox_batch(&self, limit: usize) -> Result<Vec<InboxEntry>, StoreError> {
        self.inbox
            .inbox
            .iter()
            .take(limit)
            .map(|item| {
                let (key, value) = item?;
                codec::decode("inbox", &key, &value)
            })
            .collect()
    }

    /// Removes deliveries whose runs committed. Not flushed on its own: a removal lost to a
    /// crash processes its delivery again, which finds the records in sync.
    pub fn inbox_remove(&self, seqs: &[u64]) -> Result<(), StoreError> {
        for seq in seqs {
            if self.inbox.inbox.remove(seq.to_be_bytes())?.is_some() {
                self.inbox.len.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    /// Forgets delivery ids first seen before `before`; returns how many.
    pub fn prune_webhook_seen(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let cutoff = before.timestamp_millis();
        let mut pruned = 0;
        for item in self.inbox.seen.iter() {
            let (key, value) = item?;
            let at: i64 = codec::decode("webhook_seen", &key, &value)?;
            if at < cutoff {
                self.inbox.seen.remove(key)?;
                pruned += 1;
            }
        }
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pushes_are_durable_in_order_deduplicated_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let store = Store::open(&path).unwrap();
        let first = store
            .inbox_push("ghl", Some("w1"), "{\"a\":1}")
            .await
            .unwrap();
        let again = store
            .inbox_push("ghl", Some("w1"), "{\"a\":1}")
            .await
            .unwrap();
        let second = store.inbox_push("peer:crm", None, "{}").await.unwrap();
        assert!(!first.duplicate && again.duplicate && again.seq.is_none());
        assert_eq!(store.inbox_len(), 2);
        let (calls, flushes) = store.group_flush_counts();
        assert!(calls >= 3 && flushes >= 1, "{calls} {flushes}");
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.inbox_len(), 2, "the count is rebuilt at open");
        let batch = store.inbox_batch(10).unwrap();
        assert_eq!(
            batch.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![first.seq.unwrap(), second.seq.unwrap()]
        );
        assert_eq!(batch[0].webhook_id.as_deref(), Some("w1"));
        assert_eq!(store.inbox_oldest().unwrap().unwrap(), batch[0]);
        store.inbox_remove(&[batch[0].seq, batch[0].seq]).unwrap();
        assert_eq!(store.inbox_len(), 1);
        // The id stays seen after its delivery is processed, until pruned.
        assert!(
            store
                .inbox_push("ghl", Some("w1"), "{}")
                .await
                .unwrap()
                .duplicate
        );
        assert_eq!(
            store
                .prune_webhook_seen(Utc::now() - chrono::Duration::hours(1))
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .prune_webhook_seen(Utc::now() + chrono::Duration::seconds(1))
                .unwrap(),
            1
        );
        assert!(
            !store
                .inbox_push("ghl", Some("w1"), "{}")
                .await
                .unwrap()
                .duplicate
        );
    }
}
