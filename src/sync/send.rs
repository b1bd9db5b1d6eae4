//! The one place an operation becomes a request: by entity, direction and action. Payloads are
//! checked against the GHL DTO here, so a mapping that produces a field GHL would refuse fails
//! locally as a validation error instead of costing a request.

use super::context::SyncContext;
use super::identity::{child_key, instant};
use super::reason::{ReasonCode, field_in_ghl_message};
use crate::ghl::GhlError;
use crate::ghl::models::{
    AppointmentCreateDto, AppointmentEditDto, CreateTaskParams, ErrorMessage, NotesDto,
    UpdateContactDto, UpdateNoteDto, UpdateTaskBody, UpsertContactDto,
};
use crate::net::ErrorClass;
use crate::peers::{EntityKind, PeerError, PeerRecord};
use crate::store::{Action, Direction, OpError, Operation, UpsertKey};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A write that reached its target.
#[derive(Debug, Clone)]
pub struct Sent {
    pub target_id: String,
    /// The GHL record as GHL answered (GHL-side writes that return one).
    pub ghl_record: Option<Value>,
    /// The peer record, read back after a peer write, mapped to GHL fields: the baseline's peer
    /// side is what the peer really holds, not what we think we sent.
    pub peer_fields: Option<Map<String, Value>>,
    /// True when the target says the write made a new record (a GHL upsert's `new`).
    pub created: bool,
}

impl Sent {
    /// What a GHL record already holds, for a link made without a request (`Run::settle`).
    pub fn found_in_ghl(id: &str, record: Value) -> Sent {
        Sent {
            target_id: id.to_string(),
            ghl_record: Some(record),
            peer_fields: None,
            created: false,
        }
    }
}

pub enum SendError {
    Failed(OpError),
}

/// A GHL failure as an operation's error. The field a refusal names is kept from GHL's own
/// message list (or the local DTO check's unknown fields), so the failure's reason code
/// (`reason::ReasonCode::classify`, applied where the failure is recorded) can say which.
impl From<GhlError> for SendError {
    fn from(err: GhlError) -> Self {
        let field = match &err {
            GhlError::InvalidBody { unknown_fields, .. } => unknown_fields.first().cloned(),
            _ => err.ghl_message().and_then(|message| match message {
                ErrorMessage::Text(text) => field_in_ghl_message(text),
                ErrorMessage::List(items) => {
                    items.iter().find_map(|item| field_in_ghl_message(item))
                }
                ErrorMessage::Other(_) => None,
            }),
        };
        SendError::Failed(OpError {
            class: err.class(),
            status: err.status(),
            message: err.to_string(),
            trace_id: err.trace_id().map(str::to_string),
            reason: None,
            field,
        })
    }
}

impl From<PeerError> for SendError {
    fn from(err: PeerError) -> Self {
        SendError::Failed(OpError {
            class: err.class(),
            status: None,
            message: err.to_string(),
            trace_id: None,
            reason: err.reason.map(|reason| reason.as_str().to_string()),
            field: err.field().map(str::to_string),
        })
    }
}

/// GHL holds the person twice, so the write cannot reach the one contact it is for.
fn duplicate_in_ghl(message: String) -> SendError {
    let SendError::Failed(mut err) = local(ErrorClass::Validation, message, None);
    err.reason = Some(ReasonCode::Duplicate.as_str().to_string());
    SendError::Failed(err)
}

/// A write refused here before any request; `field` when the refusal is about one.
fn local(class: ErrorClass, message: String, field: Option<String>) -> SendError {
    SendError::Failed(OpError {
        class,
        status: None,
        message,
        trace_id: None,
        reason: None,
        field,
    })
}

fn dto<T: DeserializeOwned>(payload: &Value, name: &str) -> Result<T, SendError> {
    let unknown = crate::ghl::models::unknown_properties::<T>(payload);
    if !unknown.is_empty() {
        return Err(local(
            ErrorClass::Validation,
            format!(
                "the mapping produced {} which {name} does not accept; fix the mapping",
                unknown.join(", ")
            ),
            unknown.first().cloned(),
        ));
    }
    // Straight from the borrowed value: no copy of the payload.
    T::deserialize(payload).map_err(|err| {
        local(
            ErrorClass::Validation,
            format!("the mapped record does not fit {name}: {err}"),
            None,
        )
    })
}

fn required<'a>(value: &'a Option<String>, what: &str) -> Result<&'a str, SendError> {
    value.as_deref().ok_or_else(|| {
        let SendError::Failed(mut err) = local(
            ErrorClass::Validation,
            format!("no {what}: the parent record is not synced yet"),
            None,
        );
        err.reason = Some(ReasonCode::ParentNotSynced.as_str().to_string());
        SendError::Failed(err)
    })
}

/// Projects a GHL record (as JSON) onto `keys`.
pub fn project(record: &Value, keys: &[String]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|key| record.get(key).map(|value| (key.clone(), value.clone())))
        .collect()
}

/// Restricts mapped GHL-side fields to `keys` (what a GHL read can be compared with).
pub fn restrict(fields: &Map<String, Value>, keys: &[String]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|key| fields.get(key).map(|value| (key.clone(), value.clone())))
        .collect()
}

fn sent_ghl(id: String, record: &impl serde::Serialize, _payload: &Value) -> Sent {
    Sent {
        target_id: id,
        ghl_record: serde_json::to_value(record).ok(),
        peer_fields: None,
        created: false,
    }
}

pub async fn send(ctx: &SyncContext, op: &Operation) -> Result<Sent, SendError> {
    match op.direction {
        Direction::ToGhl => send_to_ghl(ctx, op).await,
        Direction::ToPeer => send_to_peer(ctx, op).await,
    }
}

async fn send_to_ghl(ctx: &SyncContext, op: &Operation) -> Result<Sent, SendError> {
    let ghl = &ctx.ghl;
    let payload = &op.payload;
    match (op.kind, op.action) {
        (EntityKind::Contact, Action::Create) => {
            let mut dto: UpsertContactDto = dto(payload, "UpsertContactDto")?;
            dto.location_id
                .get_or_insert_with(|| ghl.location_id().to_string());
            let answer = ghl.upsert_contact(&dto).await?;
            Ok(Sent {
                created: answer.is_new,
                ..sent_ghl(answer.contact.id.clone(), &answer.contact, payload)
            })
        }
        (EntityKind::Contact, Action::Update) => {
            let id = required(&op.target_id, "GHL contact id")?;
            update_contact(ctx, id, payload, op.upsert_by.as_ref()).await
        }
        (EntityKind::Contact, Action::Tag) => {
            let id = required(&op.target_id, "GHL contact id")?;
            let tags: Vec<String> =
                serde_json::from_value(payload.get("tags").cloned().unwrap_or_default())
                    .unwrap_or_default();
            ghl.add_tags(id, &tags).await?;
            Ok(Sent {
                target_id: id.to_string(),
                ghl_record: None,
                peer_fields: None,
                created: false,
            })
        }
        (kind, Action::Delete) => {
            let id = required(&op.target_id, "GHL id")?;
            let result = match kind {
                EntityKind::Contact => ghl.delete_contact(id).await.map(|_| ()),
                EntityKind::Task => ghl
                    .delete_task(required(&op.target_parent_id, "GHL contact id")?, id)
                    .await
                    .map(|_| ()),
                EntityKind::Note => ghl
                    .delete_note(required(&op.target_parent_id, "GHL contact id")?, id)
                    .await
                    .map(|_| ()),
                EntityKind::Appointment => {
                    // No delete in the contract we use: cancel, which GHL shows and keeps.
                    let cancel = AppointmentEditDto {
                        appointment_status: Some("cancelled".into()),
                        to_notify: Some(false),
                        ..AppointmentEditDto::default()
                    };
                    ghl.update_appointment(id, &cancel).await.map(|_| ())
                }
            };
            match result {
                // Deleting what is already gone is done.
                Err(err) if err.class() == ErrorClass::NotFound => {}
                other => other?,
            }
            Ok(Sent {
                target_id: id.to_string(),
                ghl_record: None,
                peer_fields: None,
                created: false,
            })
        }
        (EntityKind::Task, Action::Create) => {
            let parent = required(&op.target_parent_id, "GHL contact id")?;
            let params: CreateTaskParams = dto(payload, "CreateTaskParams")?;
            let task = ghl.create_task(parent, &params).await?.task;
            Ok(sent_ghl(task.id.clone(), &task, payload))
        }
        (EntityKind::Task, Action::Update) => {
            let parent = required(&op.target_parent_id, "GHL contact id")?;
            let id = required(&op.target_id, "GHL task id")?;
            let body: UpdateTaskBody = dto(payload, "UpdateTaskBody")?;
            let task = ghl.update_task(parent, id, &body).await?.task;
            Ok(sent_ghl(task.id.clone(), &task, payload))
        }
        (EntityKind::Note, Action::Create) => {
            let parent = required(&op.target_parent_id, "GHL contact id")?;
            let note_dto: NotesDto = dto(payload, "NotesDTO")?;
            let note = ghl.create_note(parent, &note_dto).await?.note;
            Ok(sent_ghl(note.id.clone(), &note, payload))
        }
        (EntityKind::Note, Action::Update) => {
            let parent = required(&op.target_parent_id, "GHL contact id")?;
            let id = required(&op.target_id, "GHL note id")?;
            let body: UpdateNoteDto = dto(payload, "UpdateNoteDTO")?;
            let note = ghl.update_note(parent, id, &body).await?.note;
            Ok(sent_ghl(note.id.clone(), &note, payload))
        }
        (EntityKind::Appointment, Action::Create) => {
            let parent = required(&op.target_parent_id, "GHL contact id")?;
            let mut with_ids = payload.clone();
            if let Some(map) = with_ids.as_object_mut() {
                map.insert("contactId".into(), Value::from(parent));
                map.entry("locationId")
                    .or_insert_with(|| Value::from(ghl.location_id()));
            }
            let mut create: AppointmentCreateDto = dto(&with_ids, "AppointmentCreateSchema")?;
            create.to_notify = Some(false);
            let event = ghl.create_appointment(&create).await?;
            Ok(sent_ghl(event.id.clone(), &event, payload))
        }
        (EntityKind::Appointment, Action::Update) => {
            let id = required(&op.target_id, "GHL appointment id")?;
            let mut edit: AppointmentEditDto = dto(payload, "AppointmentEditSchema")?;
            edit.to_notify = Some(false);
            let event = ghl.update_appointment(id, &edit).await?;
            Ok(sent_ghl(event.id.clone(), &event, payload))
        }
        (kind, action) => Err(local(
            ErrorClass::ScopeOrConfig,
            format!("ghlsync cannot {} a {kind} in GHL", action.as_str()),
            None,
        )),
    }
}

/// Fields GHL accepts on upsert but not on `PUT /contacts/:id` (UpdateContactDto lacks them).
pub(super) const UPSERT_ONLY: [&str; 2] = ["companyName", "gender"];

/// A contact update: PUT for what PUT accepts; what only upsert accepts goes through upsert keyed
/// by the contact's own email (or phone), and GHL must answer with the same contact — otherwise
/// its duplicate rules matched someone else and nothing is claimed as done.
async fn update_contact(
    ctx: &SyncContext,
    id: &str,
    payload: &Value,
    upsert_by: Option<&UpsertKey>,
) -> Result<Sent, SendError> {
    let ghl = &ctx.ghl;
    if let Some(key) = upsert_by {
        match update_by_upsert(ctx, id, payload, key).await {
            // GHL has answered 422 to writes it made (GoHighLevel/highlevel-api-docs#64): the
            // update goes the long way below, PUT and a looked-up upsert, each safe to repeat.
            Err(SendError::Failed(err)) if err.status == Some(422) => {}
            other => return other,
        }
    }
    let mut put = payload.as_object().cloned().unwrap_or_default();
    let mut upsert_only = Map::new();
    for key in UPSERT_ONLY {
        if let Some(value) = put.remove(key) {
            upsert_only.insert(key.to_string(), value);
        }
    }
    let mut latest = None;
    if !put.is_empty() || upsert_only.is_empty() {
        let dto: UpdateContactDto = dto(&Value::Object(put), "UpdateContactDto")?;
        latest = Some(ghl.update_contact(id, &dto).await?.contact);
    }
    if !upsert_only.is_empty() {
        let current = match latest.take() {
            Some(contact) => contact,
            None => ghl.get_contact(id).await?.contact,
        };
        let mut body = upsert_only;
        // The upsert must match this contact and no other: GHL matches by email first, so the
        // key is one GHL itself resolves to this contact (a duplicate elsewhere in the location
        // would otherwise receive the write).
        let mut key = None;
        for (field, value) in [("email", &current.email), ("phone", &current.phone)] {
            let Some(value) = value.as_deref().filter(|v| !v.is_empty()) else {
                continue;
            };
            let (email, phone) = match field {
                "email" => (Some(value), None),
                _ => (None, Some(value)),
            };
            let owner = ghl
                .find_duplicate(email, phone)
                .await?
                .contact
                .map(|c| c.id);
            if owner.as_deref() == Some(id) {
                key = Some((field, value.to_string()));
                break;
            }
        }
        let Some((field, value)) = key else {
            return Err(duplicate_in_ghl(format!(
                "GHL contact {id} shares its email and phone with another contact (or has neither), so its {} cannot be updated (PUT does not accept it, and an upsert would reach the other contact); merge the duplicates in GHL, then retry",
                UPSERT_ONLY.join("/")
            )));
        };
        body.insert(field.into(), Value::from(value));
        let wanted = body.clone();
        let mut upsert: UpsertContactDto = dto(&Value::Object(body), "UpsertContactDto")?;
        upsert.location_id = Some(ghl.location_id().to_string());
        let answer = match ghl.upsert_contact(&upsert).await {
            Ok(answer) => answer,
            // GHL has answered 422 to writes it made (GoHighLevel/highlevel-api-docs#64): the
            // contact says whether this one landed.
            Err(err) if err.status() == Some(422) => {
                let contact = ghl.get_contact(id).await?.contact;
                let json = serde_json::to_value(&contact).unwrap_or(Value::Null);
                let holds = wanted
                    .iter()
                    .all(|(key, value)| json.get(key).is_none_or(|held| held == value));
                if !holds {
                    return Err(err.into());
                }
                crate::ghl::models::UpsertContactResponse {
                    is_new: false,
                    contact,
                    trace_id: None,
                }
            }
            Err(err) => return Err(err.into()),
        };
        if answer.contact.id != id {
            return Err(duplicate_in_ghl(format!(
                "GHL matched contact {} instead of {id} when updating its company name; GHL holds duplicates of this email/phone — merge them in GHL, then retry",
                answer.contact.id
            )));
        }
        latest = Some(answer.contact);
    }
    let contact =
        latest.ok_or_else(|| local(ErrorClass::Decode, "GHL answered no contact".into(), None))?;
    Ok(sent_ghl(contact.id.clone(), &contact, payload))
}

/// A contact update as one upsert, by a key GHL held on this contact alone when it was planned:
/// one request for what PUT and an upsert would carry between them. GHL must answer with this
/// contact; otherwise it matched someone else (the key moved since) and nothing is claimed.
async fn update_by_upsert(
    ctx: &SyncContext,
    id: &str,
    payload: &Value,
    key: &UpsertKey,
) -> Result<Sent, SendError> {
    let mut body = payload.as_object().cloned().unwrap_or_default();
    body.insert(key.field.clone(), Value::from(key.value.clone()));
    let mut upsert: UpsertContactDto = dto(&Value::Object(body), "UpsertContactDto")?;
    upsert.location_id = Some(ctx.ghl.location_id().to_string());
    let answer = ctx.ghl.upsert_contact(&upsert).await?;
    if answer.contact.id != id {
        return Err(duplicate_in_ghl(format!(
            "GHL matched contact {} instead of {id} by its {} when updating it; GHL holds duplicates of it — merge them in GHL, then retry",
            answer.contact.id, key.field
        )));
    }
    Ok(sent_ghl(
        answer.contact.id.clone(),
        &answer.contact,
        payload,
    ))
}

/// The record a write to the peer sends: the payload, under the target's id (a create's is the
/// GHL id it comes from).
fn peer_write(
    kind: EntityKind,
    action: Action,
    target_id: Option<&str>,
    source_id: &str,
    payload: &Value,
) -> PeerRecord {
    PeerRecord {
        kind,
        id: target_id.unwrap_or(source_id).to_string(),
        parent_id: None,
        updated_at: None,
        active: action != Action::Delete,
        fields: payload.as_object().cloned().unwrap_or_default(),
        raw: Value::Null,
    }
}

/// What a dry run can know of a write's fate without sending it: the checks made here before
/// any request (a peer's required fields, a GHL contact body GHL's DTO would refuse). `Err`
/// is the failure the write would meet, as a real send records it.
pub fn check_locally(
    ctx: &SyncContext,
    kind: EntityKind,
    direction: Direction,
    action: Action,
    target_id: Option<&str>,
    source_id: &str,
    payload: &Value,
) -> Result<(), OpError> {
    let checked = match (direction, kind, action) {
        (Direction::ToPeer, _, Action::Create | Action::Update) => ctx
            .peer
            .check(&peer_write(kind, action, target_id, source_id, payload))
            .map_err(SendError::from),
        (Direction::ToGhl, EntityKind::Contact, Action::Create) => {
            dto::<UpsertContactDto>(payload, "UpsertContactDto").map(|_| ())
        }
        _ => Ok(()),
    };
    checked.map_err(|SendError::Failed(err)| err)
}

async fn send_to_peer(ctx: &SyncContext, op: &Operation) -> Result<Sent, SendError> {
    let record = peer_write(
        op.kind,
        op.action,
        op.target_id.as_deref(),
        &op.source_id,
        &op.payload,
    );
    let outcome = match ctx.peer.upsert(&record).await {
        Ok(outcome) => outcome,
        Err(err) if op.action == Action::Create && err.existing.is_some() => {
            let existing = err.existing.map(String::from).unwrap_or_default();
            adopt_existing(ctx, op, record, existing).await?
        }
        Err(err) => return Err(err.into()),
    };
    // Read the write back: peers normalise and add fields, and the baseline must hold what the
    // next read will see, or the next run would take our own write for a change (an echo) and
    // send the fields only the peer fills (an `Active`, its own id) to GHL.
    let written = read_back(ctx, op.kind, &outcome.id).await.and_then(|back| {
        ctx.mapping
            .entity(op.kind)
            .map(|entity| entity.to_ghl(&back).fields)
    });
    Ok(Sent {
        target_id: outcome.id,
        ghl_record: None,
        peer_fields: written,
        created: outcome.created,
    })
}

/// The record just written, as the peer holds it. A failed read is tried again (the write is
/// done; only the baseline's accuracy is at stake), up to three times in all.
async fn read_back(ctx: &SyncContext, kind: EntityKind, id: &str) -> Option<PeerRecord> {
    for attempt in 1..=READ_BACK_ATTEMPTS {
        match ctx.peer.get(kind, id).await {
            Ok(found) => return found,
            Err(err) if attempt < READ_BACK_ATTEMPTS => {
                tracing::debug!(error = %err, attempt, "read-back failed; reading again");
                tokio::time::sleep(std::time::Duration::from_millis(50 * u64::from(attempt))).await;
            }
            Err(err) => {
                tracing::debug!(error = %err, "read-back failed; the baseline keeps what was sent")
            }
        }
    }
    None
}

const READ_BACK_ATTEMPTS: u32 = 3;

/// A create the peer answered with "already there as `existing`" (an app with no upsert, found
/// by email): our own earlier create whose answer was lost, or a record no GHL contact owns yet,
/// is adopted and updated; one another GHL contact is linked to means GHL holds the person twice,
/// and writing would overwrite that contact's record with this one's values.
async fn adopt_existing(
    ctx: &SyncContext,
    op: &Operation,
    record: PeerRecord,
    existing: String,
) -> Result<crate::peers::WriteOutcome, SendError> {
    let peer = ctx.peer_name();
    let owner = ctx
        .store
        .link(peer, op.kind, &existing)
        .map_err(|err| local(ErrorClass::Transient, err.to_string(), None))?
        .map(|link| link.ghl_id)
        .filter(|ghl_id| *ghl_id != op.source_id);
    if let Some(owner) = owner {
        return Err(duplicate_in_ghl(format!(
            "GHL holds this person twice: {} and {owner}; {owner} is already linked to {peer} {existing}, which {peer} found by the same key; merge the two contacts in GHL",
            op.source_id
        )));
    }
    let update = PeerRecord {
        id: existing,
        ..record
    };
    let mut outcome = ctx.peer.upsert(&update).await?;
    outcome.created = false;
    Ok(outcome)
}

/// After an ambiguous outcome, or for an operation found in flight: does the target hold the
/// record already? A child create is looked up among its contact's children by what it is
/// (`identity::child_key`): one not linked to another peer record, and — where GHL says when
/// it was made (notes) — made after the intent was written, so a look-alike that was there
/// before is never taken for ours. Upserts are safe to repeat, so they answer "not found" and
/// are planned again.
pub async fn reconcile(ctx: &SyncContext, op: &Operation) -> Result<Option<Sent>, SendError> {
    if op.direction != Direction::ToGhl || op.action != Action::Create {
        return Ok(None);
    }
    if op.kind == EntityKind::Contact {
        return reconcile_upsert(ctx, op).await;
    }
    let Some(parent) = op.target_parent_id.as_deref() else {
        return Ok(None);
    };
    let Some(planned) = op
        .payload
        .as_object()
        .and_then(|payload| child_key(op.kind, payload))
    else {
        return Ok(None);
    };
    // The intent is written before the request leaves; a clock minute covers GHL's skew.
    let not_before = op.updated_at - chrono::Duration::minutes(1);
    let listed: Vec<Value> = match op.kind {
        EntityKind::Task => values(ctx.ghl.list_tasks(parent).await?.tasks),
        EntityKind::Note => values(ctx.ghl.list_notes(parent).await?.notes),
        EntityKind::Appointment => values(ctx.ghl.list_contact_appointments(parent).await?.events),
        EntityKind::Contact => return Ok(None),
    };
    for child in listed {
        let (Some(id), Some(fields)) = (child.get("id").and_then(Value::as_str), child.as_object())
        else {
            continue;
        };
        if child_key(op.kind, fields).as_deref() != Some(planned.as_str()) {
            continue;
        }
        let made_before = fields
            .get("dateAdded")
            .and_then(Value::as_str)
            .and_then(instant)
            .is_some_and(|added| added < not_before);
        if made_before {
            continue;
        }
        let owner = ctx
            .store
            .peer_id_for(&op.peer, op.kind, id)
            .map_err(|err| {
                local(
                    ErrorClass::Transient,
                    format!("reading the id links before adopting a record: {err}"),
                    None,
                )
            })?;
        if owner.is_none_or(|owner| owner == op.source_id) {
            return Ok(Some(sent_ghl(id.to_string(), &child, &op.payload)));
        }
    }
    Ok(None)
}

/// A contact upsert that may have landed: the contact GHL finds by the payload's email (then
/// phone), if it holds every field the payload sets.
async fn reconcile_upsert(ctx: &SyncContext, op: &Operation) -> Result<Option<Sent>, SendError> {
    let text = |key: &str| {
        op.payload
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
    };
    let keys = ctx.ghl_keys(EntityKind::Contact).unwrap_or_default();
    for (email, phone) in [(text("email"), None), (None, text("phone"))] {
        if email.is_none() && phone.is_none() {
            continue;
        }
        let Some(contact) = ctx.ghl.find_duplicate(email, phone).await?.contact else {
            continue;
        };
        let json = serde_json::to_value(&contact).unwrap_or(Value::Null);
        if super::execute::ghl_holds_update(&op.payload, &project(&json, &keys), &keys, None) {
            return Ok(Some(sent_ghl(contact.id.clone(), &contact, &op.payload)));
        }
    }
    Ok(None)
}

fn values<T: serde::Serialize>(items: Vec<T>) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ghl::error::{ApiError, RequestContext};

    fn refusal(status: u16, class: ErrorClass, message: ErrorMessage) -> OpError {
        let err = GhlError::Api(Box::new(ApiError {
            ctx: RequestContext {
                method: "POST".into(),
                path: "/contacts/upsert".into(),
            },
            status,
            class,
            summary: message.to_string(),
            message: Some(message),
            trace_id: Some("trace".into()),
            hint: None,
        }));
        let SendError::Failed(op_error) = SendError::from(err);
        op_error
    }

    /// The field comes from GHL's own message list, so the failure is filed under it; a
    /// refusal naming none is GHL's refusal of the data.
    #[test]
    fn a_ghl_refusal_keeps_the_field_its_messages_name() {
        let named = refusal(
            422,
            ErrorClass::Validation,
            ErrorMessage::List(vec![
                "The request is invalid".into(),
                "email must be an email".into(),
            ]),
        );
        assert_eq!(named.field.as_deref(), Some("email"));
        assert_eq!(
            ReasonCode::classify(&named, Direction::ToGhl),
            ReasonCode::GhlRejectedField
        );
        let unnamed = refusal(
            400,
            ErrorClass::Validation,
            ErrorMessage::Text("This contact is a duplicate".into()),
        );
        assert_eq!(unnamed.field, None);
        assert_eq!(
            ReasonCode::classify(&unnamed, Direction::ToGhl),
            ReasonCode::GhlRejected
        );
        let gone = refusal(
            404,
            ErrorClass::NotFound,
            ErrorMessage::Text("Contact not found".into()),
        );
        assert_eq!(
            ReasonCode::classify(&gone, Direction::ToGhl),
            ReasonCode::TargetGone
        );
    }

    /// A body the mapping shaped into something GHL's DTO lacks is refused locally, naming the
    /// field; a missing parent id is the parent's, not the data's.
    #[test]
    fn local_refusals_are_filed_under_the_field_or_the_parent() {
        let Err(SendError::Failed(err)) =
            dto::<UpsertContactDto>(&serde_json::json!({"favouriteColour": "red"}), "Upsert")
        else {
            panic!("refused");
        };
        assert_eq!(err.field.as_deref(), Some("favouriteColour"));
        assert_eq!(
            ReasonCode::classify(&err, Direction::ToGhl),
            ReasonCode::GhlRejectedField
        );
        let Err(SendError::Failed(err)) = required(&None, "GHL contact id") else {
            panic!("refused");
        };
        assert_eq!(
            ReasonCode::classify(&err, Direction::ToGhl),
            ReasonCode::ParentNotSynced
        );
    }
}
