//! `cargo fuzz run --fuzz-dir tests/fuzz store_codec`: see ghlsync::fuzzing::store_value.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ghlsync::fuzzing::store_value(data));
