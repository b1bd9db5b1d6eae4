//! `Store::verify`: a clean store is clean, and each kind of damage is a finding naming its tree
//! and key.

use super::*;

/// The findings of `kind`, as (tree, key).
fn found(report: &VerifyReport, kind: FindingKind) -> Vec<(String, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.kind == kind)
        .map(|f| (f.tree.clone(), f.key.clone()))
        .collect()
}

fn pair(tree: &str, key: &str) -> (String, String) {
    (tree.to_string(), key.to_string())
}

#[tokio::test]
async fn a_consistent_store_verifies_clean() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = full_store(dir.path()).await;
    let report = store.verify().unwrap();
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert!(report.unchecked_trees.is_empty());
    let stored: usize = TREE_NAMES
        .iter()
        .map(|name| store.tree_by_name(name).unwrap().len())
        .sum();
    assert_eq!(report.records, stored as u64, "every value was read");
}

#[tokio::test]
async fn a_link_without_its_reverse_and_a_reverse_without_its_link_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = full_store(dir.path()).await;
    store
        .idmap_rev
        .remove(entity_key("repsly", EntityKind::Contact, "G1"))
        .unwrap();
    store
        .idmap_rev
        .insert(
            entity_key("repsly", EntityKind::Contact, "G9"),
            codec::encode(&"C-9").unwrap(),
        )
        .unwrap();
    let report = store.verify().unwrap();
    assert_eq!(
        found(&report, FindingKind::MissingReverse),
        vec![pair("idmap", "repsly/contact/C-1")]
    );
    assert_eq!(
        found(&report, FindingKind::OrphanReverse),
        vec![pair("idmap_rev", "repsly/contact/G9")]
    );
    assert_eq!(report.findings.len(), 2, "{:#?}", report.findings);
    let missing = &report.findings[0];
    assert!(
        missing.problem.contains("G1") && missing.fix.contains("ghlsync store restore"),
        "{missing:?}"
    );
    assert!(report.damage().count() == 2);
}

#[tokio::test]
async fn a_shared_ghl_record_and_a_reverse_left_behind_by_a_move_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = full_store(dir.path()).await;
    let link = |peer_id: &str, ghl_id: &str| {
        store
            .set_link("repsly", EntityKind::Contact, peer_id, ghl_id)
            .unwrap()
    };
    // C-2 is linked to G1 too: G1's reverse now names C-2, not C-1.
    link("C-2", "G1");
    let report = store.verify().unwrap();
    assert_eq!(
        found(&report, FindingKind::SharedGhlRecord),
        vec![pair("idmap", "repsly/contact/C-1")]
    );
    assert!(
        report.findings[0].problem.contains("C-2"),
        "{:?}",
        report.findings
    );
    assert!(report.findings[0].fix.contains("merge them in repsly"));
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    assert_eq!(
        report.damage().count(),
        0,
        "the sync makes this from duplicates"
    );
    // C-1 moves to G2: each link and reverse agree again.
    link("C-1", "G2");
    let report = store.verify().unwrap();
    assert!(report.is_clean(), "{:#?}", report.findings);
    // C-1 moves on to G3: G2's reverse is left naming it.
    link("C-1", "G3");
    let report = store.verify().unwrap();
    assert_eq!(
        found(&report, FindingKind::StaleReverse),
        vec![pair("idmap_rev", "repsly/contact/G2")]
    );
    assert!(
        report.findings[0].problem.contains("G3"),
        "{:?}",
        report.findings
    );
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
}

#[tokio::test]
async fn an_operation_in_flight_is_found_with_the_sync_that_reconciles_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = full_store(dir.path()).await;
    let operation = op(&store, in_flight());
    store.record_new_intent(&operation).await.unwrap();
    let report = store.verify().unwrap();
    assert_eq!(
        found(&report, FindingKind::InFlight),
        vec![pair(
            "ops",
            &codec::printable_key(&keys::op_key(operation.id))
        )]
    );
    let finding = &report.findings[0];
    assert!(
        finding.fix.contains("run `ghlsync sync` once")
            && finding
                .fix
                .contains("reconciles in-flight operations by lookup"),
        "{finding:?}"
    );
    assert_eq!(report.damage().count(), 0, "in flight is not damage");
}

#[tokio::test]
async fn a_value_that_does_not_decode_is_found_naming_tree_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = full_store(dir.path()).await;
    store
        .baselines
        .insert(
            entity_key("repsly", EntityKind::Contact, "C-1"),
            &b"\x01{\"peer_hash\":"[..],
        )
        .unwrap();
    // A link that decodes as JSON but not as a link.
    store
        .idmap
        .insert(
            entity_key("repsly", EntityKind::Note, "N-1"),
            codec::encode(&"just text").unwrap(),
        )
        .unwrap();
    let report = store.verify().unwrap();
    assert_eq!(
        found(&report, FindingKind::Undecodable),
        vec![
            pair("idmap", "repsly/note/N-1"),
            pair("baselines", "repsly/contact/C-1"),
        ]
    );
    assert!(report.findings.iter().all(|f| f.kind.is_damage()));
}

#[tokio::test]
async fn a_child_whose_contact_is_not_linked_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = full_store(dir.path()).await;
    store
        .idmap
        .remove(entity_key("repsly", EntityKind::Contact, "C-1"))
        .unwrap();
    let report = store.verify().unwrap();
    assert_eq!(
        found(&report, FindingKind::OrphanChild),
        vec![pair("idmap", "repsly/task/T-1")]
    );
    let child = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::OrphanChild)
        .unwrap();
    assert!(child.problem.contains("C-1"), "{child:?}");
    // And G1's reverse now names a record without a link.
    assert_eq!(
        found(&report, FindingKind::OrphanReverse),
        vec![pair("idmap_rev", "repsly/contact/G1")]
    );
}

#[tokio::test]
async fn the_state_index_is_checked_against_the_operations_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (store, failed_id) = full_store(dir.path()).await;
    store
        .ops_by_state
        .remove(keys::state_key("failed", failed_id))
        .unwrap();
    store
        .ops_by_state
        .insert(keys::state_key("dead", 424_242), &[][..])
        .unwrap();
    let report = store.verify().unwrap();
    assert_eq!(
        found(&report, FindingKind::IndexMismatch),
        vec![
            pair("ops", &codec::printable_key(&keys::op_key(failed_id))),
            pair("ops_by_state", "dead/424242"),
        ]
    );
}

#[tokio::test]
async fn a_missing_or_unknown_schema_version_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = full_store(dir.path()).await;
    store.meta.remove("schema_version").unwrap();
    let report = store.verify().unwrap();
    assert_eq!(
        found(&report, FindingKind::Schema),
        vec![pair("meta", "schema_version")]
    );
    store
        .meta
        .insert(
            "schema_version",
            codec::encode(&(SCHEMA_VERSION + 1)).unwrap(),
        )
        .unwrap();
    let report = store.verify().unwrap();
    assert!(
        report.findings[0]
            .problem
            .contains("not one this ghlsync reads"),
        "{:?}",
        report.findings
    );
}

#[test]
fn a_tree_this_release_does_not_know_is_left_unchecked_not_failed() {
    assert!(super::super::verify::check_value("a_newer_tree", b"k", b"\x01{}").is_none());
    assert!(super::super::verify::check_value("idmap", b"k", b"\x01{}").is_some());
}
