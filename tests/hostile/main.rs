//! Hostile input (issue 20 §2): every parser fed the corpus under `tests/hostile/corpus/<parser>/`
//! (plus inputs too large to check in, made here): no panic, an error — or an outcome the test
//! names as graceful — and an error that names the place (the file and line:col, or the endpoint)
//! and says what to do. Property tests for the parsers the crate's own tests do not cover.
//!
//! Run: `cargo test --test hostile`.
// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backup;
mod files;
mod ghl;
mod growbots;
mod inbox;
mod peers;
mod props;
mod serve;
mod webhook;

use std::path::{Path, PathBuf};

/// The corpus files of `parser`, in name order, with their bytes.
pub fn corpus(parser: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile/corpus")
        .join(parser);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "{}: a corpus of {}",
        dir.display(),
        files.len()
    );
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// Words of a next step: an error that says what is wrong but not what to do fails.
const NEXT_STEP: &[&str] = &[
    "fix",
    "check",
    "use ",
    "give",
    "set ",
    "write",
    "report",
    "remove",
    "retry",
    "try ",
    "point",
    "make",
    "add ",
    "save",
    "post",
    "rename",
    "quote",
    "run ",
    "expected one of",
    "expected e.g.",
    "must",
    "should",
    "authorise",
    "at most",
    "is right",
    "restore",
    "create",
    "look the record up",
    "is the path right",
    "using the default",
    "wait",
    "keep",
];

/// What went wrong across a corpus: every input is tried, then all failures are shown at once.
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    /// Records a failure unless `ok`.
    pub fn check(&mut self, ok: bool, failure: impl FnOnce() -> String) {
        if !ok {
            self.0.push(failure());
        }
    }

    /// `message` names `place` and says what to do; `what` names the input.
    pub fn names_place(&mut self, what: &str, message: &str, place: &str) {
        self.check(message.contains(place), || {
            format!("{what}: the error does not name {place:?}:\n{message}")
        });
        let lower = message.to_lowercase();
        self.check(NEXT_STEP.iter().any(|word| lower.contains(word)), || {
            format!("{what}: the error does not say what to do:\n{message}")
        });
        self.check(message.len() < 2000, || {
            format!("{what}: an error of {} bytes", message.len())
        });
    }

    pub fn finish(self, checked: usize) {
        assert!(
            self.0.is_empty(),
            "{} of {checked} inputs failed:\n\n{}",
            self.0.len(),
            self.0.join("\n\n")
        );
    }
}

/// `true` when `message` holds a `line:col` or `line N column M` position.
pub fn has_position(message: &str) -> bool {
    let colon_pair = message
        .as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit());
    let lower = message.to_lowercase();
    colon_pair || (lower.contains("line ") && lower.contains("column"))
}

/// A string of `len` bytes of `fill`, as JSON would carry it.
pub fn huge(len: usize, fill: char) -> String {
    std::iter::repeat_n(fill, len).collect()
}

/// 10 MB in one field, and 100,000 open brackets: the two inputs too large to check in.
pub fn generated_json() -> Vec<(String, Vec<u8>)> {
    let ten_mb = huge(10 << 20, 'x');
    vec![
        (
            "generated: a 10 MB field".to_string(),
            format!(r#"{{"contact": {{"id": "c1", "firstName": "{ten_mb}"}}, "contacts": [{{"id": "{ten_mb}"}}], "data": [{{"email": "{ten_mb}"}}]}}"#).into_bytes(),
        ),
        ("generated: 100,000 [".to_string(), "[".repeat(100_000).into_bytes()),
        (
            "generated: 100,000 nested objects".to_string(),
            format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000)).into_bytes(),
        ),
    ]
}
