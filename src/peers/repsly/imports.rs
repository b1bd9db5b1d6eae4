//! Asynchronous imports: `POST import/client|schedule` answers
//! `{Code: 0, Message: "… import job started asynchronously under ID: {ImportJobID}"}`; the job
//! is then polled at `export/importStatus/{id}` until `ImportStatus` is `Completed` or `Failed`.
//!
//! Imports upsert by `Code`/`ScheduleCode`, so repeating one is harmless; an unknown outcome is
//! still reported `Ambiguous` so the engine reconciles first, like GHL creates.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::errors::{Class, error, value_text};
use super::http::Http;
use crate::peers::PeerError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JobState {
    Completed,
    Failed,
    /// `Pending`, or any state we do not know (polled on until the timeout).
    Pending(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportStatus {
    pub state: JobState,
    pub rows_inserted: u64,
    pub rows_updated: u64,
    pub rows_invalid: u64,
    pub rows_total: u64,
    /// `Warnings[]{ItemID, ItemName, ItemStatus}` as text.
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
}

/// The job id in a start answer: an explicit `ImportJobID` field, else the id in `Message`.
/// A non-zero `Code` is a refusal (`Validation`); no id at all is `Decode`.
pub(crate) fn job_id_from_start(json: &Value, operation: &str) -> Result<String, PeerError> {
    let code = json
        .get("Code")
        .map(value_text)
        .unwrap_or_else(|| "0".into());
    let message = json.get("Message").and_then(Value::as_str).unwrap_or("");
    if code.trim() != "0" {
        return Err(error(
            Class::Validation,
            operation,
            format!("Code {code}: {message}"),
        ));
    }
    ["ImportJobID", "ImportJobId", "JobID"]
        .iter()
        .find_map(|key| json.get(*key))
        .and_then(|value| Some(value_text(value)).filter(|id| !id.trim().is_empty() && !value.is_null()))
        .or_else(|| extract_job_id(message))
        .ok_or_else(|| error(Class::Decode, operation, format!(
            "no import job id in the answer (Message: {message:?}); the import may have started"
        )))
}

/// The id after the last `ID` marker (`under ID: 123`, `ID 123.`, `JobID=ab-12`), else the last
/// word that is a number or a GUID.
pub fn extract_job_id(message: &str) -> Option<String> {
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let usable = |token: &str| !token.is_empty() && token.chars().any(|c| c.is_ascii_digit());
    let lower = message.to_ascii_lowercase();
    let mut found = None;
    for (at, _) in lower.match_indices("id") {
        let before = lower[..at].chars().next_back();
        let after = lower[at + 2..].chars().next();
        let starts_word =
            before.is_none_or(|c| !c.is_ascii_alphanumeric()) || lower[..at].ends_with("job");
        if !starts_word || after.is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let rest = message[at + 2..]
            .trim_start_matches(|c: char| c.is_whitespace() || ":=#\"'{".contains(c));
        let token: String = rest.chars().take_while(|&c| is_id_char(c)).collect();
        if usable(&token) {
            found = Some(token);
        }
    }
    found.or_else(|| {
        message
            .split_whitespace()
            .map(|word| word.trim_matches(|c: char| !is_id_char(c)))
            .rfind(|word| {
                let number = word.chars().all(|c| c.is_ascii_digit());
                let guid =
                    word.len() == 36 && word.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
                usable(word) && (number || guid)
            })
            .map(str::to_string)
    })
}

/// `export/importStatus/{id}`, at the top level or one object down.
pub(crate) fn parse_import_status(json: &Value) -> Option<ImportStatus> {
    let object = json.as_object()?;
    let object = if object.contains_key("ImportStatus") {
        object
    } else {
        object
            .values()
            .filter_map(Value::as_object)
            .find(|inner| inner.contains_key("ImportStatus"))?
    };
    let state = match object.get("ImportStatus").map(value_text) {
        Some(text) if text.eq_ignore_ascii_case("completed") => JobState::Completed,
        Some(text) if text.eq_ignore_ascii_case("failed") => JobState::Failed,
        Some(text) => JobState::Pending(text),
        None => return None,
    };
    let rows = |key: &str| match object.get(key) {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    let list = |key: &str| match object.get(key) {
        Some(Value::Array(items)) => items.iter().map(item_text).collect(),
        Some(Value::String(text)) if !text.trim().is_empty() => vec![text.clone()],
        _ => Vec::new(),
    };
    Some(ImportStatus {
        state,
        rows_inserted: rows("RowsInserted"),
        rows_updated: rows("RowsUpdated"),
        rows_invalid: rows("RowsInvalid"),
        rows_total: rows("RowsTotal"),
        warnings: list("Warnings"),
        errors: list("Errors"),
    })
}

fn item_text(item: &Value) -> String {
    match item {
        Value::Object(fields) => fields
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| format!("{key}={}", value_text(value)))
            .collect::<Vec<_>>()
            .join(" "),
        other => value_text(other),
    }
}

/// What a finished job means: `Completed` without invalid rows or errors is success; anything
/// else is a `Validation` error with Repsly's messages.
pub(crate) fn judge(status: &ImportStatus, job: &str, operation: &str) -> Result<(), PeerError> {
    let failed = status.state == JobState::Failed;
    if !failed && status.rows_invalid == 0 && status.errors.is_empty() {
        return Ok(());
    }
    let mut messages = status.errors.clone();
    if messages.is_empty() {
        messages = status.warnings.clone();
    }
    let what = if failed {
        "failed"
    } else {
        "completed with invalid rows"
    };
    let mut detail = format!(
        "import job {job} {what} ({} of {} invalid)",
        status.rows_invalid, status.rows_total
    );
    if !messages.is_empty() {
        detail.push_str(": ");
        detail.push_str(&messages.join("; "));
    }
    Err(error(Class::Validation, operation, detail))
}

/// Starts an import and waits for its verdict. Returns the job id and the final status.
pub(crate) async fn run_import(
    http: &Http,
    route: &str,
    body: &Value,
    poll_interval: Duration,
    timeout: Duration,
) -> Result<(String, ImportStatus), PeerError> {
    let operation = format!("POST import/{route}");
    let started = http.post(&["import", route], body).await?;
    let job = job_id_from_start(&started, &operation)?;
    tracing::debug!(peer = "repsly", %operation, job = %job, "import job started");
    let deadline = Instant::now() + timeout;
    loop {
        // Once Repsly took the job, it runs whether or not we can see it: a status that cannot be
        // read is asked again until the deadline. Giving up early would leave the job free to
        // land after a newer edit of the same record, putting older values back.
        let status = match http.get(&["export", "importStatus", &job]).await {
            Ok(status) => status,
            Err(err) if Instant::now() + poll_interval <= deadline && retryable(&err) => {
                tracing::debug!(peer = "repsly", %operation, job = %job, "import status not readable yet: {err}");
                tokio::time::sleep(poll_interval.max(Duration::from_millis(100))).await;
                continue;
            }
            Err(err) => {
                return Err(error(
                    Class::Ambiguous,
                    &operation,
                    format!("import job {job} started, but its status could not be read: {err}"),
                ));
            }
        };
        let status = parse_import_status(&status).ok_or_else(|| {
            error(
                Class::Ambiguous,
                &operation,
                format!("import job {job}: export/importStatus answered without ImportStatus"),
            )
        })?;
        let JobState::Pending(state) = &status.state else {
            judge(&status, &job, &operation)?;
            return Ok((job, status));
        };
        if Instant::now() + poll_interval > deadline {
            return Err(error(
                Class::Ambiguous,
                &operation,
                format!(
                    "import job {job} still {state} after {}s",
                    timeout.as_secs()
                ),
            ));
        }
        tokio::time::sleep(poll_interval).await;
    }
}

/// Errors of a status read that may pass: the connection, a 5xx, a rate limit.
fn retryable(err: &PeerError) -> bool {
    matches!(
        err.class(),
        crate::net::ErrorClass::Transient
            | crate::net::ErrorClass::RateLimited
            | crate::net::ErrorClass::Ambiguous
    )
}

#[cfg(test)]
#[path = "imports_tests.rs"]
mod tests;
