//! The service board: what `ghlsync run` knows beyond the store — alerts, schedules, webhook
//! arrivals and the last hour's figures per peer — kept by the engine so every front end (the
//! console over the socket, `status`, `/metrics`) reads one copy. The service writes it; the
//! engine answers `Command::Alerts` and `Status::service` from it. Alerts are raised on a state
//! change and cleared once on recovery: a condition that stays true raises nothing more.

use super::protocol::Event;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::broadcast;

/// Minutes of history the sparklines show.
pub const SERIES_MINUTES: usize = 60;

/// What an alert is about; one open alert per key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "subject")]
pub enum AlertKey {
    /// Operations went dead (the subject: the peer).
    DeadOperations(String),
    /// GHL refuses the token (or its refresh).
    Auth,
    /// GHL's daily quota is under its reserve.
    Quota,
    /// A peer stopped answering (the subject: the peer).
    PeerDown(String),
    /// No GHL webhook arrived for longer than `[service.webhooks] silent_after`.
    WebhooksSilent,
    /// A reload (SIGHUP) kept the old files (the subject: what failed).
    Reload(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Raised,
    Recovered,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub key: AlertKey,
    pub state: AlertState,
    /// What happened and what to do.
    pub message: String,
    pub at: DateTime<Utc>,
}

/// One minute-bucketed series, oldest first, `SERIES_MINUTES` long.
pub type Series = Vec<u32>;

/// One peer as the service sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerFigures {
    pub name: String,
    pub last_run: Option<DateTime<Utc>>,
    /// Next scheduled run per entity (`contacts`, …, or `all`).
    pub next_runs: BTreeMap<String, DateTime<Utc>>,
    /// Writes (both directions) per minute over the last hour.
    pub writes: Series,
    /// Failed record outcomes per minute over the last hour.
    pub errors: Series,
}

/// The service's part of `Status` (absent when the engine runs in-process for one command).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub instance: String,
    pub started_at: Option<DateTime<Utc>>,
    pub peers: Vec<PeerFigures>,
    /// GHL 429s seen per minute over the last hour (the location's, so one series).
    pub rate_limited: Series,
    /// Webhook events accepted per minute over the last hour (GHL and peers).
    pub webhooks: Series,
    pub last_webhook_at: Option<DateTime<Utc>>,
    /// Events accepted but not processed yet.
    pub inbox_len: usize,
    /// Age of the oldest change not yet synced (the oldest inbox event), seconds.
    pub lag_secs: Option<u64>,
    /// Alerts open now.
    pub open_alerts: usize,
}

#[derive(Default)]
struct BoardState {
    status: ServiceStatus,
    open: BTreeMap<AlertKey, Alert>,
    /// Newest last; bounded.
    history: Vec<Alert>,
    /// The minute (unix minutes) the series' last bucket stands for.
    minute: i64,
    /// The limiter's 429 count when last observed (`observe_rate_limited`).
    rate_limited_total: Option<u64>,
}

const HISTORY: usize = 200;

/// Shared by the engine and the service (`EngineHandle::board`).
pub struct Board {
    state: Mutex<BoardState>,
    events: broadcast::Sender<Event>,
}

impl Board {
    pub(super) fn new(events: broadcast::Sender<Event>) -> Board {
        Board {
            state: Mutex::new(BoardState::default()),
            events,
        }
    }

    fn state(&self) -> MutexGuard<'_, BoardState> {
        // Figures half-updated by a panicking writer are still better than none.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks this engine as a service (`instance`), started now, with these peers.
    pub fn start(&self, instance: &str, peers: &[String]) {
        let mut state = self.state();
        state.status.instance = instance.to_string();
        state.status.started_at = Some(Utc::now());
        state.status.peers = peers
            .iter()
            .map(|name| PeerFigures {
                name: name.clone(),
                writes: vec![0; SERIES_MINUTES],
                errors: vec![0; SERIES_MINUTES],
                ..PeerFigures::default()
            })
            .collect();
        state.status.rate_limited = vec![0; SERIES_MINUTES];
        state.status.webhooks = vec![0; SERIES_MINUTES];
        state.minute = Utc::now().timestamp() / 60;
    }

    /// Raises `key` unless it is open already; returns whether this was a change (and so was
    /// announced as `Event::Alert`).
    pub fn raise(&self, key: AlertKey, message: impl Into<String>) -> bool {
        let alert = Alert {
            key: key.clone(),
            state: AlertState::Raised,
            message: message.into(),
            at: Utc::now(),
        };
        {
            let mut state = self.state();
            if state.open.contains_key(&key) {
                return false;
            }
            state.open.insert(key, alert.clone());
            state.status.open_alerts = state.open.len();
            push_history(&mut state.history, alert.clone());
        }
        let _ = self.events.send(Event::Alert { alert });
        true
    }

    /// Clears `key` if it is open (one recovery alert); returns whether it was.
    pub fn recover(&self, key: &AlertKey, message: impl Into<String>) -> bool {
        let alert = Alert {
            key: key.clone(),
            state: AlertState::Recovered,
            message: message.into(),
            at: Utc::now(),
        };
        {
            let mut state = self.state();
            if state.open.remove(key).is_none() {
                return false;
            }
            state.status.open_alerts = state.open.len();
            push_history(&mut state.history, alert.clone());
        }
        let _ = self.events.send(Event::Alert { alert });
        true
    }

    /// Open alerts first (oldest first), then the history of raised and recovered, newest last.
    pub fn alerts(&self) -> (Vec<Alert>, Vec<Alert>) {
        let state = self.state();
        (
            state.open.values().cloned().collect(),
            state.history.clone(),
        )
    }

    pub fn is_open(&self, key: &AlertKey) -> bool {
        self.state().open.contains_key(key)
    }

    /// Shifts the series so their last bucket is the current minute.
    fn roll(state: &mut BoardState) {
        let now = Utc::now().timestamp() / 60;
        let steps = (now - state.minute).clamp(0, SERIES_MINUTES as i64) as usize;
        if steps == 0 {
            return;
        }
        state.minute = now;
        let status = &mut state.status;
        let mut all: Vec<&mut Series> = vec![&mut status.rate_limited, &mut status.webhooks];
        for peer in &mut status.peers {
            all.push(&mut peer.writes);
            all.push(&mut peer.errors);
        }
        for series in all {
            series.resize(SERIES_MINUTES, 0);
            series.rotate_left(steps);
            let len = series.len();
            series[len - steps..]
                .iter_mut()
                .for_each(|bucket| *bucket = 0);
        }
    }

    fn with_peer(&self, peer: &str, change: impl FnOnce(&mut PeerFigures)) {
        let mut state = self.state();
        Self::roll(&mut state);
        if let Some(figures) = state.status.peers.iter_mut().find(|p| p.name == peer) {
            change(figures);
        }
    }

    /// One record outcome of `peer`: a write (`wrote`) and/or an error.
    pub fn record_outcome(&self, peer: &str, wrote: bool, failed: bool) {
        self.with_peer(peer, |figures| {
            if let Some(last) = figures.writes.last_mut().filter(|_| wrote) {
                *last += 1;
            }
            if let Some(last) = figures.errors.last_mut().filter(|_| failed) {
                *last += 1;
            }
        });
    }

    pub fn record_run(&self, peer: &str, at: DateTime<Utc>) {
        self.with_peer(peer, |figures| figures.last_run = Some(at));
    }

    pub fn set_next_run(&self, peer: &str, entity: &str, at: DateTime<Utc>) {
        self.with_peer(peer, |figures| {
            figures.next_runs.insert(entity.to_string(), at);
        });
    }

    /// The GHL client's running count of 429s: what it grew by since last time goes into
    /// this minute's bucket.
    pub fn observe_rate_limited(&self, total: u64) {
        let mut state = self.state();
        Self::roll(&mut state);
        let grown = state
            .rate_limited_total
            .map_or(0, |before| total.saturating_sub(before));
        state.rate_limited_total = Some(total);
        if let Some(last) = state.status.rate_limited.last_mut() {
            *last += u32::try_from(grown).unwrap_or(u32::MAX);
        }
    }

    /// A webhook event accepted (durable) now.
    pub fn record_webhook(&self) {
        let mut state = self.state();
        Self::roll(&mut state);
        if let Some(last) = state.status.webhooks.last_mut() {
            *last += 1;
        }
        state.status.last_webhook_at = Some(Utc::now());
    }

    /// The inbox as it is now: its length and the age of its oldest event.
    pub fn set_inbox(&self, len: usize, oldest: Option<DateTime<Utc>>) {
        let mut state = self.state();
        state.status.inbox_len = len;
        state.status.lag_secs =
            oldest.map(|at| (Utc::now() - at).num_seconds().max(0).unsigned_abs());
    }

    /// The service's figures now, or `None` when this engine is not a service.
    pub fn service_status(&self) -> Option<ServiceStatus> {
        let mut state = self.state();
        state.status.started_at?;
        Self::roll(&mut state);
        Some(state.status.clone())
    }
}

fn push_history(history: &mut Vec<Alert>, alert: Alert) {
    history.push(alert);
    if history.len() > HISTORY {
        let excess = history.len() - HISTORY;
        history.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board() -> (Board, broadcast::Receiver<Event>) {
        let (events, rx) = broadcast::channel(16);
        (Board::new(events), rx)
    }

    #[test]
    fn an_alert_is_announced_once_while_it_stays_true_and_once_on_recovery() {
        let (board, mut rx) = board();
        assert!(board.raise(AlertKey::Auth, "token refused"));
        assert!(!board.raise(AlertKey::Auth, "token refused again"));
        assert!(board.recover(&AlertKey::Auth, "token accepted"));
        assert!(!board.recover(&AlertKey::Auth, "token accepted"));
        let mut states = Vec::new();
        while let Ok(Event::Alert { alert }) = rx.try_recv() {
            states.push(alert.state);
        }
        assert_eq!(states, vec![AlertState::Raised, AlertState::Recovered]);
        let (open, history) = board.alerts();
        assert!(open.is_empty());
        assert_eq!(history.len(), 2);
    }

    #[test]
    fn outcomes_count_in_the_current_minute_of_their_peer() {
        let (board, _rx) = board();
        assert!(board.service_status().is_none(), "not a service yet");
        board.start("acme", &["repsly".into(), "robly".into()]);
        board.record_outcome("robly", true, false);
        board.record_outcome("robly", true, true);
        board.record_webhook();
        let status = board.service_status().unwrap();
        assert_eq!(status.peers[1].writes.last(), Some(&2));
        assert_eq!(status.peers[1].errors.last(), Some(&1));
        assert_eq!(status.peers[0].writes.iter().sum::<u32>(), 0);
        assert_eq!(status.webhooks.len(), SERIES_MINUTES);
        assert_eq!(status.webhooks.last(), Some(&1));
    }
}
