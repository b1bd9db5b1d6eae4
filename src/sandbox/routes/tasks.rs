//! A contact's tasks (`/contacts/:contactId/tasks…`). `dueDate` is stored as GHL returns it:
//! ISO-8601 UTC with milliseconds, whatever ISO form was sent.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Map;

use crate::ghl::models::{
    CreateTaskParams, Succeded, Task, TaskCompletedBody, TaskEnvelope, TaskList, UpdateTaskBody,
};
use crate::sandbox::auth::Caller;
use crate::sandbox::body::{JsonBody, Kind, Rule, opt, req, validate};
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::ids;
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::{Store, fmt_ms, parse_iso, utc};

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

fn task_mut<'a>(
    store: &'a mut Store,
    caller: &Caller,
    contact_id: &str,
    task_id: &str,
) -> Result<&'a mut Task, ApiError> {
    store.owned(contact_id, &caller.location_id)?;
    store
        .tasks
        .get_mut(contact_id)
        .and_then(|tasks| tasks.iter_mut().find(|t| t.id == task_id))
        .ok_or_else(|| ApiError::not_found("Task"))
}

pub async fn list(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(contact_id): Path<String>,
) -> ApiResult {
    let store = lock(&st.data);
    store.owned(&contact_id, &caller.location_id)?;
    let tasks = store.tasks.get(&contact_id).cloned().unwrap_or_default();
    ok(
        StatusCode::OK,
        TaskList {
            tasks,
            trace_id: None,
        },
    )
}

pub async fn get_one(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path((contact_id, task_id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = lock(&st.data);
    let task = task_mut(&mut store, &caller, &contact_id, &task_id)?.clone();
    ok(
        StatusCode::OK,
        TaskEnvelope {
            task,
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
    let dto = validate::<CreateTaskParams>(&body, CREATE_RULES)?;
    let mut store = lock(&st.data);
    store.owned(&contact_id, &caller.location_id)?;
    let task = Task {
        id: ids::new_id(),
        title: dto.title,
        body: dto.body,
        assigned_to: dto.assigned_to,
        due_date: Some(normalize_due(&dto.due_date)),
        completed: dto.completed,
        contact_id: Some(contact_id.clone()),
        extra: Map::new(),
    };
    store
        .tasks
        .entry(contact_id)
        .or_default()
        .push(task.clone());
    ok(
        StatusCode::CREATED,
        TaskEnvelope {
            task,
            trace_id: None,
        },
    )
}

pub async fn update(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path((contact_id, task_id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = validate::<UpdateTaskBody>(&body, UPDATE_RULES)?;
    let mut store = lock(&st.data);
    let task = task_mut(&mut store, &caller, &contact_id, &task_id)?;
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
    let task = task.clone();
    ok(
        StatusCode::OK,
        TaskEnvelope {
            task,
            trace_id: None,
        },
    )
}

pub async fn completed(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path((contact_id, task_id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let dto = validate::<TaskCompletedBody>(&body, &[req("completed", Kind::Bool)])?;
    let mut store = lock(&st.data);
    let task = task_mut(&mut store, &caller, &contact_id, &task_id)?;
    task.completed = dto.completed;
    let task = task.clone();
    ok(
        StatusCode::OK,
        TaskEnvelope {
            task,
            trace_id: None,
        },
    )
}

pub async fn delete(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path((contact_id, task_id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = lock(&st.data);
    task_mut(&mut store, &caller, &contact_id, &task_id)?;
    if let Some(tasks) = store.tasks.get_mut(&contact_id) {
        tasks.retain(|t| t.id != task_id);
    }
    ok(
        StatusCode::OK,
        Succeded {
            succeded: true,
            trace_id: None,
        },
    )
}
