//! The Repsly half of `GET /_sandbox/dump`: every record as the export routes render it, with
//! nothing left out (inactive clients and schedules too) and in a stable order, so a test can
//! compare whole states.

use serde_json::{Value, json};

use super::RepslyState;
use super::import::JobStatus;
use crate::sandbox::state::lock;

impl RepslyState {
    /// `{clients, notes, schedules, visits, pendingImportJobs}`: clients by `ClientID`, notes
    /// by `ClientNoteID`, schedules by `ScheduleCode` (each with its `Tasks`), visits by
    /// `VisitID`. A pending job means the state is about to change.
    pub fn dump(&self) -> Value {
        let data = lock(&self.data);
        let clients: Vec<Value> = data.clients_by_id().map(|c| json!(c)).collect();
        let notes: Vec<Value> = data.notes.values().map(|n| json!(n)).collect();
        let schedules: Vec<Value> = data.schedules.values().map(|s| json!(s)).collect();
        let mut visits: Vec<_> = data.visits.values().collect();
        visits.sort_by_key(|v| v.visit_id);
        let pending = data
            .jobs
            .values()
            .filter(|job| job.status == JobStatus::Pending)
            .count();
        json!({
            "clients": clients,
            "notes": notes,
            "schedules": schedules,
            "visits": visits,
            "pendingImportJobs": pending,
        })
    }
}
