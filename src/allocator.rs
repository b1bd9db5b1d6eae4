//! The process's allocator: mimalloc (v2) instead of glibc malloc, for every binary that links
//! the crate (`ghlsync`, the tests and the benchmarks alike, so the benchmarks measure what
//! ships).
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

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v2's `mi_option_purge_delay` (its number in `mi_option_e`; libmimalloc-sys, pinned in
/// Cargo.toml, does not export it): how long freed pages wait before going back to the system.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// What the process is about to do, which decides how the allocator trades memory for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `ghlsync console`: idles for hours beside the sync; hold as little memory as possible.
    Console,
    /// Everything else (`sync`, `run`, the one-shot commands).
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
}
