//! A contact's notes (`/contacts/:contactId/notes…`; the note's path parameter is `id`).
//! Lists are newest first.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Map;

use crate::ghl::models::{Note, NoteEnvelope, NoteList, NotesDto, Succeded, UpdateNoteDto};
use crate::sandbox::auth::Caller;
use crate::sandbox::body::{JsonBody, Kind, Rule, opt, req, validate};
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::ids;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::{Store, fmt_ms, now_ms};

const RULES: &[Rule] = &[
    opt("userId", Kind::Str),
    req("body", Kind::Str),
    opt("title", Kind::Str),
    opt("color", Kind::Str),
    opt("pinned", Kind::Bool),
];

const UPDATE_RULES: &[Rule] = &[
    opt("userId", Kind::Str),
    opt("body", Kind::Str),
    opt("title", Kind::Str),
    opt("color", Kind::Str),
    opt("pinned", Kind::Bool),
];

fn note_mut<'a>(
    store: &'a mut Store,
    caller: &Caller,
    contact_id: &str,
    note_id: &str,
) -> Result<&'a mut Note, ApiError> {
    store.owned(contact_id, &caller.location_id)?;
    store
        .notes
        .get_mut(contact_id)
        .and_then(|notes| notes.iter_mut().find(|n| n.id == note_id))
        .ok_or_else(|| ApiError::not_found("Note"))
}

pub async fn list(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(contact_id): Path<String>,
) -> ApiResult {
    let store = lock(&st.data);
    store.owned(&contact_id, &caller.location_id)?;
    let mut notes = store.notes.get(&contact_id).cloned().unwrap_or_default();
    notes.sort_by(|a, b| b.date_added.cmp(&a.date_added));
    ok(
        StatusCode::OK,
        NoteList {
            notes,
            trace_id: None,
        },
    )
}

pub async fn get_one(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path((contact_id, note_id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = lock(&st.data);
    let note = note_mut(&mut store, &caller, &contact_id, &note_id)?.clone();
    ok(
        StatusCode::OK,
        NoteEnvelope {
            note,
            trace_id: None,
        },
    )
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = validate::<NotesDto>(&body, RULES)?;
    let mut store = lock(&st.data);
    store.owned(&contact_id, &caller.location_id)?;
    let note = Note {
        id: ids::new_id(),
        body: dto.body,
        user_id: dto.user_id,
        date_added: Some(fmt_ms(now_ms())),
        contact_id: Some(contact_id.clone()),
        title: dto.title,
        color: dto.color,
        pinned: Some(dto.pinned.unwrap_or(false)),
        extra: Map::new(),
    };
    store
        .notes
        .entry(contact_id)
        .or_default()
        .push(note.clone());
    ok(
        StatusCode::CREATED,
        NoteEnvelope {
            note,
            trace_id: None,
        },
    )
}

pub async fn update(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path((contact_id, note_id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = validate::<UpdateNoteDto>(&body, UPDATE_RULES)?;
    let mut store = lock(&st.data);
    let note = note_mut(&mut store, &caller, &contact_id, &note_id)?;
    if let Some(body) = dto.body {
        note.body = body;
    }
    if dto.user_id.is_some() {
        note.user_id = dto.user_id;
    }
    if dto.title.is_some() {
        note.title = dto.title;
    }
    if dto.color.is_some() {
        note.color = dto.color;
    }
    if dto.pinned.is_some() {
        note.pinned = dto.pinned;
    }
    let note = note.clone();
    ok(
        StatusCode::OK,
        NoteEnvelope {
            note,
            trace_id: None,
        },
    )
}

pub async fn delete(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path((contact_id, note_id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = lock(&st.data);
    note_mut(&mut store, &caller, &contact_id, &note_id)?;
    if let Some(notes) = store.notes.get_mut(&contact_id) {
        notes.retain(|n| n.id != note_id);
    }
    ok(
        StatusCode::OK,
        Succeded {
            succeded: true,
            trace_id: None,
        },
    )
}
