//! Tasks, notes and appointments from the peer to GHL (flows 2, 3 and 6). Each belongs to a
//! contact; until that contact is linked, the child waits in the failed queue and a later retry
//! picks the parent up.

use super::context::SyncError;
use super::execute::{Bookkeeping, Outbound, Source};
use super::hash::{diff, hash_fields};
use super::run::Run;
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
            && let Some(calendar) = self.calendar_id.clone()
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
        let completed_now = fields.get("completed") == Some(&Value::Bool(true))
            && baseline
                .as_ref()
                .is_none_or(|b| b.fields.get("completed") != Some(&Value::Bool(true)));
        let before = baseline.map(|b| b.fields).unwrap_or_default();
        let action = if link.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        let keys = self.ghl_keys(kind)?;
        let sent = self
            .write(Outbound {
                kind,
                direction: Direction::ToGhl,
                action,
                source_id: record.id.clone(),
                target_id: link.map(|l| l.ghl_id),
                target_parent_id: parent.clone(),
                payload: Value::Object(fields.clone()),
                source: Source::peer(&record),
                book: Bookkeeping {
                    peer_id: Some(record.id.clone()),
                    diff: diff(&before, &fields),
                    peer_fields: fields,
                    ghl_keys: keys,
                    ..Bookkeeping::default()
                },
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
