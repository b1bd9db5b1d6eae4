//! The file peer's inbox: each hostile CSV or JSONL file dropped in a fresh inbox and read as
//! a page. The walk goes on — an empty page, no panic — and the file moves to `rejected/` with a
//! reason file naming `file:line:col`, the problem and the fix.

use crate::{Failures, corpus};
use ghlsync::peers::file::{FileConnection, FileFormat, FilePeer};
use ghlsync::peers::{EntityKind, Peer};
use std::path::Path;

/// Too large to check in: a 10 MB field, a 100 KB line, a 40 MB file of short rows.
fn generated(format: FileFormat) -> Vec<(String, Vec<u8>)> {
    let ext = format.extension();
    let row = |i: usize| match format {
        FileFormat::Csv => format!("{i},p{i}@example.com\n"),
        FileFormat::Jsonl => format!("{{\"code\": \"{i}\", \"email\": \"p{i}@example.com\"}}\n"),
    };
    let header = match format {
        FileFormat::Csv => "code,email\n",
        FileFormat::Jsonl => "",
    };
    let field = |len: usize| match format {
        FileFormat::Csv => format!("{header}1,{}\n", crate::huge(len, 'x')),
        FileFormat::Jsonl => format!(
            "{{\"code\": \"1\", \"email\": \"{}\"}}\n",
            crate::huge(len, 'x')
        ),
    };
    let mut big = header.to_string();
    let mut i = 0;
    while big.len() < 40 << 20 {
        big.push_str(&row(i));
        i += 1;
    }
    vec![
        (
            format!("generated-10mb-field.{ext}"),
            field(10 << 20).into_bytes(),
        ),
        (
            format!("generated-100kb-line.{ext}"),
            field(100 << 10).into_bytes(),
        ),
        (format!("generated-40mb-file.{ext}"), big.into_bytes()),
    ]
}

fn peer(dir: &Path) -> FilePeer {
    let mut connection = FileConnection {
        inbox: "inbox".into(),
        export: "export.csv".into(),
        format: FileFormat::Csv,
        id_field: Some("code".into()),
        updated_at_field: None,
        delimiter: None,
    };
    connection.resolve_paths(dir);
    FilePeer::new("shop", connection).unwrap()
}

/// Files the inbox reads on purpose (named here so a change shows up): `Some(true)` read as
/// records — a repeated key (the last wins, as JSON.parse reads it), a quote inside an unquoted
/// CSV value (kept as a character, as spreadsheets write `5'11"`); `Some(false)` read as no
/// records — a header row and nothing under it.
fn graceful(name: &str) -> Option<bool> {
    match name {
        "duplicate_keys.jsonl" | "quote_in_unquoted_field.csv" => Some(true),
        "bom_then_garbage.csv" | "json_instead.csv" => Some(false),
        _ => None,
    }
}

/// The inbox file's fate: `Err` says how it failed the test.
async fn check_rejected(name: &str, bytes: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let peer = peer(dir.path());
    std::fs::write(inbox.join(name), bytes).unwrap();
    let page = peer
        .fetch_changes(EntityKind::Contact, None)
        .await
        .map_err(|err| format!("{name}: the walk stopped: {err}"))?;
    if let Some(records) = graceful(name) {
        return match page.records.is_empty() != records {
            true => Ok(()),
            false => Err(format!("{name}: read as {:?}", page.records)),
        };
    }
    if !page.records.is_empty() {
        return Err(format!("{name}: read as {:?}", page.records));
    }
    let rejected = inbox.join("rejected");
    if !rejected.join(name).exists() {
        return Err(format!("{name}: not moved to rejected/"));
    }
    let reason = std::fs::read_to_string(rejected.join(format!("{name}.reason.txt")))
        .map_err(|err| format!("{name}: no reason file: {err}"))?;
    let first = reason.lines().next().unwrap_or_default();
    let place = first.strip_prefix(&format!("{name}:")).ok_or_else(|| {
        format!("{name}: the reason does not start with the file's name:\n{reason}")
    })?;
    let mut parts = place.splitn(3, ':');
    let (line, column) = (parts.next().unwrap(), parts.next().unwrap_or_default());
    if line.parse::<u64>().is_err() || column.parse::<u64>().is_err() {
        return Err(format!("{name}: no line:col in {first:?}"));
    }
    if !reason.contains("\nfix: ") || reason.len() > 2000 {
        return Err(format!("{name}: no fix, or too long:\n{reason}"));
    }
    Ok(())
}

async fn check_all(files: Vec<(String, Vec<u8>)>) {
    let (mut checked, mut failures) = (0, Failures::default());
    for (name, bytes) in files {
        let outcome = check_rejected(&name, &bytes).await;
        failures.check(outcome.is_ok(), || outcome.unwrap_err());
        checked += 1;
    }
    failures.finish(checked);
}

#[tokio::test]
async fn hostile_csv_files_are_rejected_naming_line_and_column() {
    check_all(
        corpus("csv_inbox")
            .into_iter()
            .chain(generated(FileFormat::Csv))
            .collect(),
    )
    .await;
}

#[tokio::test]
async fn hostile_jsonl_files_are_rejected_naming_line_and_column() {
    check_all(
        corpus("jsonl_inbox")
            .into_iter()
            .chain(generated(FileFormat::Jsonl))
            .collect(),
    )
    .await;
}
