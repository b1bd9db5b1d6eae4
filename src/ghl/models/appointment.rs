//! Appointments. Three read shapes exist: a contact's events (`GetEventSchema`, from the Contacts
//! API), a calendar event (`CalendarEventDTO`) and the create/edit answer
//! (`AppointmentSchemaResponse`). One lenient read type covers all three; `extra` keeps the rest.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Appointment {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// ISO with offset on calendar events, `"2021-07-16 11:00:00"` on a contact's list: kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_added: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Statuses a write may set (reads may also show `active` and `completed`).
pub const WRITABLE_APPOINTMENT_STATUSES: &[&str] = &[
    "new",
    "confirmed",
    "cancelled",
    "showed",
    "noshow",
    "invalid",
];

/// `AppointmentCreateSchema` (`POST /calendars/events/appointments`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppointmentCreateDto {
    pub calendar_id: String,
    pub location_id: String,
    pub contact_id: String,
    pub start_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_location_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_location_config: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_date_range: Option<bool>,
    /// A sync must never message a customer: the client sets `false` unless told otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_notify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_free_slot_validation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
}

/// `AppointmentEditSchema` (`PUT /calendars/events/appointments/:eventId`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppointmentEditDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_location_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_location_config: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_date_range: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_notify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_free_slot_validation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
}

/// `GET /contacts/:id/appointments`: `{events}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventList {
    pub events: Vec<Appointment>,
    #[serde(rename = "traceId", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// `GET /calendars/events/appointments/:eventId`: `{event}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub event: Appointment,
    #[serde(rename = "traceId", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}
