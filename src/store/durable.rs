//! Group commit. Every write that guards an external side effect must be on disk before the
//! side effect happens (sync-design.md §2.8), but an fsync costs far more than the write. When
//! many writers are in flight (a sync sends a page's records concurrently), each waits for *a*
//! flush that started after its write, so one fsync serves all the writes made while the
//! previous one ran.

use super::{Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub(crate) struct GroupFlush {
    /// Tickets handed out, in order; a writer takes one after its write is in sled.
    issued: AtomicU64,
    /// Every ticket up to this one is durable.
    durable: AtomicU64,
    /// Flushes made through here (for the benchmark's "flushes per write").
    flushes: AtomicU64,
    /// One flush at a time; the writers that arrive meanwhile queue here and share the next.
    turn: tokio::sync::Mutex<()>,
}

impl Store {
    /// Returns once everything this caller wrote before calling is on disk, sharing the fsync
    /// with every other writer waiting at the same time.
    pub async fn durable(&self) -> Result<(), StoreError> {
        let group = &self.group;
        let ticket = group.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let _turn = group.turn.lock().await;
        if group.durable.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        // Let writers that are ready to run write first, so this flush serves them too.
        tokio::task::yield_now().await;
        // Every ticket issued by now belongs to a write that is already in sled, so the flush
        // below covers it.
        let covers = group.issued.load(Ordering::SeqCst);
        self.db.flush_async().await?;
        group.flushes.fetch_add(1, Ordering::Relaxed);
        group.durable.fetch_max(covers, Ordering::SeqCst);
        Ok(())
    }

    /// (durable() calls, fsyncs they cost) since the store was opened.
    pub fn group_flush_counts(&self) -> (u64, u64) {
        (
            self.group.issued.load(Ordering::Relaxed),
            self.group.flushes.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_writers_share_flushes_and_each_returns_after_its_write_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s")).unwrap();
        // Hold the flush turn until every writer has written and taken its ticket, so the
        // sharing does not depend on how the runtime interleaves them (a loaded machine once
        // gave 8 flushes for 64 writers when the first flushes raced the later writes).
        let turn = store.group.turn.lock().await;
        let writers: Vec<_> = (0..64)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .put(&store.cursors, format!("k{i}").as_bytes(), &i)
                        .unwrap();
                    store.durable().await.unwrap();
                })
            })
            .collect();
        while store.group.issued.load(Ordering::SeqCst) < 64 {
            tokio::task::yield_now().await;
        }
        drop(turn);
        for writer in writers {
            writer.await.unwrap();
        }
        let (calls, flushes) = store.group_flush_counts();
        assert_eq!(calls, 64);
        assert_eq!(store.group.durable.load(Ordering::SeqCst), 64);
        // The first writer's flush covers every write made before it; the rest share it.
        assert_eq!(flushes, 1, "{flushes} flushes for 64 writers");
    }
}
