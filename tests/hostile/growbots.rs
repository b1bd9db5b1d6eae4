//! Growbots' CSV exports (prospects): the sandbox's rehearsal Growbots peer, its seeded exports
//! taken out, each hostile CSV dropped in its prospects inbox. The walk goes on and the file
//! moves to `rejected/` with a reason naming `file:line:col` — the file peer's reader under
//! Growbots' column mapping.

use crate::{Failures, corpus};
use ghlsync::config::rehearsal_peers;
use ghlsync::peers::EntityKind;
use ghlsync::peers::registry::{Rehearsal, rehearsals};
use ghlsync::sandbox::{self, SandboxOptions};

/// Files Growbots reads as no records, on purpose: a header and nothing under it.
fn graceful(name: &str) -> bool {
    matches!(name, "bom_then_garbage.csv" | "json_instead.csv")
}

async fn check(rehearsal: &Rehearsal, name: &str, bytes: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let configured = rehearsal_peers(std::slice::from_ref(rehearsal), dir.path()).unwrap();
    let peer = configured[0]
        .setup
        .build("growbots", &rehearsal.secrets)
        .unwrap();
    let inbox = dir.path().join("growbots/inbox");
    for (seeded, _) in &rehearsal.files {
        std::fs::remove_file(dir.path().join(seeded)).unwrap();
    }
    std::fs::write(inbox.join(name), bytes).unwrap();
    let mut cursor = None;
    let mut records = 0;
    for _ in 0..4 {
        let page = peer
            .fetch_changes(EntityKind::Contact, cursor.as_deref())
            .await
            .map_err(|err| format!("{name}: the walk stopped: {err}"))?;
        records += page.records.len();
        if page.done || page.next_cursor.is_none() {
            break;
        }
        cursor = page.next_cursor;
    }
    let reason = std::fs::read_to_string(inbox.join(format!("rejected/{name}.reason.txt")));
    match (reason, graceful(name)) {
        (Err(_), true) if records == 0 => Ok(()),
        (Err(err), _) => Err(format!("{name}: {records} records, no reason file ({err})")),
        (Ok(reason), _) => {
            let first = reason.lines().next().unwrap_or_default();
            let mut parts = first
                .strip_prefix(&format!("{name}:"))
                .unwrap_or("")
                .split(':');
            let positioned = parts.next().is_some_and(|l| l.parse::<u64>().is_ok())
                && parts.next().is_some_and(|c| c.parse::<u64>().is_ok());
            match positioned && reason.contains("\nfix: ") && records == 0 {
                true => Ok(()),
                false => Err(format!("{name}: {records} records, reason:\n{reason}")),
            }
        }
    }
}

#[tokio::test]
async fn hostile_growbots_exports_are_rejected_naming_line_and_column() {
    let sandbox = sandbox::start(SandboxOptions {
        contacts: 1,
        rate_limit: None,
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let rehearsal = rehearsals(&sandbox)
        .into_iter()
        .find(|r| r.peer == "growbots")
        .unwrap();
    let (mut checked, mut failures) = (0, Failures::default());
    for (name, bytes) in corpus("csv_inbox") {
        let outcome = check(&rehearsal, &name, &bytes).await;
        failures.check(outcome.is_ok(), || outcome.unwrap_err());
        checked += 1;
    }
    failures.finish(checked);
}
