//! Walking a peer's change pages. The records of one page are written concurrently, in lanes:
//! records that could touch the same GHL record (same peer id, email, phone or linked GHL id)
//! share a lane and go one after another, so two of them can never race to create the same
//! contact. Up to `lanes` lanes run at once, each taking its next record as soon as the last
//! one has committed. The cursor moves past a page only once every lane of it has committed or
//! durably queued its records.

use super::context::SyncError;
use super::mapping::MappedRecord;
use super::run::{MAX_PAGES, Run};
use crate::peers::{ChangeDetection, EntityKind, PeerRecord};
use crate::store::IdLink;
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;

/// A record as it arrives. For contacts, its GHL-side fields and its id link:
/// read once, as both the lane keys and the write need them (no other lane can link this peer
/// id in the meantime).
pub(super) struct Arrival {
    pub record: PeerRecord,
    pub mapped: Option<MappedRecord>,
    pub link: Option<IdLink>,
}

impl Run<'_> {
    /// Walks one entity's change pages from its cursor.
    pub(super) async fn peer_pages(&self, kind: EntityKind) -> Result<(), SyncError> {
        let ctx = self.ctx;
        let peer = ctx.peer_name().to_string();
        let capabilities = ctx.peer.capabilities();
        let of_kind = || capabilities.iter().filter(|cap| cap.kind == kind);
        if !of_kind().any(|cap| cap.read) {
            return Ok(());
        }
        let uses_cursor = of_kind().any(|cap| cap.changes == ChangeDetection::Cursor);
        let mut cursor = if self.options.full || !uses_cursor {
            None
        } else {
            ctx.store.cursor(&peer, kind)?
        };
        for _ in 0..MAX_PAGES {
            let page = ctx.peer.fetch_changes(kind, cursor.as_deref()).await?;
            self.page(kind, page.records).await?;
            if self.limit_reached() {
                // The page may be partly done: read it again next run (baselines skip the rest).
                return Ok(());
            }
            if let Some(next) = page.next_cursor {
                // Every record of the page is committed or durably queued by now.
                if !self.dry_run && uses_cursor {
                    ctx.store.set_cursor(&peer, kind, &next)?;
                    crate::failpoint::pass("cursor")
                        .await
                        .map_err(|_| super::execute::failpoint_store_error("cursor"))?;
                    ctx.peer.page_committed(kind, &next).await?;
                }
                cursor = Some(next);
            }
            if page.done {
                // Every record that could be a surveyed contact's child was matched by now.
                return self.mark_surveys(kind);
            }
        }
        Ok(())
    }

    async fn page(&self, kind: EntityKind, records: Vec<PeerRecord>) -> Result<(), SyncError> {
        let entity = self.ctx.entity(kind)?;
        let mut keyed = Vec::with_capacity(records.len());
        for record in records {
            let is_contact = kind == EntityKind::Contact;
            // Inactive contacts too: their match keys are filed (`Run::peer_contact`).
            let mapped = is_contact.then(|| entity.to_ghl(&record));
            let link = if is_contact {
                self.ctx
                    .store
                    .link(self.ctx.peer_name(), kind, &record.id)?
            } else {
                None
            };
            let arrival = Arrival {
                record,
                mapped,
                link,
            };
            let keys = lane_keys(&arrival);
            keyed.push((arrival, keys));
        }
        self.in_lanes(keyed, |arrival| self.record(arrival)).await
    }

    /// Runs `each` on every item, items that share a key one after another in their order (a
    /// lane), up to `lanes` lanes at once; returns once every item is done, or at the first
    /// error. A dry run's plan and a `--limit` are easier to read and exact one at a time.
    pub(super) async fn in_lanes<T, F, Fut>(
        &self,
        items: Vec<(T, Vec<String>)>,
        each: F,
    ) -> Result<(), SyncError>
    where
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<(), SyncError>>,
    {
        let width = if self.dry_run || self.options.limit.is_some() {
            1
        } else {
            self.ctx.settings.lanes.max(1)
        };
        let each = &each;
        futures::stream::iter(lanes(items).into_iter().map(|lane| async move {
            for item in lane {
                each(item).await?;
            }
            Ok(())
        }))
        .buffer_unordered(width)
        .try_collect::<()>()
        .await
    }

    async fn record(&self, arrival: Arrival) -> Result<(), SyncError> {
        if self.limit_reached() {
            return Ok(());
        }
        if arrival.record.kind == EntityKind::Contact {
            self.peer_contact(arrival).await
        } else {
            self.peer_child(arrival.record).await
        }
    }
}

/// What a record could collide on with another record of its page.
fn lane_keys(arrival: &Arrival) -> Vec<String> {
    let mut keys = vec![format!("id:{}", arrival.record.id)];
    if let Some(parent) = &arrival.record.parent_id {
        // One contact's children go one after another: each may list that contact's children
        // in GHL and adopt one, which two lanes must not do at once.
        keys.push(format!("parent:{parent}"));
    }
    if let Some(mapped) = arrival.mapped.as_ref().filter(|_| arrival.record.active) {
        keys.extend(super::identity::contact_keys(&mapped.fields));
    }
    if let Some(link) = &arrival.link {
        keys.push(format!("ghl:{}", link.ghl_id));
    }
    keys
}

/// Groups items into lanes: items that share any key end up in the same lane, in their original
/// order; lanes are ordered by their first item.
pub(super) fn lanes<T>(items: Vec<(T, Vec<String>)>) -> Vec<Vec<T>> {
    // Union-find over item indices, joined through the keys they share.
    let mut parent: Vec<usize> = (0..items.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, (_, keys)) in items.iter().enumerate() {
        for key in keys {
            if let Some(&other) = owner.get(key.as_str()) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, other));
                // The earlier item's root stays the root, so a lane keeps its first item's place.
                parent[a.max(b)] = a.min(b);
            } else {
                owner.insert(key, i);
            }
        }
    }
    let roots: Vec<usize> = (0..items.len()).map(|i| root(&mut parent, i)).collect();
    let mut lane_of_root: HashMap<usize, usize> = HashMap::new();
    let mut lanes: Vec<Vec<T>> = Vec::new();
    for ((item, _), root) in items.into_iter().zip(roots) {
        let lane = *lane_of_root.entry(root).or_insert_with(|| {
            lanes.push(Vec::new());
            lanes.len() - 1
        });
        lanes[lane].push(item);
    }
    lanes
}

#[cfg(test)]
mod tests {
    use super::lanes;
    use proptest::prelude::*;

    fn keyed(spec: &[(u32, &[&str])]) -> Vec<(u32, Vec<String>)> {
        spec.iter()
            .map(|(id, keys)| (*id, keys.iter().map(|k| k.to_string()).collect()))
            .collect()
    }

    #[test]
    fn records_sharing_a_key_share_a_lane_in_order_others_run_apart() {
        let got = lanes(keyed(&[
            (1, &["email:a", "phone:1"]),
            (2, &["email:b"]),
            (3, &["phone:1"]),
            (4, &["email:c", "email:b"]),
            (5, &["email:c"]),
            (6, &["email:d"]),
        ]));
        assert_eq!(got, vec![vec![1, 3], vec![2, 4, 5], vec![6]]);
    }

    #[test]
    fn a_record_joining_two_lanes_merges_them() {
        let got = lanes(keyed(&[
            (1, &["a"]),
            (2, &["b"]),
            (3, &["a", "b"]),
            (4, &["c"]),
        ]));
        assert_eq!(got, vec![vec![1, 2, 3], vec![4]]);
    }

    proptest! {
        /// Every item lands in exactly one lane, lanes keep the input order, and no key is held
        /// by two lanes.
        #[test]
        fn lanes_partition_and_separate_keys(spec in prop::collection::vec(prop::collection::vec(0u8..12, 0..3), 0..40)) {
            let items: Vec<(usize, Vec<String>)> = spec
                .iter()
                .enumerate()
                .map(|(i, keys)| (i, keys.iter().map(|k| k.to_string()).collect()))
                .collect();
            let got = lanes(items.clone());
            let mut seen: Vec<usize> = got.iter().flatten().copied().collect();
            for lane in &got {
                prop_assert!(lane.windows(2).all(|w| w[0] < w[1]));
            }
            seen.sort();
            prop_assert_eq!(seen, (0..items.len()).collect::<Vec<_>>());
            let mut key_lane = std::collections::HashMap::new();
            for (lane_no, lane) in got.iter().enumerate() {
                for i in lane {
                    for key in &items[*i].1 {
                        let first = *key_lane.entry(key.clone()).or_insert(lane_no);
                        prop_assert_eq!(first, lane_no);
                    }
                }
            }
        }
    }
}
