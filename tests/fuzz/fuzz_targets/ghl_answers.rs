//! `cargo fuzz run --fuzz-dir tests/fuzz ghl_answers`: see ghlsync::fuzzing::ghl_answer.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ghlsync::fuzzing::ghl_answer(data));
