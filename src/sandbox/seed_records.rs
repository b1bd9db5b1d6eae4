//! The records hanging off each seeded contact: calendars, custom-field values, tasks, notes
//! and appointments. Split from `seed.rs` only to keep files small; same generator, same stream.

use chrono::{Duration, TimeZone};
use rand::Rng;
use serde_json::{Map, Value, json};

use crate::ghl::models::{Appointment, Calendar, CustomFieldValue, Note, Task};

use super::ids;
use super::seed::{DAY_MS, Gen, fmt_event_time, location_offset};
use super::seed_data::*;
use super::store::{ApptRec, fmt_ms};

impl Gen<'_> {
    pub(super) fn calendars(&mut self, location: &str, defs: &[(&str, i64)]) -> Vec<(String, i64)> {
        let group_id = ids::firestore_id(&mut self.rng);
        let mut out = Vec::new();
        for (name, minutes) in defs {
            let id = ids::firestore_id(&mut self.rng);
            let mut extra = Map::new();
            extra.insert(
                "description".into(),
                json!(format!("{name} booked by the team")),
            );
            extra.insert("slug".into(), json!(name.to_lowercase().replace(' ', "-")));
            extra.insert(
                "eventType".into(),
                json!("RoundRobin_OptimizeForAvailability"),
            );
            extra.insert("slotDuration".into(), json!(minutes));
            extra.insert("slotDurationUnit".into(), json!("mins"));
            extra.insert(
                "teamMembers".into(),
                json!([{"userId": self.ids.user_ids[0]}]),
            );
            self.store.calendars.push(Calendar {
                id: id.clone(),
                name: (*name).to_string(),
                location_id: Some(location.to_string()),
                is_active: Some(true),
                calendar_type: Some("round_robin".into()),
                group_id: Some(group_id.clone()),
                extra,
            });
            out.push((id, *minutes));
        }
        out
    }

    pub(super) fn custom_fields(&mut self) -> Vec<CustomFieldValue> {
        let mut out = Vec::new();
        for (k, (id, _)) in self.ids.custom_fields.clone().into_iter().enumerate() {
            if !self.rng.random_bool(0.5) {
                continue;
            }
            let value = match CUSTOM_FIELDS[k].1 {
                "text" => json!(self.pick(COLORS)),
                "number" => json!(self.rng.random_range(0..50_000)),
                _ => json!([self.pick(INTERESTS), self.pick(INTERESTS)]),
            };
            out.push(CustomFieldValue { id, value });
        }
        out
    }

    pub(super) fn tasks_and_notes(&mut self, contact_id: &str, added_ms: i64) {
        let tasks: Vec<Task> = (0..self.rng.random_range(0..4))
            .map(|_| Task {
                id: ids::firestore_id(&mut self.rng),
                title: self.pick(TASK_TITLES).into(),
                body: Some("Created by the seed.".into()),
                assigned_to: Some(self.user()),
                due_date: Some(fmt_ms(added_ms + self.rng.random_range(1..60) * DAY_MS)),
                completed: self.rng.random_bool(0.3),
                contact_id: Some(contact_id.to_string()),
                extra: Map::new(),
            })
            .collect();
        let notes: Vec<Note> = (0..self.rng.random_range(0..4))
            .map(|_| Note {
                id: ids::firestore_id(&mut self.rng),
                body: self.pick(NOTE_BODIES).into(),
                user_id: Some(self.user()),
                date_added: Some(fmt_ms(
                    (added_ms + self.rng.random_range(0..30 * DAY_MS)).min(self.anchor_ms),
                )),
                contact_id: Some(contact_id.to_string()),
                title: self
                    .rng
                    .random_bool(0.3)
                    .then(|| "Call summary".to_string()),
                color: None,
                pinned: Some(false),
                extra: Map::new(),
            })
            .collect();
        if !tasks.is_empty() {
            self.store.tasks.insert(contact_id.to_string(), tasks);
        }
        if !notes.is_empty() {
            self.store.notes.insert(contact_id.to_string(), notes);
        }
    }

    pub(super) fn appointments(
        &mut self,
        contact_id: &str,
        location: &str,
        calendars: &[(String, i64)],
    ) {
        let count = match self.rng.random_range(0..10) {
            0..6 => 0,
            6..9 => 1,
            _ => 2,
        };
        for _ in 0..count {
            let (calendar_id, minutes) = self.pick_calendar(calendars);
            let slot = self.anchor_ms / 1_800_000 + self.rng.random_range(-2_880..2_880);
            let Some(start) = location_offset()
                .timestamp_millis_opt(slot * 1_800_000)
                .single()
            else {
                continue;
            };
            let end = start + Duration::minutes(minutes);
            let added = start - Duration::days(self.rng.random_range(1..20));
            let id = ids::firestore_id(&mut self.rng);
            let user = self.user();
            let group = self
                .store
                .calendars
                .iter()
                .find(|c| c.id == calendar_id)
                .and_then(|c| c.group_id.clone());
            let mut extra = Map::new();
            extra.insert("groupId".into(), json!(group));
            extra.insert("users".into(), json!([user]));
            extra.insert("isRecurring".into(), json!(false));
            extra.insert("description".into(), json!(""));
            let event = Appointment {
                id: id.clone(),
                calendar_id: Some(calendar_id),
                location_id: Some(location.to_string()),
                contact_id: Some(contact_id.to_string()),
                title: Some(self.pick(APPOINTMENT_TITLES).into()),
                appointment_status: Some(
                    self.pick(&[
                        "confirmed",
                        "confirmed",
                        "new",
                        "showed",
                        "noshow",
                        "cancelled",
                    ])
                    .into(),
                ),
                assigned_user_id: Some(user),
                address: self
                    .rng
                    .random_bool(0.5)
                    .then(|| "https://meet.google.com/abc-defg-hij".into()),
                start_time: Some(Value::String(fmt_event_time(&start))),
                end_time: Some(Value::String(fmt_event_time(&end))),
                notes: None,
                date_added: Some(Value::String(fmt_event_time(&added))),
                date_updated: Some(Value::String(fmt_event_time(&added))),
                extra,
            };
            self.store
                .appts
                .insert(id.clone(), ApptRec { event, start, end });
            self.store
                .appts_by_contact
                .entry(contact_id.to_string())
                .or_default()
                .push(id);
        }
    }

    pub(super) fn pick_calendar(&mut self, calendars: &[(String, i64)]) -> (String, i64) {
        let k = self.rng.random_range(0..calendars.len());
        calendars[k].clone()
    }
}
