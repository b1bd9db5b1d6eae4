//! A contact's notes (`Version: 2021-07-28`).

use reqwest::Method;

use super::scope::{CONTACTS_READ, CONTACTS_WRITE};
use super::segment;
use crate::ghl::client::GhlClient;
use crate::ghl::error::GhlError;
use crate::ghl::models::{
    CONTACTS_API_VERSION, NoteEnvelope, NoteList, NotesDto, Succeded, UpdateNoteDto,
};
use crate::ghl::transport::Call;

fn notes_path(contact_id: &str) -> Result<String, GhlError> {
    Ok(format!("/contacts/{}/notes", segment(contact_id)?))
}

fn note_path(contact_id: &str, note_id: &str) -> Result<String, GhlError> {
    Ok(format!("{}/{}", notes_path(contact_id)?, segment(note_id)?))
}

fn call(method: Method, path: String, scope: &'static str) -> Call {
    Call::new(method, path, CONTACTS_API_VERSION, scope)
}

impl GhlClient {
    /// All of a contact's notes (GHL has no paging here).
    pub async fn list_notes(&self, contact_id: &str) -> Result<NoteList, GhlError> {
        self.execute(call(Method::GET, notes_path(contact_id)?, CONTACTS_READ).wrapped_in("notes"))
            .await
    }

    pub async fn get_note(
        &self,
        contact_id: &str,
        note_id: &str,
    ) -> Result<NoteEnvelope, GhlError> {
        self.execute(
            call(Method::GET, note_path(contact_id, note_id)?, CONTACTS_READ).wrapped_in("note"),
        )
        .await
    }

    /// Not idempotent: an unknown outcome is `ErrorClass::Ambiguous`, never retried blindly.
    pub async fn create_note(
        &self,
        contact_id: &str,
        dto: &NotesDto,
    ) -> Result<NoteEnvelope, GhlError> {
        let request = call(Method::POST, notes_path(contact_id)?, CONTACTS_WRITE)
            .json(dto)?
            .create()
            .wrapped_in("note");
        self.execute(request).await
    }

    pub async fn update_note(
        &self,
        contact_id: &str,
        note_id: &str,
        dto: &UpdateNoteDto,
    ) -> Result<NoteEnvelope, GhlError> {
        self.execute(
            call(Method::PUT, note_path(contact_id, note_id)?, CONTACTS_WRITE)
                .json(dto)?
                .wrapped_in("note"),
        )
        .await
    }

    pub async fn delete_note(&self, contact_id: &str, note_id: &str) -> Result<Succeded, GhlError> {
        self.execute(
            call(
                Method::DELETE,
                note_path(contact_id, note_id)?,
                CONTACTS_WRITE,
            )
            .wrapped_in("succeded"),
        )
        .await
    }
}
