//! The console's screens: the eight tabs (`1`–`8` in the default keymap) and the contact
//! detail they lead into. One enum for navigation, breadcrumbs, `focus …` actions and the
//! keymap layer (`keymap::Layer::from(screen)` is the one mapping to layers).

use std::fmt;
use std::str::FromStr;

/// A place in the console; the stack of them is the breadcrumb trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Screen {
    Contacts,
    /// One contact in full; reached from Contacts, not a tab of its own.
    Detail,
    Tasks,
    Notes,
    Appointments,
    Mapping,
    SyncLog,
    Failures,
    Status,
    /// The service's alerts: open first, then the history. Not a tab of its own: it sits under
    /// Status (`!`, `:alerts`).
    Alerts,
}

impl Screen {
    /// The tabs, in tab order (Detail is not one: it belongs to Contacts).
    pub const TABS: [Screen; 8] = [
        Screen::Contacts,
        Screen::Tasks,
        Screen::Notes,
        Screen::Appointments,
        Screen::Mapping,
        Screen::SyncLog,
        Screen::Failures,
        Screen::Status,
    ];

    /// Every screen, for parsing and exhaustive tests.
    pub const ALL: [Screen; 10] = [
        Screen::Contacts,
        Screen::Detail,
        Screen::Tasks,
        Screen::Notes,
        Screen::Appointments,
        Screen::Mapping,
        Screen::SyncLog,
        Screen::Failures,
        Screen::Status,
        Screen::Alerts,
    ];

    /// The name in `focus NAME` and in keymap layer headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Screen::Contacts => "contacts",
            Screen::Detail => "detail",
            Screen::Tasks => "tasks",
            Screen::Notes => "notes",
            Screen::Appointments => "appointments",
            Screen::Mapping => "mapping",
            Screen::SyncLog => "sync_log",
            Screen::Failures => "failures",
            Screen::Status => "status",
            Screen::Alerts => "alerts",
        }
    }

    /// The breadcrumb label.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Contacts => "Contacts",
            Screen::Detail => "Contact",
            Screen::Tasks => "Tasks",
            Screen::Notes => "Notes",
            Screen::Appointments => "Appointments",
            Screen::Mapping => "Mapping",
            Screen::SyncLog => "Sync log",
            Screen::Failures => "Failures",
            Screen::Status => "Status",
            Screen::Alerts => "Alerts",
        }
    }

    /// The tab bar's name at 80 columns, where the full names do not all fit.
    pub fn short_title(self) -> &'static str {
        match self {
            Screen::Appointments => "Appts",
            Screen::SyncLog => "Log",
            other => other.title(),
        }
    }

    /// The tab a screen sits under (Detail is under Contacts).
    pub fn tab(self) -> Screen {
        match self {
            Screen::Detail => Screen::Contacts,
            Screen::Alerts => Screen::Status,
            other => other,
        }
    }

    /// Top-level screens replace the stack; the others push onto it (Contacts › Contact › …).
    pub fn is_top_level(self) -> bool {
        matches!(
            self,
            Screen::Contacts
                | Screen::SyncLog
                | Screen::Failures
                | Screen::Status
                | Screen::Alerts
                | Screen::Mapping
        )
    }

    /// Tasks, notes and appointments: lists of a contact's children, or of everyone's.
    pub fn is_children(self) -> bool {
        matches!(self, Screen::Tasks | Screen::Notes | Screen::Appointments)
    }

    /// The next tab in tab order, wrapping.
    pub fn next(self) -> Screen {
        let i = Self::tab_index(self);
        Screen::TABS[(i + 1) % Screen::TABS.len()]
    }

    /// The previous tab in tab order, wrapping.
    pub fn prev(self) -> Screen {
        let i = Self::tab_index(self);
        Screen::TABS[(i + Screen::TABS.len() - 1) % Screen::TABS.len()]
    }

    fn tab_index(self) -> usize {
        // Every screen's tab is in TABS, so the fallback is never taken.
        Screen::TABS
            .iter()
            .position(|s| *s == self.tab())
            .unwrap_or(0)
    }
}

/// Where Esc returns: the trails (breadcrumb stacks) seen before the current one, newest last.
/// Coming back to a trail already in the history drops everything after it, so the history
/// has no cycles, never grows past the number of places, and Esc never walks in circles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NavHistory {
    trails: Vec<Vec<Screen>>,
    /// The current change of trail is a return (Esc): it is not recorded.
    returning: bool,
}

impl NavHistory {
    /// More than any walk without cycles visits (9 screens, a few trails each).
    const MAX: usize = 32;

    /// The trail `from` was left for `to`.
    pub fn record(&mut self, from: Vec<Screen>, to: &[Screen]) {
        if from.as_slice() == to {
            return;
        }
        if let Some(at) = self.trails.iter().position(|trail| trail.as_slice() == to) {
            self.trails.truncate(at);
            return;
        }
        self.trails.retain(|trail| *trail != from);
        self.trails.push(from);
        if self.trails.len() > Self::MAX {
            self.trails.remove(0);
        }
    }

    /// The trail to go back to, if any; the change it makes is not recorded.
    pub fn pop(&mut self) -> Option<Vec<Screen>> {
        let trail = self.trails.pop();
        self.returning = trail.is_some();
        trail
    }

    /// Whether the change just made was a return (and forgets it).
    pub fn take_returning(&mut self) -> bool {
        std::mem::take(&mut self.returning)
    }

    pub fn len(&self) -> usize {
        self.trails.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trails.is_empty()
    }
}

impl fmt::Display for Screen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Screen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Screen::ALL
            .into_iter()
            .find(|screen| screen.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown screen {s:?}; expected one of {}",
                    Screen::ALL.map(Screen::as_str).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::keymap::Layer;

    #[test]
    fn tabs_cycle_and_detail_belongs_to_contacts() {
        assert_eq!(Screen::Contacts.next(), Screen::Tasks);
        assert_eq!(Screen::Status.next(), Screen::Contacts);
        assert_eq!(Screen::Contacts.prev(), Screen::Status);
        assert_eq!(Screen::Detail.next(), Screen::Tasks);
        assert_eq!(Screen::Detail.prev(), Screen::Status);
        for s in Screen::TABS {
            assert_eq!(s.next().prev(), s);
        }
    }

    #[test]
    fn history_goes_back_without_cycles() {
        let mut nav = NavHistory::default();
        let contacts = vec![Screen::Contacts];
        let failures = vec![Screen::Failures];
        let detail = vec![Screen::Contacts, Screen::Detail];
        nav.record(contacts.clone(), &failures);
        nav.record(failures.clone(), &detail);
        assert_eq!(nav.len(), 2);
        // Back on Contacts by its tab: nothing before it is left to go back to.
        nav.record(detail.clone(), &contacts);
        assert!(nav.is_empty());
        nav.record(contacts.clone(), &failures);
        nav.record(failures.clone(), &detail);
        assert_eq!(nav.pop(), Some(failures));
        assert_eq!(nav.pop(), Some(contacts));
        assert_eq!(nav.pop(), None);
        for _ in 0..100 {
            nav.record(vec![Screen::Status], &[Screen::Mapping]);
            nav.record(vec![Screen::Mapping], &[Screen::Status]);
        }
        assert!(nav.len() <= 2, "no cycles: {nav:?}");
    }

    #[test]
    fn every_screen_parses_back_and_has_its_own_layer() {
        let mut layers = Vec::new();
        for s in Screen::ALL {
            assert_eq!(s.as_str().parse::<Screen>(), Ok(s));
            let layer = Layer::from(s);
            // The layer's name is the screen's: one vocabulary in keymap.toml and `focus`.
            assert_eq!(layer.as_str(), s.as_str());
            layers.push(layer);
        }
        layers.sort();
        layers.dedup();
        assert_eq!(layers.len(), Screen::ALL.len());
        let err = "kitchen".parse::<Screen>().unwrap_err();
        assert!(err.contains("sync_log") && err.contains("detail"), "{err}");
    }
}
