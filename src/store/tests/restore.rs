//! Restore is all or nothing: a whole, intact backup comes back tree for tree; anything else is
//! refused naming its line, and leaves nothing at the target.

use super::super::backup::hex;
use super::*;
use std::path::{Path, PathBuf};

/// A backup of `full_store`, in a fresh temp dir: (dir, the backup file, its text).
async fn backed_up() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.jsonl");
    let (store, _) = full_store(&dir.path().join("original")).await;
    store.backup(&backup).unwrap();
    let text = std::fs::read_to_string(&backup).unwrap();
    (dir, backup, text)
}

/// A tree's (key, value) pairs, in key order.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Every (key, value) of every tree.
fn contents(store: &Store) -> Vec<(&'static str, Pairs)> {
    TREE_NAMES
        .iter()
        .map(|name| {
            let tree = store.tree_by_name(name).unwrap();
            let pairs = tree
                .iter()
                .map(|item| {
                    let (key, value) = item.unwrap();
                    (key.to_vec(), value.to_vec())
                })
                .collect();
            (*name, pairs)
        })
        .collect()
}

/// Restores `text` (written as the backup) into `dir/restored`, expecting a refusal; checks that
/// nothing is left behind and returns the error's message.
fn refused(dir: &Path, backup: &Path, text: &str) -> String {
    std::fs::write(backup, text).unwrap();
    let target = dir.join("restored");
    let err = Store::restore(backup, &target, TrailerCheck::Required).unwrap_err();
    assert!(!target.exists(), "nothing at the target after: {err}");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".ghlsync-restore-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary store left: {leftovers:?}");
    err.to_string()
}

/// The 1-based number of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[tokio::test]
async fn a_backup_restores_every_tree_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.jsonl");
    let (store, _) = full_store(&dir.path().join("original")).await;
    let records = store.backup(&backup).unwrap();
    let text = std::fs::read_to_string(&backup).unwrap();
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("{\"end\":{\"lines\":"),
        "{text}"
    );
    let target = dir.path().join("restored");
    let restored = Store::restore(&backup, &target, TrailerCheck::Required).unwrap();
    assert_eq!(restored.records, records - 1, "all but the one survey mark");
    assert!(restored.trailer);
    assert!(restored.report.is_clean(), "{:?}", restored.report);
    let copy = Store::open(&target).unwrap();
    // Every tree as it was, but the survey marks: a restored store looks children up again.
    let mut expected = contents(&store);
    for (name, pairs) in &mut expected {
        if *name == "child_surveys" {
            pairs.clear();
        }
    }
    assert_eq!(contents(&copy), expected);
    assert!(copy.verify().unwrap().is_clean());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "owner-only");
}

#[tokio::test]
async fn a_backup_cut_at_a_line_boundary_is_refused() {
    let (dir, backup, text) = backed_up().await;
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines[..lines.len() - 3].join("\n") + "\n";
    let err = refused(dir.path(), &backup, &cut);
    assert!(
        err.contains(&format!("ends after line {}", lines.len() - 3))
            && err.contains("cut short")
            && err.contains("--no-trailer-check"),
        "{err}"
    );
}

#[tokio::test]
async fn a_backup_cut_inside_a_line_is_refused_naming_it() {
    let (dir, backup, text) = backed_up().await;
    let at = line_of(&text, "\"tree\":\"baselines\"");
    let start: usize = text.lines().take(at - 1).map(|l| l.len() + 1).sum();
    let cut = &text[..start + 30];
    let err = refused(dir.path(), &backup, cut);
    assert!(
        err.contains(&format!("backup.jsonl:{at}:")) && err.contains("cut short"),
        "{err}"
    );
}

#[tokio::test]
async fn a_bit_flip_that_breaks_the_hex_is_refused_naming_the_line() {
    let (dir, backup, text) = backed_up().await;
    let at = line_of(&text, "\"tree\":\"baselines\"");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let value = lines[at - 1].find("\"value\":\"").unwrap() + 9;
    let mut bytes = lines[at - 1].clone().into_bytes();
    // The value's first hex digit is the version byte's `0`: one bit away from `p`.
    assert_eq!(bytes[value], b'0');
    bytes[value] ^= 0x40;
    lines[at - 1] = String::from_utf8(bytes).unwrap();
    let err = refused(dir.path(), &backup, &(lines.join("\n") + "\n"));
    assert!(
        err.contains(&format!("backup.jsonl:{at}:")) && err.contains("value is not hex"),
        "{err}"
    );
}

#[tokio::test]
async fn a_bit_flip_that_keeps_valid_hex_fails_the_checksum() {
    let (dir, backup, text) = backed_up().await;
    // The note cursor "77" is `0122373722`; one bit makes it "76", still a valid cursor.
    let value = hex(&codec::encode(&"77").unwrap());
    assert_eq!(value, "0122373722");
    let flipped = text.replacen(&value, "0122373622", 1);
    assert_ne!(flipped, text);
    let err = refused(dir.path(), &backup, &flipped);
    let end = text.lines().count();
    assert!(
        err.contains(&format!("backup.jsonl:{end}:")) && err.contains("checksum"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_tree_is_refused_naming_the_line() {
    let (dir, backup, text) = backed_up().await;
    let at = line_of(&text, "\"tree\":\"cursors\"");
    let edited =
        sealed(&unsealed(&text).replacen("\"tree\":\"cursors\"", "\"tree\":\"cursorz\"", 1));
    let err = refused(dir.path(), &backup, &edited);
    assert!(
        err.contains(&format!("backup.jsonl:{at}:")) && err.contains("\"cursorz\" is not one"),
        "{err}"
    );
}

#[tokio::test]
async fn a_value_that_does_not_decode_for_its_tree_is_refused_naming_the_line() {
    let (dir, backup, text) = backed_up().await;
    let at = line_of(&text, "\"tree\":\"idmap\"");
    let line = text.lines().nth(at - 1).unwrap();
    let raw: serde_json::Value = serde_json::from_str(line).unwrap();
    // Valid hex, a valid stored value, sealed with a matching checksum, but not a link.
    let not_a_link = json!({
        "tree": "idmap",
        "key": raw["key"],
        "value": hex(&codec::encode(&"G1").unwrap()),
    });
    let edited = sealed(&unsealed(&text).replacen(line, &not_a_link.to_string(), 1));
    let err = refused(dir.path(), &backup, &edited);
    assert!(
        err.contains(&format!("backup.jsonl:{at}:")) && err.contains("does not decode"),
        "{err}"
    );
}

#[tokio::test]
async fn a_backup_whose_store_fails_verification_is_refused() {
    let (dir, backup, text) = backed_up().await;
    // Every line is intact, but a link's reverse is missing: the store it came from was damaged.
    let reverse = text
        .lines()
        .find(|l| l.contains("\"tree\":\"idmap_rev\""))
        .unwrap();
    let edited = sealed(&unsealed(&text).replacen(&format!("{reverse}\n"), "", 1));
    let err = refused(dir.path(), &backup, &edited);
    assert!(
        err.contains("restores a store with") && err.contains("idmap repsly/"),
        "{err}"
    );
}

#[tokio::test]
async fn a_backup_without_an_end_line_restores_only_when_asked() {
    let (dir, backup, text) = backed_up().await;
    std::fs::write(&backup, unsealed(&text)).unwrap();
    let target = dir.path().join("restored");
    let restored = Store::restore(&backup, &target, TrailerCheck::IfPresent).unwrap();
    assert!(!restored.trailer);
    // Every line but the end line and the survey mark (never restored).
    assert_eq!(restored.records as usize, text.lines().count() - 2);
    // With an end line, IfPresent still checks it.
    let other = dir.path().join("other");
    let flipped = text.replacen("0122373722", "0122373622", 1);
    std::fs::write(&backup, flipped).unwrap();
    let err = Store::restore(&backup, &other, TrailerCheck::IfPresent).unwrap_err();
    assert!(err.to_string().contains("checksum"), "{err}");
    assert!(!other.exists());
}

/// What the sync itself leaves (an operation in flight at backup time, two peer duplicates on
/// one GHL contact) is not damage: the backup restores as it was, and says so.
#[tokio::test]
async fn findings_that_are_not_damage_restore_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.jsonl");
    let (store, _) = full_store(&dir.path().join("original")).await;
    store
        .record_new_intent(&op(&store, in_flight()))
        .await
        .unwrap();
    store
        .set_link("repsly", EntityKind::Contact, "C-2", "G1")
        .unwrap();
    store.backup(&backup).unwrap();
    let target = dir.path().join("restored");
    let restored = Store::restore(&backup, &target, TrailerCheck::Required).unwrap();
    let kinds: Vec<_> = restored.report.findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        vec![FindingKind::SharedGhlRecord, FindingKind::InFlight]
    );
    assert!(target.join("db").exists() || target.join("conf").exists());
}

#[tokio::test]
async fn restore_never_writes_over_a_store_or_a_folder_in_use() {
    let (dir, backup, _) = backed_up().await;
    let original = dir.path().join("original");
    let err = Store::restore(&backup, &original, TrailerCheck::Required).unwrap_err();
    assert!(err.to_string().contains("a store already exists"), "{err}");
    let busy = dir.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    let err = Store::restore(&backup, &busy, TrailerCheck::Required).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(busy.join("notes.txt")).unwrap(),
        "mine"
    );
    // An empty folder is taken.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    Store::restore(&backup, &empty, TrailerCheck::Required).unwrap();
    assert!(Store::open(&empty).unwrap().verify().unwrap().is_clean());
}
