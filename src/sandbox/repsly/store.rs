//! Repsly's records in memory, indexed the way its cursors read them.
//!
//! One global `TimeStamp` counter is bumped on every client or visit change, so a timestamp
//! cursor never skips or repeats a row: each row has exactly one, unique, timestamp, and the
//! export walks them strictly after the cursor. Note ids only grow, as on Repsly.

use std::collections::{BTreeMap, HashMap};

use super::import::ImportJob;
use super::model::{Client, ClientNote, Schedule, Visit};

/// Rows per export page (repsly-dev …/clients, …/visits).
pub const PAGE: usize = 50;

#[derive(Default)]
pub struct Data {
    next_ts: i64,
    next_client_id: i64,
    next_note_id: i64,
    next_schedule: i64,
    clients: HashMap<i64, Client>,
    by_code: HashMap<String, i64>,
    /// TimeStamp → ClientID.
    by_ts: BTreeMap<i64, i64>,
    pub notes: BTreeMap<i64, ClientNote>,
    /// ScheduleCode → schedule.
    pub schedules: BTreeMap<String, Schedule>,
    /// TimeStamp → visit.
    pub visits: BTreeMap<i64, Visit>,
    pub jobs: HashMap<u64, ImportJob>,
}

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    Inserted,
    Updated,
    Unchanged,
}

impl Data {
    pub fn new(first_ts: i64, first_client_id: i64, first_note_id: i64) -> Self {
        Data {
            next_ts: first_ts,
            next_client_id: first_client_id,
            next_note_id: first_note_id,
            next_schedule: 1,
            ..Data::default()
        }
    }

    /// The next value of the global change counter.
    pub fn bump(&mut self) -> i64 {
        let ts = self.next_ts;
        self.next_ts += 1;
        ts
    }

    /// Leaves a gap in the counter (other, unexported entities share it on Repsly).
    pub fn skip(&mut self, n: i64) {
        self.next_ts += n.max(0);
    }

    pub fn new_client_id(&mut self) -> i64 {
        let id = self.next_client_id;
        self.next_client_id += 1;
        id
    }

    pub fn new_note_id(&mut self) -> i64 {
        let id = self.next_note_id;
        self.next_note_id += 1;
        id
    }

    pub fn new_schedule_code(&mut self) -> String {
        let n = self.next_schedule;
        self.next_schedule += 1;
        format!("SCH-{n:06}")
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    pub fn client(&self, code: &str) -> Option<&Client> {
        self.by_code.get(code).and_then(|id| self.clients.get(id))
    }

    /// Clients changed strictly after `cursor`, oldest change first, at most `PAGE`.
    pub fn clients_after(&self, cursor: i64) -> Vec<&Client> {
        self.by_ts
            .range(cursor.saturating_add(1)..)
            .filter_map(|(_, id)| self.clients.get(id))
            .take(PAGE)
            .collect()
    }

    pub fn clients_by_id(&self) -> impl Iterator<Item = &Client> {
        let mut ids: Vec<&i64> = self.clients.keys().collect();
        ids.sort_unstable();
        ids.into_iter().filter_map(|id| self.clients.get(id))
    }

    /// Inserts or replaces the client with `client.Code`. A new client gets a `ClientID`; a real
    /// change gets a fresh `TimeStamp`; an identical write changes nothing.
    pub fn put_client(&mut self, mut client: Client) -> (Upserted, &Client) {
        let (outcome, id) = match self.by_code.get(&client.code).copied() {
            Some(id) => {
                let old = self.clients.get(&id);
                client.client_id = id;
                match old {
                    Some(old) if old.same_content(&client) => (Upserted::Unchanged, id),
                    Some(old) => {
                        self.by_ts.remove(&old.time_stamp);
                        (Upserted::Updated, id)
                    }
                    None => (Upserted::Inserted, id),
                }
            }
            None => {
                client.client_id = self.new_client_id();
                (Upserted::Inserted, client.client_id)
            }
        };
        if outcome != Upserted::Unchanged {
            client.time_stamp = self.bump();
            self.by_ts.insert(client.time_stamp, id);
            self.by_code.insert(client.code.clone(), id);
            self.clients.insert(id, client);
        }
        let stored = &self.clients[&id]; // the id was just found in, or inserted into, `clients`
        (outcome, stored)
    }

    /// Seeding only: keeps the given `ClientID`, takes the next `TimeStamp`.
    pub fn insert_seeded(&mut self, mut client: Client) {
        client.time_stamp = self.bump();
        self.next_client_id = self.next_client_id.max(client.client_id + 1);
        self.by_ts.insert(client.time_stamp, client.client_id);
        self.by_code.insert(client.code.clone(), client.client_id);
        self.clients.insert(client.client_id, client);
    }

    /// Notes with an id strictly after `cursor`, ascending, at most `PAGE`.
    pub fn notes_after(&self, cursor: i64) -> Vec<&ClientNote> {
        self.notes
            .range(cursor.saturating_add(1)..)
            .map(|(_, n)| n)
            .take(PAGE)
            .collect()
    }

    pub fn visits_after(&self, cursor: i64) -> Vec<&Visit> {
        self.visits
            .range(cursor.saturating_add(1)..)
            .map(|(_, v)| v)
            .take(PAGE)
            .collect()
    }

    /// Active schedules whose `ScheduledDate` lies in `[begin, end]` (both `YYYY-MM-DD`, which
    /// sort as text), by date, time, code.
    pub fn schedules_between(&self, begin: &str, end: &str) -> Vec<&Schedule> {
        let mut out: Vec<&Schedule> = self
            .schedules
            .values()
            .filter(|s| s.active && s.scheduled_date.as_str() >= begin)
            .filter(|s| s.scheduled_date.as_str() <= end)
            .collect();
        out.sort_by(|a, b| {
            (&a.scheduled_date, &a.scheduled_time, &a.schedule_code).cmp(&(
                &b.scheduled_date,
                &b.scheduled_time,
                &b.schedule_code,
            ))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(code: &str, name: &str) -> Client {
        Client {
            code: code.into(),
            name: name.into(),
            active: true,
            ..Client::default()
        }
    }

    #[test]
    fn upsert_bumps_only_on_real_change_and_pages_by_timestamp() {
        let mut d = Data::new(1_000_000, 1, 1);
        for i in 0..120 {
            d.put_client(client(&format!("C-{i:06}"), "x"));
        }
        let (outcome, c) = d.put_client(client("C-000003", "x"));
        assert_eq!((outcome, c.time_stamp), (Upserted::Unchanged, 1_000_003));
        let (outcome, c) = d.put_client(client("C-000003", "renamed"));
        assert_eq!(outcome, Upserted::Updated);
        assert_eq!((c.client_id, c.time_stamp), (4, 1_000_120));
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            let page = d.clients_after(cursor);
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= PAGE);
            cursor = page.last().map_or(cursor, |c| c.time_stamp);
            seen.extend(page.iter().map(|c| c.code.clone()));
        }
        assert_eq!(seen.len(), 120);
        assert_eq!(seen.last().map(String::as_str), Some("C-000003"));
        assert_eq!(d.client_count(), 120);
    }
}
