//! Identity before creation, for contacts: the record on the other side that is the same
//! person. A peer contact with no link looks for its GHL contact (its own id when ghlsync made
//! it from GHL, then each match key of the mapping) and adopts it rather than create a twin; a
//! GHL contact with no link is not created in the peer when the same person's write waits in
//! the queue, or the store knows a peer record of that person (`store::identity`). Where one
//! side holds a person twice, the record is held back with a reason (`hold.rs`).

use super::contacts::changed_fields;
use super::context::SyncError;
use super::execute::{Bookkeeping, Outbound, Source};
use super::hash::{additions, diff, hash_fields, normalise};
use super::hold::{Held, Reason};
use super::identity::{contact_keys, external_key};
use super::mapping::MatchKey;
use super::merge::{Conflict, tags_for_ghl};
use super::run::Run;
use super::send::{Sent, project, restrict};
use crate::peers::{EntityKind, PeerRecord};
use crate::store::{Action, Direction, Outcome, UpsertKey};
use serde_json::{Map, Value, json};
use std::sync::Arc;

const KIND: EntityKind = EntityKind::Contact;

impl Run<'_> {
    /// A peer contact with no link yet. Identity before creation: a GHL contact that is this
    /// person (the record's own id, then each match key in the mapping's order) is adopted, one
    /// already linked to another peer record means the peer holds the person twice, and only a
    /// record that matches nobody is created — by upsert, which GHL matches by email and phone
    /// once more (a contact created after the snapshot is found there too).
    pub(super) async fn peer_contact_new(
        &self,
        record: Arc<PeerRecord>,
        peer_fields: Map<String, Value>,
        normalised: Map<String, Value>,
        peer_hash: String,
    ) -> Result<(), SyncError> {
        let keys = self.ghl_keys(KIND)?;
        let match_keys = self.match_keys(&peer_fields)?;
        let twin = self
            .find_ghl_twin(&record.id, &peer_fields, &match_keys)
            .await?;
        match twin {
            // Made from GHL: it carries the contact's id, or (below) is the contact's create
            // whose answer was lost, in an app that assigns its own ids.
            Twin::Found { ghl_id, by } if by == "id" => {
                return self.adopt_ghl_born(record, peer_hash, ghl_id).await;
            }
            Twin::Found { ghl_id, .. } if self.peer_create_unanswered(&ghl_id) => {
                // The create is done: it landed. Its queued operation goes, or the adoption's
                // write to the peer would wait behind it, and it behind the adoption.
                if let Some(op) = self.take_open(Direction::ToPeer, KIND, &ghl_id) {
                    super::failed::close(
                        self.ctx,
                        &super::Selection::Ids(vec![op.id]),
                        true,
                        "sync",
                    )?;
                }
                return self.adopt_ghl_born(record, peer_hash, ghl_id).await;
            }
            Twin::Found { ghl_id, by } => {
                return self
                    .adopt_contact(record, peer_fields, peer_hash, ghl_id, by)
                    .await;
            }
            Twin::LinkedElsewhere { ghl_id, other, by } => {
                let peer = self.ctx.peer_name();
                let detail = format!(
                    "{peer} holds this person twice: {} and {other} (same {}); {other} is already linked to GHL contact {ghl_id}; merge the two in {peer}, then retry",
                    record.id,
                    describe_key(&by)
                );
                return self.hold_peer_contact(&record, Reason::Duplicate { detail });
            }
            Twin::None => {}
        }
        // A create goes out as an upsert, which GHL matches by email or phone only: with just
        // an external id, a create whose answer is lost could not be found again by GHL.
        if match_keys.iter().all(|key| key.starts_with("external:")) {
            return self.hold_peer_contact(&record, Reason::NoMatchKey);
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

    /// How an update of GHL contact `ghl_id` carrying `payload` can go as one request: when it
    /// carries a field PUT does not accept (`companyName`), the whole update goes as an upsert
    /// by the contact's email (else phone), if the run's snapshot shows that key on this contact
    /// alone and the update does not write that field. `None`: PUT (and for those fields an
    /// upsert by a key looked up first, `send::update_contact`).
    pub(super) fn upsert_key(
        &self,
        ghl_id: &str,
        payload: &Map<String, Value>,
    ) -> Option<UpsertKey> {
        let needs_upsert = super::send::UPSERT_ONLY
            .iter()
            .any(|field| payload.contains_key(*field));
        if !needs_upsert || !self.snapshot_complete {
            return None;
        }
        let held = self.ghl_snapshot.get(ghl_id)?.match_fields();
        let key_of = |field: &str, value: &Value| {
            contact_keys(&Map::from_iter([(field.to_string(), value.clone())]))
                .into_iter()
                .next()
        };
        for field in ["email", "phone"] {
            let Some(value) = held.get(field) else {
                continue;
            };
            let Some(key) = key_of(field, value) else {
                continue;
            };
            // A key the update writes (even only in another format) is not one to find the
            // contact by: the upsert would send the key's old form, or match nobody.
            if payload.contains_key(field) {
                continue;
            }
            if self.ghl_people_with(&key) == [ghl_id] {
                return Some(UpsertKey {
                    field: field.to_string(),
                    value: value.as_str().unwrap_or_default().to_string(),
                });
            }
        }
        None
    }

    /// Holds a peer contact back from GHL for `reason`.
    fn hold_peer_contact(&self, record: &PeerRecord, reason: Reason) -> Result<(), SyncError> {
        self.hold(Held {
            kind: KIND,
            direction: Direction::ToGhl,
            source_id: &record.id,
            source: serde_json::to_value(record).unwrap_or(Value::Null),
            parent_id: None,
            reason,
        })
    }

    /// The match keys of a peer record's GHL-side fields, in the mapping's `match` order.
    pub(super) fn match_keys(&self, fields: &Map<String, Value>) -> Result<Vec<String>, SyncError> {
        let entity = self.ctx.entity(KIND)?;
        let keys = contact_keys(fields);
        let mut ordered = Vec::new();
        for key in entity.match_keys() {
            let prefix = match key {
                MatchKey::Email => "email:",
                MatchKey::Phone => "phone:",
                // The peer's id in its custom field, by the id resolved at run start.
                MatchKey::ExternalId => {
                    ordered.extend(
                        entity
                            .external_id_field_id()
                            .and_then(|id| external_key(id, fields)),
                    );
                    continue;
                }
            };
            ordered.extend(keys.iter().filter(|k| k.starts_with(prefix)).cloned());
        }
        Ok(ordered)
    }

    /// Looks for the GHL contact that is this peer record: one whose id the record carries as
    /// its own (records ghlsync created from GHL), then one per match key. In a full run the
    /// snapshot answers; a replay asks GHL (`POST /contacts/search`).
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

    /// The fields a first link finds held differently on both sides (`changed`: what the peer
    /// would change in GHL; `ghl`: what GHL holds), decided as a linked record's merge decides
    /// them (`Conflict::decide`, with no base) rather than by which side a run met first: a run
    /// that failed before linking must not let an older value beat a user's later edit. Where
    /// GHL wins, the field leaves `changed` and the peer gets GHL's value with the gaps
    /// (`fill_peer_gaps`). Tags join as sets and constants are stamped; neither is decided. A
    /// field GHL leaves empty is filled from the peer. Returned: the fields where GHL's value
    /// stood, logged as conflicts with both values (a field the peer fills is an ordinary
    /// change, as an initial import's thousands of them should read).
    fn first_link_conflicts(
        &self,
        record: &PeerRecord,
        ghl_id: &str,
        changed: &mut Map<String, Value>,
        ghl: &Map<String, Value>,
    ) -> Result<Vec<Conflict>, SyncError> {
        let entity = self.ctx.entity(KIND)?;
        let constants = entity.constant_ghl_fields();
        let peer_is_newer = self.peer_is_newer(record, ghl_id)?;
        let mut conflicts = Vec::new();
        let mut decide = |field: &str, peer: &Value, held: &Value| {
            let rule = entity.authority(field);
            let conflict = Conflict::decide(
                field,
                Value::Null,
                peer.clone(),
                held.clone(),
                rule,
                peer_is_newer,
            );
            let peer_wins = conflict.peer_wins();
            if !peer_wins {
                conflicts.push(conflict);
            }
            peer_wins
        };
        changed.retain(|field, value| match field.as_str() {
            "tags" => true,
            _ if constants.contains(field) => true,
            "customFields" => {
                let held = ghl.get(field).and_then(Value::as_array);
                let entries = value.as_array_mut().map(std::mem::take).unwrap_or_default();
                let kept: Vec<Value> = entries
                    .into_iter()
                    .filter(|entry| {
                        let same_field = |old: &&Value| {
                            (old.get("id"), old.get("key")) == (entry.get("id"), entry.get("key"))
                        };
                        match held.and_then(|held| held.iter().find(same_field)) {
                            Some(old) if !is_empty(old.get("field_value")) => {
                                decide(field, entry, old)
                            }
                            _ => true,
                        }
                    })
                    .collect();
                *value = Value::Array(kept);
                value.as_array().is_some_and(|kept| !kept.is_empty())
            }
            _ => match ghl.get(field) {
                Some(held) if !is_empty(Some(held)) => decide(field, value, held),
                _ => true,
            },
        });
        Ok(conflicts)
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
        // In step when GHL's side, written over the record, changes nothing the mapping sees:
        // fields only the peer fills (a one-way `Active`) keep the record's own values, where
        // the echo alone would read them as empty (and a value map's default).
        let mut written_over = record.fields.clone();
        written_over.extend(mapped.fields.clone());
        let in_step = hash_fields(&entity.echo(&record.id, written_over).fields) == peer_hash;
        let mut report = diff(&entity.to_ghl(&record).fields, &echo.fields);
        report.insert("linked_by".into(), Value::from("id"));
        let out = super::contacts::peer_update(
            &ghl_id,
            &record.id,
            mapped.fields,
            ghl_json,
            Bookkeeping {
                peer_id: Some(record.id.clone()),
                peer_fields: echo.fields,
                diff: report,
                ghl_fields: Some(ghl_fields),
                ghl_keys: keys,
                outcome: None,
                planned_against: Some(peer_hash.clone()),
                peer_hash: None,
                gaps_open: false,
                upsert_by: None,
            },
        );
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
        let mut agreed = normalise(&ghl_fields);
        // The custom fields GHL already holds (their ids resolved at run start) are not sent
        // again: a lost store re-links without rewriting every contact.
        agreed.insert(
            "customFields".into(),
            self.ctx.entity(KIND)?.ghl_custom_values(&ghl_json),
        );
        // Adopting stamps the mapping's constants too (`source`): the record is the peer's.
        let mut changed = changed_fields(&peer_fields, &agreed);
        let conflicts = self.first_link_conflicts(&record, &ghl_id, &mut changed, &agreed)?;
        if let Some(peer_tags) = changed.remove("tags") {
            // First linked: the peer's tags join GHL's, never replace them.
            let ghl_tags = agreed.get("tags").cloned().unwrap_or(Value::Null);
            if let Some(tags) = tags_for_ghl(None, &peer_tags, &ghl_tags) {
                changed.insert("tags".into(), tags);
            }
        }
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
        let outcome = (!conflicts.is_empty()).then(|| {
            report.insert("conflicts".into(), json!(conflicts));
            Outcome::Conflict
        });
        let out = super::contacts::ghl_update(
            &record,
            &ghl_id,
            changed.clone(),
            Bookkeeping {
                peer_id: Some(record.id.clone()),
                peer_fields,
                peer_hash: Some(peer_hash),
                ghl_keys: keys.clone(),
                diff: report,
                planned_against: Some(hash_fields(&ghl_fields)),
                gaps_open: true,
                outcome,
                upsert_by: self.upsert_key(&ghl_id, &changed),
                ..Bookkeeping::default()
            },
        );
        let answer = if changed.is_empty() {
            let sent = Sent::found_in_ghl(&ghl_id, ghl_json.clone());
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

    /// Identity before creation, peer side: why GHL contact `ghl_id` must not become a new peer
    /// record, if it must not. The same person's write to GHL still waiting in the queue, or a
    /// peer record of the same person the store knows (inactive, not synced, or linked to another
    /// GHL contact) — each would become a duplicate in the peer.
    pub(super) fn peer_twin(
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
                if peer_id == ghl_id {
                    // The peer record this contact was created as (it carries the GHL id): an
                    // earlier create landed unseen. Creating again is an upsert by that id,
                    // and its answer makes the link.
                    continue;
                }
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
    pub(super) fn close_moot_holds(&self) -> Result<(), SyncError> {
        let peer = self.ctx.peer_name();
        let mut moot = Vec::new();
        for op in self.ctx.failed_queue()? {
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

/// Nothing held: absent, `null`, an empty string or list (`hash::normalise` drops those).
fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}
