//! Commit waves. A sync sends a page's records together (`sync::pages`); each record's commit
//! then waits for its wave's other records, and the wave's commits share one transaction.
//!
//! Left to the commit queue alone, commits arrive as their answers do, one by one, and form
//! batches of about five. Every transaction costs sled two sealed log buffers, and each sealed
//! buffer is a `pwrite` plus `sync_file_range` on sled's IO threads that also wakes every idle
//! thread of sled's pool (`commit.rs`). One transaction per wave of 50 cut the engine's CPU per
//! contact by a fifth to a quarter in the sync bench (BENCHMARKS.md).
//!
//! A commit still returns only once it is applied (a record reads its own writes), so the wave's
//! records finish together. The turn stays with the wave until every record has ended or waits
//! to commit; a commit from elsewhere (a retry from the console) waits at most that long.

use super::Store;
use futures::FutureExt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The records of one wave, counted as they end.
pub struct CommitWave<'s> {
    store: &'s Store,
    records: usize,
    ended: AtomicUsize,
}

impl Store {
    /// A wave of `records` records whose commits share one transaction (see the module's note).
    pub fn commit_wave(&self, records: usize) -> CommitWave<'_> {
        CommitWave {
            store: self,
            records,
            ended: AtomicUsize::new(0),
        }
    }
}

impl CommitWave<'_> {
    /// One record of the wave: counted as ended when it returns, whatever it returns. (A map,
    /// not an `async fn`: that would hold the record's future twice over, and a record's
    /// future is ~14 KB, allocated and copied once per record.)
    pub fn record<F: Future>(&self, record: F) -> impl Future<Output = F::Output> {
        record.map(|output| {
            self.ended.fetch_add(1, Ordering::SeqCst);
            self.store.commits.arrived.notify_waiters();
            output
        })
    }

    /// Drives the wave's records (every one through `record`) while holding the commit turn
    /// until each has ended or waits to commit, then applies the waiting commits together.
    ///
    /// If `records` stops early (a record's error), its other records are dropped before the
    /// turn is let go, so their commits leave the queue unapplied (`commit.rs`'s `Unqueue`):
    /// as after a crash, their flushed intents are reconciled by lookup.
    pub async fn run<F: Future>(&self, records: F) -> F::Output {
        // Declared first, dropped last: the records go before the turn does.
        let mut release = pin!(self.release());
        let mut records = pin!(records);
        let mut released = false;
        std::future::poll_fn(|cx| {
            if !released && release.as_mut().poll(cx).is_ready() {
                released = true;
            }
            records.as_mut().poll(cx)
        })
        .await
    }

    async fn release(&self) {
        let queue = &self.store.commits;
        let _turn = queue.turn.lock().await;
        loop {
            let mut arrived = pin!(queue.arrived.notified());
            // Registered before the check, so a commit or an end after it is not missed.
            arrived.as_mut().enable();
            let waiting = queue.waiting();
            // Commits from outside the wave count too: the turn then goes a little early, and
            // the rest of the wave commits as commits outside a wave do.
            if self.ended.load(Ordering::SeqCst) + waiting >= self.records {
                break;
            }
            arrived.await;
        }
        self.store.apply_waiting();
    }
}
