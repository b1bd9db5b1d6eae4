//! Which GHL fields a rule may name, per entity, taken from the DTOs themselves so the mapping
//! cannot drift from what the client sends; and the JSON type each field must have.

use serde_aux::serde_introspection::serde_introspect;

use crate::ghl::models::{
    AppointmentCreateDto, AppointmentEditDto, CreateContactDto, CreateTaskParams, NotesDto,
    UpdateContactDto, UpdateNoteDto, UpdateTaskBody, UpsertContactDto,
};
use crate::peers::EntityKind;

/// Fields the sync engine fills itself (ids of the location, contact and parent), or that have a
/// dedicated form in the mapping (`customFields` → `customField:key:…`).
const ENGINE_OWNED: &[&str] = &[
    "locationId",
    "contactId",
    "createNewIfDuplicateAllowed",
    "customFields",
];

/// Read-only fields that a GHL → peer rule may read although no write DTO has them.
fn read_only(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::Contact => &[
            "id",
            "dateAdded",
            "dateUpdated",
            "type",
            "businessId",
            "companyName",
        ],
        EntityKind::Task => &["id", "contactId"],
        EntityKind::Note => &["id", "contactId", "dateAdded"],
        EntityKind::Appointment => &["id", "contactId", "notes", "dateAdded", "dateUpdated"],
    }
}

/// The GHL fields a rule may write for `kind`, in DTO order, without duplicates.
pub(crate) fn writable(kind: EntityKind) -> Vec<&'static str> {
    let lists: Vec<&'static [&'static str]> = match kind {
        EntityKind::Contact => vec![
            serde_introspect::<CreateContactDto>(),
            serde_introspect::<UpsertContactDto>(),
            serde_introspect::<UpdateContactDto>(),
        ],
        EntityKind::Task => vec![
            serde_introspect::<CreateTaskParams>(),
            serde_introspect::<UpdateTaskBody>(),
        ],
        EntityKind::Note => vec![
            serde_introspect::<NotesDto>(),
            serde_introspect::<UpdateNoteDto>(),
        ],
        EntityKind::Appointment => vec![
            serde_introspect::<AppointmentCreateDto>(),
            serde_introspect::<AppointmentEditDto>(),
        ],
    };
    let mut out: Vec<&'static str> = Vec::new();
    for name in lists.into_iter().flatten() {
        if !ENGINE_OWNED.contains(name) && !out.contains(name) {
            out.push(name);
        }
    }
    out
}

/// The GHL fields a GHL → peer rule may read for `kind`.
pub(crate) fn readable(kind: EntityKind) -> Vec<&'static str> {
    let mut out = writable(kind);
    for name in read_only(kind) {
        if !out.contains(name) {
            out.push(name);
        }
    }
    out
}

/// Fields GHL refuses a create without; a mapping that writes the entity must fill them.
pub(crate) fn required(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::Contact => &[],
        // `completed` is required too, but the engine sends `false` for a new task if unmapped.
        EntityKind::Task => &["title", "dueDate"],
        EntityKind::Note => &["body"],
        EntityKind::Appointment => &["startTime"],
    }
}

/// The JSON type a GHL write field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GhlType {
    Text,
    Bool,
    TextList,
    /// Objects or mixed forms (`dndSettings`, `dateOfBirth`): passed as mapped.
    Any,
}

pub(crate) fn ghl_type(name: &str) -> GhlType {
    match name {
        "completed"
        | "dnd"
        | "pinned"
        | "overrideLocationConfig"
        | "ignoreDateRange"
        | "toNotify"
        | "ignoreFreeSlotValidation" => GhlType::Bool,
        "tags" => GhlType::TextList,
        "dndSettings" | "inboundDndSettings" | "dateOfBirth" => GhlType::Any,
        _ => GhlType::Text,
    }
}
