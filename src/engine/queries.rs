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

pub fn contacts(ctx: &SyncContext) -> Result<Vec<ContactRow>, SyncError> {
    let peer = ctx.peer_name().to_string();
    let mut open: HashMap<String, RowState> = HashMap::new();
    for op in ctx.store.failed_queue()? {
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
    let mut rows = Vec::new();
    for (peer_id, link) in ctx.store.links(&peer, EntityKind::Contact)? {
        let baseline = ctx.store.baseline(&peer, EntityKind::Contact, &peer_id)?;
        let fields = baseline
            .as_ref()
            .map(|b| b.fields.clone())
            .unwrap_or_default();
        let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_string);
        let name = display_name(
            text("firstName"),
            text("lastName"),
            text("companyName"),
            &peer_id,
        );
        rows.push(ContactRow {
            state: open.remove(&peer_id).unwrap_or(RowState::Synced),
            peer_id,
            ghl_id: Some(link.ghl_id),
            name,
            email: text("email"),
            phone: text("phone"),
            last_at: baseline.map(|b| b.synced_at),
        });
    }
    // Records whose first write failed: known only through their operation.
    for op in ctx.store.failed_queue()? {
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
    rows.sort_by_key(|row| row.name.to_lowercase());
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
