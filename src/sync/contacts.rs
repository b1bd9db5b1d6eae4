//! Contacts both ways (flows 1, 4, 5 and 7). A record costs a request only when its mapped
//! content differs from the baseline; when both sides changed, the three-way merge decides per
//! field and the conflict is logged.

use super::context::SyncError;
use super::execute::{Bookkeeping, Outbound, Source};
use super::hash::{additions, diff, hash_fields, hash_normalised, normalise};
use super::merge::merge;
use super::pages::Arrival;
use super::run::Run;
use super::send::{project, restrict};
use super::settings::DeletePolicy;
use crate::peers::{EntityKind, PeerRecord};
use crate::store::{Action, Baseline, Direction, Outcome};
use serde_json::{Map, Value, json};
use std::sync::Arc;

const KIND: EntityKind = EntityKind::Contact;

impl Run<'_> {
    /// One peer contact from a change page.
    pub(super) async fn peer_contact(&self, arrival: Arrival) -> Result<(), SyncError> {
        let ctx = self.ctx;
        let peer = ctx.peer_name().to_string();
        let Arrival {
            record,
            mapped,
            link,
        } = arrival;
        let Some(mapped) = mapped.filter(|_| record.active) else {
            return self
                .peer_contact_deleted(&record, link.map(|l| l.ghl_id))
                .await;
        };
        let peer_fields = mapped.fields;
        // Normalised once: the hash decides "unchanged", and a create logs every field as added.
        let normalised = normalise(&peer_fields);
        let peer_hash = hash_normalised(&normalised);
        let baseline = ctx.store.baseline(&peer, KIND, &record.id)?;
        let keys = self.ghl_keys(KIND)?;
        if let Some(base) = baseline.as_ref().filter(|b| b.peer_hash == peer_hash) {
            self.count(Action::Skip, Outcome::Unchanged);
            // Unchanged on the peer side; a GHL change since the baseline is still news, and
            // flow 4 sends it (marking the contact handled here would hold it back a run).
            if let Some(link) = link {
                let ghl_changed = self
                    .ghl_now(&link.ghl_id)?
                    .is_some_and(|now| hash_fields(&project(&now, &keys)) != base.ghl_hash);
                if !ghl_changed {
                    self.handled(link.ghl_id);
                }
            }
            return Ok(());
        }
        let record = Arc::new(record);
        let source = Source::Peer(record.clone());
        let Some(link) = link else {
            if !peer_fields.contains_key("email") && !peer_fields.contains_key("phone") {
                return self.local_failure(
                    &record,
                    "no usable email or phone to match the contact in GHL; fix the record or the mapping",
                );
            }
            let book = Bookkeeping {
                peer_id: Some(record.id.clone()),
                peer_fields: peer_fields.clone(),
                peer_hash: Some(peer_hash),
                ghl_keys: keys.clone(),
                diff: additions(normalised),
                ..Bookkeeping::default()
            };
            let sent = self
                .write(Outbound {
                    kind: KIND,
                    direction: Direction::ToGhl,
                    action: Action::Create,
                    source_id: record.id.clone(),
                    target_id: None,
                    target_parent_id: None,
                    payload: Value::Object(peer_fields),
                    source,
                    book,
                })
                .await?;
            if let Some(sent) = sent {
                self.handled(sent.target_id.clone());
                if let Some(answer) = sent.ghl_record {
                    self.fill_peer_gaps(&record, &sent.target_id, answer, &keys)
                        .await?;
                }
            }
            return Ok(());
        };
        self.handled(link.ghl_id.clone());
        let ghl_now = self
            .ghl_now(&link.ghl_id)?
            .map(|record| project(&record, &keys));
        let ghl_now_hash = ghl_now.as_ref().map(hash_fields);
        let both_changed = match (&baseline, &ghl_now_hash) {
            (Some(b), Some(now)) => *now != b.ghl_hash,
            _ => false,
        };
        if both_changed && let (Some(base), Some(now)) = (&baseline, &ghl_now) {
            return self
                .merge_both(&record, peer_fields, base, now, &link.ghl_id)
                .await;
        }
        // Only the peer changed: send the fields that differ from the agreed state.
        let before = baseline
            .as_ref()
            .map(|b| b.fields.clone())
            .unwrap_or_default();
        let changed = changed_fields(&peer_fields, &before);
        // What GHL held when this was planned: the snapshot, which here matches the baseline's
        // GHL side (both changed would have merged); a contact missing from the snapshot is
        // planned against the baseline.
        let planned_against =
            ghl_now_hash.or_else(|| baseline.as_ref().map(|b| b.ghl_hash.clone()));
        let book = Bookkeeping {
            peer_id: Some(record.id.clone()),
            peer_fields: peer_fields.clone(),
            peer_hash: Some(peer_hash),
            ghl_keys: keys,
            diff: diff(
                &restrict(&before, &changed.keys().cloned().collect::<Vec<_>>()),
                &changed,
            ),
            planned_against,
            ..Bookkeeping::default()
        };
        self.write(Outbound {
            kind: KIND,
            direction: Direction::ToGhl,
            action: Action::Update,
            source_id: record.id.clone(),
            target_id: Some(link.ghl_id),
            target_parent_id: None,
            payload: Value::Object(changed),
            source,
            book,
        })
        .await?;
        Ok(())
    }

    /// Both sides changed since the last sync: merge per field, write each side what it lacks.
    async fn merge_both(
        &self,
        record: &Arc<PeerRecord>,
        peer_fields: Map<String, Value>,
        base: &Baseline,
        ghl_now: &Map<String, Value>,
        ghl_id: &str,
    ) -> Result<(), SyncError> {
        let ctx = self.ctx;
        let entity = ctx.entity(KIND)?;
        let keys = self.ghl_keys(KIND)?;
        let ghl_updated = self
            .ghl_contact(ghl_id)?
            .and_then(|contact| contact.date_updated)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&chrono::Utc));
        // Without a peer clock, the change we are looking at now is the later one.
        let peer_is_newer = match (record.updated_at, ghl_updated) {
            (Some(peer), Some(ghl)) => peer >= ghl,
            _ => true,
        };
        let merged = merge(
            &base.fields,
            &restrict(&peer_fields, &keys),
            ghl_now,
            |field| entity.authority(field),
            peer_is_newer,
        );
        let conflicts = json!(merged.conflicts);
        let outcome = if merged.conflicts.is_empty() {
            Outcome::Ok
        } else {
            Outcome::Conflict
        };
        let mut report = diff(ghl_now, &merged.agreed);
        report.insert("conflicts".into(), conflicts);
        let source = Source::Peer(record.clone());
        // The peer will map to the agreed fields plus what only it knows (custom fields).
        let mut agreed_peer_side = peer_fields.clone();
        agreed_peer_side.extend(merged.agreed.clone());
        if !merged.to_ghl.is_empty() {
            self.write(Outbound {
                kind: KIND,
                direction: Direction::ToGhl,
                action: Action::Update,
                source_id: record.id.clone(),
                target_id: Some(ghl_id.to_string()),
                target_parent_id: None,
                payload: Value::Object(merged.to_ghl.clone()),
                source: source.clone(),
                book: Bookkeeping {
                    peer_id: Some(record.id.clone()),
                    peer_fields: if merged.to_peer.is_empty() {
                        peer_fields.clone()
                    } else {
                        agreed_peer_side.clone()
                    },
                    ghl_keys: keys.clone(),
                    diff: report.clone(),
                    outcome: Some(outcome),
                    // Merged against GHL as it is now, not as the baseline has it.
                    planned_against: Some(hash_fields(ghl_now)),
                    ..Bookkeeping::default()
                },
            })
            .await?;
        }
        if !merged.to_peer.is_empty() && ctx.settings.contacts.to_peer {
            let mut ghl_json = self.ghl_now(ghl_id)?.unwrap_or(Value::Null);
            if let Some(map) = ghl_json.as_object_mut() {
                map.extend(merged.agreed.clone());
            }
            let peer_payload = entity.to_peer(&ghl_json).fields;
            self.write(Outbound {
                kind: KIND,
                direction: Direction::ToPeer,
                action: Action::Update,
                source_id: ghl_id.to_string(),
                target_id: Some(record.id.clone()),
                target_parent_id: None,
                payload: Value::Object(peer_payload),
                source: ghl_json.into(),
                book: Bookkeeping {
                    peer_id: Some(record.id.clone()),
                    planned_against: Some(hash_fields(&peer_fields)),
                    peer_fields: agreed_peer_side,
                    ghl_fields: Some(merged.agreed.clone()),
                    ghl_keys: keys,
                    diff: report,
                    outcome: Some(outcome),
                    peer_hash: None,
                },
            })
            .await?;
        }
        Ok(())
    }

    /// After an upsert adopted an existing GHL contact: GHL may hold two-way fields the peer
    /// record lacks (the peer's value was empty, or one the mapping could not convert, and empty
    /// values are never sent to GHL). The baseline just taken from GHL's answer would call that
    /// agreed, and nothing would ever send it back; so the peer gets GHL's side now, as flow 4
    /// would send a changed GHL contact.
    async fn fill_peer_gaps(
        &self,
        record: &PeerRecord,
        ghl_id: &str,
        answer: Value,
        keys: &[String],
    ) -> Result<(), SyncError> {
        let ctx = self.ctx;
        if !ctx.settings.contacts.to_peer {
            return Ok(());
        }
        let entity = ctx.entity(KIND)?;
        let mapped = entity.to_peer(&answer);
        let echo = entity.echo(&record.id, mapped.fields.clone());
        let as_read = entity.to_ghl(record).fields;
        let now = restrict(&as_read, keys);
        let then = restrict(&echo.fields, keys);
        if hash_fields(&now) == hash_fields(&then) {
            return Ok(());
        }
        let ghl_fields = project(&answer, keys);
        self.write(Outbound {
            kind: KIND,
            direction: Direction::ToPeer,
            action: Action::Update,
            source_id: ghl_id.to_string(),
            target_id: Some(record.id.clone()),
            target_parent_id: None,
            payload: Value::Object(mapped.fields),
            source: answer.into(),
            book: Bookkeeping {
                peer_id: Some(record.id.clone()),
                peer_fields: echo.fields,
                diff: diff(&now, &then),
                ghl_fields: Some(ghl_fields),
                ghl_keys: keys.to_vec(),
                outcome: None,
                planned_against: Some(hash_fields(&as_read)),
                peer_hash: None,
            },
        })
        .await?;
        Ok(())
    }

    /// Peer contacts whose write to GHL was superseded at the start of this run (GHL changed
    /// after it was planned). The peer change it carried is still to sync, merged with GHL's
    /// newer edit as any two-sided change, but no page may bring it again. Unless a page did
    /// (the GHL contact is handled then), the record is read from the peer and synced as a
    /// page's record would be, before flow 4 could take it for unchanged and overwrite it.
    pub(super) async fn superseded_peer_contacts(&self) -> Result<(), SyncError> {
        let ctx = self.ctx;
        let peer = ctx.peer_name().to_string();
        let entity = ctx.entity(KIND)?;
        for peer_id in &self.superseded_to_ghl {
            if self.limit_reached() {
                break;
            }
            let link = ctx.store.link(&peer, KIND, peer_id)?;
            if link
                .as_ref()
                .is_some_and(|link| self.is_handled(&link.ghl_id))
            {
                continue;
            }
            let Some(record) = ctx.peer.get(KIND, peer_id).await? else {
                continue;
            };
            let mapped = record.active.then(|| entity.to_ghl(&record));
            self.peer_contact(Arrival {
                record,
                mapped,
                link,
            })
            .await?;
        }
        Ok(())
    }

    async fn peer_contact_deleted(
        &self,
        record: &PeerRecord,
        ghl_id: Option<String>,
    ) -> Result<(), SyncError> {
        let policy = self.ctx.settings.contacts.delete_policy;
        let Some(ghl_id) = ghl_id.filter(|_| policy != DeletePolicy::Ignore) else {
            self.count(Action::Skip, Outcome::Unchanged);
            return Ok(());
        };
        self.handled(ghl_id.clone());
        let (action, payload) = match policy {
            DeletePolicy::Mirror => (Action::Delete, Value::Null),
            _ => (
                Action::Tag,
                json!({"tags": [self.ctx.settings.deleted_tag]}),
            ),
        };
        if self.tombstone_seen(KIND, &record.id)? {
            self.count(Action::Skip, Outcome::Unchanged);
            return Ok(());
        }
        let mut inactive = Map::new();
        inactive.insert("active".into(), Value::Bool(false));
        self.write(Outbound {
            kind: KIND,
            direction: Direction::ToGhl,
            action,
            source_id: record.id.clone(),
            target_id: Some(ghl_id),
            target_parent_id: None,
            payload,
            source: Source::peer(record),
            // No peer id: the tombstone marker below is the record's baseline from now on.
            book: Bookkeeping {
                diff: inactive,
                ..Bookkeeping::default()
            },
        })
        .await?;
        // Mark the tombstone as handled, so the next run does not tag or delete again.
        self.mark_tombstone(KIND, &record.id)?;
        Ok(())
    }

    /// GHL contacts that changed since their baseline (or are new) go to the peer (flow 4).
    pub(super) async fn ghl_contacts_to_peer(&self) -> Result<(), SyncError> {
        let ctx = self.ctx;
        if !ctx.settings.contacts.to_peer {
            return Ok(());
        }
        let peer = ctx.peer_name().to_string();
        let entity = ctx.entity(KIND)?;
        let keys = self.ghl_keys(KIND)?;
        let unhandled: Vec<String> = self
            .ghl_snapshot
            .keys()
            .filter(|id| !self.is_handled(id))
            .cloned()
            .collect();
        for ghl_id in unhandled {
            if self.limit_reached() {
                break;
            }
            let Some(record) = self.ghl_now(&ghl_id)? else {
                continue;
            };
            let ghl_fields = project(&record, &keys);
            let peer_id = ctx.store.peer_id_for(&peer, KIND, &ghl_id)?;
            let baseline = match &peer_id {
                Some(id) => ctx.store.baseline(&peer, KIND, id)?,
                None => None,
            };
            // Deactivated in the peer: GHL's later edits are not sent to a record that is gone.
            if let Some(id) = &peer_id
                && self.tombstone_seen(KIND, id)?
            {
                self.count(Action::Skip, Outcome::Unchanged);
                continue;
            }
            if baseline
                .as_ref()
                .is_some_and(|b| b.ghl_hash == hash_fields(&ghl_fields))
            {
                self.count(Action::Skip, Outcome::Unchanged);
                continue;
            }
            let mapped = entity.to_peer(&record);
            let target = peer_id.clone().unwrap_or_else(|| ghl_id.clone());
            // What the peer record will map back to once written: the baseline's peer side.
            let echo = entity.echo(&target, mapped.fields.clone());
            // Flow 4 does not read the peer record: it holds what the baseline says, or it
            // would have come up in the pages as changed.
            let planned_against = baseline.as_ref().map(|b| b.peer_hash.clone());
            let before = baseline.map(|b| b.fields).unwrap_or_default();
            self.write(Outbound {
                kind: KIND,
                direction: Direction::ToPeer,
                action: if peer_id.is_some() {
                    Action::Update
                } else {
                    Action::Create
                },
                source_id: ghl_id.clone(),
                target_id: Some(target.clone()),
                target_parent_id: None,
                payload: Value::Object(mapped.fields),
                source: record.into(),
                book: Bookkeeping {
                    peer_id: Some(target),
                    peer_fields: echo.fields,
                    diff: diff(&before, &ghl_fields),
                    ghl_fields: Some(ghl_fields),
                    ghl_keys: keys.clone(),
                    outcome: None,
                    planned_against,
                    peer_hash: None,
                },
            })
            .await?;
        }
        Ok(())
    }
}

/// Mapped fields whose value differs from the agreed state (custom fields always travel when
/// present: they cannot be compared with a GHL read).
fn changed_fields(
    peer_fields: &Map<String, Value>,
    before: &Map<String, Value>,
) -> Map<String, Value> {
    let now = super::hash::normalise(peer_fields);
    peer_fields
        .iter()
        .filter(|(key, _)| key.as_str() == "customFields" || before.get(*key) != now.get(*key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}
