//! `cargo fuzz run --fuzz-dir tests/fuzz csv_inbox`: see ghlsync::fuzzing::inbox_file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ghlsync::fuzzing::inbox_file(data));
