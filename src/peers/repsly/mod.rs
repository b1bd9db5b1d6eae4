//! Repsly connector (peer-apis.md §1): Basic auth; clients by timestamp cursor, client notes by
//! last-ID cursor, schedules and their tasks by a rolling date window; writes as asynchronous
//! import jobs keyed by `Code` / `ScheduleCode`. Settings marked [verify] are switches for what
//! the research could not confirm.

pub(crate) mod clients;
mod connector;
pub mod dates;
mod errors;
mod http;
mod imports;
pub(crate) mod notes;
pub(crate) mod paging;
mod rows;
mod schedules;
mod settings;

pub use connector::CONNECTOR;
pub use imports::extract_job_id;
pub use settings::{DEFAULT_BASE_URL, RepslySettings, ScheduleApi, ScheduleImportForm};

use std::time::Duration;

use chrono::{FixedOffset, NaiveDate, Utc};
use serde_json::{Map, Value};

use self::errors::{Class, error, unsupported};
use self::http::Http;
use self::imports::run_import;
use self::paging::{CLIENT_NOTES, CLIENTS, CursorShape, parse_page};
use super::{ChangePage, EntityCapability, EntityKind, Peer, PeerError, PeerRecord, WriteOutcome};

pub struct RepslyPeer {
    settings: RepslySettings,
    http: Http,
    /// The offset naive Repsly dates are read in (`utc_offset_minutes`).
    tz: FixedOffset,
}

impl std::fmt::Debug for RepslyPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepslyPeer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RepslyPeer {
    /// Checks the settings (URL, username, password, offsets) and builds the HTTP client.
    pub fn new(settings: RepslySettings) -> Result<Self, PeerError> {
        let tz = settings
            .utc_offset_minutes
            .checked_mul(60)
            .and_then(FixedOffset::east_opt)
            .ok_or_else(|| {
                unsupported(format!(
                    "configuration: utc_offset_minutes {} is out of range",
                    settings.utc_offset_minutes
                ))
            })?;
        let http = Http::new(&settings)?;
        Ok(RepslyPeer { settings, http, tz })
    }

    pub fn settings(&self) -> &RepslySettings {
        &self.settings
    }

    async fn import(
        &self,
        route: &str,
        body: &Value,
    ) -> Result<(String, imports::ImportStatus), PeerError> {
        let poll = Duration::from_millis(self.settings.import_poll_interval_ms.max(1));
        let timeout = Duration::from_secs(self.settings.import_timeout_secs);
        run_import(&self.http, route, body, poll, timeout).await
    }

    async fn fetch_cursor(
        &self,
        route: &str,
        shape: CursorShape,
        cursor: Option<&str>,
        to_record: impl Fn(&Map<String, Value>) -> Option<PeerRecord>,
    ) -> Result<ChangePage, PeerError> {
        let cursor = cursor
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or("0");
        let segments = ["export", route, cursor];
        let json = self.http.get(&segments).await?;
        let operation = http::operation_name(&reqwest::Method::GET, &segments);
        parse_page(&json, shape, cursor, &operation, to_record)
    }

    /// The schedules of the window in `cursor` (`YYYY-MM-DD/YYYY-MM-DD`) or the default one.
    async fn fetch_schedules(&self, cursor: Option<&str>) -> Result<Vec<PeerRecord>, PeerError> {
        let (begin, end) = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            Some(window) => schedules::parse_window(window).ok_or_else(|| {
                error(
                    Class::Validation,
                    "read schedules",
                    format!("cursor {window:?} is not a YYYY-MM-DD/YYYY-MM-DD window"),
                )
            })?,
            None => schedules::default_window(
                self.today(),
                self.settings.schedule_window_days_back,
                self.settings.schedule_window_days_ahead,
            ),
        };
        let api = self.settings.schedule_api;
        let path = schedules::window_path(api, begin, end);
        let segments = path.each_ref().map(String::as_str);
        let operation = http::operation_name(&reqwest::Method::GET, &segments);
        let json = self.http.get(&segments).await?;
        let rows = schedules::schedule_rows(&json, &self.settings.schedule_envelope_keys)
            .map_err(|detail| error(Class::Decode, &operation, detail))?;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            match row
                .as_object()
                .and_then(|row| schedules::schedule_record(row, api, Some(self.tz)))
            {
                Some(record) => records.push(record),
                None => {
                    tracing::warn!(peer = "repsly", %operation, ?api, "skipped a schedule without its key")
                }
            }
        }
        Ok(records)
    }

    fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.tz).date_naive()
    }
}

#[async_trait::async_trait]
impl Peer for RepslyPeer {
    fn name(&self) -> &str {
        errors::PEER
    }

    fn capabilities(&self) -> Vec<EntityCapability> {
        connector::capabilities()
    }

    /// Contacts and notes: one page (≤ 50) after the cursor. Appointments and tasks: the whole
    /// window in one page, `done` with no cursor; `cursor` may name a `YYYY-MM-DD/YYYY-MM-DD` window.
    async fn fetch_changes(
        &self,
        kind: EntityKind,
        cursor: Option<&str>,
    ) -> Result<ChangePage, PeerError> {
        let tz = Some(self.tz);
        match kind {
            EntityKind::Contact => {
                self.fetch_cursor("clients", CLIENTS, cursor, clients::client_record)
                    .await
            }
            EntityKind::Note => {
                self.fetch_cursor("clientnotes", CLIENT_NOTES, cursor, |row| {
                    notes::note_record(row, tz)
                })
                .await
            }
            EntityKind::Appointment | EntityKind::Task => {
                let schedules = self.fetch_schedules(cursor).await?;
                let records = match kind {
                    EntityKind::Task => {
                        schedules.iter().flat_map(schedules::task_records).collect()
                    }
                    _ => schedules,
                };
                Ok(ChangePage {
                    records,
                    next_cursor: None,
                    done: true,
                })
            }
        }
    }

    fn can_get(&self, kind: EntityKind) -> bool {
        kind != EntityKind::Note
    }

    /// Contacts by `Code` (`export/internal/client/{code}`); appointments and tasks by scanning
    /// the default window; notes are not readable by id.
    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<PeerRecord>, PeerError> {
        match kind {
            EntityKind::Contact => {
                let code = id.trim();
                if code.is_empty() {
                    return Ok(None);
                }
                match self.http.get(&["export", "internal", "client", code]).await {
                    Ok(json) => Ok(clients::single_client(&json, code)),
                    Err(err) if err.class() == Class::NotFound => Ok(None),
                    Err(err) => Err(err),
                }
            }
            EntityKind::Appointment | EntityKind::Task => {
                let schedules = self.fetch_schedules(None).await?;
                Ok(match kind {
                    EntityKind::Task => schedules
                        .iter()
                        .flat_map(schedules::task_records)
                        .find(|task| task.id == id),
                    _ => schedules.into_iter().find(|schedule| schedule.id == id),
                })
            }
            EntityKind::Note => Err(unsupported(
                "client notes cannot be read by id; Repsly only exports them after a last-ID cursor",
            )),
        }
    }

    /// Contacts through `import/client`, appointments through `import/schedule`, each an
    /// asynchronous job polled to its end. Both upsert by their code, so repeating a write is
    /// safe; a write whose outcome is unknown is still `Ambiguous` for the engine to reconcile.
    async fn upsert(&self, record: &PeerRecord) -> Result<WriteOutcome, PeerError> {
        let (route, (id, body)) = self.import_request(record)?;
        let (job, status) = self.import(route, &body).await?;
        Ok(WriteOutcome {
            id,
            created: status.rows_inserted > 0,
            reference: Some(job),
        })
    }

    fn check(&self, record: &PeerRecord) -> Result<(), PeerError> {
        self.import_request(record).map(|_| ())
    }

    fn health(&self) -> crate::peers::PeerHealth {
        self.http.health()
    }
}

impl RepslyPeer {
    /// The import route and body for a write, checked locally (`upsert` and `check`).
    fn import_request(
        &self,
        record: &PeerRecord,
    ) -> Result<(&'static str, (String, Value)), PeerError> {
        Ok(match record.kind {
            EntityKind::Contact => (
                "client",
                clients::import_body(record, &self.settings, "POST import/client")?,
            ),
            EntityKind::Appointment => (
                "schedule",
                schedules::import_body(
                    record,
                    &self.settings,
                    Some(self.tz),
                    "POST import/schedule",
                )?,
            ),
            EntityKind::Note | EntityKind::Task => {
                return Err(unsupported(format!(
                    "{}s cannot be written to Repsly (no import route)",
                    record.kind
                )));
            }
        })
    }
}

#[cfg(test)]
mod tests;
