//! A connector's name appears only in its own folder, its emulation and its registry line: no
//! `match` on a peer's name, no `config.peers.repsly`, no `"repsly"` default anywhere else in
//! the code (tests and comments aside). A new connector then touches one line outside its
//! folder (ARCHITECTURE.md, "How to add a peer").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

/// Code of a source file without its test module and comments.
fn code_of(text: &str) -> Vec<(usize, String)> {
    let end = text.find("#[cfg(test)]\nmod ").unwrap_or(text.len());
    text[..end]
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.split("//").next().unwrap_or("").to_string()))
        .collect()
}

fn visit(dir: &Path, found: &mut Vec<String>, names: &[&str]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .to_path_buf();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().to_string())
            .collect();
        let file = parts.last().cloned().unwrap_or_default();
        // Its own folder, and the sandbox that emulates every app, may name it.
        let own = parts.len() > 2
            && (parts[1] == "peers" || parts[1] == "sandbox")
            && names.contains(&parts[2].as_str());
        if own || parts.get(1).is_some_and(|p| p == "sandbox") {
            continue;
        }
        if path.is_dir() {
            if file != "tests" {
                visit(&path, found, names);
            }
            continue;
        }
        if !file.ends_with(".rs") || file.starts_with("tests") || file.ends_with("_tests.rs") {
            continue;
        }
        // The registry line, and `ghlsync connector check|try`: the REST connector's own tool
        // for connector files.
        if rel == Path::new("src/peers/registry.rs") || rel == Path::new("src/cli/connector_cmd.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, code) in code_of(&text) {
            for name in names {
                // The name as a value (`"repsly"`, `"repsly_password"`, `"repsly/…"`), a
                // config field (`peers.repsly`) or a path into its module (`peers::repsly::`).
                let quoted = format!("\"{name}");
                let quoted_hit = code.match_indices(&quoted).any(|(at, _)| {
                    let next = code[at + quoted.len()..].chars().next();
                    matches!(next, Some('"')) || (matches!(next, Some('_' | '/')) && name.len() > 4)
                });
                if quoted_hit
                    || code.contains(&format!("peers.{name}"))
                    || code.contains(&format!("peers::{name}::"))
                    || code.contains(&format!("sandbox.{name}"))
                {
                    found.push(format!("{}:{line}: {}", rel.display(), code.trim()));
                }
            }
        }
    }
}

#[test]
fn no_connector_is_named_outside_its_folder_and_the_registry() {
    let names = ghlsync::peers::registry::connector_names();
    assert!(names.contains(&"repsly"), "{names:?}");
    let mut found = Vec::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
        &names,
    );
    assert!(
        found.is_empty(),
        "connector names outside their folders (use the registry instead):\n{}",
        found.join("\n")
    );
}
