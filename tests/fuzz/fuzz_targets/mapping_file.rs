//! `cargo fuzz run --fuzz-dir tests/fuzz mapping_file`: see ghlsync::fuzzing::mapping_file.
#![no_main]
use libfuzzer_sys::fuzz_target;

// Files are read as UTF-8 first (bounded_file, config::limits): text is what reaches the parser.
fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        ghlsync::fuzzing::mapping_file(text);
    }
});
