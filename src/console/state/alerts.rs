//! The service's alerts as the console knows them: the open ones and the history, from
//! `Command::Alerts` and kept current by the live `Event::Alert`. Without a service both stay
//! empty (an in-process engine raises none).

use crate::engine::board::{Alert, AlertState};

#[derive(Debug, Clone, Default)]
pub struct AlertsState {
    /// Open now, oldest first (one per key).
    pub open: Vec<Alert>,
    /// Raised and recovered, newest last (as the engine keeps it).
    pub history: Vec<Alert>,
    /// The Alerts screen's cursor, over `rows()`.
    pub selected: usize,
    /// An answer has come: the screen says "none" rather than "loading…".
    pub loaded: bool,
}

/// Bounded like the engine's own history, so a long-lived console does not grow.
const HISTORY: usize = 200;

impl AlertsState {
    /// The engine's answer replaces what the console had.
    pub fn replace(&mut self, open: Vec<Alert>, history: Vec<Alert>) {
        self.open = open;
        self.history = history;
        self.loaded = true;
        self.clamp();
    }

    /// One live alert: a raise opens its key (or replaces the open one), a recovery closes it;
    /// both go into the history.
    pub fn apply(&mut self, alert: Alert) {
        self.open.retain(|open| open.key != alert.key);
        if alert.state == AlertState::Raised {
            self.open.push(alert.clone());
        }
        self.history.push(alert);
        if self.history.len() > HISTORY {
            let excess = self.history.len() - HISTORY;
            self.history.drain(..excess);
        }
        self.clamp();
    }

    /// What the screen lists: the open alerts first, then the history newest first.
    pub fn rows(&self) -> impl Iterator<Item = (bool, &Alert)> {
        self.open
            .iter()
            .map(|a| (true, a))
            .chain(self.history.iter().rev().map(|a| (false, a)))
    }

    pub fn len(&self) -> usize {
        self.open.len() + self.history.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.len().saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::board::AlertKey;

    fn alert(key: AlertKey, state: AlertState, message: &str) -> Alert {
        Alert {
            key,
            state,
            message: message.into(),
            at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_raise_opens_and_a_recovery_closes_its_key_both_in_the_history() {
        let mut alerts = AlertsState::default();
        alerts.apply(alert(AlertKey::Auth, AlertState::Raised, "token refused"));
        alerts.apply(alert(
            AlertKey::PeerDown("repsly".into()),
            AlertState::Raised,
            "repsly down",
        ));
        assert_eq!(alerts.open.len(), 2);
        alerts.apply(alert(AlertKey::Auth, AlertState::Recovered, "token ok"));
        assert_eq!(alerts.open.len(), 1);
        assert_eq!(alerts.open[0].message, "repsly down");
        let rows: Vec<(bool, &str)> = alerts
            .rows()
            .map(|(open, a)| (open, a.message.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                (true, "repsly down"),
                (false, "token ok"),
                (false, "repsly down"),
                (false, "token refused")
            ]
        );
        alerts.move_by(100);
        assert_eq!(alerts.selected, 3);
        alerts.replace(Vec::new(), Vec::new());
        assert_eq!(alerts.selected, 0);
        assert!(alerts.loaded && alerts.is_empty());
    }
}
