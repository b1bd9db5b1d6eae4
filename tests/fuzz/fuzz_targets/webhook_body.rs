//! `cargo fuzz run --fuzz-dir tests/fuzz webhook_body`: see ghlsync::fuzzing::webhook_body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ghlsync::fuzzing::webhook_body(data));
