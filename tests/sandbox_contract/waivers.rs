//! `waivers.toml`: each place where the official spec is wrong or the sandbox differs on
//! purpose. A waiver names an operation (`METHOD /spec/path`), a JSON path and which check it
//! lifts; the tests count what each waiver matched and fail on one that matched nothing.

use std::sync::Mutex;

use serde::Deserialize;

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// A violation of the response schema at `path` (or under it) is not reported.
    Answer,
    /// The request schema at `path` is not used to draw values (a test override gives them,
    /// or the property is left out); the waiver matches while the spec still declares it.
    Request,
    /// An invalid input at `path` may be accepted (2xx) or answered with another status.
    Refusal,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub operation: String,
    pub path: String,
    pub check: Check,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    waiver: Vec<Waiver>,
}

pub struct Waivers {
    pub list: Vec<Waiver>,
    used: Mutex<Vec<usize>>,
}

impl Waivers {
    pub fn load() -> Waivers {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/sandbox_contract/waivers.toml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let file: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        for w in &file.waiver {
            assert!(
                w.reason.trim().len() >= 20,
                "waiver {} {} needs a reason",
                w.operation,
                w.path
            );
        }
        let used = Mutex::new(vec![0; file.waiver.len()]);
        Waivers {
            list: file.waiver,
            used,
        }
    }

    /// Whether a waiver of `check` covers `path` in `operation`; counts the match.
    pub fn covers(&self, operation: &str, check: Check, path: &str) -> bool {
        let found = self.list.iter().position(|w| {
            w.check == check
                && w.operation == operation
                && (path == w.path || path.starts_with(&format!("{}/", w.path)))
        });
        if let Some(i) = found {
            self.used.lock().unwrap()[i] += 1;
        }
        found.is_some()
    }

    /// The waivers of `checks` that matched nothing: stale, to be removed.
    pub fn unused(&self, checks: &[Check]) -> Vec<String> {
        let used = self.used.lock().unwrap();
        self.list
            .iter()
            .zip(used.iter())
            .filter(|(w, n)| checks.contains(&w.check) && **n == 0)
            .map(|(w, _)| {
                format!(
                    "waiver matched nothing (remove it): {} {} ({:?})",
                    w.operation, w.path, w.check
                )
            })
            .collect()
    }
}
