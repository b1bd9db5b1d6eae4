//! The seeded activity around the clients: 0–2 notes each over the last 90 days, visit schedules
//! in today−7..today+30 for ~30% of active clients (0–2 tasks each, past ones partly completed),
//! and visits: most past schedules were visited, plus some unscheduled drop-ins.
//!
//! Notes and visits get ids and timestamps in chronological order, as a live account would.

use rand::Rng;
use rand::rngs::StdRng;

use crate::sandbox::seed_data::NOTE_BODIES;

use super::model::{
    Client, ClientNote, REPS, Schedule, ScheduleTask, TASK_TYPES, Visit, iso_ms, ms_date, ymd,
};
use super::store::Data;

const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;
const FIRST_VISIT_ID: i64 = 300_001;

fn coords(city: Option<&str>) -> (f64, f64) {
    match city {
        Some("Austin") => (30.2672, -97.7431),
        Some("Denver") => (39.7392, -104.9903),
        Some("Miami") => (25.7617, -80.1918),
        Some("Seattle") => (47.6062, -122.3321),
        Some("Chicago") => (41.8781, -87.6298),
        Some("Boston") => (42.3601, -71.0589),
        Some("London") => (51.5074, -0.1278),
        Some("Manchester") => (53.4808, -2.2426),
        _ => (0.0, 0.0),
    }
}

fn rep_of(rng: &mut StdRng, c: &Client) -> (String, String) {
    match (&c.representative_code, &c.representative_name) {
        (Some(code), Some(name)) => (code.clone(), name.clone()),
        _ => {
            let rep = &REPS[rng.random_range(0..REPS.len())];
            (rep.code.into(), rep.name.into())
        }
    }
}

fn jitter(rng: &mut StdRng) -> f64 {
    rng.random_range(-0.05..0.05)
}

pub fn add(data: &mut Data, rng: &mut StdRng, anchor_ms: i64) {
    let clients: Vec<Client> = data.clients_by_id().cloned().collect();
    notes(data, rng, anchor_ms, &clients);
    let past = schedules(data, rng, anchor_ms, &clients);
    visits(data, rng, anchor_ms, &clients, past);
}

fn notes(data: &mut Data, rng: &mut StdRng, anchor_ms: i64, clients: &[Client]) {
    let mut notes = Vec::new();
    for c in clients {
        let count = match rng.random_range(0..20) {
            0..10 => 0,
            10..17 => 1,
            _ => 2,
        };
        for _ in 0..count {
            let at = anchor_ms - rng.random_range(1..90 * DAY_MS);
            let (rep_code, rep_name) = rep_of(rng, c);
            let (lat, lon) = coords(c.city.as_deref());
            let text = NOTE_BODIES[rng.random_range(0..NOTE_BODIES.len())];
            notes.push((
                at,
                ClientNote {
                    client_note_id: 0,
                    time_stamp: 0,
                    date_and_time: ms_date(at - at % 1000),
                    representative_code: Some(rep_code),
                    representative_name: Some(rep_name),
                    client_code: c.code.clone(),
                    client_name: c.name.clone(),
                    street_address: c.street_address.clone(),
                    zip: c.zip.clone(),
                    zip_ext: c.zip_ext.clone(),
                    city: c.city.clone(),
                    state: c.state.clone(),
                    country: c.country.clone(),
                    email: c.email.clone(),
                    phone: c.phone.clone(),
                    mobile: c.mobile.clone(),
                    territory: c.territory.clone(),
                    longitude: lon + jitter(rng),
                    latitude: lat + jitter(rng),
                    note: text.into(),
                    visit_id: None,
                },
            ));
        }
    }
    notes.sort_by_key(|(at, _)| *at);
    for (_, mut note) in notes {
        note.client_note_id = data.new_note_id();
        note.time_stamp = data.bump();
        data.notes.insert(note.client_note_id, note);
    }
}

/// Adds the schedules; returns the past ones as (client index, start ms, rep code) for visits.
fn schedules(
    data: &mut Data,
    rng: &mut StdRng,
    anchor_ms: i64,
    clients: &[Client],
) -> Vec<(usize, i64, String)> {
    let mut past = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        if !c.active || !rng.random_bool(0.3) {
            continue;
        }
        for _ in 0..(1 + usize::from(rng.random_bool(0.15))) {
            let day_ms = anchor_ms + rng.random_range(-7..=30) * DAY_MS;
            let slot = rng.random_range(16..36); // 08:00..17:30, half hours
            let start = day_ms + slot * 30 * MINUTE_MS;
            let all_day = rng.random_bool(0.1);
            let (rep_code, rep_name) = rep_of(rng, c);
            let is_past = day_ms < anchor_ms;
            let mut tasks = Vec::new();
            for _ in 0..rng.random_range(0..3) {
                let kind = TASK_TYPES[rng.random_range(0..TASK_TYPES.len())];
                tasks.push(ScheduleTask {
                    task_type: kind.into(),
                    task_description: format!("{kind} at {}", c.name.trim()),
                    completed: is_past && rng.random_bool(0.5),
                });
            }
            let repeat = rng.random_bool(0.1);
            let code = data.new_schedule_code();
            data.schedules.insert(
                code.clone(),
                Schedule {
                    schedule_code: code,
                    scheduled_date: ymd(day_ms),
                    scheduled_time: (!all_day).then(|| iso_ms(start)[11..16].to_string()),
                    user_id: rep_code.clone(),
                    representative_name: Some(rep_name),
                    client_code: c.code.clone(),
                    client_name: c.name.clone(),
                    due_date: all_day || rng.random_bool(0.1),
                    visit_note: rng
                        .random_bool(0.5)
                        .then(|| "Check shelf placement and restock.".into()),
                    project_name: rng.random_bool(0.2).then(|| "Spring Promo".into()),
                    scheduled_duration: [15, 30, 30, 45, 60][rng.random_range(0..5)],
                    repeat_every_weeks: if repeat { rng.random_range(1..3) } else { 0 },
                    repeat_days: repeat.then(|| "Monday|Thursday".into()),
                    repeat_end_date: repeat.then(|| ymd(day_ms + 56 * DAY_MS)),
                    alert_users_if_missed: rng.random_bool(0.2),
                    alert_users_if_late: rng.random_bool(0.1),
                    alert_users_if_done: rng.random_bool(0.1),
                    external_id: rng
                        .random_bool(0.1)
                        .then(|| format!("EXT-{}", rng.random_range(1000..9999))),
                    active: true,
                    tasks,
                },
            );
            if is_past {
                past.push((i, start, rep_code));
            }
        }
    }
    past
}

fn visits(
    data: &mut Data,
    rng: &mut StdRng,
    anchor_ms: i64,
    clients: &[Client],
    past: Vec<(usize, i64, String)>,
) {
    // (client index, start ms, rep code, 1 scheduled / 2 unscheduled)
    let mut planned: Vec<(usize, i64, String, i64)> = Vec::new();
    for (i, start, rep) in past {
        if rng.random_bool(0.7) {
            planned.push((i, start + rng.random_range(-20..40) * MINUTE_MS, rep, 1));
        }
    }
    for (i, c) in clients.iter().enumerate() {
        if c.active && rng.random_bool(0.1) {
            let start = anchor_ms - rng.random_range(1..30) * DAY_MS
                + rng.random_range(16..36) * 30 * MINUTE_MS;
            let (rep, _) = rep_of(rng, c);
            planned.push((i, start, rep, 2));
        }
    }
    planned.sort_by_key(|p| p.1);
    for (n, (i, start, rep, by_schedule)) in planned.into_iter().enumerate() {
        let c = &clients[i]; // `i` enumerates `clients`
        let (lat, lon) = coords(c.city.as_deref());
        let ended = !rng.random_bool(0.03);
        let end = start + rng.random_range(5..60) * MINUTE_MS;
        let visit = Visit {
            visit_id: FIRST_VISIT_ID + n as i64,
            time_stamp: data.bump(),
            date: ms_date(start - start.rem_euclid(DAY_MS)),
            representative_name: super::model::rep_name(&rep).unwrap_or_default().into(),
            representative_code: rep,
            explicit_check_in: rng.random_bool(0.6),
            date_and_time_start: iso_ms(start),
            date_and_time_end: ended.then(|| iso_ms(end)),
            client_code: c.code.clone(),
            client_name: c.name.clone(),
            street_address: c.street_address.clone(),
            zip: c.zip.clone(),
            zip_ext: c.zip_ext.clone(),
            city: c.city.clone(),
            state: c.state.clone(),
            country: c.country.clone(),
            territory: c.territory.clone(),
            latitude_start: lat + jitter(rng),
            longitude_start: lon + jitter(rng),
            latitude_end: ended.then(|| lat + jitter(rng)),
            longitude_end: ended.then(|| lon + jitter(rng)),
            precision_start: rng.random_range(5..80),
            precision_end: ended.then(|| rng.random_range(5..80)),
            visit_status_by_schedule: by_schedule,
            visit_ended: ended,
        };
        data.visits.insert(visit.time_stamp, visit);
    }
}
