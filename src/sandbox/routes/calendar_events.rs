//! Calendars: `GET /calendars/` (with `groupId` and `showDrafted`), what a booking takes from
//! its calendar, and `GET /calendars/events` as calendars.json describes it: the location's events whose start
//! lies in `[startTime, endTime]` (epoch milliseconds, both required), narrowed to one
//! calendar, one calendar group or one user (at least one of the three is required), answered
//! as `{events: [CalendarEventDTO]}` in start order.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use crate::ghl::models::{CalendarList, EventList};
use crate::sandbox::auth::{Caller, check_location};
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::state::{AppState, lock};
use crate::sandbox::store::{ApptRec, Store};

use super::{LocatedQuery, query_bool, query_number};

pub async fn calendars(
    State(st): State<Arc<AppState>>,
    LocatedQuery(q, location): LocatedQuery,
) -> ApiResult {
    let group = q.get("groupId").filter(|g| !g.is_empty());
    // A drafted calendar is one not yet active; the spec lists them unless told not to.
    let drafted = query_bool(&q, "showDrafted", true)?;
    let store = lock(&st.data);
    let calendars = store
        .calendars
        .iter()
        .filter(|c| c.location_id.as_deref() == Some(location.as_str()))
        .filter(|c| group.is_none() || c.group_id.as_ref() == group)
        .filter(|c| drafted || c.is_active != Some(false))
        .cloned()
        .collect();
    ok(
        StatusCode::OK,
        CalendarList {
            calendars,
            trace_id: None,
        },
    )
}

/// What a booking takes from its calendar.
pub struct Booking {
    pub minutes: i64,
    pub group_id: Option<String>,
    /// The user a booking without `assignedUserId` gets: round-robin calendars rotate through
    /// their team members by how many bookings the calendar holds; others take the first.
    pub next_user: Option<String>,
    pub name: String,
}

/// The calendar `calendar_id`, after checking it belongs to the caller's location.
pub fn booking(store: &Store, calendar_id: &str, caller: &Caller) -> Result<Booking, ApiError> {
    let calendar = store
        .calendars
        .iter()
        .find(|c| c.id == calendar_id)
        .ok_or_else(|| ApiError::bad_request("Calendar not found"))?;
    check_location(caller, calendar.location_id.as_deref().unwrap_or_default())?;
    let members: Vec<&str> = calendar
        .extra
        .get("teamMembers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("userId").and_then(Value::as_str))
        .collect();
    let turn = if calendar.calendar_type.as_deref() == Some("round_robin") {
        store
            .appts
            .values()
            .filter(|a| a.event.calendar_id.as_deref() == Some(calendar_id))
            .count()
    } else {
        0
    };
    Ok(Booking {
        minutes: calendar
            .extra
            .get("slotDuration")
            .and_then(Value::as_i64)
            .unwrap_or(30),
        group_id: calendar.group_id.clone(),
        next_user: members
            .get(turn % members.len().max(1))
            .map(|u| (*u).to_string()),
        name: calendar.name.clone(),
    })
}

/// `GET /calendars/events`.
pub async fn list(
    State(st): State<Arc<AppState>>,
    LocatedQuery(q, location): LocatedQuery,
) -> ApiResult {
    let mut problems = Vec::new();
    let mut millis = |name: &str| {
        let value = q
            .get(name)
            .filter(|v| !v.is_empty())
            .and_then(|v| query_number(v));
        if value.is_none() {
            problems.push(format!("{name} must be a number string"));
        }
        value.unwrap_or_default()
    };
    let (from, to) = (millis("startTime"), millis("endTime"));
    let given = |name: &str| q.get(name).filter(|v| !v.is_empty()).cloned();
    let (calendar, group, user) = (given("calendarId"), given("groupId"), given("userId"));
    if calendar.is_none() && group.is_none() && user.is_none() {
        problems.push("Either of calendarId, userId or groupId is required".into());
    }
    if !problems.is_empty() {
        return Err(ApiError::unprocessable(problems));
    }
    let wanted = |rec: &ApptRec| {
        let e = &rec.event;
        let start = rec.start.timestamp_millis();
        let users = e.extra.get("users").and_then(Value::as_array);
        e.location_id.as_deref() == Some(location.as_str())
            && (from..=to).contains(&start)
            && calendar
                .as_ref()
                .is_none_or(|c| e.calendar_id.as_ref() == Some(c))
            && group
                .as_ref()
                .is_none_or(|g| e.extra.get("groupId").and_then(Value::as_str) == Some(g.as_str()))
            && user.as_ref().is_none_or(|u| {
                e.assigned_user_id.as_ref() == Some(u)
                    || users.is_some_and(|all| all.iter().any(|v| v.as_str() == Some(u.as_str())))
            })
    };
    let store = lock(&st.data);
    let mut found: Vec<&ApptRec> = store.appts.values().filter(|r| wanted(r)).collect();
    found.sort_by(|a, b| (a.start, &a.event.id).cmp(&(b.start, &b.event.id)));
    let events = found.into_iter().map(|r| r.event.clone()).collect();
    ok(
        StatusCode::OK,
        EventList {
            events,
            trace_id: None,
        },
    )
}
