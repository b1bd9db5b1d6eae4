//! A contact's notes (`/contacts/:contactId/notes…`; the note's path parameter is `id`).
//! Lists are newest first. List, get and delete are [`super::children`]'s.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::Map;

use crate::ghl::models::{Note, NoteEnvelope, NoteList, NotesDto, UpdateNoteDto};
use crate::sandbox::auth::Caller;
use crate::sandbox::body::{JsonBody, Kind, Rule, opt, req};
use crate::sandbox::errors::ApiResult;
use crate::sandbox::ids;
use crate::sandbox::state::AppState;
use crate::sandbox::store::{Store, fmt_ms, now_ms};

use super::children::{self, Child};

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

impl Child for Note {
    const NAME: &'static str = "Note";

    fn id(&self) -> &str {
        &self.id
    }

    fn lists(store: &mut Store) -> &mut HashMap<String, Vec<Self>> {
        &mut store.notes
    }

    fn envelope(self) -> impl Serialize {
        NoteEnvelope {
            note: self,
            trace_id: None,
        }
    }

    fn list_envelope(notes: Vec<Self>) -> impl Serialize {
        NoteList {
            notes,
            trace_id: None,
        }
    }

    fn order(notes: &mut [Self]) {
        notes.sort_by(|a, b| b.date_added.cmp(&a.date_added));
    }
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let build = |dto: NotesDto, contact_id: &str| Note {
        id: ids::new_id(),
        body: dto.body,
        user_id: dto.user_id,
        date_added: Some(fmt_ms(now_ms())),
        contact_id: Some(contact_id.to_string()),
        title: dto.title,
        color: dto.color,
        pinned: Some(dto.pinned.unwrap_or(false)),
        extra: Map::new(),
    };
    children::create(&st, &caller, contact_id, &body, RULES, build)
}

pub async fn update(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let change = |note: &mut Note, dto: UpdateNoteDto| {
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
    };
    children::edit(&st, &caller, path, &body, UPDATE_RULES, change)
}
