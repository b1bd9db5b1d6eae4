//! Read-only answers for the console: the contact list, one contact in full, and children
//! across all contacts (`children.rs`). They read the store and, for the detail, both APIs
//! (three GHL requests and one peer request per detail).

mod children;

pub use children::{ParentIndex, children};

use super::protocol::{ContactDetail, ContactList, ContactRef, ContactRow, RowState};
use crate::peers::EntityKind;
use crate::store::{Direction, OpState, display_name, sort_name};
use crate::sync::mapping::preview;
use crate::sync::{SyncContext, SyncError, differing_targets, in_step};
use serde_json::Value;
use std::collections::HashMap;

/// How far back the detail looks for a record's history.
const HISTORY_SCAN: usize = 20_000;

/// Contacts sorted by name (case-insensitively, then by peer id), with their sync state: the
/// first `limit`, or all. Linked contacts come from the store's contact list, which is kept in
/// that order (`store/contact_list.rs`), so a first page is a short scan; contacts whose first
/// write failed are known only by their operation and are merged in by the same key.
pub fn contacts(ctx: &SyncContext, limit: Option<usize>) -> Result<ContactList, SyncError> {
    let peer = ctx.peer_name();
    let failed = ctx.failed_queue()?;
    let mut open: HashMap<String, RowState> = HashMap::new();
    for op in &failed {
        if op.kind != EntityKind::Contact {
            continue;
        }
        let state = match op.state {
            OpState::RetryScheduled { .. } => RowState::Queued,
            _ => RowState::Failed,
        };
        let id = match op.direction {
            Direction::ToGhl => op.source_id.clone(),
            Direction::ToPeer => op.target_id.clone().unwrap_or(op.source_id.clone()),
        };
        open.insert(id, state);
    }
    // One more than asked for tells whether the list goes on.
    let mut entries = ctx.store.contact_list(peer, limit.map(|n| n + 1))?;
    let complete = limit.is_none_or(|n| entries.len() <= n);
    if let Some(limit) = limit {
        entries.truncate(limit);
    }
    let mut rows = Vec::with_capacity(entries.len() + open.len());
    for entry in entries {
        rows.push(ContactRow {
            state: open.remove(&entry.peer_id).unwrap_or(RowState::Synced),
            name: entry.name,
            peer_id: Some(entry.peer_id),
            ghl_id: Some(entry.ghl_id),
            email: entry.email,
            phone: entry.phone,
            company: entry.company,
            last_at: entry.synced_at,
        });
    }
    // What is left of `open` is either past this page or known only by its operation. Only
    // unlinked contacts get rows of their own, and on a partial page only those that sort
    // within it (the rest come with the full list).
    let mut unlinked = Vec::new();
    let mut ghl_only = std::collections::HashSet::new();
    for op in failed {
        if op.kind != EntityKind::Contact {
            continue;
        }
        if op.direction == Direction::ToPeer {
            // A GHL contact whose create in the peer failed: known by its GHL id alone, so
            // the console can list it, find it by that id and open it.
            let unlinked_ghl = op.action == crate::store::Action::Create
                && !ghl_only.contains(&op.source_id)
                && ctx
                    .store
                    .peer_id_for(peer, EntityKind::Contact, &op.source_id)?
                    .is_none();
            if unlinked_ghl {
                ghl_only.insert(op.source_id.clone());
                unlinked.push(ghl_only_row(&op));
            }
            continue;
        }
        let Some(state) = open.remove(&op.source_id) else {
            continue;
        };
        if ctx
            .store
            .link(peer, EntityKind::Contact, &op.source_id)?
            .is_some()
        {
            continue;
        }
        // The peer's record through the mapping, as GHL would hold it: a peer's own field
        // names are the connector's business, not the console's.
        let mapped = serde_json::from_value::<crate::peers::PeerRecord>(op.source.clone())
            .ok()
            .and_then(|record| Some(ctx.entity(EntityKind::Contact).ok()?.to_ghl(&record).fields))
            .unwrap_or_default();
        let text = |key: &str| {
            mapped
                .get(key)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_string)
        };
        unlinked.push(ContactRow {
            name: display_name(
                text("firstName"),
                text("lastName"),
                text("companyName"),
                &op.source_id,
            ),
            peer_id: Some(op.source_id.clone()),
            ghl_id: None,
            email: text("email"),
            phone: text("phone"),
            company: text("companyName"),
            state,
            last_at: Some(op.updated_at),
        });
    }
    if !complete {
        let last = rows
            .last()
            .map(|row| (sort_name(&row.name), row.peer_id.clone()));
        unlinked.retain(|row| {
            last.as_ref()
                .is_some_and(|last| (sort_name(&row.name), row.peer_id.clone()) <= *last)
        });
    }
    if !unlinked.is_empty() {
        rows.extend(unlinked);
        // Stable, and each name lowercased once (not twice per comparison).
        rows.sort_by_cached_key(|row| (sort_name(&row.name), row.peer_id.clone()));
    }
    Ok(ContactList { rows, complete })
}

/// The row of a GHL contact whose create in the peer failed (`op`, GHL → peer): its name and
/// keys from the GHL record the operation holds.
fn ghl_only_row(op: &crate::store::Operation) -> ContactRow {
    let text = |key: &str| {
        op.source
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    };
    ContactRow {
        name: display_name(
            text("firstName"),
            text("lastName"),
            text("companyName"),
            &op.source_id,
        ),
        peer_id: None,
        ghl_id: Some(op.source_id.clone()),
        email: text("email"),
        phone: text("phone"),
        company: text("companyName"),
        state: match op.state {
            OpState::RetryScheduled { .. } => RowState::Queued,
            _ => RowState::Failed,
        },
        last_at: Some(op.updated_at),
    }
}

/// One contact in full, by peer id or GHL id. A GHL id linked to a peer record gives that
/// record's detail; one not linked yet gives GHL's side alone (no peer record, no mapped
/// difference) with its history.
pub async fn contact_detail(
    ctx: &SyncContext,
    fields: &super::mapping_ops::LocationFields,
    contact: &ContactRef,
) -> Result<ContactDetail, SyncError> {
    let peer = ctx.peer_name().to_string();
    let (peer_id, ghl_id) = match contact {
        ContactRef::Peer(peer_id) => {
            let link = ctx.store.link(&peer, EntityKind::Contact, peer_id)?;
            (Some(peer_id.clone()), link.map(|l| l.ghl_id))
        }
        ContactRef::Ghl(ghl_id) => {
            let linked = ctx.store.peer_id_for(&peer, EntityKind::Contact, ghl_id)?;
            (linked, Some(ghl_id.clone()))
        }
    };
    let mut problems = Vec::new();
    // The mapping as a run uses it: custom fields by the ids the location gives their keys, so
    // the mapped values, GHL's values and the comparison are the planner's own.
    let resolved = match fields.resolved(ctx).await {
        Ok(resolved) => Some(resolved),
        Err(err) => {
            problems.push(format!("custom fields not resolved: {err}"));
            None
        }
    };
    let planner = resolved.as_ref().unwrap_or(ctx);
    let mapping = &planner.mapping;
    let peer_record = match &peer_id {
        Some(peer_id) => match ctx.peer.get(EntityKind::Contact, peer_id).await {
            Ok(record) => record,
            Err(err) => {
                problems.push(format!("{peer}: {err}"));
                None
            }
        },
        None => None,
    };
    let preview_rows = match (&peer_record, mapping.entity(EntityKind::Contact)) {
        (Some(record), Some(entity)) => preview(entity, record),
        _ => Vec::new(),
    };
    let (mut ghl, mut tasks, mut notes, mut appointments) =
        (None, Vec::new(), Vec::new(), Vec::new());
    if let Some(id) = &ghl_id {
        match ctx.ghl.get_contact(id).await {
            Ok(found) => ghl = serde_json::to_value(found.contact).ok(),
            Err(err) => problems.push(format!("GHL: {err}")),
        }
        match ctx.ghl.list_tasks(id).await {
            Ok(list) => tasks = list.tasks,
            Err(err) => problems.push(format!("GHL tasks: {err}")),
        }
        match ctx.ghl.list_notes(id).await {
            Ok(list) => notes = list.notes,
            Err(err) => problems.push(format!("GHL notes: {err}")),
        }
        match ctx.ghl.list_contact_appointments(id).await {
            Ok(list) => appointments = list.events,
            Err(err) => problems.push(format!("GHL appointments: {err}")),
        }
    }
    let baseline = match &peer_id {
        Some(peer_id) => ctx.store.baseline(&peer, EntityKind::Contact, peer_id)?,
        None => None,
    };
    let differences = match (&peer_record, &ghl, mapping.entity(EntityKind::Contact)) {
        (Some(record), Some(ghl_json), Some(entity)) => {
            let keys = planner.ghl_keys(EntityKind::Contact)?;
            if baseline
                .as_ref()
                .is_some_and(|base| in_step(entity, record, ghl_json, &keys, base))
            {
                Vec::new()
            } else {
                differing_targets(entity, record, ghl_json, &keys)
            }
        }
        _ => Vec::new(),
    };
    let ghl_now = match (&ghl, mapping.entity(EntityKind::Contact)) {
        (Some(ghl_json), Some(entity)) => preview_rows
            .iter()
            .filter_map(|row| {
                entity
                    .ghl_now(&row.target, ghl_json)
                    .map(|value| (row.target.clone(), value))
            })
            .collect(),
        _ => Default::default(),
    };
    let history = ctx
        .store
        .log_tail(HISTORY_SCAN)?
        .into_iter()
        .filter(|entry| {
            entry.kind == EntityKind::Contact
                && ((peer_id.is_some() && entry.peer_id == peer_id)
                    || (ghl_id.is_some() && entry.ghl_id == ghl_id))
        })
        .collect::<Vec<_>>();
    Ok(ContactDetail {
        peer_id,
        ghl_id,
        peer: peer_record,
        ghl,
        preview: preview_rows,
        differences,
        ghl_now,
        history,
        tasks,
        notes,
        appointments,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ghl::{AuthSettings, ClientSettings, GhlClient};
    use crate::net::ErrorClass;
    use crate::peers::repsly::{RepslyPeer, RepslySettings};
    use crate::store::{Action, Baseline, Direction, OpError, Operation, Store};
    use crate::sync::mapping::Mapping;
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use std::sync::Arc;

    fn context(store: Store) -> SyncContext {
        let ghl = GhlClient::new(ClientSettings::new(
            "http://127.0.0.1:9",
            "location",
            AuthSettings::PrivateToken(crate::config::Secret::new("token")),
        ))
        .expect("client");
        let peer = RepslyPeer::new(RepslySettings {
            base_url: "http://127.0.0.1:9".into(),
            username: "user".into(),
            password: crate::config::Secret::new("password"),
            ..RepslySettings::default()
        })
        .expect("peer");
        SyncContext {
            store,
            ghl,
            peer: Arc::new(peer),
            mapping: Mapping::builtin("repsly").expect("mapping"),
            settings: Default::default(),
            events: None,
        }
    }

    fn op(store: &Store, source_id: &str, direction: Direction, state: OpState) -> Operation {
        let at = Utc.timestamp_opt(1_780_000_000, 0).single().unwrap();
        Operation {
            id: store.new_op_id().unwrap(),
            peer: "repsly".into(),
            kind: EntityKind::Contact,
            direction,
            action: Action::Create,
            source_id: source_id.into(),
            target_id: (direction == Direction::ToPeer).then(|| format!("P-{source_id}")),
            target_parent_id: None,
            payload: json!({}),
            source: json!({"kind": "contact", "id": source_id, "fields": {"ContactName": format!("Queued {source_id}"), "Email": "q@example.com"}}),
            mapping_fingerprint: "f".into(),
            planned_against: None,
            source_hash: None,
            parent_id: None,
            upsert_by: None,
            state,
            attempts: 1,
            error: Some(OpError {
                class: ErrorClass::Validation,
                status: Some(422),
                message: "no".into(),
                trace_id: None,
                reason: None,
                field: None,
            }),
            created_at: at,
            updated_at: at,
            run_id: None,
        }
    }

    /// The list as it was built before the store kept it: one pass over the links, a baseline
    /// read per link, one sort.
    fn reference(ctx: &SyncContext) -> Vec<ContactRow> {
        let mut open: HashMap<String, RowState> = HashMap::new();
        for op in ctx.failed_queue().unwrap() {
            let state = match op.state {
                OpState::RetryScheduled { .. } => RowState::Queued,
                _ => RowState::Failed,
            };
            let id = match op.direction {
                Direction::ToGhl => op.source_id.clone(),
                Direction::ToPeer => op.target_id.clone().unwrap_or(op.source_id.clone()),
            };
            open.insert(id, state);
        }
        let mut rows = Vec::new();
        for (peer_id, link) in ctx.store.links("repsly", EntityKind::Contact).unwrap() {
            let baseline = ctx
                .store
                .baseline("repsly", EntityKind::Contact, &peer_id)
                .unwrap();
            let fields = baseline
                .as_ref()
                .map(|b| b.fields.clone())
                .unwrap_or_default();
            let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_string);
            rows.push(ContactRow {
                state: open.remove(&peer_id).unwrap_or(RowState::Synced),
                name: display_name(
                    text("firstName"),
                    text("lastName"),
                    text("companyName"),
                    &peer_id,
                ),
                peer_id: Some(peer_id),
                ghl_id: Some(link.ghl_id),
                email: text("email"),
                phone: text("phone"),
                company: text("companyName"),
                last_at: baseline.map(|b| b.synced_at),
            });
        }
        for op in ctx.failed_queue().unwrap() {
            if op.direction == Direction::ToPeer {
                let linked = ctx
                    .store
                    .peer_id_for("repsly", EntityKind::Contact, &op.source_id)
                    .unwrap();
                if linked.is_none() {
                    rows.push(ghl_only_row(&op));
                }
                continue;
            }
            let Some(state) = open.remove(&op.source_id) else {
                continue;
            };
            let record: crate::peers::PeerRecord =
                serde_json::from_value(op.source.clone()).unwrap();
            let mapped = ctx
                .mapping
                .entity(EntityKind::Contact)
                .unwrap()
                .to_ghl(&record)
                .fields;
            let text = |key: &str| mapped.get(key).and_then(Value::as_str).map(str::to_string);
            rows.push(ContactRow {
                name: display_name(
                    text("firstName"),
                    text("lastName"),
                    text("companyName"),
                    &op.source_id,
                ),
                peer_id: Some(op.source_id.clone()),
                ghl_id: None,
                email: text("email"),
                phone: text("phone"),
                company: text("companyName"),
                state,
                last_at: Some(op.updated_at),
            });
        }
        rows.sort_by_key(|row| (row.name.to_lowercase(), row.peer_id.clone()));
        rows
    }

    fn seeded(linked: usize) -> (tempfile::TempDir, SyncContext) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let names = ["Émile Zola", "ada Lovelace", "Ada Byron", "", "zed"];
        for i in 0..linked {
            let id = format!("C{i:05}");
            store
                .set_link("repsly", EntityKind::Contact, &id, &format!("g{i}"))
                .unwrap();
            // Every seventh contact has no baseline yet; names repeat, so ties are common.
            if i % 7 != 3 {
                let name = names[i % names.len()];
                let (first, last) = name.split_once(' ').unwrap_or((name, ""));
                let fields = json!({"firstName": first, "lastName": last,
                    "companyName": format!("Shop {}", i % 11), "email": format!("c{i}@example.com"),
                    "phone": format!("+1555{i:07}")});
                let baseline = Baseline {
                    peer_hash: "p".into(),
                    ghl_hash: "g".into(),
                    fields: fields.as_object().cloned().unwrap(),
                    synced_at: Utc
                        .timestamp_opt(1_780_000_000 + i as i64, 0)
                        .single()
                        .unwrap(),
                };
                store
                    .set_baseline("repsly", EntityKind::Contact, &id, &baseline)
                    .unwrap();
            }
        }
        let failed = [
            ("C00002", Direction::ToGhl, OpState::Failed),
            ("C00005", Direction::ToGhl, OpState::Dead),
            ("U001", Direction::ToGhl, OpState::Failed),
            (
                "U001",
                Direction::ToGhl,
                OpState::RetryScheduled {
                    next_at: Utc::now(),
                },
            ),
            (
                "U002",
                Direction::ToGhl,
                OpState::RetryScheduled {
                    next_at: Utc::now(),
                },
            ),
            ("C00004", Direction::ToPeer, OpState::Failed),
        ];
        for (id, direction, state) in failed {
            let op = op(&store, id, direction, state);
            store.update_operation(&op, None).unwrap();
        }
        (dir, context(store))
    }

    #[test]
    fn the_contact_list_matches_links_and_baselines_whole_or_by_first_page() {
        for linked in [40, 4_219] {
            let (_dir, ctx) = seeded(linked);
            let list = contacts(&ctx, None).unwrap();
            assert!(list.complete);
            let rows = list.rows;
            assert_eq!(rows, reference(&ctx), "{linked} linked contacts");
            assert_eq!(
                rows.len(),
                linked + 3,
                "two known only by their operation, one by its GHL id"
            );
            let state = |id: &str| {
                rows.iter()
                    .find(|r| r.peer_id.as_deref() == Some(id))
                    .map(|r| r.state)
            };
            let ghl_only = rows.iter().find(|r| r.peer_id.is_none());
            assert_eq!(
                ghl_only.map(|r| (r.ghl_id.as_deref(), r.state)),
                Some((Some("C00004"), RowState::Failed)),
                "a GHL contact whose create in the peer failed is listed by its GHL id"
            );
            assert_eq!(state("C00002"), Some(RowState::Failed));
            assert_eq!(state("C00001"), Some(RowState::Synced));
            assert_eq!(state("U001"), Some(RowState::Queued), "the last op's state");
            assert_eq!(state("U002"), Some(RowState::Queued));
            // A first page is the head of the whole list, unlinked contacts included.
            for limit in [1, 7, 25, linked - 1] {
                let page = contacts(&ctx, Some(limit)).unwrap();
                assert!(!page.complete, "{limit} of {}", rows.len());
                assert!(page.rows.len() >= limit);
                assert_eq!(page.rows[..], rows[..page.rows.len()], "first {limit}");
            }
            // A limit that takes in every linked contact is the whole list: nothing follows.
            for limit in [linked, rows.len()] {
                let all = contacts(&ctx, Some(limit)).unwrap();
                assert!(all.complete, "limit {limit}");
                assert_eq!(all.rows, rows);
            }
        }
    }

    /// A seeded store, closed so a test can rewrite it as an older release left it: its
    /// directory, its path and its contact list.
    fn seeded_then_closed(
        linked: usize,
    ) -> (tempfile::TempDir, std::path::PathBuf, Vec<ContactRow>) {
        let (dir, ctx) = seeded(linked);
        let expected = contacts(&ctx, None).unwrap().rows;
        let path = ctx.store.path().to_path_buf();
        (dir, path, expected)
    }

    /// Makes a raw store say it was written by schema `version`, as an older release left it.
    fn mark_schema(db: &sled::Db, version: u32) {
        db.open_tree("meta")
            .unwrap()
            .insert(
                "schema_version",
                crate::store::codec::encode(&version).unwrap(),
            )
            .unwrap();
        db.flush().unwrap();
    }

    #[test]
    fn a_store_of_schema_1_gets_its_contact_list_built_when_opened() {
        let (dir, path, expected) = seeded_then_closed(60);
        {
            // What a schema-1 store looks like: no contact list trees' content.
            let db = sled::open(&path).unwrap();
            db.open_tree("contact_list").unwrap().clear().unwrap();
            mark_schema(&db, 1u32);
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            crate::store::SCHEMA_VERSION
        );
        let ctx = context(store);
        assert_eq!(contacts(&ctx, None).unwrap().rows, expected);
        drop(dir);
    }

    #[test]
    fn a_store_of_schema_2_moves_list_names_onto_links_and_renames_still_leave_no_old_entry() {
        let (dir, path, expected) = seeded_then_closed(10);
        {
            // What a schema-2 store looks like: links without names, the names in a tree.
            let db = sled::open(&path).unwrap();
            let (idmap, keys) = (
                db.open_tree("idmap").unwrap(),
                db.open_tree("contact_list_keys").unwrap(),
            );
            for item in idmap.iter() {
                let (key, value) = item.unwrap();
                if !key.starts_with(b"repsly/contact/") {
                    continue;
                }
                let mut link: crate::store::IdLink =
                    crate::store::codec::decode("idmap", &key, &value).unwrap();
                let name = link.listed_as.take().expect("a linked contact is listed");
                let peer_id = String::from_utf8_lossy(&key).replace("/contact/", "/");
                keys.insert(peer_id, crate::store::codec::encode(&name).unwrap())
                    .unwrap();
                idmap
                    .insert(key, crate::store::codec::encode(&link).unwrap())
                    .unwrap();
            }
            mark_schema(&db, 2u32);
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            crate::store::SCHEMA_VERSION
        );
        let link = store
            .link("repsly", EntityKind::Contact, "C00009")
            .unwrap()
            .unwrap();
        assert!(link.listed_as.is_some(), "{link:?}");
        let ctx = context(store);
        assert_eq!(contacts(&ctx, None).unwrap().rows, expected);
        rename_c00009_to_aaron(&ctx);
        let after = contacts(&ctx, None).unwrap().rows;
        assert_eq!(after.len(), expected.len(), "the old entry is gone");
        assert_eq!(after[0].name, "Aaron Aardvark");
        drop(ctx);
        let db = sled::open(&path).unwrap();
        assert!(
            !db.tree_names()
                .iter()
                .any(|name| &name[..] == b"contact_list_keys"),
            "the retired tree is dropped"
        );
        drop(dir);
    }

    fn rename_c00009_to_aaron(ctx: &SyncContext) {
        let baseline = Baseline {
            peer_hash: "p".into(),
            ghl_hash: "g".into(),
            fields: json!({"firstName": "Aaron", "lastName": "Aardvark"})
                .as_object()
                .cloned()
                .unwrap(),
            // The list keeps milliseconds.
            synced_at: Utc.timestamp_opt(1_790_000_000, 0).single().unwrap(),
        };
        ctx.store
            .set_baseline("repsly", EntityKind::Contact, "C00009", &baseline)
            .unwrap();
    }

    #[test]
    fn a_renamed_contact_moves_in_the_list_and_leaves_no_old_entry() {
        let (_dir, ctx) = seeded(10);
        let before = contacts(&ctx, None).unwrap().rows;
        rename_c00009_to_aaron(&ctx);
        let after = contacts(&ctx, None).unwrap().rows;
        assert_eq!(after.len(), before.len());
        assert_eq!(after[0].peer_id.as_deref(), Some("C00009"));
        assert_eq!(after[0].name, "Aaron Aardvark");
        assert_eq!(after, reference(&ctx));
    }
}
