//! Schedule import rows (the current `import/schedule` field names): upserted by `ScheduleCode`,
//! which is generated when empty; `Active: false` deletes. A row replaces the whole schedule
//! (absent fields take their defaults) **[verify]**.

use chrono::{NaiveDate, NaiveTime};
use serde_json::{Map, Value};

use super::client_import::Fields;
use super::import::Outcome;
use super::model::{Schedule, ScheduleTask, TASK_TYPES, rep_name};
use super::store::Data;

#[derive(Clone, Debug, Default)]
pub struct ScheduleRow {
    pub schedule_code: Option<String>,
    pub client_code: Option<String>,
    pub user_id: Option<String>,
    pub scheduled_date: Option<String>,
    pub scheduled_time: Option<String>,
    pub scheduled_duration: Option<i64>,
    pub visit_note: Option<String>,
    pub project_name: Option<String>,
    pub due_date: Option<bool>,
    pub repeat_every_weeks: Option<i64>,
    pub repeat_days: Option<String>,
    pub repeat_end_date: Option<String>,
    pub alerts: [Option<bool>; 3],
    pub external_id: Option<String>,
    pub active: Option<bool>,
    pub tasks: Vec<(String, String)>,
}

impl ScheduleRow {
    pub fn parse(obj: &Map<String, Value>) -> Result<ScheduleRow, String> {
        let f = Fields::new(obj);
        let mut tasks = Vec::new();
        if let Some(list) = f.list("Tasks")? {
            for (i, item) in list.iter().enumerate() {
                let obj = item
                    .as_object()
                    .ok_or(format!("Tasks[{i}] must be an object. Path 'Tasks[{i}]'."))?;
                let t = Fields::new(obj);
                let description = match t.text("TaskDescription")? {
                    Some(d) => d,
                    None => t.text("TaskNote")?.unwrap_or_default(),
                };
                tasks.push((t.text("TaskType")?.unwrap_or_default(), description));
            }
        }
        Ok(ScheduleRow {
            schedule_code: f.text("ScheduleCode")?.filter(|c| !c.trim().is_empty()),
            client_code: f.text("ClientCode")?,
            user_id: f.text("UserID")?,
            scheduled_date: f.text("ScheduledDate")?,
            scheduled_time: f.text("ScheduledTime")?.filter(|t| !t.is_empty()),
            scheduled_duration: f.int("ScheduledDuration")?,
            visit_note: f.text("VisitNote")?,
            project_name: f.text("ProjectName")?,
            due_date: f.boolean("DueDate")?,
            repeat_every_weeks: f.int("RepeatEveryWeeks")?,
            repeat_days: f.text("RepeatDays")?,
            repeat_end_date: f.text("RepeatEndDate")?,
            alerts: [
                f.boolean("AlertUsersIfMissed")?,
                f.boolean("AlertUsersIfLate")?,
                f.boolean("AlertUsersIfDone")?,
            ],
            external_id: f.text("ExternalID")?,
            active: f.boolean("Active")?,
            tasks,
        })
    }
}

pub fn parse_rows(list: &[&Map<String, Value>]) -> Result<Vec<ScheduleRow>, String> {
    list.iter().map(|obj| ScheduleRow::parse(obj)).collect()
}

/// `YYYY-MM-DD`, also read from the front of an ISO date-time.
fn date(s: &str) -> Option<String> {
    let day = s.trim().get(..10)?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

fn time(s: &str) -> Option<String> {
    ["%H:%M", "%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(s.trim(), f).ok())
        .map(|t| t.format("%H:%M").to_string())
}

/// The schedule a valid row describes, or why the row is invalid.
fn judge(row: &ScheduleRow, code: &str, data: &Data) -> Result<Schedule, String> {
    let client_code = row.client_code.as_deref().unwrap_or_default();
    let client = data
        .client(client_code)
        .ok_or_else(|| format!("Client with code '{client_code}' does not exist."))?;
    let user = row.user_id.as_deref().unwrap_or_default();
    let rep = rep_name(user).ok_or_else(|| format!("User with code '{user}' does not exist."))?;
    let day = row
        .scheduled_date
        .as_deref()
        .and_then(date)
        .ok_or("ScheduledDate is required, as YYYY-MM-DD.")?;
    let at = match row.scheduled_time.as_deref() {
        None => None,
        Some(t) => Some(time(t).ok_or("ScheduledTime must be HH:mm.")?),
    };
    let end = match row.repeat_end_date.as_deref() {
        None | Some("") => None,
        Some(d) => Some(date(d).ok_or("RepeatEndDate must be YYYY-MM-DD.")?),
    };
    let mut tasks = Vec::new();
    for (kind, description) in &row.tasks {
        let Some(kind) = TASK_TYPES.iter().find(|k| k.eq_ignore_ascii_case(kind)) else {
            return Err(format!(
                "TaskType '{kind}' is not one of {}.",
                TASK_TYPES.join(", ")
            ));
        };
        tasks.push(ScheduleTask {
            task_type: (*kind).to_string(),
            task_description: description.clone(),
            completed: false,
        });
    }
    Ok(Schedule {
        schedule_code: code.to_string(),
        scheduled_date: day,
        scheduled_time: at,
        user_id: user.to_string(),
        representative_name: Some(rep.to_string()),
        client_code: client.code.clone(),
        client_name: client.name.clone(),
        due_date: row.due_date.unwrap_or(false),
        visit_note: row.visit_note.clone(),
        project_name: row.project_name.clone(),
        scheduled_duration: row.scheduled_duration.filter(|d| *d > 0).unwrap_or(30),
        repeat_every_weeks: row.repeat_every_weeks.unwrap_or(0).max(0),
        repeat_days: row.repeat_days.clone(),
        repeat_end_date: end,
        alert_users_if_missed: row.alerts[0].unwrap_or(false),
        alert_users_if_late: row.alerts[1].unwrap_or(false),
        alert_users_if_done: row.alerts[2].unwrap_or(false),
        external_id: row.external_id.clone(),
        active: true,
        tasks,
    })
}

pub fn apply(rows: Vec<ScheduleRow>, data: &mut Data, out: &mut Outcome) {
    for row in rows {
        let name = row.client_code.clone().unwrap_or_default();
        if row.active == Some(false) {
            let code = row.schedule_code.clone().unwrap_or_default();
            if data.schedules.remove(&code).is_some() {
                out.updated += 1;
            } else {
                out.invalid(&code, &name, format!("Schedule '{code}' does not exist."));
            }
            continue;
        }
        let code = match &row.schedule_code {
            Some(code) => code.clone(),
            None => data.new_schedule_code(),
        };
        match judge(&row, &code, data) {
            Ok(schedule) => match data.schedules.insert(code, schedule) {
                Some(_) => out.updated += 1,
                None => out.inserted += 1,
            },
            Err(why) => out.invalid(&code, &name, why),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sandbox::repsly::model::Client;

    #[test]
    fn upserts_deletes_and_judges() {
        let mut data = Data::new(1, 1, 1);
        data.put_client(Client {
            code: "C-1".into(),
            name: "Shop".into(),
            ..Client::default()
        });
        let rows = [
            json!({"ClientCode": "C-1", "UserID": "REP01", "ScheduledDate": "2024-11-25",
                   "ScheduledTime": "15:00", "Tasks": [{"TaskType": "photo", "TaskDescription": "x"}]}),
            json!({"ScheduleCode": "S1", "ClientCode": "C-1", "UserID": "REP02",
                   "ScheduledDate": "2024-11-26T00:00:00"}),
            json!({"ClientCode": "nope", "UserID": "REP01", "ScheduledDate": "2024-11-25"}),
            json!({"ClientCode": "C-1", "UserID": "REP01", "ScheduledDate": "25/11/2024"}),
            json!({"ScheduleCode": "S1", "Active": false}),
            json!({"ScheduleCode": "S1", "Active": false}),
        ];
        let objs: Vec<&Map<String, Value>> = rows.iter().filter_map(Value::as_object).collect();
        let parsed = parse_rows(&objs).unwrap_or_default();
        let mut out = Outcome::default();
        apply(parsed, &mut data, &mut out);
        assert_eq!((out.inserted, out.updated, out.invalid), (2, 1, 3));
        let s = data.schedules_between("2024-11-01", "2024-11-30");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].scheduled_duration, 30);
        assert_eq!(s[0].tasks[0].task_type, "Photo");
        assert_eq!(s[0].scheduled_time.as_deref(), Some("15:00"));
    }
}
