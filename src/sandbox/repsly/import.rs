//! Repsly's asynchronous imports: `POST import/client`, `import/clientList`, `import/schedule`,
//! and `GET export/importStatus/{importJobID}`.
//!
//! A request is judged in two steps, as on Repsly:
//! 1. at once: a body that is not JSON gets IIS's HTML 400 page; JSON of the wrong shape (an array
//!    for `import/client`, a string for a field) gets 400 `{"Code":1,"Message":…}`;
//! 2. later: the job runs after `importDelayMs` and judges each row (missing `Code`/`Name`, an
//!    `Email` over 128 chars, an unknown `ClientCode`, …) into `RowsInvalid` and `Errors`.
//!
//! Until then the status is `Pending`. Identical rows count as `RowsUpdated` without a new
//! `TimeStamp`. `Errors` and `Warnings` are `{ItemID, ItemName, ItemStatus}` objects **[verify]**.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::client_import::{self, ClientRow};
use super::http::{Refusal, message, ok};
use super::schedule_import::{self, ScheduleRow};
use super::store::Data;
use crate::sandbox::state::{AppState, lock};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Pending,
    Completed,
    Failed,
}

pub enum Payload {
    Clients(Vec<ClientRow>),
    Schedules(Vec<ScheduleRow>),
    Done,
}

pub struct ImportJob {
    pub status: JobStatus,
    pub payload: Payload,
    pub total: u64,
    pub outcome: Outcome,
}

/// What a job did, row by row.
#[derive(Default)]
pub struct Outcome {
    pub inserted: u64,
    pub updated: u64,
    pub invalid: u64,
    pub warnings: Vec<Value>,
    pub errors: Vec<Value>,
}

impl Outcome {
    pub fn invalid(&mut self, id: &str, name: &str, why: impl Into<String>) {
        self.invalid += 1;
        self.errors.push(item(id, name, why));
    }

    pub fn warn(&mut self, id: &str, name: &str, why: impl Into<String>) {
        self.warnings.push(item(id, name, why));
    }
}

fn item(id: &str, name: &str, status: impl Into<String>) -> Value {
    json!({"ItemID": id, "ItemName": name, "ItemStatus": status.into()})
}

impl ImportJob {
    pub fn to_json(&self) -> Value {
        let status = match self.status {
            JobStatus::Pending => "Pending",
            JobStatus::Completed => "Completed",
            JobStatus::Failed => "Failed",
        };
        let o = &self.outcome;
        json!({
            "ImportStatus": status,
            "RowsInserted": o.inserted,
            "RowsUpdated": o.updated,
            "RowsInvalid": o.invalid,
            "RowsTotal": self.total,
            "Warnings": o.warnings,
            "Errors": o.errors,
        })
    }

    /// Runs the job against `data` (once; a finished job is left as it is).
    pub fn run(&mut self, data: &mut Data, fail: bool) {
        let payload = std::mem::replace(&mut self.payload, Payload::Done);
        if fail {
            self.status = JobStatus::Failed;
            self.outcome
                .errors
                .push(json!("The import job failed. Please try again later."));
            return;
        }
        match payload {
            Payload::Clients(rows) => client_import::apply(rows, data, &mut self.outcome),
            Payload::Schedules(rows) => schedule_import::apply(rows, data, &mut self.outcome),
            Payload::Done => return,
        }
        self.status = JobStatus::Completed;
    }
}

/// The JSON body, or the reason to answer with Repsly's HTML page.
fn read_json(body: &Bytes) -> Result<Value, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::Import("The request body is empty.".into()));
    }
    serde_json::from_slice(body).map_err(|_| Refusal::Html)
}

fn objects<'a>(value: &'a Value, what: &str) -> Result<Vec<&'a Map<String, Value>>, Refusal> {
    let list = value.as_array().ok_or_else(|| {
        Refusal::Import(format!("The request body must be a JSON array of {what}."))
    })?;
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_object()
                .ok_or_else(|| Refusal::Import(format!("Item {i} of the list is not an object.")))
        })
        .collect()
}

pub async fn client(State(st): State<Arc<AppState>>, body: Bytes) -> Result<Response, Refusal> {
    let value = read_json(&body)?;
    let obj = value.as_object().ok_or_else(|| {
        Refusal::Import(
            "The request body must be one client object (use import/clientList for a list).".into(),
        )
    })?;
    let rows = client_import::parse_rows(&[obj]).map_err(Refusal::Import)?;
    Ok(start(&st, "Client", Payload::Clients(rows)))
}

pub async fn client_list(
    State(st): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let value = read_json(&body)?;
    let list = objects(&value, "clients")?;
    let rows = client_import::parse_rows(&list).map_err(Refusal::Import)?;
    Ok(start(&st, "Client", Payload::Clients(rows)))
}

/// One schedule object, or a list of them **[verify]**: the docs show one.
pub async fn schedule(State(st): State<Arc<AppState>>, body: Bytes) -> Result<Response, Refusal> {
    let value = read_json(&body)?;
    let list = match value.as_object() {
        Some(obj) => vec![obj],
        None => objects(&value, "schedules")?,
    };
    let rows = schedule_import::parse_rows(&list).map_err(Refusal::Import)?;
    Ok(start(&st, "Schedule", Payload::Schedules(rows)))
}

/// Records a pending job, schedules its run, and answers Repsly's 200.
fn start(st: &Arc<AppState>, kind: &str, payload: Payload) -> Response {
    let total = match &payload {
        Payload::Clients(rows) => rows.len(),
        Payload::Schedules(rows) => rows.len(),
        Payload::Done => 0,
    } as u64;
    let id = st.repsly.next_job_id.fetch_add(1, Ordering::Relaxed);
    let job = ImportJob {
        status: JobStatus::Pending,
        payload,
        total,
        outcome: Outcome::default(),
    };
    lock(&st.repsly.data).jobs.insert(id, job);
    let delay = Duration::from_millis(st.repsly.import_delay_ms.load(Ordering::Relaxed));
    let st2 = Arc::clone(st);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        st2.repsly.run_job(id);
    });
    ok(json!({
        "Code": 0,
        "Message": format!("{kind} import job started asynchronously under ID: {id}"),
    }))
}

pub async fn status(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    let id: u64 = id
        .trim()
        .parse()
        .map_err(|_| Refusal::Param("importJobID", "System.Int64"))?;
    Ok(match lock(&st.repsly.data).jobs.get(&id) {
        Some(job) => ok(job.to_json()),
        None => message(
            StatusCode::NOT_FOUND,
            format!("Import job with ID {id} was not found."),
        ),
    })
}
