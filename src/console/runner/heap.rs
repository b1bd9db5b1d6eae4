//! Giving the heap back after large answers are replaced. Loading 100k contacts frees tens of
//! megabytes (the engine's scan, the old list) on several threads, and every reload of the
//! failed queue frees the one before. The allocator returns freed pages on its own after a short
//! delay; the trim makes it happen at once for what the runner's thread just dropped. The console
//! runs for hours on servers next to the sync, so after large answers it trims, at most once a
//! second (a trim walks the heap: a few milliseconds).

use crate::console::msg::{Answer, Msg};
use std::time::{Duration, Instant};

/// Lists smaller than this free too little to be worth a trim.
const TRIM_FROM_ROWS: usize = 10_000;
/// Failed queues smaller than this, likewise (each operation carries its payload and record).
const TRIM_FROM_OPERATIONS: usize = 100;
/// At most one trim per this long; a large answer meanwhile waits for the next.
const TRIM_EVERY: Duration = Duration::from_secs(1);

/// Whether folding `msg` replaces an answer large enough to leave a heap worth trimming.
fn frees_a_large_answer(msg: &Msg) -> bool {
    match msg {
        Msg::Answer(Answer::Contacts(list)) => list.complete && list.rows.len() >= TRIM_FROM_ROWS,
        Msg::Answer(Answer::FailedQueue(operations)) => operations.len() >= TRIM_FROM_OPERATIONS,
        _ => false,
    }
}

/// Trims when a large answer was folded and the last trim is long enough ago.
#[derive(Debug, Default)]
pub struct Trimmer {
    pending: bool,
    last: Option<Instant>,
}

impl Trimmer {
    pub fn note(&mut self, msg: &Msg) {
        self.pending |= frees_a_large_answer(msg);
    }

    /// Call after the batch is folded (the replaced answers are dropped by then).
    pub fn maybe_trim(&mut self, now: Instant) {
        if !self.pending || self.last.is_some_and(|last| now - last < TRIM_EVERY) {
            return;
        }
        self.pending = false;
        self.last = Some(now);
        trim();
    }
}

/// Returns freed memory to the system (see `crate::allocator`).
fn trim() {
    crate::allocator::collect_now();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::engine_api::{ContactList, ContactRow, RowState};

    fn contacts(rows: usize, complete: bool) -> Msg {
        let row = ContactRow {
            peer_id: "C1".into(),
            ghl_id: None,
            name: "Ada".into(),
            email: None,
            phone: None,
            state: RowState::Synced,
            last_at: None,
        };
        Msg::Answer(Answer::Contacts(ContactList {
            rows: vec![row; rows],
            complete,
        }))
    }

    #[test]
    fn large_whole_answers_ask_for_a_trim_and_trims_are_spaced() {
        assert!(frees_a_large_answer(&contacts(TRIM_FROM_ROWS, true)));
        assert!(
            !frees_a_large_answer(&contacts(TRIM_FROM_ROWS, false)),
            "a first page"
        );
        assert!(!frees_a_large_answer(&contacts(10, true)));
        assert!(!frees_a_large_answer(&Msg::Answer(Answer::FailedQueue(
            Vec::new()
        ))));

        let mut trimmer = Trimmer::default();
        let start = Instant::now();
        trimmer.maybe_trim(start);
        assert!(trimmer.last.is_none(), "nothing large yet: no trim");
        trimmer.note(&contacts(TRIM_FROM_ROWS, true));
        trimmer.maybe_trim(start);
        assert_eq!(trimmer.last, Some(start));
        trimmer.note(&contacts(TRIM_FROM_ROWS, true));
        trimmer.maybe_trim(start + TRIM_EVERY / 2);
        assert!(trimmer.pending, "too soon: it waits");
        trimmer.maybe_trim(start + TRIM_EVERY);
        assert!(!trimmer.pending);
        assert_eq!(trimmer.last, Some(start + TRIM_EVERY));
    }
}
