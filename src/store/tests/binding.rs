//! The store's binding to one GHL location and one account per peer.

use super::*;

fn binding(location: &str, user: &str) -> Binding {
    Binding {
        location_id: location.into(),
        peer: "repsly".into(),
        account: PeerAccount::new("https://api.repsly.com/v3", user),
    }
}

#[test]
fn the_first_binding_is_recorded_and_a_different_one_is_refused_without_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.bound_to("repsly").unwrap(), BoundTo::default());
    assert_eq!(
        store.bind(&binding("loc-A", "u1")).unwrap(),
        BindCheck::Recorded
    );
    assert_eq!(
        store.bind(&binding("loc-A", "u1")).unwrap(),
        BindCheck::Matches
    );
    // Another spelling of the same URL is the same account.
    let mut slash = binding("loc-A", "u1");
    slash.account = PeerAccount::new("https://api.repsly.com/v3/", " u1");
    assert_eq!(store.bind(&slash).unwrap(), BindCheck::Matches);

    let BindCheck::Mismatch(conflicts) = store.bind(&binding("loc-B", "u2")).unwrap() else {
        panic!("another location and user must not bind");
    };
    assert_eq!(
        conflicts
            .iter()
            .map(|c| (c.what.as_str(), c.stored.as_str(), c.configured.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("GHL location", "loc-A", "loc-B"),
            (
                "repsly account",
                "user \"u1\" at https://api.repsly.com/v3",
                "user \"u2\" at https://api.repsly.com/v3"
            ),
        ]
    );
    let bound = store.bound_to("repsly").unwrap();
    assert_eq!(
        bound.location_id.as_deref(),
        Some("loc-A"),
        "nothing written"
    );
    assert_eq!(bound.account.unwrap().user, "u1");
}

#[test]
fn rebind_replaces_the_binding_and_says_what_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.bind(&binding("loc-A", "u1")).unwrap();
    let BindCheck::Rebound(conflicts) = store.rebind(&binding("loc-B", "u1")).unwrap() else {
        panic!("a rebind onto another location reports it");
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].stored, "loc-A");
    assert_eq!(
        store.bind(&binding("loc-B", "u1")).unwrap(),
        BindCheck::Matches
    );
    assert_eq!(
        store.rebind(&binding("loc-B", "u1")).unwrap(),
        BindCheck::Matches
    );
}

#[test]
fn a_second_peer_binds_beside_the_first_and_the_binding_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.bind(&binding("loc-A", "u1")).unwrap();
    let other = Binding {
        location_id: "loc-A".into(),
        peer: "robly".into(),
        account: PeerAccount::new("https://api.robly.com", "acct-9"),
    };
    assert_eq!(store.bind(&other).unwrap(), BindCheck::Recorded);
    assert_eq!(
        store.bind(&binding("loc-A", "u1")).unwrap(),
        BindCheck::Matches
    );
    assert!(store.verify().unwrap().is_clean());
    // A damaged binding is a verify finding, like any value.
    store
        .meta
        .insert("binding/peer/repsly", codec::encode(&"u1").unwrap())
        .unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].key, "binding/peer/repsly");
}
