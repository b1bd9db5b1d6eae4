//! Contacts both ways (flows 1, 4, 5 and 7). A record costs a request only when its mapped
//! content differs from the baseline; when both sides changed, the three-way merge decides per
//! field and the conflict is logged.

use super::context::SyncError;
use super::execute::{Bookkeeping, Outbound, Source};
use super::hash::{additions, diff, hash_fields, hash_normalised, normalise};
use super::hold::{Held, Reason};
use super::identity::contact_keys;
use super::mapping::MatchKey;
use super::merge::merge;
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
        let source = Source::Peer(record.clone());
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
        let mut changed = changed_fields(&peer_fields, &before);
        for constant in self.ctx.entity(KIND)?.constant_ghl_fields() {
            changed.remove(&constant);
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
            ..Bookkeeping::default()
        };
        let unchanged_in_ghl = changed.is_empty();
        let out = Outbound {
            kind: KIND,
            direction: Direction::ToGhl,
            action: Action::Update,
            source_id: record.id.clone(),
            target_id: Some(link.ghl_id.clone()),
            target_parent_id: None,
            payload: Value::Object(changed),
            source,
            book,
        };
        if unchanged_in_ghl && let Some(now) = self.ghl_now(&link.ghl_id)? {
            // The record changed only where GHL is not written (a constant): nothing to send,
            // the baseline moves on.
            let sent = Sent {
                target_id: link.ghl_id,
                ghl_record: Some(now),
                peer_fields: None,
                created: false,
            };
            return self.settle(out, sent).await;
        }
        self.write(out).await?;
        Ok(())
    }

    /// A peer contact with no link yet. Identity before creation: a GHL contact that is this
    /// person (the record's own id, then each match key in the mapping's order) is adopted, one
    /// already linked to another peer record means the peer holds the person twice, and only a
    /// record that matches nobody is created — by upsert, which GHL matches by email and phone
    /// once more (a contact created after the snapshot is found there too).
    async fn peer_contact_new(
        &self,
        record: Arc<PeerRecord>,
        peer_fields: Map<String, Value>,
        normalised: Map<String, Value>,
        peer_hash: String,
    ) -> Result<(), SyncError> {
        let keys = self.ghl_keys(KIND)?;
        let match_keys = self.match_keys(&peer_fields)?;
        match self
            .find_ghl_twin(&record.id, &peer_fields, &match_keys)
            .await?
        {
            Twin::Found { ghl_id, by } if by == "id" => {
                return self.adopt_ghl_born(record, peer_hash, ghl_id).await;
            }
            Twin::Found { ghl_id, by } => {
                return self
                    .adopt_contact(record, peer_fields, peer_hash, ghl_id, by)
                    .await;
            }
            Twin::LinkedElsewhere { ghl_id, other, by } => {
                let peer = self.ctx.peer_name();
                return self.hold(Held {
                    kind: KIND,
                    direction: Direction::ToGhl,
                    source_id: &record.id,
                    source: serde_json::to_value(&*record).unwrap_or(Value::Null),
                    parent_id: None,
                    reason: Reason::Duplicate {
                        detail: format!(
                            "{peer} holds this person twice: {} and {other} (same {}); {other} is already linked to GHL contact {ghl_id}; merge the two in {peer}, then retry",
                            record.id,
                            describe_key(&by)
                        ),
                    },
                });
            }
            Twin::None => {}
        }
        if match_keys.is_empty() {
            return self.hold(Held {
                kind: KIND,
                direction: Direction::ToGhl,
                source_id: &record.id,
                source: serde_json::to_value(&*record).unwrap_or(Value::Null),
                parent_id: None,
                reason: Reason::NoMatchKey,
            });
        }
        let book = Bookkeeping {
            peer_id: Some(record.id.clone()),
            peer_fields: peer_fields.clone(),
            peer_hash: Some(peer_hash),
            ghl_keys: keys.clone(),
            diff: additions(normalised),
            gaps_open: true,
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
                source: Source::Peer(record.clone()),
                book,
            })
            .await?;
        if let Some(sent) = sent {
            self.handled(sent.target_id.clone());
            if sent.created {
                // A contact GHL made just now has no children: nothing to look for before
                // creating them.
                for kind in [EntityKind::Task, EntityKind::Note, EntityKind::Appointment] {
                    self.ctx
                        .store
                        .mark_surveyed(self.ctx.peer_name(), kind, &sent.target_id)?;
                }
            }
            if let Some(answer) = sent.ghl_record {
                self.fill_peer_gaps(&record, &sent.target_id, answer, &keys)
                    .await?;
            }
        }
        Ok(())
    }

    /// The match keys of a peer record's GHL-side fields, in the mapping's `match` order.
    fn match_keys(&self, fields: &Map<String, Value>) -> Result<Vec<String>, SyncError> {
        let wanted = self.ctx.entity(KIND)?.match_keys();
        let keys = contact_keys(fields);
        let mut ordered = Vec::new();
        for key in wanted {
            let prefix = match key {
                MatchKey::Email => "email:",
                MatchKey::Phone => "phone:",
                // The external-id custom field is written, but GHL reads custom fields by id:
                // it is matched once the location's fields are resolved (not yet).
                MatchKey::ExternalId => continue,
            };
            ordered.extend(keys.iter().filter(|k| k.starts_with(prefix)).cloned());
        }
        Ok(ordered)
    }

    /// Looks for the GHL contact that is this peer record: one whose id the record carries as
    /// its own (records ghlsync created from GHL), then one per match key. In a full run the
    /// snapshot answers; a replay asks GHL (`GET /contacts/search/duplicate`).
    async fn find_ghl_twin(
        &self,
        peer_id: &str,
        peer_fields: &Map<String, Value>,
        match_keys: &[String],
    ) -> Result<Twin, SyncError> {
        let ctx = self.ctx;
        let peer = ctx.peer_name();
        let free = |ghl_id: &str| -> Result<bool, SyncError> {
            Ok(ctx
                .store
                .peer_id_for(peer, KIND, ghl_id)?
                .is_none_or(|owner| owner == peer_id))
        };
        if self.knows_ghl(peer_id) && free(peer_id)? {
            return Ok(Twin::Found {
                ghl_id: peer_id.to_string(),
                by: "id".into(),
            });
        }
        for key in match_keys {
            let found = if self.snapshot_complete {
                self.ghl_people_with(key)
            } else {
                self.search_ghl(key).await?
            };
            let mut candidates = Vec::new();
            let mut taken = None;
            for ghl_id in found {
                if free(&ghl_id)? {
                    candidates.push(ghl_id);
                } else if taken.is_none()
                    && let Some(other) = ctx.store.peer_id_for(peer, KIND, &ghl_id)?
                {
                    taken = Some((ghl_id, other));
                }
            }
            if let Some(ghl_id) = self.closest(peer_fields, candidates)? {
                return Ok(Twin::Found {
                    ghl_id,
                    by: key.clone(),
                });
            }
            if let Some((ghl_id, other)) = taken {
                return Ok(Twin::LinkedElsewhere {
                    ghl_id,
                    other,
                    by: key.clone(),
                });
            }
        }
        Ok(Twin::None)
    }

    /// Of GHL contacts that share a key with a peer record (GHL holding one person twice), the
    /// one that agrees with it on the most fields, the oldest on a tie: which peer record takes
    /// which contact then depends on what they hold, not on the order they are synced in.
    fn closest(
        &self,
        peer_fields: &Map<String, Value>,
        candidates: Vec<String>,
    ) -> Result<Option<String>, SyncError> {
        if candidates.len() < 2 {
            return Ok(candidates.into_iter().next());
        }
        let keys = self.ghl_keys(KIND)?;
        let ours = normalise(&restrict(peer_fields, &keys));
        let mut best: Option<(usize, String)> = None;
        for ghl_id in candidates {
            let theirs = self
                .ghl_now(&ghl_id)?
                .map(|json| normalise(&project(&json, &keys)))
                .unwrap_or_default();
            let agree = ours
                .iter()
                .filter(|(key, value)| theirs.get(*key) == Some(value))
                .count();
            if best.as_ref().is_none_or(|(most, _)| agree > *most) {
                best = Some((agree, ghl_id));
            }
        }
        Ok(best.map(|(_, ghl_id)| ghl_id))
    }

    /// GHL's answer to "who has this key" (every contact, oldest first, as the snapshot's index
    /// orders them: a replay and a run choose alike), kept for the rest of the run.
    async fn search_ghl(&self, key: &str) -> Result<Vec<String>, SyncError> {
        // A phone key is its last ten digits: searched for as a part of the number, then
        // narrowed to the contacts whose key it is.
        let (field, operator, value) = match key.split_once(':') {
            Some(("email", value)) => ("email", "eq", value.to_string()),
            Some(("phone", digits)) => ("phone", "contains", digits.to_string()),
            _ => return Ok(Vec::new()),
        };
        let body = crate::ghl::models::ContactSearchBody {
            page_limit: Some(100),
            filters: Some(vec![
                json!({"field": field, "operator": operator, "value": value}),
            ]),
            ..Default::default()
        };
        let mut found = self.ctx.ghl.search_contacts(&body).await?.contacts;
        found.retain(|contact| {
            contact_keys(&contact_match_fields(contact))
                .iter()
                .any(|k| k == key)
        });
        found.sort_by(|a, b| (&a.date_added, &a.id).cmp(&(&b.date_added, &b.id)));
        for contact in &found {
            self.keep_ghl(contact)?;
        }
        Ok(found.into_iter().map(|contact| contact.id).collect())
    }

    /// A peer record ghlsync made from GHL contact `ghl_id` (it carries the contact's id as its
    /// own), found without a link: the store was lost or restored. GHL is where the record came
    /// from, so the peer gets GHL's side as flow 4 would send it (nothing, when it holds that
    /// already), and nothing is written to GHL.
    async fn adopt_ghl_born(
        &self,
        record: Arc<PeerRecord>,
        peer_hash: String,
        ghl_id: String,
    ) -> Result<(), SyncError> {
        let entity = self.ctx.entity(KIND)?;
        let keys = self.ghl_keys(KIND)?;
        let Some(ghl_json) = self.ghl_now(&ghl_id)? else {
            return Ok(());
        };
        self.handled(ghl_id.clone());
        let ghl_fields = project(&ghl_json, &keys);
        let mapped = entity.to_peer(&ghl_json);
        let echo = entity.echo(&record.id, mapped.fields.clone());
        let in_step = hash_fields(&echo.fields) == peer_hash;
        let mut report = diff(&entity.to_ghl(&record).fields, &echo.fields);
        report.insert("linked_by".into(), Value::from("id"));
        let out = Outbound {
            kind: KIND,
            direction: Direction::ToPeer,
            action: Action::Update,
            source_id: ghl_id.clone(),
            target_id: Some(record.id.clone()),
            target_parent_id: None,
            payload: Value::Object(mapped.fields),
            source: ghl_json.into(),
            book: Bookkeeping {
                peer_id: Some(record.id.clone()),
                peer_fields: echo.fields,
                diff: report,
                ghl_fields: Some(ghl_fields),
                ghl_keys: keys,
                outcome: None,
                planned_against: Some(peer_hash.clone()),
                peer_hash: None,
                gaps_open: false,
            },
        };
        if in_step {
            let sent = Sent {
                target_id: record.id.clone(),
                ghl_record: None,
                peer_fields: Some(entity.to_ghl(&record).fields),
                created: false,
            };
            return self.settle(out, sent).await;
        }
        self.write(out).await?;
        Ok(())
    }

    /// Links a peer record to the GHL contact that is the same person, sending only what the
    /// peer would change there (nothing, when both agree), then GHL's values for what the peer
    /// lacks — what an upsert and its gap fill did, without the request when it changes nothing.
    async fn adopt_contact(
        &self,
        record: Arc<PeerRecord>,
        peer_fields: Map<String, Value>,
        peer_hash: String,
        ghl_id: String,
        by: String,
    ) -> Result<(), SyncError> {
        let keys = self.ghl_keys(KIND)?;
        let Some(ghl_json) = self.ghl_now(&ghl_id)? else {
            return Ok(());
        };
        let ghl_fields = project(&ghl_json, &keys);
        let agreed = normalise(&ghl_fields);
        let mut changed = changed_fields(&peer_fields, &agreed);
        // A match key another GHL contact holds too stays as it is: a PUT carrying it is refused
        // as a duplicate, and GHL's upsert leaves such a phone off the contact it matched by
        // email (GoHighLevel/highlevel-api-docs#37). An email that differs only in case is the
        // same email.
        for field in ["email", "phone"] {
            let Some(key) = changed
                .get(field)
                .map(|value| contact_keys(&Map::from_iter([(field.to_string(), value.clone())])))
                .and_then(|keys| keys.into_iter().next())
            else {
                continue;
            };
            let holders = if self.snapshot_complete {
                self.ghl_people_with(&key)
            } else {
                self.search_ghl(&key).await?
            };
            if holders.iter().any(|holder| *holder != ghl_id) {
                changed.remove(field);
            }
        }
        let mut report = diff(
            &restrict(&agreed, &changed.keys().cloned().collect::<Vec<_>>()),
            &changed,
        );
        report.insert("linked_by".into(), Value::from(describe_key(&by)));
        let out = Outbound {
            kind: KIND,
            direction: Direction::ToGhl,
            action: Action::Update,
            source_id: record.id.clone(),
            target_id: Some(ghl_id.clone()),
            target_parent_id: None,
            payload: Value::Object(changed.clone()),
            source: Source::Peer(record.clone()),
            book: Bookkeeping {
                peer_id: Some(record.id.clone()),
                peer_fields,
                peer_hash: Some(peer_hash),
                ghl_keys: keys.clone(),
                diff: report,
                planned_against: Some(hash_fields(&ghl_fields)),
                gaps_open: true,
                ..Bookkeeping::default()
            },
        };
        let answer = if changed.is_empty() {
            let sent = Sent {
                target_id: ghl_id.clone(),
                ghl_record: Some(ghl_json.clone()),
                peer_fields: None,
                created: false,
            };
            self.settle(out, sent).await?;
            Some(ghl_json)
        } else {
            self.write(out).await?.and_then(|sent| sent.ghl_record)
        };
        // Reconciled only if it went through: otherwise flow 4 holds the GHL contact back, as
        // the same person's pending write.
        if answer.is_some() || self.dry_run {
            self.handled(ghl_id.clone());
        }
        if let Some(answer) = answer {
            self.fill_peer_gaps(&record, &ghl_id, answer, &keys).await?;
        }
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
        let source = Source::Peer(record.clone());
        if merged.to_ghl.is_empty() && merged.to_peer.is_empty() {
            // Both sides made the same change: nothing to send, but the baseline moves on to
            // it (a stale one would make the next run send one side's whole record again).
            let Some(now) = self.ghl_now(ghl_id)? else {
                return Ok(());
            };
            let out = Outbound {
                kind: KIND,
                direction: Direction::ToGhl,
                action: Action::Update,
                source_id: record.id.clone(),
                target_id: Some(ghl_id.to_string()),
                target_parent_id: None,
                payload: Value::Object(Map::new()),
                source,
                book: Bookkeeping {
                    peer_id: Some(record.id.clone()),
                    peer_fields,
                    ghl_keys: keys,
                    diff: report,
                    ..Bookkeeping::default()
                },
            };
            let sent = Sent {
                target_id: ghl_id.to_string(),
                ghl_record: Some(now),
                peer_fields: None,
                created: false,
            };
            return self.settle(out, sent).await;
        }
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
                    gaps_open: false,
                },
            })
            .await?;
        }
        Ok(())
    }

    /// After a peer contact was linked to an existing GHL contact: GHL may hold two-way fields
    /// the peer record lacks (the peer's value was empty, or one the mapping could not convert,
    /// and empty values are never sent to GHL). The link's baseline leaves those fields out of
    /// what is agreed (`Bookkeeping::gaps_open`), and the peer gets GHL's side now, as flow 4
    /// would send a changed GHL contact; if that write does not go through, the next run still
    /// sees GHL ahead of the baseline and sends it then.
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
        if gap_keys(entity, record, &answer, keys).is_empty() {
            return Ok(());
        }
        let mapped = entity.to_peer(&answer);
        let echo = entity.echo(&record.id, mapped.fields.clone());
        let as_read = entity.to_ghl(record).fields;
        let now = restrict(&as_read, keys);
        let then = restrict(&echo.fields, keys);
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
                gaps_open: false,
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
        for ghl_id in unhandled {
            if self.limit_reached() {
                break;
            }
            self.ghl_contact_to_peer(&ghl_id).await?;
        }
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
            },
        })
        .await?;
        Ok(())
    }

    /// Identity before creation, peer side: why GHL contact `ghl_id` must not become a new peer
    /// record, if it must not. The same person's write to GHL still waiting in the queue, or a
    /// peer record of the same person the store knows (inactive, not synced, or linked to another
    /// GHL contact) — each would become a duplicate in the peer.
    fn peer_twin(
        &self,
        ghl_id: &str,
        ghl_fields: &Map<String, Value>,
    ) -> Result<Option<Reason>, SyncError> {
        let keys = self.match_keys(ghl_fields)?;
        if keys.is_empty() {
            return Ok(None);
        }
        let peer = self.ctx.peer_name();
        if let Some((op, key)) = self
            .open_for_person(Direction::ToGhl, &keys)
            .into_iter()
            .next()
        {
            return Ok(Some(Reason::SamePersonPending {
                other: format!("{peer} {}", op.source_id),
                op: op.id,
                detail: format!(
                    "same {}; its write waits: {}",
                    describe_key(&key),
                    op.error.map(|e| e.message).unwrap_or_default()
                ),
            }));
        }
        for key in &keys {
            for (peer_id, person) in self.ctx.store.people_with(peer, key)? {
                match self.ctx.store.link(peer, KIND, &peer_id)? {
                    Some(link) if link.ghl_id == ghl_id => {}
                    Some(link) => {
                        return Ok(Some(Reason::Duplicate {
                            detail: format!(
                                "GHL holds this person twice: {ghl_id} and {} (same {}); {} is already linked to {peer} {peer_id}; merge the two contacts in GHL",
                                link.ghl_id,
                                describe_key(key),
                                link.ghl_id
                            ),
                        }));
                    }
                    None => {
                        let state = if person.active {
                            "not synced to GHL yet"
                        } else {
                            "inactive there; reactivate it to sync the two"
                        };
                        return Ok(Some(Reason::TargetHasPerson {
                            other: format!("{peer} {peer_id}"),
                            detail: format!("same {}; {state}", describe_key(key)),
                        }));
                    }
                }
            }
        }
        Ok(None)
    }

    /// GHL contacts held back from the peer whose wait is over without them: linked by now (the
    /// peer's record of the same person synced), or gone from GHL.
    fn close_moot_holds(&self) -> Result<(), SyncError> {
        let peer = self.ctx.peer_name();
        let mut moot = Vec::new();
        for op in self.ctx.store.failed_queue()? {
            let held = op.direction == Direction::ToPeer
                && op.kind == KIND
                && op.payload.is_null()
                && op.action == Action::Create;
            if !held {
                continue;
            }
            let linked = self
                .ctx
                .store
                .peer_id_for(peer, KIND, &op.source_id)?
                .is_some();
            if linked || (self.snapshot_complete && !self.knows_ghl(&op.source_id)) {
                moot.push(op.id);
            }
        }
        if !moot.is_empty() {
            super::failed::close(self.ctx, &super::Selection::Ids(moot), true, "sync")?;
        }
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

/// What a peer record is to GHL's contacts.
enum Twin {
    /// This GHL contact is the same person and not linked to another peer record.
    Found {
        ghl_id: String,
        by: String,
    },
    /// The same person, already linked to another peer record.
    LinkedElsewhere {
        ghl_id: String,
        other: String,
        by: String,
    },
    None,
}

/// A contact's `email` and `phone`, the fields it is matched by.
fn contact_match_fields(contact: &crate::ghl::models::Contact) -> Map<String, Value> {
    let mut fields = Map::new();
    for (name, value) in [("email", &contact.email), ("phone", &contact.phone)] {
        if let Some(value) = value {
            fields.insert(name.to_string(), Value::from(value.clone()));
        }
    }
    fields
}

/// `email:a@b.co` → `email a@b.co`, for messages.
fn describe_key(key: &str) -> String {
    match key.split_once(':') {
        Some((kind, value)) => format!("{kind} {value}"),
        None => key.to_string(),
    }
}

/// Mapped fields whose value differs from the agreed state (custom fields always travel when
/// present: they cannot be compared with a GHL read). An email that differs only in case is the
/// same address: sending it would change nothing, and where GHL holds the person twice a PUT
/// carrying it is refused as a duplicate.
fn changed_fields(
    peer_fields: &Map<String, Value>,
    before: &Map<String, Value>,
) -> Map<String, Value> {
    let now = super::hash::normalise(peer_fields);
    let same_email = |a: Option<&Value>, b: Option<&Value>| match (a, b) {
        (Some(Value::String(a)), Some(Value::String(b))) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    };
    peer_fields
        .iter()
        .filter(|(key, _)| match key.as_str() {
            "customFields" => true,
            "email" => !same_email(before.get("email"), now.get("email")),
            key => before.get(key) != now.get(key),
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}
