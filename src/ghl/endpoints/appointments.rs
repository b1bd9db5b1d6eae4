//! Appointments: a contact's list comes from the Contacts API (`2021-07-28`), single events and
//! writes from the Calendars API (`2021-04-15`).

use reqwest::Method;

use super::scope::{CONTACTS_READ, EVENTS_READ, EVENTS_WRITE};
use super::segment;
use crate::ghl::client::GhlClient;
use crate::ghl::error::GhlError;
use crate::ghl::models::{
    Appointment, AppointmentCreateDto, AppointmentEditDto, CALENDARS_API_VERSION,
    CONTACTS_API_VERSION, EventEnvelope, EventList,
};
use crate::ghl::transport::Call;

fn event_path(event_id: &str) -> Result<String, GhlError> {
    Ok(format!(
        "/calendars/events/appointments/{}",
        segment(event_id)?
    ))
}

impl GhlClient {
    pub async fn list_contact_appointments(&self, contact_id: &str) -> Result<EventList, GhlError> {
        let path = format!("/contacts/{}/appointments", segment(contact_id)?);
        self.execute(
            Call::new(Method::GET, path, CONTACTS_API_VERSION, CONTACTS_READ).wrapped_in("events"),
        )
        .await
    }

    pub async fn get_appointment(&self, event_id: &str) -> Result<EventEnvelope, GhlError> {
        self.execute(
            Call::new(
                Method::GET,
                event_path(event_id)?,
                CALENDARS_API_VERSION,
                EVENTS_READ,
            )
            .wrapped_in("event"),
        )
        .await
    }

    /// The answer is the flat `AppointmentSchemaResponse`. A sync must never message a
    /// customer, so `toNotify` is `false` unless the caller set it. Not idempotent: an unknown
    /// outcome is `ErrorClass::Ambiguous`.
    pub async fn create_appointment(
        &self,
        dto: &AppointmentCreateDto,
    ) -> Result<Appointment, GhlError> {
        let mut dto = dto.clone();
        dto.to_notify.get_or_insert(false);
        if dto.location_id.trim().is_empty() {
            dto.location_id = self.location_id().to_string();
        }
        let path = "/calendars/events/appointments".to_string();
        let request = Call::new(Method::POST, path, CALENDARS_API_VERSION, EVENTS_WRITE)
            .json(&dto)?
            .create()
            .requires_key("id");
        self.execute(request).await
    }

    /// `toNotify` is `false` unless the caller set it.
    pub async fn update_appointment(
        &self,
        event_id: &str,
        dto: &AppointmentEditDto,
    ) -> Result<Appointment, GhlError> {
        let mut dto = dto.clone();
        dto.to_notify.get_or_insert(false);
        let request = Call::new(
            Method::PUT,
            event_path(event_id)?,
            CALENDARS_API_VERSION,
            EVENTS_WRITE,
        )
        .json(&dto)?
        .requires_key("id");
        self.execute(request).await
    }
}
