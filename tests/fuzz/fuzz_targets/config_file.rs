//! `cargo fuzz run --fuzz-dir tests/fuzz config_file`: see ghlsync::fuzzing::config_file.
#![no_main]
use libfuzzer_sys::fuzz_target;

// Files are read as UTF-8 first (bounded_file, config::limits): text is what reaches the parser.
fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        ghlsync::fuzzing::config_file(text);
    }
});
