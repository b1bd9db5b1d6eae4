//! Read-only answers for the console: the contact list, one contact in full, and children
//! across all contacts (`children.rs`). They read the store and, for the detail, both APIs
//! (three GHL requests and one peer request per detail).

mod children;

pub use children::{ParentIndex, children};

use super::protocol::{ContactDetail, ContactRow, RowState};
use crate::peers::EntityKind;
use crate::store::OpState;
use crate::sync::mapping::preview;
use crate::sync::{SyncContext, SyncError};
use serde_json::Value;
use std::collections::HashMap;

/// How far back the detail looks for a record's history.
const HISTORY_SCAN: usize = 20_000;

/// Below this many linked contacts the list is built on the calling thread.
const PARALLEL_FROM: usize = 4_096;

/// Every contact the store knows, sorted by name (case-insensitively). With many contacts the
/// baselines are read and decoded on all cores, in contiguous slices of the links (which come
/// in id order), and the rows keep that order until the one sort at the end.
pub fn contacts(ctx: &SyncContext) -> Result<Vec<ContactRow>, SyncError> {
    let peer = ctx.peer_name().to_string();
    let failed = ctx.store.failed_queue()?;
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
            crate::store::Direction::ToGhl => op.source_id.clone(),
            crate::store::Direction::ToPeer => op.target_id.clone().unwrap_or(op.source_id.clone()),
        };
        open.insert(id, state);
    }
    let links = ctx.store.links(&peer, EntityKind::Contact)?;
    let total = links.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let mut rows = if threads == 1 || links.len() < PARALLEL_FROM {
        linked_rows(ctx, &peer, links, &open)?
    } else {
        let per_thread = links.len().div_ceil(threads);
        let mut parts = Vec::with_capacity(threads);
        let mut rest = links;
        while rest.len() > per_thread {
            let tail = rest.split_off(per_thread);
            parts.push(rest);
            rest = tail;
        }
        parts.push(rest);
        let (peer, open) = (&peer, &open);
        let built = std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .into_iter()
                .map(|part| scope.spawn(move || linked_rows(ctx, peer, part, open)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect::<Vec<_>>()
        });
        // Sized once: the whole list is 100k rows, and doubling it would leave the old copy
        // behind in the heap.
        let mut rows = Vec::with_capacity(total + failed.len());
        for part in built {
            rows.extend(part?);
        }
        rows
    };
    // Linked contacts are listed above; what is left of `open` is known only by its operation.
    // (The rows are still in id order here.)
    open.retain(|id, _| {
        rows.binary_search_by(|row| row.peer_id.as_str().cmp(id))
            .is_err()
    });
    // Records whose first write failed: known only through their operation.
    for op in failed {
        if op.kind != EntityKind::Contact || op.direction != crate::store::Direction::ToGhl {
            continue;
        }
        let Some(state) = open.remove(&op.source_id) else {
            continue;
        };
        let fields = op.source.get("fields").cloned().unwrap_or(Value::Null);
        let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_string);
        rows.push(ContactRow {
            name: display_name(text("ContactName"), None, text("Name"), &op.source_id),
            peer_id: op.source_id.clone(),
            ghl_id: None,
            email: text("Email"),
            phone: text("Phone"),
            state,
            last_at: Some(op.updated_at),
        });
    }
    // Stable, and each name lowercased once (not twice per comparison).
    rows.sort_by_cached_key(|row| row.name.to_lowercase());
    Ok(rows)
}

/// The rows of linked contacts, in the order of `links`: names and contact details from each
/// baseline's GHL-side fields (moved out, not copied).
fn linked_rows(
    ctx: &SyncContext,
    peer: &str,
    links: Vec<(String, crate::store::IdLink)>,
    open: &HashMap<String, RowState>,
) -> Result<Vec<ContactRow>, SyncError> {
    let mut rows = Vec::with_capacity(links.len());
    for (peer_id, link) in links {
        let (mut fields, last_at) = match ctx.store.baseline(peer, EntityKind::Contact, &peer_id)? {
            Some(baseline) => (baseline.fields, Some(baseline.synced_at)),
            None => Default::default(),
        };
        let mut text = |key: &str| match fields.remove(key) {
            Some(Value::String(text)) => Some(text),
            _ => None,
        };
        let (first, last, company) = (text("firstName"), text("lastName"), text("companyName"));
        let (email, phone) = (text("email"), text("phone"));
        rows.push(ContactRow {
            state: open.get(&peer_id).copied().unwrap_or(RowState::Synced),
            name: display_name(first, last, company, &peer_id),
            peer_id,
            ghl_id: Some(link.ghl_id),
            email,
            phone,
            last_at,
        });
    }
    Ok(rows)
}

fn display_name(
    first: Option<String>,
    last: Option<String>,
    company: Option<String>,
    id: &str,
) -> String {
    let person = [first, last]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    match (person.trim().is_empty(), company) {
        (false, _) => person.trim().to_string(),
        (true, Some(company)) if !company.is_empty() => company,
        _ => id.to_string(),
    }
}

pub async fn contact_detail(ctx: &SyncContext, peer_id: &str) -> Result<ContactDetail, SyncError> {
    let peer = ctx.peer_name().to_string();
    let ghl_id = ctx
        .store
        .link(&peer, EntityKind::Contact, peer_id)?
        .map(|l| l.ghl_id);
    let mut problems = Vec::new();
    let peer_record = match ctx.peer.get(EntityKind::Contact, peer_id).await {
        Ok(record) => record,
        Err(err) => {
            problems.push(format!("{peer}: {err}"));
            None
        }
    };
    let preview_rows = match (&peer_record, ctx.mapping.entity(EntityKind::Contact)) {
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
    let history = ctx
        .store
        .log_tail(HISTORY_SCAN)?
        .into_iter()
        .filter(|entry| {
            entry.kind == EntityKind::Contact
                && (entry.peer_id.as_deref() == Some(peer_id)
                    || (ghl_id.is_some() && entry.ghl_id == ghl_id))
        })
        .collect::<Vec<_>>();
    Ok(ContactDetail {
        peer_id: peer_id.to_string(),
        ghl_id,
        peer: peer_record,
        ghl,
        preview: preview_rows,
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
    use crate::ghl::{AuthSettings, ClientSettings, ErrorClass, GhlClient};
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
            source: json!({"fields": {"ContactName": format!("Queued {source_id}"), "Email": "q@example.com"}}),
            mapping_fingerprint: "f".into(),
            planned_against: None,
            state,
            attempts: 1,
            error: Some(OpError {
                class: ErrorClass::Validation,
                status: Some(422),
                message: "no".into(),
                trace_id: None,
            }),
            created_at: at,
            updated_at: at,
            run_id: None,
        }
    }

    /// The list as it was built before it went parallel: one pass, a baseline read per link.
    fn reference(ctx: &SyncContext) -> Vec<ContactRow> {
        let mut open: HashMap<String, RowState> = HashMap::new();
        for op in ctx.store.failed_queue().unwrap() {
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
                peer_id,
                ghl_id: Some(link.ghl_id),
                email: text("email"),
                phone: text("phone"),
                last_at: baseline.map(|b| b.synced_at),
            });
        }
        for op in ctx.store.failed_queue().unwrap() {
            if op.direction != Direction::ToGhl {
                continue;
            }
            let Some(state) = open.remove(&op.source_id) else {
                continue;
            };
            let fields = op.source.get("fields").cloned().unwrap_or(Value::Null);
            let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_string);
            rows.push(ContactRow {
                name: display_name(text("ContactName"), None, text("Name"), &op.source_id),
                peer_id: op.source_id.clone(),
                ghl_id: None,
                email: text("Email"),
                phone: text("Phone"),
                state,
                last_at: Some(op.updated_at),
            });
        }
        rows.sort_by_key(|row| row.name.to_lowercase());
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
    fn the_contact_list_is_the_same_built_on_one_thread_or_on_all() {
        for linked in [40, PARALLEL_FROM + 123] {
            let (_dir, ctx) = seeded(linked);
            let rows = contacts(&ctx).unwrap();
            assert_eq!(rows, reference(&ctx), "{linked} linked contacts");
            assert_eq!(rows.len(), linked + 2, "two known only by their operation");
            let state = |id: &str| rows.iter().find(|r| r.peer_id == id).map(|r| r.state);
            assert_eq!(state("C00002"), Some(RowState::Failed));
            assert_eq!(state("C00001"), Some(RowState::Synced));
            assert_eq!(state("U001"), Some(RowState::Queued), "the last op's state");
            assert_eq!(state("U002"), Some(RowState::Queued));
        }
    }
}
