//! The file peer end to end: CSV/JSONL files in an inbox folder → GHL (the sandbox over
//! loopback), GHL → the export file, with a real sled store. Re-reading a file costs no GHL
//! write; a broken file is set aside without stopping the run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use common::sync::{Routes, count, sandbox_writes};
use ghlsync::ghl::models::UpdateContactDto;
use ghlsync::peers::EntityKind;
use ghlsync::peers::file::{FileConnection, FileFormat, FilePeer};
use ghlsync::store::Store;
use ghlsync::sync::mapping::{Mapping, resolve_against_location};
use ghlsync::sync::{RunOptions, RunReport, SyncContext, SyncSettings, run_sync};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

struct FileRig {
    h: Harness,
    dir: tempfile::TempDir,
    ctx: SyncContext,
}

impl FileRig {
    /// A GHL sandbox with `contacts` seeded contacts and a file peer "shop" keyed by `code`.
    async fn start(contacts: usize, format: FileFormat) -> FileRig {
        let h = Harness::start(contacts).await;
        let mapping = Mapping::builtin("file").expect("the built-in file mapping");
        h.create_mapping_fields(Some(&mapping)).await;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("inbox")).expect("inbox");
        let mut connection = FileConnection {
            inbox: "inbox".into(),
            export: format!("export.{}", format.extension()).into(),
            format,
            id_field: Some("code".into()),
            updated_at_field: None,
            delimiter: None,
        };
        connection.resolve_paths(dir.path());
        let peer = FilePeer::new("shop", connection).expect("the file peer starts");
        let store = Store::open(&dir.path().join("store")).expect("store opens");
        let mut ctx = SyncContext {
            store,
            ghl: h.client(),
            peer: Arc::new(peer),
            mapping,
            settings: SyncSettings::default(),
            events: None,
        };
        resolve_against_location(&mut ctx.mapping, &ctx.ghl)
            .await
            .expect("the mapping resolves");
        FileRig { h, dir, ctx }
    }

    async fn run(&self) -> RunReport {
        run_sync(&self.ctx, &RunOptions::default())
            .await
            .expect("run completes")
    }

    fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    fn drop_file(&self, name: &str, text: &str) {
        std::fs::write(self.inbox().join(name), text).expect("file dropped");
    }

    fn names(&self, sub: &str) -> Vec<String> {
        names_in(&self.inbox().join(sub))
    }

    async fn ghl_writes(&self) -> u64 {
        sandbox_writes(&self.h, Routes::Ghl).await
    }

    async fn ghl_contacts(&self) -> Vec<Value> {
        self.h.dump().await["ghl"]["contacts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("folder")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name != "done" && name != "rejected")
        .collect();
    names.sort();
    names
}

const FIRST: &str = "code,first_name,last_name,email,company\n\
F-1,Ann,Lee,ann.lee@files.example,\"Lee, Ann & Co\"\n\
F-2,Bo,Park,bo.park@files.example,Park Ltd\n\
F-3,Cy,Diaz,cy.diaz@files.example,\n";

#[tokio::test]
async fn inbox_files_become_ghl_contacts_once_and_a_broken_file_is_set_aside() {
    let rig = FileRig::start(0, FileFormat::Csv).await;
    rig.drop_file("1-first.csv", FIRST);
    rig.drop_file("2-broken.csv", "code,email\nF-9,nine@files.example,extra\n");
    rig.drop_file(
        "3-more.jsonl",
        "{\"code\":\"F-4\",\"first_name\":\"Di\",\"email\":\"di@files.example\",\"tags\":\"vip, north\"}\n",
    );
    // A dry run reads every file, plans, and moves or writes nothing.
    let dry = run_sync(
        &rig.ctx,
        &RunOptions {
            dry_run: true,
            ..RunOptions::default()
        },
    )
    .await
    .expect("dry run completes");
    assert_eq!(rig.ghl_writes().await, 0, "{:?}", dry.run.counts);
    assert_eq!(rig.names(""), ["1-first.csv", "3-more.jsonl"]);
    assert!(rig.names("done").is_empty());

    let first = rig.run().await;
    assert_eq!(count(&first, "create/ok"), 4, "{:?}", first.run.counts);
    let contacts = rig.ghl_contacts().await;
    let ann = contacts
        .iter()
        .find(|c| c["email"] == "ann.lee@files.example")
        .expect("Ann is in GHL");
    assert_eq!(ann["companyName"], "Lee, Ann & Co");
    assert_eq!(ann["firstName"], "Ann");
    let di = contacts
        .iter()
        .find(|c| c["email"] == "di@files.example")
        .expect("Di is in GHL");
    assert_eq!(di["tags"], serde_json::json!(["vip", "north"]));
    assert!(
        !contacts.iter().any(|c| c["email"] == "nine@files.example"),
        "nothing of a rejected file reaches GHL"
    );
    // The lifecycle: read files in done/, the broken one in rejected/ with its reason.
    assert!(rig.names("").is_empty(), "{:?}", rig.names(""));
    assert_eq!(rig.names("done"), ["1-first.csv", "3-more.jsonl"]);
    assert_eq!(
        rig.names("rejected"),
        ["2-broken.csv", "2-broken.csv.reason.txt"]
    );
    let reason = std::fs::read_to_string(rig.inbox().join("rejected/2-broken.csv.reason.txt"))
        .expect("reason");
    assert!(
        reason.starts_with("2-broken.csv:2:3: the row has 3 fields"),
        "{reason}"
    );
    // The records are the peer's now: readable by id, and in the export.
    let bo = rig
        .ctx
        .peer
        .get(EntityKind::Contact, "F-2")
        .await
        .expect("get")
        .expect("F-2 is known");
    assert_eq!(bo.fields["company"], "Park Ltd");

    // A second run reads nothing new and writes nothing.
    let writes = rig.ghl_writes().await;
    let second = rig.run().await;
    assert_eq!(rig.ghl_writes().await, writes, "{:?}", second.run.counts);

    // The same file read again (a kill before its page committed, or dropped twice) costs no
    // write: the baselines know every record on it.
    rig.drop_file("4-again.csv", FIRST);
    let again = rig.run().await;
    assert_eq!(rig.ghl_writes().await, writes, "{:?}", again.run.counts);
    assert_eq!(count(&again, "create/ok") + count(&again, "update/ok"), 0);
    assert!(rig.names("").is_empty());

    // A changed row is an update of the same contact.
    rig.drop_file(
        "5-change.csv",
        "code,email,company\nF-3,cy.diaz@files.example,Diaz Inc\n",
    );
    let change = rig.run().await;
    assert_eq!(count(&change, "update/ok"), 1, "{:?}", change.run.counts);
    let cy = rig
        .ghl_contacts()
        .await
        .into_iter()
        .find(|c| c["email"] == "cy.diaz@files.example")
        .expect("Cy is in GHL");
    assert_eq!(cy["companyName"], "Diaz Inc");
    assert_eq!(
        rig.ghl_contacts()
            .await
            .iter()
            .filter(|c| c["email"] == "cy.diaz@files.example")
            .count(),
        1
    );

    // Edited in GHL: the edit reaches the export, on the row of the file's record.
    let cy_id = cy["id"].as_str().expect("GHL id").to_string();
    let edit = UpdateContactDto {
        city: Some("Capital City".into()),
        ..UpdateContactDto::default()
    };
    rig.ctx
        .ghl
        .update_contact(&cy_id, &edit)
        .await
        .expect("GHL edit");
    let edited = rig.run().await;
    assert_eq!(count(&edited, "update/ok"), 1, "{:?}", edited.run.counts);
    let export = std::fs::read_to_string(rig.dir.path().join("export.csv")).expect("export");
    let cy_row: Vec<&str> = export
        .lines()
        .filter(|line| line.starts_with("F-3,"))
        .collect();
    assert_eq!(cy_row.len(), 1, "{export}");
    assert!(cy_row[0].contains("Capital City"), "{export}");
    assert!(cy_row[0].contains("Diaz Inc"), "{export}");
}

#[tokio::test]
async fn ghl_born_contacts_land_in_the_export_and_are_not_echoed() {
    let rig = FileRig::start(12, FileFormat::Jsonl).await;
    let first = rig.run().await;
    let export_path = rig.dir.path().join("export.jsonl");
    let text = std::fs::read_to_string(&export_path).expect("the export is written");
    let rows: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect();
    let ghl_ids: Vec<String> = rig
        .ghl_contacts()
        .await
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect();
    assert!(
        rows.len() as u64 >= count(&first, "create/ok") && !rows.is_empty(),
        "{} rows, {:?}",
        rows.len(),
        first.run.counts
    );
    for row in &rows {
        let code = row["code"].as_str().expect("every row has its id");
        assert!(ghl_ids.iter().any(|id| id == code), "{row}");
    }
    let linked = rig
        .ctx
        .store
        .links("shop", EntityKind::Contact)
        .expect("links");
    assert_eq!(linked.len(), rows.len(), "every exported contact is linked");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&export_path)
        .expect("export")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Nothing changed: the next run writes nowhere, and the export stays as it is.
    let writes = rig.ghl_writes().await;
    let second = rig.run().await;
    assert_eq!(rig.ghl_writes().await, writes, "{:?}", second.run.counts);
    assert_eq!(count(&second, "create/ok") + count(&second, "update/ok"), 0);
    assert_eq!(std::fs::read_to_string(&export_path).expect("export"), text);
}
