use super::*;

fn store_with(times: &[i64]) -> Store {
    let mut store = Store::default();
    for (i, ms) in times.iter().enumerate() {
        let contact = Contact {
            id: format!("c{i:03}"),
            location_id: Some("L".into()),
            ..Contact::default()
        };
        store.insert_contact(ContactRec {
            contact,
            added_ms: *ms,
        });
    }
    store
}

#[test]
fn paging_with_tied_timestamps_has_no_gap_and_no_repeat() {
    // 3 items per page over runs of equal milliseconds that straddle page boundaries.
    let times = [5, 5, 5, 5, 5, 4, 4, 9, 9, 9, 9, 1, 5, 5, 0, 9, 9];
    let store = store_with(&times);
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page: Vec<&ContactRec> = store.walk("L", cursor.clone()).take(3).collect();
        let Some(last) = page.last() else { break };
        cursor = Some((Reverse(last.added_ms), last.contact.id.clone()));
        seen.extend(page.iter().map(|r| (r.added_ms, r.contact.id.clone())));
    }
    assert_eq!(seen.len(), times.len());
    let mut expected = seen.clone();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    expected.dedup();
    assert_eq!(
        seen, expected,
        "newest first, id ascending on ties, each once"
    );
    assert_eq!(store.walk("other", None).count(), 0);
}

#[test]
fn iso_parsing_is_lenient_like_class_validator() {
    assert!(parse_iso("2021-07-08T02:30:00.000Z", utc()).is_some());
    assert!(parse_iso("2021-07-08T02:30:00+05:30", utc()).is_some());
    assert!(parse_iso("2021-07-08T02:30:00", utc()).is_some());
    assert!(parse_iso("2021-07-08", utc()).is_some());
    assert!(parse_iso("tomorrow", utc()).is_none());
    assert_eq!(fmt_ms(0), "1970-01-01T00:00:00.000Z");
}

mod index_agrees_with_a_scan {
    use proptest::prelude::*;

    use super::*;

    // Few values, so that contacts collide often; cases, blanks and punctuation included.
    const EMAILS: &[&str] = &[
        "a@x.io", "A@X.IO", " a@x.io ", "b@x.io", "É@x.io", "é@x.io", "", "  ",
    ];
    const PHONES: &[&str] = &[
        "+1 (415) 555-0123",
        "14155550123",
        "555-0123",
        "5550123",
        "555012",
        "12",
        "",
    ];
    const LOCATIONS: &[&str] = &["L", "M"];

    #[derive(Clone, Debug)]
    enum Op {
        Insert {
            location: usize,
            added_ms: i64,
            email: Option<usize>,
            phone: Option<usize>,
        },
        Edit {
            which: usize,
            email: Option<usize>,
            phone: Option<usize>,
            move_to: Option<usize>,
        },
        Remove {
            which: usize,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        let email = proptest::option::of(0..EMAILS.len());
        let phone = proptest::option::of(0..PHONES.len());
        prop_oneof![
            3 => (0..LOCATIONS.len(), 0..4i64, email.clone(), phone.clone()).prop_map(
                |(location, added_ms, email, phone)| Op::Insert { location, added_ms, email, phone }
            ),
            3 => (any::<usize>(), email, phone, proptest::option::of(0..LOCATIONS.len()))
                .prop_map(|(which, email, phone, move_to)| Op::Edit { which, email, phone, move_to }),
            1 => any::<usize>().prop_map(|which| Op::Remove { which }),
        ]
    }

    /// The rule as it was written before the index: walk the location, first match wins.
    fn scan<'a>(
        store: &'a Store,
        location: &str,
        email: Option<&str>,
        phone: Option<&str>,
        except: Option<&str>,
    ) -> Option<(&'a str, &'static str)> {
        let mut walk: Vec<&ContactRec> = store
            .contacts()
            .filter(|r| r.contact.location_id.as_deref().unwrap_or_default() == location)
            .filter(|r| Some(r.contact.id.as_str()) != except)
            .collect();
        walk.sort_by_key(|r| r.key());
        if let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) {
            let found = walk.iter().find(|r| {
                r.contact
                    .email
                    .as_deref()
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(email))
            });
            if let Some(r) = found {
                return Some((r.contact.id.as_str(), "email"));
            }
        }
        let digits = phone.map(phone_digits).filter(|d| d.len() >= 7)?;
        walk.iter()
            .find(|r| r.contact.phone.as_deref().map(phone_digits).as_deref() == Some(&digits))
            .map(|r| (r.contact.id.as_str(), "phone"))
    }

    fn check(store: &Store, excepts: &[Option<&str>]) {
        for &except in excepts {
            for location in LOCATIONS {
                let mut walked: Vec<Key> =
                    store.walk(location, None).map(ContactRec::key).collect();
                let mut expected: Vec<Key> = store
                    .contacts()
                    .filter(|r| r.contact.location_id.as_deref() == Some(location))
                    .map(ContactRec::key)
                    .collect();
                expected.sort();
                assert_eq!(walked.len(), store.count_in(location));
                walked.dedup();
                assert_eq!(walked, expected, "walk order of {location}");
                let emails = EMAILS.iter().map(|e| Some(*e)).chain([None]);
                for email in emails {
                    let phones = PHONES.iter().map(|p| Some(*p)).chain([None]);
                    for phone in phones {
                        let indexed = store
                            .find_duplicate(location, email, phone, except)
                            .map(|(r, field)| (r.contact.id.as_str(), field));
                        assert_eq!(
                            indexed,
                            scan(store, location, email, phone, except),
                            "{location} {email:?} {phone:?} except {except:?}"
                        );
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn after_inserts_edits_and_removals(ops in proptest::collection::vec(op(), 1..40)) {
            let mut store = Store::default();
            let mut ids: Vec<String> = Vec::new();
            for (n, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert { location, added_ms, email, phone } => {
                        let id = format!("c{n:03}");
                        let contact = Contact {
                            id: id.clone(),
                            location_id: Some(LOCATIONS[location].into()),
                            email: email.map(|e| EMAILS[e].into()),
                            phone: phone.map(|p| PHONES[p].into()),
                            ..Contact::default()
                        };
                        store.insert_contact(ContactRec { contact, added_ms });
                        ids.push(id);
                    }
                    Op::Edit { which, email, phone, move_to } => {
                        let Some(id) = ids.get(which % ids.len().max(1)) else { continue };
                        let location = store.contact(id).and_then(|r| r.contact.location_id.clone());
                        let location = location.unwrap_or_default();
                        // A wrong location is refused and changes nothing.
                        let other = if location == "L" { "M" } else { "L" };
                        prop_assert!(store.edit_contact(id, other, |c| c.email = None).is_err());
                        let edited = store.edit_contact(id, &location, |c| {
                            c.email = email.map(|e| EMAILS[e].into());
                            c.phone = phone.map(|p| PHONES[p].into());
                            if let Some(to) = move_to {
                                c.location_id = Some(LOCATIONS[to].into());
                            }
                        });
                        prop_assert!(edited.is_ok());
                    }
                    Op::Remove { which } => {
                        if ids.is_empty() { continue; }
                        let id = ids.remove(which % ids.len());
                        prop_assert!(store.remove_contact(&id).is_some());
                        prop_assert!(store.contact(&id).is_none());
                    }
                }
                check(&store, &[None]);
            }
            let mut excepts: Vec<Option<&str>> = ids.iter().map(|id| Some(id.as_str())).collect();
            excepts.push(Some("gone"));
            check(&store, &excepts);
        }
    }
}
