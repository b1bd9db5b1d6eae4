//! The process's allocator: mimalloc (v2) instead of glibc malloc for the sync engine's one-shot
//! commands and the console (`ghlsync sync`, the tests and the benchmarks alike), glibc malloc
//! for the always-on service (`ghlsync run`).
//!
//! Why: the sync engine allocates per record (JSON values, request bodies, sled nodes) on many
//! threads at once, where glibc's malloc, free and consolidation cost it most; mimalloc costs
//! less (figures: BENCHMARKS.md, sync engine).
//!
//! The console wants the opposite trade: it idles for hours beside the sync on a server, so it
//! should hold as little memory as it can. mimalloc commits its arenas eagerly, and where the
//! kernel backs them with transparent huge pages every touch makes 2 MiB resident. `tune` turns
//! huge pages off and, for the console, has freed pages returned at once, with no trimming by
//! the console (figures: BENCHMARKS.md, console).
//!
//! The service idles between runs, one per location, many on a host: what it keeps after a run
//! is what a host pays. mimalloc keeps a page as long as one block on it lives, and after a
//! sync sled's cache is spread over the pages the run used; glibc's `malloc_trim` returns the
//! free parts of pages too (`release_after_run`; figures: BENCHMARKS.md, the service). Which
//! allocator a block came from is known by its address (`mi_is_in_heap_region`), so a block
//! made before `tune` chose is freed by the allocator that made it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

#[global_allocator]
static GLOBAL: Chosen = Chosen;

/// New blocks come from glibc malloc (the service) rather than mimalloc.
static SYSTEM_MALLOC: AtomicBool = AtomicBool::new(false);

struct Chosen;

// SAFETY: each call goes to one of two sound allocators; a block is freed or grown by the one
// whose memory holds it (`mi_is_in_heap_region` knows mimalloc's segments and arenas, and glibc
// never hands out addresses inside them).
unsafe impl GlobalAlloc for Chosen {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        unsafe {
            if SYSTEM_MALLOC.load(Ordering::Relaxed) {
                System.alloc(layout)
            } else {
                mimalloc::MiMalloc.alloc(layout)
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        unsafe {
            if SYSTEM_MALLOC.load(Ordering::Relaxed) {
                System.alloc_zeroed(layout)
            } else {
                mimalloc::MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on to the allocator that made `ptr`.
        unsafe {
            if from_mimalloc(ptr) {
                mimalloc::MiMalloc.dealloc(ptr, layout)
            } else {
                System.dealloc(ptr, layout)
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on to the allocator that made `ptr`.
        unsafe {
            if from_mimalloc(ptr) {
                mimalloc::MiMalloc.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

#[inline]
fn from_mimalloc(ptr: *mut u8) -> bool {
    // SAFETY: reads mimalloc's segment map; `ptr` is not dereferenced.
    unsafe { libmimalloc_sys::mi_is_in_heap_region(ptr.cast()) }
}

/// After a sync in a long-lived process: the service's allocator hands the run's freed memory
/// back to the system (milliseconds, once per run). mimalloc returns its own free pages.
pub fn release_after_run() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if SYSTEM_MALLOC.load(Ordering::Relaxed) {
        // SAFETY: malloc_trim only walks glibc's own arenas.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// mimalloc v2's `mi_option_purge_delay` (its number in `mi_option_e`; libmimalloc-sys, pinned in
/// Cargo.toml, does not export it): how long freed pages wait before going back to the system.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// What the process is about to do, which decides how the allocator trades memory for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `ghlsync console`: idles for hours beside the sync; hold as little memory as possible.
    Console,
    /// `ghlsync run`: idles between runs; one per location, many on a host.
    Service,
    /// Everything else (`sync` and the other one-shot commands).
    Other,
}

/// Call at the start of `main`, before other threads start (mimalloc's option setters are not
/// thread safe).
///
/// Every process turns transparent huge pages off: mimalloc returns freed pages to the system
/// after a short delay, and a huge page the kernel then faults in again is 2 MiB to zero (CPU
/// in the sync engine, and resident memory in 2 MiB steps). The console also returns
/// freed pages at once rather than after that delay.
pub fn tune(workload: Workload) {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only changes how the kernel backs this process's future page
    // faults; it takes no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    if workload == Workload::Service {
        SYSTEM_MALLOC.store(true, Ordering::Relaxed);
    }
    if workload == Workload::Console {
        // SAFETY: no other thread runs yet (see above); the option only changes when mimalloc
        // returns free pages.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_number_reads_the_purge_delay() {
        // Its documented default is 10 ms, and no neighbouring option defaults to 10: a shifted
        // enum would read some other option. (No test calls the tuning, which would change it.)
        // SAFETY: reads an option.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, 10);
    }

    #[test]
    fn each_block_is_freed_and_grown_by_the_allocator_that_made_it() {
        // Safe to flip while other tests allocate: frees go by address, not by the switch.
        let before = vec![1u8; 4096];
        SYSTEM_MALLOC.store(true, Ordering::Relaxed);
        let mut after = vec![2u8; 4096];
        let big_after = vec![3u8; 1 << 20];
        SYSTEM_MALLOC.store(false, Ordering::Relaxed);
        assert!(from_mimalloc(before.as_ptr().cast_mut()));
        assert!(!from_mimalloc(after.as_ptr().cast_mut()));
        assert!(!from_mimalloc(big_after.as_ptr().cast_mut()));
        // Grown after the switch went back: still glibc's block, contents kept.
        after.resize(1 << 16, 4);
        assert!(!from_mimalloc(after.as_ptr().cast_mut()));
        assert_eq!((after[0], after[4095], after[4096]), (2, 2, 4));
        assert_eq!((before[0], big_after[0]), (1, 3));
    }
}
