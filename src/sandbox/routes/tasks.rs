//! A contact's tasks (`/contacts/:contactId/tasks…`). `dueDate` is stored as GHL returns it:
//! ISO-8601 UTC with milliseconds, whatever ISO form was sent. List, get and delete are
//! [`super::children`]'s.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::Map;

use crate::ghl::models::{
    CreateTaskParams, Task, TaskCompletedBody, TaskEnvelope, TaskList, UpdateTaskBody,
};
use crate::sandbox::auth::Caller;
use crate::sandbox::body::{JsonBody, Kind, Rule, opt, req};
use crate::sandbox::errors::ApiResult;
use crate::sandbox::ids;
use crate::sandbox::state::AppState;
use crate::sandbox::store::{Store, fmt_ms, parse_iso, utc};

use super::children::{self, Child};

const CREATE_RULES: &[Rule] = &[
    req("title", Kind::Str),
    opt("body", Kind::Str),
    req("dueDate", Kind::Iso),
    req("completed", Kind::Bool),
    opt("assignedTo", Kind::Str),
];

const UPDATE_RULES: &[Rule] = &[
    opt("title", Kind::Str),
    opt("body", Kind::Str),
    opt("dueDate", Kind::Iso),
    opt("completed", Kind::Bool),
    opt("assignedTo", Kind::Str),
];

fn normalize_due(due: &str) -> String {
    parse_iso(due, utc()).map_or_else(|| due.to_string(), |t| fmt_ms(t.timestamp_millis()))
}

impl Child for Task {
    const NAME: &'static str = "Task";

    fn id(&self) -> &str {
        &self.id
    }

    fn lists(store: &mut Store) -> &mut HashMap<String, Vec<Self>> {
        &mut store.tasks
    }

    fn envelope(self) -> impl Serialize {
        TaskEnvelope {
            task: self,
            trace_id: None,
        }
    }

    fn list_envelope(tasks: Vec<Self>) -> impl Serialize {
        TaskList {
            tasks,
            trace_id: None,
        }
    }
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let build = |dto: CreateTaskParams, contact_id: &str| Task {
        id: ids::new_id(),
        title: dto.title,
        body: dto.body,
        assigned_to: dto.assigned_to,
        due_date: Some(normalize_due(&dto.due_date)),
        completed: dto.completed,
        contact_id: Some(contact_id.to_string()),
        extra: Map::new(),
    };
    children::create(&st, &caller, contact_id, &body, CREATE_RULES, build)
}

pub async fn update(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let change = |task: &mut Task, dto: UpdateTaskBody| {
        if let Some(title) = dto.title {
            task.title = title;
        }
        if let Some(body) = dto.body {
            task.body = Some(body);
        }
        if let Some(due) = dto.due_date {
            task.due_date = Some(normalize_due(&due));
        }
        if let Some(completed) = dto.completed {
            task.completed = completed;
        }
        if let Some(user) = dto.assigned_to {
            task.assigned_to = Some(user);
        }
    };
    children::edit(&st, &caller, path, &body, UPDATE_RULES, change)
}

pub async fn completed(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let rules = &[req("completed", Kind::Bool)];
    children::edit(
        &st,
        &caller,
        path,
        &body,
        rules,
        |task: &mut Task, dto: TaskCompletedBody| {
            task.completed = dto.completed;
        },
    )
}
