//! Contacts both ways (flows 1, 4, 5 and 7). A record costs a request only when its mapped
//! content differs from the baseline; when both sides changed, the three-way merge decides per
//! field and the conflict is logged.

use super::context::SyncError;
use super::execute::{Bookkeeping, Outbound, Source};
use super::hash::{diff, hash_fields, hash_normalised, normalise};
use super::hold::Held;
use super::identity::contact_keys;
use super::merge::{merge, tags_for_ghl};
use super::pages::Arrival;
use super::run::Run;
use super::send::{Sent, project, restrict};
use super::settings::DeletePolicy;
use crate::peers::{EntityKind, PeerRecord};
use crate::store::{Action, Baseline, Direction, KnownPerson, Outcome};
use serde_json::{Map, Value, json};
use std::sync::Arc;

const KIND: EntityKind = EntityKind::Contact;

impl Run<'_> {
    /// One peer contact from a change page (or planned again by a replay).
    pub(super) async fn peer_contact(&self, arrival: Arrival) -> Result<(), SyncError> {
        let ctx = self.ctx;
        let peer = ctx.peer_name().to_string();
        let Arrival {
            record,
            mapped,
            link,
        } = arrival;
        if !self.dry_run
            && let Some(mapped) = &mapped
        {
            // Filed under its match keys, linked or not: flow 4 must never create this person
            // again in the peer (`Run::peer_twin`).
            let person = KnownPerson {
                keys: contact_keys(&mapped.fields),
                active: record.active,
            };
            ctx.store.remember_person(&peer, &record.id, &person)?;
        }
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
        let Some(link) = link else {
            return self
                .peer_contact_new(record, peer_fields, normalised, peer_hash)
                .await;
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
        let mut changed = ghl_differences(self.ctx.entity(KIND)?, &peer_fields, &before);
        if let Some(peer_tags) = changed.remove("tags") {
            // The peer's additions and removals, applied to the tags GHL holds now.
            let ghl_tags = ghl_now
                .as_ref()
                .and_then(|now| now.get("tags"))
                .or_else(|| before.get("tags"))
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(tags) = tags_for_ghl(before.get("tags"), &peer_tags, &ghl_tags) {
                changed.insert("tags".into(), tags);
            }
        }
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
            upsert_by: self.upsert_key(&link.ghl_id, &changed),
            ..Bookkeeping::default()
        };
        let unchanged_in_ghl = changed.is_empty();
        let out = ghl_update(&record, &link.ghl_id, changed, book);
        if unchanged_in_ghl && let Some(now) = self.ghl_now(&link.ghl_id)? {
            // The record changed only where GHL is not written (a constant): nothing to send,
            // the baseline moves on.
            let sent = Sent::found_in_ghl(&link.ghl_id, now);
            return self.settle(out, sent).await;
        }
        self.write(out).await?;
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
        let peer_is_newer = self.peer_is_newer(record, ghl_id)?;
        // A constant never changes on the peer's side: it is written when a record is linked,
        // and is not a change to merge (`EntityMapping::constant_ghl_fields`).
        let mut peer_side = restrict(&peer_fields, &keys);
        for constant in entity.constant_ghl_fields() {
            // Unchanged on the peer's side: as the base has it.
            match base.fields.get(&constant) {
                Some(agreed) => peer_side.insert(constant, agreed.clone()),
                None => peer_side.remove(&constant),
            };
        }
        let merged = merge(
            &base.fields,
            &peer_side,
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
        if merged.to_ghl.is_empty() && merged.to_peer.is_empty() {
            // Both sides made the same change: nothing to send, but the baseline moves on to
            // it (a stale one would make the next run send one side's whole record again).
            let Some(now) = self.ghl_now(ghl_id)? else {
                return Ok(());
            };
            let book = Bookkeeping {
                peer_id: Some(record.id.clone()),
                peer_fields,
                ghl_keys: keys,
                diff: report,
                ..Bookkeeping::default()
            };
            let out = ghl_update(record, ghl_id, Map::new(), book);
            let sent = Sent::found_in_ghl(ghl_id, now);
            return self.settle(out, sent).await;
        }
        // The peer will map to the agreed fields plus what only it knows (custom fields).
        let mut agreed_peer_side = peer_fields.clone();
        agreed_peer_side.extend(merged.agreed.clone());
        if !merged.to_ghl.is_empty() {
            self.write(ghl_update(
                record,
                ghl_id,
                merged.to_ghl.clone(),
                Bookkeeping {
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
                    upsert_by: self.upsert_key(ghl_id, &merged.to_ghl),
                    ..Bookkeeping::default()
                },
            ))
            .await?;
        }
        if !merged.to_peer.is_empty() && ctx.settings.contacts.to_peer {
            let mut ghl_json = self.ghl_now(ghl_id)?.unwrap_or(Value::Null);
            if let Some(map) = ghl_json.as_object_mut() {
                map.extend(merged.agreed.clone());
            }
            // The record as the peer holds it, with only the merged fields changed: a write of
            // GHL's whole side would also rewrite every field the peer keeps in its own form.
            let changing: Vec<String> = merged.to_peer.keys().cloned().collect();
            let from_ghl = entity.to_peer(&ghl_json).fields;
            let mut peer_payload = record.fields.clone();
            for name in entity.peer_fields_from(&changing) {
                if let Some(value) = from_ghl.get(&name) {
                    peer_payload.insert(name, value.clone());
                }
            }
            self.write(peer_update(
                ghl_id,
                &record.id,
                peer_payload,
                ghl_json,
                Bookkeeping {
                    peer_id: Some(record.id.clone()),
                    planned_against: Some(hash_fields(&peer_fields)),
                    peer_fields: agreed_peer_side,
                    ghl_fields: Some(merged.agreed.clone()),
                    ghl_keys: keys,
                    diff: report,
                    outcome: Some(outcome),
                    peer_hash: None,
                    gaps_open: false,
                    upsert_by: None,
                },
            ))
            .await?;
        }
        Ok(())
    }

    /// Whether peer record `record` changed after GHL contact `ghl_id` did, by each record's own
    /// clock (the peer's `updated_at`, GHL's `dateUpdated`): "latest" authority. Without a
    /// clock on either side, the change being looked at now is taken for the later one.
    pub(super) fn peer_is_newer(
        &self,
        record: &PeerRecord,
        ghl_id: &str,
    ) -> Result<bool, SyncError> {
        let ghl_updated = self
            .ghl_contact(ghl_id)?
            .and_then(|contact| contact.date_updated)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&chrono::Utc));
        Ok(match (record.updated_at, ghl_updated) {
            (Some(peer), Some(ghl)) => peer >= ghl,
            _ => true,
        })
    }

    /// After a peer contact was linked to an existing GHL contact: GHL may hold two-way fields
    /// the peer record lacks (the peer's value was empty, or one the mapping could not convert,
    /// and empty values are never sent to GHL). The link's baseline leaves those fields out of
    /// what is agreed (`Bookkeeping::gaps_open`), and the peer gets GHL's side now, as flow 4
    /// would send a changed GHL contact; if that write does not go through, the next run still
    /// sees GHL ahead of the baseline and sends it then.
    pub(super) async fn fill_peer_gaps(
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
        if gap_keys(entity, record, &answer, keys).is_empty() {
            return Ok(());
        }
        let mapped = entity.to_peer(&answer);
        let echo = entity.echo(&record.id, mapped.fields.clone());
        let as_read = entity.to_ghl(record).fields;
        let now = restrict(&as_read, keys);
        let then = restrict(&echo.fields, keys);
        let ghl_fields = project(&answer, keys);
        self.write(peer_update(
            ghl_id,
            &record.id,
            mapped.fields,
            answer,
            Bookkeeping {
                peer_id: Some(record.id.clone()),
                peer_fields: echo.fields,
                diff: diff(&now, &then),
                ghl_fields: Some(ghl_fields),
                ghl_keys: keys.to_vec(),
                outcome: None,
                planned_against: Some(hash_fields(&as_read)),
                peer_hash: None,
                gaps_open: false,
                upsert_by: None,
            },
        ))
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
            let mapped = Some(entity.to_ghl(&record));
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
        if !self.ctx.settings.contacts.to_peer {
            return Ok(());
        }
        // The queue as the pages left it: a write that failed in this run blocks its person too.
        self.load_open()?;
        let mut unhandled: Vec<String> = self
            .ghl_snapshot
            .keys()
            .filter(|id| !self.is_handled(id))
            .cloned()
            .collect();
        // The snapshot's own order is a hash map's: sorted, two runs decide alike.
        unhandled.sort();
        // In lanes, as a page's records (`pages.rs`): contacts sharing an email or a phone go
        // one after another, so two can never both create the same person in the peer.
        let keyed = unhandled
            .into_iter()
            .map(|ghl_id| {
                let mut keys = self
                    .ghl_snapshot
                    .get(&ghl_id)
                    .map_or_else(Vec::new, |listed| {
                        super::identity::contact_keys(&listed.match_fields())
                    });
                keys.push(format!("ghl:{ghl_id}"));
                (ghl_id, keys)
            })
            .collect();
        self.in_lanes(keyed, |ghl_id: String| async move {
            if self.limit_reached() {
                return Ok(());
            }
            self.ghl_contact_to_peer(&ghl_id).await
        })
        .await?;
        if !self.dry_run {
            self.close_moot_holds()?;
        }
        Ok(())
    }

    /// One GHL contact to the peer, if it changed since its baseline or is not linked.
    pub(super) async fn ghl_contact_to_peer(&self, ghl_id: &str) -> Result<(), SyncError> {
        let ctx = self.ctx;
        let peer = ctx.peer_name().to_string();
        let entity = ctx.entity(KIND)?;
        let keys = self.ghl_keys(KIND)?;
        let Some(record) = self.ghl_now(ghl_id)? else {
            return Ok(());
        };
        let ghl_fields = project(&record, &keys);
        let peer_id = ctx.store.peer_id_for(&peer, KIND, ghl_id)?;
        let baseline = match &peer_id {
            Some(id) => ctx.store.baseline(&peer, KIND, id)?,
            None => None,
        };
        // Deactivated in the peer: GHL's later edits are not sent to a record that is gone.
        if let Some(id) = &peer_id
            && self.tombstone_seen(KIND, id)?
        {
            self.count(Action::Skip, Outcome::Unchanged);
            return Ok(());
        }
        if baseline
            .as_ref()
            .is_some_and(|b| b.ghl_hash == hash_fields(&ghl_fields))
        {
            self.count(Action::Skip, Outcome::Unchanged);
            return Ok(());
        }
        if peer_id.is_none()
            && let Some(reason) = self.peer_twin(ghl_id, &ghl_fields)?
        {
            return self.hold(Held {
                kind: KIND,
                direction: Direction::ToPeer,
                source_id: ghl_id,
                source: record,
                parent_id: None,
                reason,
            });
        }
        let mapped = entity.to_peer(&record);
        let target = peer_id.clone().unwrap_or_else(|| ghl_id.to_string());
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
            source_id: ghl_id.to_string(),
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
                gaps_open: false,
                upsert_by: None,
            },
        })
        .await?;
        Ok(())
    }
}

/// The GHL fields (of `keys`) where GHL contact `answer` holds something peer record `record`
/// would change to if it got GHL's side: what a link leaves to fill in the peer.
pub(super) fn gap_keys(
    entity: &super::mapping::EntityMapping,
    record: &PeerRecord,
    answer: &Value,
    keys: &[String],
) -> Vec<String> {
    let echo = entity.echo(&record.id, entity.to_peer(answer).fields);
    let now = normalise(&restrict(&entity.to_ghl(record).fields, keys));
    let then = normalise(&restrict(&echo.fields, keys));
    keys.iter()
        .filter(|key| now.get(*key) != then.get(*key))
        .cloned()
        .collect()
}

/// Mapped fields whose value differs from the agreed state; of `customFields`, the entries
/// whose field (by id or key) holds another value there, or is not there (without a
/// `customFields` in `before`, every entry travels). An email that differs only in case, or a
/// phone in another format, says the same (`identity::same_contact_value`): sending it would
/// change nothing, and where GHL holds the person twice a PUT carrying it is refused as a
/// duplicate.
pub(super) fn changed_fields(
    peer_fields: &Map<String, Value>,
    before: &Map<String, Value>,
) -> Map<String, Value> {
    let now = super::hash::normalise(peer_fields);
    peer_fields
        .iter()
        .filter_map(|(key, value)| match key.as_str() {
            "customFields" => {
                let changed = changed_custom_values(value, before.get(key));
                (!changed.is_empty()).then(|| (key.clone(), Value::Array(changed)))
            }
            name => {
                let differs = match (before.get(name), now.get(name)) {
                    (Some(a), Some(b)) => !super::identity::same_contact_value(name, a, b),
                    (a, b) => a != b,
                };
                differs.then(|| (key.clone(), value.clone()))
            }
        })
        .collect()
}

/// The `{id | key, field_value}` entries of `now` that `before` (same form) does not hold.
fn changed_custom_values(now: &Value, before: Option<&Value>) -> Vec<Value> {
    let held = before.and_then(Value::as_array);
    let names = |entry: &Value| (entry.get("id").cloned(), entry.get("key").cloned());
    now.as_array()
        .into_iter()
        .flatten()
        .filter(|entry| {
            !held.is_some_and(|held| {
                held.iter().any(|old| {
                    names(old) == names(entry) && old.get("field_value") == entry.get("field_value")
                })
            })
        })
        .cloned()
        .collect()
}

/// Where a linked peer contact's mapped fields (`mapped`, `EntityMapping::to_ghl`) say something
/// GHL's side (`ghl_side`: the baseline's agreed fields, or a GHL read projected on the mapping's
/// GHL keys) does not: the one comparison of the two sides. The planner sends exactly these
/// fields when the peer changed, and the contact detail marks exactly these rows as different
/// (`differing_targets`), so after a clean run the detail shows none. The rules of every change
/// check (`changed_fields`): empty values say nothing, an email in another case or a phone in
/// another format is the same value; and the mapping's constants (`source = "repsly"`) are
/// stamped on a create or an adoption only, never a difference afterwards (a contact born in
/// GHL keeps GHL's own).
pub fn ghl_differences(
    entity: &super::mapping::EntityMapping,
    mapped: &Map<String, Value>,
    ghl_side: &Map<String, Value>,
) -> Map<String, Value> {
    let mut changed = changed_fields(mapped, &normalise(ghl_side));
    for constant in entity.constant_ghl_fields() {
        changed.remove(&constant);
    }
    changed
}

/// The contact detail's "≠" rows: the preview targets (`FieldRule::ghl_label`, and the external
/// id's field) of the GHL fields where peer contact `record` and GHL contact `ghl_json` (as
/// read) disagree, by `ghl_differences`.
/// The planner's "unchanged" for a linked contact, the first thing a run checks: the peer
/// record maps to the hash its baseline holds, and GHL's contact, projected on the mapping's GHL
/// fields, to the baseline's GHL hash. When both hold, a run sends nothing either way, so the
/// contact detail shows no difference (fields one side never takes — a GHL-born record's
/// peer-only custom fields — included).
pub fn in_step(
    entity: &super::mapping::EntityMapping,
    record: &PeerRecord,
    ghl_json: &Value,
    keys: &[String],
    baseline: &Baseline,
) -> bool {
    let mapped = entity.to_ghl(record).fields;
    hash_normalised(&normalise(&mapped)) == baseline.peer_hash
        && hash_fields(&project(ghl_json, keys)) == baseline.ghl_hash
}

pub fn differing_targets(
    entity: &super::mapping::EntityMapping,
    record: &PeerRecord,
    ghl_json: &Value,
    keys: &[String],
) -> Vec<String> {
    use super::mapping::GhlField;
    // GHL's custom values as the planner compares them on adoption: by resolved id, in the
    // shape a write carries (a plain projection keeps GHL's read shape, which never equals it).
    let mut ghl_side = project(ghl_json, keys);
    ghl_side.insert("customFields".into(), entity.ghl_custom_values(ghl_json));
    let differing = ghl_differences(entity, &entity.to_ghl(record).fields, &ghl_side);
    let differs = |field: &GhlField| match field {
        GhlField::Standard(name) => differing.contains_key(name),
        GhlField::Custom(_) => differing.contains_key("customFields"),
    };
    let mut targets: Vec<String> = entity
        .rules()
        .iter()
        .filter(|rule| rule.direction.to_ghl() && rule.ghl.iter().any(differs))
        .map(|rule| rule.ghl_label())
        .collect();
    if let Some(field) = entity.external_id_field()
        && differing.contains_key("customFields")
    {
        targets.push(field.to_string());
    }
    targets.dedup();
    targets
}

/// An update of GHL contact `ghl_id` from peer contact `record`.
pub(super) fn ghl_update(
    record: &Arc<PeerRecord>,
    ghl_id: &str,
    payload: Map<String, Value>,
    book: Bookkeeping,
) -> Outbound {
    Outbound {
        kind: KIND,
        direction: Direction::ToGhl,
        action: Action::Update,
        source_id: record.id.clone(),
        target_id: Some(ghl_id.to_string()),
        target_parent_id: None,
        payload: Value::Object(payload),
        source: Source::Peer(record.clone()),
        book,
    }
}

/// An update of peer contact `peer_id` with GHL contact `ghl_id`'s side (`ghl_json`, as read).
pub(super) fn peer_update(
    ghl_id: &str,
    peer_id: &str,
    payload: Map<String, Value>,
    ghl_json: Value,
    book: Bookkeeping,
) -> Outbound {
    Outbound {
        kind: KIND,
        direction: Direction::ToPeer,
        action: Action::Update,
        source_id: ghl_id.to_string(),
        target_id: Some(peer_id.to_string()),
        target_parent_id: None,
        payload: Value::Object(payload),
        source: ghl_json.into(),
        book,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::mapping::Mapping;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn client(fields: Value) -> PeerRecord {
        PeerRecord {
            kind: KIND,
            id: "C-1".into(),
            parent_id: None,
            updated_at: None,
            active: true,
            fields: map(fields),
            raw: Value::Null,
        }
    }

    /// One email in two cases, one phone number in two formats: the same value for the
    /// planner (`ghl_differences`, what a peer change sends) and for the contact detail
    /// (`differing_targets`, its `≠` rows), which asks the same function.
    #[test]
    fn a_reformatted_phone_or_an_email_in_another_case_is_no_difference_in_either_place() {
        let mapping = Mapping::builtin("repsly").expect("built-in mapping");
        let entity = mapping.entity(KIND).expect("contact mapping");
        let keys = ["city", "companyName", "email", "phone", "source"].map(String::from);
        let mapped = map(json!({
            "email": "Ann.Lee@Example.ORG", "phone": "+14155550123", "city": "Miami",
            "source": "repsly",
        }));
        let ghl_read = map(json!({
            "email": "ann.lee@example.org", "phone": "(415) 555-0123", "city": "Miami",
            "source": "public api",
        }));
        assert_eq!(ghl_differences(entity, &mapped, &ghl_read), Map::new());
        let moved = map(json!({"email": "ann.lee@example.org", "city": "Boston"}));
        let mut differing: Vec<String> = ghl_differences(entity, &mapped, &moved)
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        differing.sort();
        assert_eq!(differing, ["city", "phone"]);

        let record = client(json!({
            "Name": "Acme", "Email": "ANN.LEE@EXAMPLE.ORG", "Phone": "415-555-0123",
            "City": "Miami",
        }));
        let ghl_json = json!({
            "id": "g1", "companyName": "Acme", "email": "ann.lee@example.org",
            "phone": "+14155550123", "city": "Miami", "source": "public api",
        });
        let targets = differing_targets(entity, &record, &ghl_json, &keys);
        assert!(
            !targets
                .iter()
                .any(|t| t == "email" || t == "phone" || t == "city"),
            "{targets:?}"
        );
        let elsewhere = json!({
            "id": "g1", "companyName": "Acme", "email": "ann.lee@example.org",
            "phone": "+14155550124", "city": "Miami",
        });
        let targets = differing_targets(entity, &record, &elsewhere, &keys);
        assert!(targets.iter().any(|t| t == "phone"), "{targets:?}");
        assert!(!targets.iter().any(|t| t == "email"), "{targets:?}");
    }
}
