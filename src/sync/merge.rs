//! Field-level three-way merge for two-way contacts (sync-design.md §3): a field changed on one
//! side only takes that side; a field changed on both sides is a conflict decided by the field's
//! authority (peer, GHL, or the later update), and every conflict is reported with both values.
//!
//! Tags are a set, not a value: each side's additions and removals since the base are applied
//! to the other's (`merge_tags`), so a peer writes only the tags it added or dropped, and GHL's
//! other tags (curated by hand, or another peer's) are never replaced by one peer's list.

use super::hash::normalise;
use super::identity::same_contact_value;
use super::mapping::Authority;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub field: String,
    pub base: Value,
    pub peer: Value,
    pub ghl: Value,
    pub rule: String,
    pub winner: &'static str,
}

impl Conflict {
    /// A field both sides hold differently, decided by its authority; under "latest", by which
    /// side changed last (`peer_is_newer`). The one rule for a linked record's merge and for a
    /// first link, which has no base (`Null`): whether a run linked a person before or after a
    /// user's edit must not change which value stands.
    pub fn decide(
        field: &str,
        base: Value,
        peer: Value,
        ghl: Value,
        rule: Authority,
        peer_is_newer: bool,
    ) -> Conflict {
        let winner = match rule {
            Authority::Peer => "peer",
            Authority::Ghl => "ghl",
            Authority::Latest if peer_is_newer => "peer",
            Authority::Latest => "ghl",
        };
        Conflict {
            field: field.to_string(),
            base,
            peer,
            ghl,
            rule: format!("{rule:?}").to_lowercase(),
            winner,
        }
    }

    pub fn peer_wins(&self) -> bool {
        self.winner == "peer"
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merged {
    /// Fields GHL must change to (GHL field names).
    pub to_ghl: Map<String, Value>,
    /// Fields the peer must change to (GHL field names; the mapping turns them into peer fields).
    pub to_peer: Map<String, Value>,
    /// The agreed state of every field.
    pub agreed: Map<String, Value>,
    pub conflicts: Vec<Conflict>,
}

pub fn merge(
    base: &Map<String, Value>,
    peer: &Map<String, Value>,
    ghl: &Map<String, Value>,
    authority: impl Fn(&str) -> Authority,
    peer_is_newer: bool,
) -> Merged {
    let (base, peer, ghl) = (normalise(base), normalise(peer), normalise(ghl));
    let keys: BTreeSet<&String> = peer.keys().chain(ghl.keys()).collect();
    let mut merged = Merged::default();
    for key in keys {
        let b = base.get(key).cloned().unwrap_or(Value::Null);
        let p = peer.get(key).cloned().unwrap_or(Value::Null);
        let g = ghl.get(key).cloned().unwrap_or(Value::Null);
        let same = |x: &Value, y: &Value| same_contact_value(key, x, y);
        let agreed = if key == TAGS {
            merge_tags(Some(&b), &p, &g)
        } else if same(&p, &g) || same(&g, &b) {
            p.clone()
        } else if same(&p, &b) {
            g.clone()
        } else {
            let conflict =
                Conflict::decide(key, b, p.clone(), g.clone(), authority(key), peer_is_newer);
            let value = if conflict.peer_wins() {
                p.clone()
            } else {
                g.clone()
            };
            merged.conflicts.push(conflict);
            value
        };
        if !same(&agreed, &g) {
            merged.to_ghl.insert(key.clone(), agreed.clone());
        }
        if !same(&agreed, &p) {
            merged.to_peer.insert(key.clone(), agreed.clone());
        }
        if !agreed.is_null() {
            merged.agreed.insert(key.clone(), agreed);
        }
    }
    merged
}

const TAGS: &str = "tags";

/// The tags both sides agree on: `base` with each side's additions and removals since it
/// applied (with no base — two records first linked — the union). Compared and returned in the
/// normalised form (trimmed, lowercase, sorted); `Null` for none.
pub fn merge_tags(base: Option<&Value>, peer: &Value, ghl: &Value) -> Value {
    let (peer, ghl) = (tag_set(peer), tag_set(ghl));
    let agreed: BTreeSet<String> = match base {
        None => peer.union(&ghl).cloned().collect(),
        Some(base) => {
            let base = tag_set(base);
            let removed =
                |side: &BTreeSet<String>, tag: &String| base.contains(tag) && !side.contains(tag);
            base.iter()
                .chain(peer.iter())
                .chain(ghl.iter())
                .filter(|tag| !removed(&peer, tag) && !removed(&ghl, tag))
                .cloned()
                .collect()
        }
    };
    if agreed.is_empty() {
        Value::Null
    } else {
        Value::from(agreed.into_iter().collect::<Vec<_>>())
    }
}

/// The tags to send GHL when only the peer changed, or when a peer record is first linked to a
/// GHL contact (`base` `None`): the merge of the peer's tags into GHL's, or `None` when GHL
/// holds them already.
pub fn tags_for_ghl(base: Option<&Value>, peer: &Value, ghl: &Value) -> Option<Value> {
    let merged = merge_tags(base, peer, ghl);
    (tag_set(&merged) != tag_set(ghl)).then(|| {
        if merged.is_null() {
            Value::Array(Vec::new())
        } else {
            merged
        }
    })
}

/// A tag list as `hash::normalise` compares it: trimmed, lowercase, without empties.
fn tag_set(value: &Value) -> BTreeSet<String> {
    let list = Map::from_iter([(TAGS.to_string(), value.clone())]);
    normalise(&list)
        .get(TAGS)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tag| tag.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn tags_merge_as_sets_so_one_side_never_replaces_the_others() {
        let tags = |list: &[&str]| json!(list);
        // The peer added "hot" and dropped "cold"; GHL gained "vip" (by hand, or another peer).
        let merged = merge_tags(
            Some(&tags(&["cold", "lead"])),
            &tags(&["lead", "Hot"]),
            &tags(&["cold", "lead", "vip"]),
        );
        assert_eq!(merged, tags(&["hot", "lead", "vip"]));
        // First linked: the union.
        assert_eq!(
            merge_tags(None, &tags(&["a"]), &tags(&["b"])),
            tags(&["a", "b"])
        );
        // Nothing left is Null, and what GHL holds already is not sent.
        assert_eq!(
            merge_tags(Some(&tags(&["a"])), &json!(null), &tags(&["a"])),
            Value::Null
        );
        assert_eq!(
            tags_for_ghl(Some(&tags(&["a"])), &tags(&["a"]), &tags(&["a", "b"])),
            None
        );
        assert_eq!(
            tags_for_ghl(Some(&tags(&["a"])), &json!(null), &tags(&["a", "b"])),
            Some(tags(&["b"]))
        );
        assert_eq!(
            tags_for_ghl(Some(&tags(&["a"])), &json!(null), &tags(&["a"])),
            Some(json!([]))
        );
        assert_eq!(tags_for_ghl(None, &json!(null), &json!([])), None);
        // In the three-way merge, tags never conflict.
        let merged = merge(
            &map(json!({"tags": ["cold", "lead"]})),
            &map(json!({"tags": ["lead", "hot"]})),
            &map(json!({"tags": ["cold", "lead", "vip"]})),
            |_| Authority::Ghl,
            false,
        );
        assert!(merged.conflicts.is_empty());
        assert_eq!(merged.to_ghl, map(json!({"tags": ["hot", "lead", "vip"]})));
        assert_eq!(merged.to_peer, map(json!({"tags": ["hot", "lead", "vip"]})));
    }

    #[test]
    fn one_sided_changes_flow_and_two_sided_changes_follow_authority() {
        let base = map(json!({"city": "Oslo", "phone": "+471", "email": "a@b.co", "website": "x"}));
        let peer =
            map(json!({"city": "Bergen", "phone": "+472", "email": "a@b.co", "website": "x"}));
        let ghl =
            map(json!({"city": "Oslo", "phone": "+473", "email": "new@b.co", "website": "x"}));
        let authority = |field: &str| {
            if field == "phone" {
                Authority::Peer
            } else {
                Authority::Latest
            }
        };
        let merged = merge(&base, &peer, &ghl, authority, false);
        assert_eq!(
            merged.to_ghl,
            map(json!({"city": "Bergen", "phone": "+472"}))
        );
        assert_eq!(merged.to_peer, map(json!({"email": "new@b.co"})));
        assert_eq!(merged.conflicts.len(), 1);
        assert_eq!(merged.conflicts[0].field, "phone");
        assert_eq!(merged.conflicts[0].winner, "peer");
        assert_eq!(merged.conflicts[0].rule, "peer");
    }

    #[test]
    fn one_number_or_address_written_two_ways_is_agreement_not_a_conflict() {
        // GHL holds the phone as typed, the peer got it back in E.164 (a gap fill); the email
        // differs only in case.
        let base = map(json!({"city": "Oslo"}));
        let peer = map(json!({"city": "Oslo", "phone": "+15550191289", "email": "Ann@B.co"}));
        let ghl = map(json!({"city": "Oslo", "phone": "(555) 019-1289", "email": "ann@b.co"}));
        let merged = merge(&base, &peer, &ghl, |_| Authority::Peer, true);
        assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
        assert!(merged.to_ghl.is_empty(), "{:?}", merged.to_ghl);
        assert!(merged.to_peer.is_empty(), "{:?}", merged.to_peer);
        assert_eq!(merged.agreed["phone"], "+15550191289");
        // A different number is still a change.
        let moved = map(json!({"city": "Oslo", "phone": "+15550191200"}));
        let merged = merge(&base, &moved, &ghl, |_| Authority::Peer, true);
        assert_eq!(merged.to_ghl["phone"], "+15550191200");
    }

    #[test]
    fn latest_decides_when_no_side_is_authoritative() {
        let base = map(json!({"city": "Oslo"}));
        let peer = map(json!({"city": "Bergen"}));
        let ghl = map(json!({"city": "Tromsø"}));
        let newer_peer = merge(&base, &peer, &ghl, |_| Authority::Latest, true);
        assert_eq!(newer_peer.to_ghl["city"], "Bergen");
        let newer_ghl = merge(&base, &peer, &ghl, |_| Authority::Latest, false);
        assert_eq!(newer_ghl.to_peer["city"], "Tromsø");
        assert!(newer_ghl.to_ghl.is_empty());
    }
}
