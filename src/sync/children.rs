//! Tasks, notes and appointments from the peer to GHL (flows 2, 3 and 6). Each belongs to a
//! contact. A child whose contact is not linked is parked, naming the contact and why, and comes
//! back by itself once the contact syncs (`unpark_children`). Before a child is created, the
//! children GHL already holds under that contact are listed once per store (a survey) and one
//! that is this child (`identity::child_key`) is adopted instead: a lost store, a restore or a
//! first sync on a location that already holds the data never creates a child twice.

use super::context::SyncError;
use super::execute::{Bookkeeping, Outbound, Source};
use super::hash::{diff, hash_fields, normalise};
use super::hold::{Held, Reason};
use super::identity::child_key;
use super::run::Run;
use super::send::{Sent, project, restrict};
use super::settings::{Activity, DeletePolicy};
use crate::peers::{EntityKind, PeerRecord};
use crate::store::{Action, Direction, Outcome};
use serde_json::{Map, Value, json};

impl Run<'_> {
    pub(super) async fn peer_child(&self, record: PeerRecord) -> Result<(), SyncError> {
        let ctx = self.ctx;
        let kind = record.kind;
        let peer = ctx.peer_name().to_string();
        let entity = ctx.entity(kind)?;
        let parent = match &record.parent_id {
            Some(parent) => ctx
                .store
                .link(&peer, EntityKind::Contact, parent)?
                .map(|l| l.ghl_id),
            None => None,
        };
        let link = ctx.store.link(&peer, kind, &record.id)?;
        if !record.active {
            return self
                .child_deleted(&record, link.map(|l| l.ghl_id), parent)
                .await;
        }
        let mut fields = entity.to_ghl(&record).fields;
        if kind == EntityKind::Appointment
            && let Some(calendar) = self.calendar_id().await?
        {
            fields.entry("calendarId").or_insert(Value::from(calendar));
        }
        let baseline = ctx.store.baseline(&peer, kind, &record.id)?;
        if baseline
            .as_ref()
            .is_some_and(|b| b.peer_hash == hash_fields(&fields))
        {
            self.count(Action::Skip, Outcome::Unchanged);
            return Ok(());
        }
        let keys = self.ghl_keys(kind)?;
        let completed_now = fields.get("completed") == Some(&Value::Bool(true))
            && baseline
                .as_ref()
                .is_none_or(|b| b.fields.get("completed") != Some(&Value::Bool(true)));
        let mut before = baseline.map(|b| b.fields).unwrap_or_default();
        // What the baseline's peer side will hold: every mapped field, whatever is sent.
        let full = fields.clone();
        let mut payload = fields;
        let mut target = link.map(|l| l.ghl_id);
        if target.is_none() {
            let Some(parent) = &parent else {
                return self.park_child(&record);
            };
            if let Some(found) = self.find_ghl_child(kind, parent, &full, &record.id).await? {
                let ghl_fields = project(&found, &keys);
                let changed = changed_child_fields(&full, &found);
                let found_id = found
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if changed.is_empty() {
                    let out = Outbound {
                        kind,
                        direction: Direction::ToGhl,
                        action: Action::Update,
                        source_id: record.id.clone(),
                        target_id: Some(found_id.clone()),
                        target_parent_id: Some(parent.clone()),
                        payload: Value::Object(Map::new()),
                        source: Source::peer(&record),
                        book: Bookkeeping {
                            peer_id: Some(record.id.clone()),
                            peer_fields: full,
                            ghl_keys: keys,
                            ..Bookkeeping::default()
                        },
                    };
                    let sent = Sent::found_in_ghl(&found_id, found);
                    return self.settle(out, sent).await;
                }
                // Found, but the peer has changed it since: an update of what is there.
                before = normalise(&restrict(
                    &ghl_fields,
                    &changed.keys().cloned().collect::<Vec<_>>(),
                ));
                payload = changed;
                target = Some(found_id);
            }
        }
        let action = if target.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        let sent = self
            .write(Outbound {
                kind,
                direction: Direction::ToGhl,
                action,
                source_id: record.id.clone(),
                target_id: target,
                target_parent_id: parent.clone(),
                book: Bookkeeping {
                    peer_id: Some(record.id.clone()),
                    diff: diff(&before, &payload),
                    peer_fields: full,
                    ghl_keys: keys,
                    ..Bookkeeping::default()
                },
                payload: Value::Object(payload),
                source: Source::peer(&record),
            })
            .await?;
        let activity = match (kind, action) {
            (EntityKind::Note, Action::Create) => Some(Activity::NoteAdded),
            (EntityKind::Appointment, Action::Create) => Some(Activity::AppointmentBooked),
            (EntityKind::Task, _) if completed_now => Some(Activity::TaskCompleted),
            _ => None,
        };
        if let (Some(activity), Some(parent)) = (activity, parent)
            && (sent.is_some() || self.dry_run)
        {
            self.apply_tag_rules(activity, &record, &parent).await?;
        }
        Ok(())
    }

    /// The GHL child under `ghl_parent` that is this peer child, if the store cannot rule it out.
    /// Under a contact whose children were surveyed in this store, every child ghlsync made is
    /// linked already: no lookup. Otherwise the contact's children of `kind` are listed once per
    /// run, and the first one that is this child and is not linked to another peer record is it.
    async fn find_ghl_child(
        &self,
        kind: EntityKind,
        ghl_parent: &str,
        fields: &Map<String, Value>,
        peer_id: &str,
    ) -> Result<Option<Value>, SyncError> {
        let ctx = self.ctx;
        let peer = ctx.peer_name();
        if ctx.store.surveyed(peer, kind, ghl_parent)? {
            return Ok(None);
        }
        let Some(wanted) = child_key(kind, fields) else {
            return Ok(None);
        };
        let listed = self.surveyed_children(kind, ghl_parent).await?;
        for child in listed {
            let (Some(id), Some(object)) =
                (child.get("id").and_then(Value::as_str), child.as_object())
            else {
                continue;
            };
            if child_key(kind, object).as_deref() != Some(wanted.as_str()) {
                continue;
            }
            let owner = ctx.store.peer_id_for(peer, kind, id)?;
            if owner.is_none_or(|owner| owner == peer_id) {
                return Ok(Some(child));
            }
        }
        Ok(None)
    }

    /// The `kind` children GHL holds under `ghl_parent`, listed once per run (lanes keep one
    /// contact's children together, so no two lanes list the same contact at once).
    async fn surveyed_children(
        &self,
        kind: EntityKind,
        ghl_parent: &str,
    ) -> Result<Vec<Value>, SyncError> {
        let key = (kind, ghl_parent.to_string());
        if let Some(listed) = self.surveys().listed.get(&key) {
            return Ok(listed.clone());
        }
        let ghl = &self.ctx.ghl;
        let listed: Vec<Value> = match kind {
            EntityKind::Task => to_values(ghl.list_tasks(ghl_parent).await?.tasks),
            EntityKind::Note => to_values(ghl.list_notes(ghl_parent).await?.notes),
            EntityKind::Appointment => {
                to_values(ghl.list_contact_appointments(ghl_parent).await?.events)
            }
            EntityKind::Contact => Vec::new(),
        };
        let mut surveys = self.surveys();
        surveys.listed.insert(key.clone(), listed.clone());
        surveys.done.push(key);
        Ok(listed)
    }

    /// Once every page of `kind` was read, the contacts surveyed on the way are marked: every
    /// peer child that could be one of theirs was matched against them.
    pub(super) fn mark_surveys(&self, kind: EntityKind) -> Result<(), SyncError> {
        if self.dry_run || self.options.limit.is_some() {
            return Ok(());
        }
        let done: Vec<String> = {
            let mut surveys = self.surveys();
            let (of_kind, rest): (Vec<_>, Vec<_>) =
                surveys.done.drain(..).partition(|(k, _)| *k == kind);
            surveys.done = rest;
            of_kind.into_iter().map(|(_, parent)| parent).collect()
        };
        for parent in done {
            self.ctx
                .store
                .mark_surveyed(self.ctx.peer_name(), kind, &parent)?;
        }
        Ok(())
    }

    /// A child whose contact is not linked: parked with the contact and the reason.
    fn park_child(&self, record: &PeerRecord) -> Result<(), SyncError> {
        let parent = record.parent_id.clone().unwrap_or_default();
        let why = self.why_not_linked(&parent)?;
        self.hold(Held {
            kind: record.kind,
            direction: Direction::ToGhl,
            source_id: &record.id,
            source: serde_json::to_value(record).unwrap_or(Value::Null),
            parent_id: record.parent_id.clone(),
            reason: Reason::ParentNotSynced { parent, why },
        })
    }

    /// Why peer contact `parent` has no GHL contact, from what the store knows of it.
    fn why_not_linked(&self, parent: &str) -> Result<String, SyncError> {
        let ctx = self.ctx;
        let peer = ctx.peer_name();
        if parent.is_empty() {
            return Ok("the record names no contact".into());
        }
        let queued = ctx.failed_queue()?.into_iter().find(|op| {
            op.kind == EntityKind::Contact
                && op.direction == Direction::ToGhl
                && op.source_id == parent
        });
        if let Some(op) = queued {
            let error = op.error.map(|e| e.message).unwrap_or_default();
            return Ok(format!(
                "its own sync waits in the failed queue (operation {}: {error})",
                op.id
            ));
        }
        Ok(match ctx.store.person(peer, parent)? {
            Some(person) if !person.active => format!("it is inactive in {peer}"),
            Some(_) => "it is not linked to a GHL contact yet".into(),
            None => format!("{peer} never listed it (deleted there, or not exported)"),
        })
    }

    /// Parked children whose contact is linked now, planned again before the pages are read (a
    /// cursor may be past them).
    pub(super) async fn unpark_children(&self) -> Result<(), SyncError> {
        let peer = self.ctx.peer_name().to_string();
        for op in self.ctx.operations_in("parked")? {
            if op.kind == EntityKind::Contact || op.direction != Direction::ToGhl {
                continue;
            }
            let Some(parent) = &op.parent_id else {
                continue;
            };
            if self
                .ctx
                .store
                .link(&peer, EntityKind::Contact, parent)?
                .is_none()
            {
                continue;
            }
            let Some(claimed) = self.ctx.store.claim(op.id, &["parked"], "engine")? else {
                continue;
            };
            self.replay(claimed, super::RetryMode::CurrentMapping)
                .await?;
        }
        Ok(())
    }

    /// Flow 6: activity on a contact tags it in GHL.
    async fn apply_tag_rules(
        &self,
        activity: Activity,
        record: &PeerRecord,
        parent: &str,
    ) -> Result<(), SyncError> {
        let tags: Vec<String> = self
            .ctx
            .settings
            .tag_rules
            .iter()
            .filter(|rule| rule.when == activity)
            .map(|rule| rule.tag.clone())
            .collect();
        if tags.is_empty() {
            return Ok(());
        }
        let mut why = Map::new();
        why.insert("tags".into(), json!([null, tags]));
        self.write(Outbound {
            kind: EntityKind::Contact,
            direction: Direction::ToGhl,
            action: Action::Tag,
            source_id: record.parent_id.clone().unwrap_or_default(),
            target_id: Some(parent.to_string()),
            target_parent_id: None,
            payload: json!({ "tags": tags }),
            source: Source::peer(record),
            book: Bookkeeping {
                diff: why,
                ..Bookkeeping::default()
            },
        })
        .await?;
        Ok(())
    }

    async fn child_deleted(
        &self,
        record: &PeerRecord,
        ghl_id: Option<String>,
        parent: Option<String>,
    ) -> Result<(), SyncError> {
        let policy = self.ctx.settings.flow(record.kind).delete_policy;
        let (Some(ghl_id), DeletePolicy::Mirror) = (ghl_id, policy) else {
            // "tag" applies to contacts; for children, anything but mirror leaves GHL as it is.
            self.count(Action::Skip, Outcome::Unchanged);
            return Ok(());
        };
        if self.tombstone_seen(record.kind, &record.id)? {
            self.count(Action::Skip, Outcome::Unchanged);
            return Ok(());
        }
        self.write(Outbound {
            kind: record.kind,
            direction: Direction::ToGhl,
            action: Action::Delete,
            source_id: record.id.clone(),
            target_id: Some(ghl_id),
            target_parent_id: parent,
            payload: Value::Null,
            source: Source::peer(record),
            book: Bookkeeping::default(),
        })
        .await?;
        self.mark_tombstone(record.kind, &record.id)?;
        Ok(())
    }
}

fn to_values<T: serde::Serialize>(items: Vec<T>) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .collect()
}

/// The mapped fields a child found in GHL does not hold yet (compared as hashes compare them).
/// The mapped fields of a peer child that GHL's child `found` (as GHL answers it, every field)
/// holds otherwise. Times are compared as instants: GHL answers appointments' in its own form
/// ("2021-07-16 11:00:00"), and a found child in another form is not a change.
fn changed_child_fields(fields: &Map<String, Value>, found: &Value) -> Map<String, Value> {
    let there = found.as_object().map(normalise).unwrap_or_default();
    let now = normalise(fields);
    let same_instant = |a: Option<&Value>, b: Option<&Value>| match (a, b) {
        (Some(Value::String(a)), Some(Value::String(b))) => {
            super::identity::instant(a).is_some_and(|at| Some(at) == super::identity::instant(b))
        }
        _ => false,
    };
    fields
        .iter()
        .filter(|(key, _)| {
            now.get(*key) != there.get(*key) && !same_instant(now.get(*key), there.get(*key))
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}
