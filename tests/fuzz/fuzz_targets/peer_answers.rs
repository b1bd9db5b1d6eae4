//! `cargo fuzz run --fuzz-dir tests/fuzz peer_answers`: see ghlsync::fuzzing::peer_answer.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ghlsync::fuzzing::peer_answer(data));
