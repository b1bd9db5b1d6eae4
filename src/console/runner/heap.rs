//! Giving the heap back after a big contact list is replaced. Loading 100k contacts frees tens of
//! megabytes (the engine's scan, the old list) on several threads; glibc keeps freed memory in
//! each thread's arena, so the console's resident size would stay at its peak for good. The
//! console runs for hours on servers next to the sync, so after a large list it trims.

use crate::console::msg::{Answer, Msg};

/// Lists smaller than this free too little to be worth a trim.
const TRIM_FROM_ROWS: usize = 10_000;

/// Whether folding `msg` replaces a contact list large enough to leave a heap worth trimming.
pub fn frees_a_large_list(msg: &Msg) -> bool {
    matches!(msg, Msg::Answer(Answer::Contacts(list)) if list.complete && list.rows.len() >= TRIM_FROM_ROWS)
}

/// Returns the free memory of every malloc arena to the system.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory held by the allocator; it touches no live
    // allocation and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
