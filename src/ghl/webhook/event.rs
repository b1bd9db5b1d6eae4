//! GHL's webhook events (`docs/webhook-events/*.md`) as the sync needs them: what kind, which
//! location, which record, and which contact the event is about. Everything else in the body
//! is left alone: the sync reads the contact from GHL again, so a stale or partial body
//! cannot put old values anywhere.

use serde_json::Value;

/// What an event means to the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// ContactCreate, ContactUpdate, ContactTagUpdate, ContactDndUpdate.
    Contact,
    ContactDelete,
    /// TaskCreate, TaskComplete, TaskDelete.
    Task,
    /// NoteCreate, NoteUpdate, NoteDelete.
    Note,
    /// AppointmentCreate, AppointmentUpdate, AppointmentDelete (nested under `appointment`).
    Appointment,
    /// Any other type (INSTALL, OpportunityCreate, …): accepted and ignored.
    Other,
}

impl EventKind {
    fn of(type_name: &str) -> EventKind {
        match type_name {
            "ContactCreate" | "ContactUpdate" | "ContactTagUpdate" | "ContactDndUpdate" => {
                EventKind::Contact
            }
            "ContactDelete" => EventKind::ContactDelete,
            "TaskCreate" | "TaskComplete" | "TaskDelete" => EventKind::Task,
            "NoteCreate" | "NoteUpdate" | "NoteDelete" => EventKind::Note,
            "AppointmentCreate" | "AppointmentUpdate" | "AppointmentDelete" => {
                EventKind::Appointment
            }
            _ => EventKind::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Contact => "contact",
            EventKind::ContactDelete => "contact_delete",
            EventKind::Task => "task",
            EventKind::Note => "note",
            EventKind::Appointment => "appointment",
            EventKind::Other => "other",
        }
    }
}

/// One delivery's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// `type` as sent (`ContactUpdate`).
    pub type_name: String,
    pub kind: EventKind,
    pub location_id: Option<String>,
    /// The record the event is about (the contact, task, note or appointment).
    pub record_id: Option<String>,
    /// The contact the event is about: the record itself for contact events, else its
    /// `contactId`.
    pub contact_id: Option<String>,
    /// GHL's delivery id, the replay key.
    pub webhook_id: Option<String>,
    /// When GHL sent it (unix ms), from `timestamp` (RFC 3339, or unix seconds or ms).
    pub timestamp_ms: Option<i64>,
}

impl WebhookEvent {
    /// Reads a delivery's body. An error says what is wrong with it (no body content quoted).
    pub fn parse(body: &[u8]) -> Result<WebhookEvent, String> {
        let value: Value =
            serde_json::from_slice(body).map_err(|err| {
                format!("the body is not JSON ({err}); point only GHL's webhooks at this URL (GHL posts one JSON object with a \"type\")")
            })?;
        let Some(object) = value.as_object() else {
            return Err("the body is not a JSON object; point only GHL's webhooks at this URL (GHL posts one JSON object with a \"type\")".into());
        };
        let text = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let Some(type_name) = text(object.get("type")) else {
            return Err(
                "the body has no \"type\": not a GHL webhook event; point only GHL's webhooks at this URL".into(),
            );
        };
        // The docs label AppointmentUpdate and AppointmentDelete examples "AppointmentCreate";
        // the nesting, not the label, says where the record is.
        let nested = object.get("appointment").filter(|v| v.is_object());
        let mut kind = EventKind::of(&type_name);
        if nested.is_some() && kind == EventKind::Other {
            kind = EventKind::Appointment;
        }
        let (record_id, contact_id) = match (kind, nested) {
            (EventKind::Appointment, Some(appointment)) => (
                text(appointment.get("id")),
                text(appointment.get("contactId")),
            ),
            (EventKind::Contact | EventKind::ContactDelete, _) => {
                let id = text(object.get("id")).or_else(|| text(object.get("contactId")));
                (id.clone(), id)
            }
            _ => (text(object.get("id")), text(object.get("contactId"))),
        };
        let timestamp_ms = match object.get("timestamp") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                chrono::DateTime::parse_from_rfc3339(s.trim())
                    .map(|at| at.timestamp_millis())
                    .map_err(|_| {
                        format!("\"timestamp\" {s:?} is not an RFC 3339 time: expected e.g. \"2026-01-31T09:00:00Z\"")
                    })?,
            ),
            Some(Value::Number(n)) => {
                let Some(n) = n.as_i64() else {
                    return Err(
                        "\"timestamp\" is not a whole number: expected e.g. \"2026-01-31T09:00:00Z\", or unix seconds or milliseconds".into(),
                    );
                };
                // Seconds until the year 5138; milliseconds after. A number no clock gives
                // (past i64 milliseconds) is refused, not wrapped.
                if n < 100_000_000_000 {
                    Some(n.checked_mul(1000).ok_or_else(|| {
                        format!("\"timestamp\" {n} is not a time: expected e.g. \"2026-01-31T09:00:00Z\", or unix seconds or milliseconds")
                    })?)
                } else {
                    Some(n)
                }
            }
            Some(_) => {
                return Err(
                    "\"timestamp\" is neither a string nor a number: expected e.g. \"2026-01-31T09:00:00Z\", or unix seconds or milliseconds".into(),
                );
            }
        };
        Ok(WebhookEvent {
            type_name,
            kind,
            location_id: text(object.get("locationId")),
            record_id,
            contact_id,
            webhook_id: text(object.get("webhookId")),
            timestamp_ms,
        })
    }
}
