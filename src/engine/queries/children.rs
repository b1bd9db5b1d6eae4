//! Tasks, notes and appointments across all contacts, a page at a time.
//!
//! The rows come from the store: every child the sync linked to GHL, with the GHL-side fields
//! of its baseline (what GHL holds as of the last sync), plus children whose first write waits
//! in the failed queue. A child's link records the contact it belongs to; for links written
//! before that was recorded, the engine keeps a [`ParentIndex`] learned from the peer's change
//! pages: filled the first time a page on screen needs it, topped up when a page shows a child
//! it has not seen, and kept for the engine's lifetime (a child never changes contact).

use super::display_name;
use crate::engine::protocol::{ChildPage, ChildRow, RowState};
use crate::peers::EntityKind;
use crate::store::OpState;
use crate::sync::{SyncContext, SyncError};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The largest page a caller gets, whatever it asks for.
pub const MAX_PAGE: usize = 1_000;
/// Peer pages read at most while learning parents (a runaway cursor must not loop forever).
const MAX_PEER_PAGES: usize = 2_000;

/// Child peer id → owning contact's peer id, per kind, as the peer reported them.
#[derive(Debug, Default)]
pub struct ParentIndex {
    kinds: HashMap<EntityKind, KindParents>,
}

#[derive(Debug, Default)]
struct KindParents {
    parents: HashMap<String, String>,
    /// Where the next walk of a cursor-based kind resumes; a kind without cursors is re-read.
    cursor: Option<String>,
}

impl ParentIndex {
    fn get(&self, kind: EntityKind, id: &str) -> Option<&String> {
        self.kinds.get(&kind).and_then(|k| k.parents.get(id))
    }

    /// Reads the peer's change pages of `kind` (from where the last walk stopped) and learns
    /// every record's parent. Cursors here are the index's own: the sync's are never touched.
    async fn learn(&mut self, ctx: &SyncContext, kind: EntityKind) -> Result<(), String> {
        let entry = self.kinds.entry(kind).or_default();
        let mut cursor = entry.cursor.clone();
        for _ in 0..MAX_PEER_PAGES {
            let page = ctx
                .peer
                .fetch_changes(kind, cursor.as_deref())
                .await
                .map_err(|err| format!("{} {kind}s: {err}", ctx.peer_name()))?;
            for record in page.records {
                if let Some(parent) = record.parent_id {
                    entry.parents.insert(record.id, parent);
                }
            }
            if page.next_cursor.is_some() {
                cursor = page.next_cursor;
                entry.cursor = cursor.clone();
            }
            if page.done {
                return Ok(());
            }
        }
        Err(format!(
            "{} {kind}s: stopped after {MAX_PEER_PAGES} pages",
            ctx.peer_name()
        ))
    }
}

/// One page of `kind`'s children of every contact.
pub async fn children(
    ctx: &SyncContext,
    parents: &tokio::sync::Mutex<ParentIndex>,
    kind: EntityKind,
    offset: usize,
    limit: usize,
) -> Result<ChildPage, SyncError> {
    let mut rows = all_rows(ctx, kind)?;
    sort(kind, &mut rows);
    let total = rows.len();
    let limit = limit.clamp(1, MAX_PAGE);
    let mut page: Vec<ChildRow> = rows.into_iter().skip(offset).take(limit).collect();
    let mut problems = Vec::new();
    // Only the rows on screen need their contact; learn from the peer when one is missing.
    let mut index = parents.lock().await;
    let missing = |index: &ParentIndex, page: &[ChildRow]| {
        page.iter()
            .any(|row| row.contact_peer_id.is_none() && index.get(kind, &row.peer_id).is_none())
    };
    if missing(&index, &page)
        && let Err(problem) = index.learn(ctx, kind).await
    {
        problems.push(problem);
    }
    let peer = ctx.peer_name().to_string();
    let mut names: HashMap<String, String> = HashMap::new();
    for row in &mut page {
        if row.contact_peer_id.is_none() {
            row.contact_peer_id = index.get(kind, &row.peer_id).cloned();
        }
        if let Some(contact) = &row.contact_peer_id {
            if !names.contains_key(contact) {
                names.insert(contact.clone(), contact_name(ctx, &peer, contact)?);
            }
            row.contact_name = names.get(contact).cloned();
        }
    }
    Ok(ChildPage {
        kind,
        offset,
        total,
        rows: page,
        problems,
    })
}

/// Every child of `kind` the store knows: linked ones, then first writes still queued.
fn all_rows(ctx: &SyncContext, kind: EntityKind) -> Result<Vec<ChildRow>, SyncError> {
    let peer = ctx.peer_name().to_string();
    let mut open: HashMap<String, RowState> = HashMap::new();
    let mut unlinked = Vec::new();
    for op in ctx.failed_queue()? {
        if op.kind != kind {
            continue;
        }
        let state = match op.state {
            OpState::RetryScheduled { .. } => RowState::Queued,
            _ => RowState::Failed,
        };
        open.insert(op.source_id.clone(), state);
        unlinked.push((op, state));
    }
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for (peer_id, link) in ctx.store.links(&peer, kind)? {
        let baseline = ctx.store.baseline(&peer, kind, &peer_id)?;
        let fields = baseline
            .as_ref()
            .map(|b| b.fields.clone())
            .unwrap_or_default();
        seen.insert(peer_id.clone());
        let mut row = row_from_ghl_fields(kind, &peer_id, &fields);
        row.ghl_id = Some(link.ghl_id);
        row.contact_peer_id = link.parent;
        row.state = open.get(&peer_id).copied().unwrap_or(RowState::Synced);
        row.synced_at = baseline.map(|b| b.synced_at);
        rows.push(row);
    }
    for (op, state) in unlinked {
        if !seen.insert(op.source_id.clone()) {
            continue;
        }
        // The payload holds the GHL-side fields the write would have sent; the source record
        // names the parent.
        let fields = op.payload.as_object().cloned().unwrap_or_default();
        let mut row = row_from_ghl_fields(kind, &op.source_id, &fields);
        row.contact_peer_id = op
            .source
            .get("parent_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        row.state = state;
        row.synced_at = Some(op.updated_at);
        rows.push(row);
    }
    Ok(rows)
}

/// A row from GHL field names (`title`, `dueDate`, `startTime`, …).
fn row_from_ghl_fields(kind: EntityKind, peer_id: &str, fields: &Map<String, Value>) -> ChildRow {
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (at, end) = match kind {
        EntityKind::Task => (time(fields.get("dueDate")), None),
        EntityKind::Appointment => (time(fields.get("startTime")), time(fields.get("endTime"))),
        _ => (None, None),
    };
    ChildRow {
        peer_id: peer_id.to_string(),
        ghl_id: None,
        contact_peer_id: None,
        contact_name: None,
        title: text("title"),
        body: text("body").or_else(|| text("description")),
        at,
        end,
        completed: (kind == EntityKind::Task)
            .then(|| fields.get("completed").and_then(Value::as_bool))
            .flatten(),
        status: text("appointmentStatus"),
        state: RowState::Synced,
        synced_at: None,
    }
}

/// GHL times come as RFC 3339 text or as milliseconds since the epoch.
fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    match value? {
        Value::String(text) => DateTime::parse_from_rfc3339(text.trim())
            .ok()
            .map(|at| at.with_timezone(&Utc)),
        Value::Number(ms) => ms
            .as_i64()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
        _ => None,
    }
}

/// Tasks and appointments soonest first (undated last); notes newest first.
fn sort(kind: EntityKind, rows: &mut [ChildRow]) {
    match kind {
        EntityKind::Note => rows.sort_by(|a, b| {
            b.synced_at
                .cmp(&a.synced_at)
                .then_with(|| a.peer_id.cmp(&b.peer_id))
        }),
        _ => rows.sort_by(|a, b| {
            (a.at.is_none(), a.at, &a.peer_id).cmp(&(b.at.is_none(), b.at, &b.peer_id))
        }),
    }
}

/// The contact's name as the contact list shows it (from its baseline), else its id.
fn contact_name(ctx: &SyncContext, peer: &str, peer_id: &str) -> Result<String, SyncError> {
    let fields = ctx
        .store
        .baseline(peer, EntityKind::Contact, peer_id)?
        .map(|b| b.fields)
        .unwrap_or_default();
    let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(display_name(
        text("firstName"),
        text("lastName"),
        text("companyName"),
        peer_id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_read_ghl_fields_and_sort_soonest_first() {
        let task = |id: &str, due: Value| {
            let fields = json!({"title": "Visit", "dueDate": due, "completed": true});
            row_from_ghl_fields(EntityKind::Task, id, fields.as_object().unwrap())
        };
        let mut rows = vec![
            task("b", json!("2026-06-02T10:00:00Z")),
            task("c", Value::Null),
            task("a", json!(1_780_000_000_000_i64)),
        ];
        sort(EntityKind::Task, &mut rows);
        let order: Vec<&str> = rows.iter().map(|r| r.peer_id.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"], "undated last");
        assert_eq!(rows[0].completed, Some(true));
        assert_eq!(rows[0].title.as_deref(), Some("Visit"));

        let fields = json!({"title": "Review", "startTime": "2026-06-03T14:00:00-04:00",
            "endTime": "2026-06-03T15:00:00-04:00", "appointmentStatus": "confirmed"});
        let row = row_from_ghl_fields(EntityKind::Appointment, "s1", fields.as_object().unwrap());
        assert_eq!(
            row.at.map(|at| at.to_rfc3339()).as_deref(),
            Some("2026-06-03T18:00:00+00:00")
        );
        assert_eq!(row.status.as_deref(), Some("confirmed"));
        assert_eq!(row.completed, None);
    }
}
