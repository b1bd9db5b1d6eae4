//! Everything the console shows, in one owned value. `update` changes it; views only read it.
//! Nothing in here does I/O, so any state can be built from fixtures and rendered in a test.

pub mod alerts;
pub mod children;
pub mod contacts;
pub mod failures;
pub mod log;
pub mod mapping;
pub mod prompt;
pub mod scroll;

pub use alerts::AlertsState;
pub use children::{ChildScope, ChildrenState};
pub use contacts::{ContactSort, ContactsState};
pub use failures::FailuresState;
pub use log::{LogFilter, LogState};
pub use mapping::{MappingState, UnsavedChoice, UnsavedQuestion};
pub use prompt::{PromptHistory, PromptKind, PromptState};
pub use scroll::{Extent, Scroll};

pub use crate::console::screen::{NavHistory, Screen};

use crate::console::clock::DisplayZone;
use crate::console::engine_api::{ContactDetail, ContactRef, Status};
use crate::console::keymap::Layer;
use crate::console::theme::Theme;
use crate::sync::{RetryMode, Selection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In-process sandboxes with seeded data: nothing real is touched.
    Sandbox,
    Live,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPhase {
    Idle,
    Running,
    /// The last run ended with an error (the message is shown in the header).
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashLevel {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub level: FlashLevel,
    pub text: String,
}

/// A write waiting for a yes in the confirm popup.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingWrite {
    Retry {
        selection: Selection,
        mode: RetryMode,
    },
    Close {
        selection: Selection,
        resolved: bool,
    },
    SaveMapping,
    UndoMapping,
    DiscardMapping,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub question: String,
    pub write: PendingWrite,
    /// Cancel is focused by default: Enter alone never does the dangerous thing (k9s #146).
    pub yes_focused: bool,
}

/// What floats over the screen; its scroll position is `AppState::popup_scroll`.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help,
    Confirm(Confirm),
    /// The selected log entry in full (ids, response, traceId, its changes field by field).
    LogDetail,
    /// The selected failed operation in full.
    FailureDetail,
    /// The open contact's history, every entry in full, newest first.
    History,
    /// Leaving the mapping editor with unsaved changes: Save / Discard / Cancel.
    Unsaved(UnsavedQuestion),
    /// The services on this host, to attach to another (`:ctx`; `console::instances`).
    Instances,
}

/// One keymap layer's bindings, as the help popup and the footer hints list them. Built from
/// the keymap at start-up (write actions left out under `--read-only`), so help never drifts
/// from what the keys do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpSection {
    pub layer: Layer,
    pub bindings: Vec<HelpBinding>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpBinding {
    pub keys: String,
    pub action: String,
    pub desc: String,
    /// The hint line's word (keymap `hint = "…"`), for the bindings a screen shows there.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DetailState {
    /// The contact shown (or asked for): by peer id, or by GHL id for one not linked yet.
    pub contact: Option<ContactRef>,
    pub detail: Option<Box<ContactDetail>>,
    /// The mapped-fields table's scroll.
    pub scroll: Scroll,
}

impl DetailState {
    /// The peer id of the contact shown, when it has one.
    pub fn peer_id(&self) -> Option<&str> {
        match &self.contact {
            Some(ContactRef::Peer(id)) => Some(id),
            _ => self.detail.as_ref().and_then(|d| d.peer_id.as_deref()),
        }
    }

    /// Whether an answer is the contact asked for (a GHL id may come back linked to a peer id).
    pub fn is_for(&self, detail: &ContactDetail) -> bool {
        match &self.contact {
            Some(ContactRef::Peer(id)) => detail.peer_id.as_deref() == Some(id),
            Some(ContactRef::Ghl(id)) => detail.ghl_id.as_deref() == Some(id),
            None => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub stack: Vec<Screen>,
    /// Where Esc goes back to: the trails visited before this one.
    pub nav: NavHistory,
    pub contacts: ContactsState,
    pub detail: DetailState,
    pub children: ChildrenState,
    pub log: LogState,
    pub failures: FailuresState,
    pub status: Option<Box<Status>>,
    /// The service's alerts (open and history), live.
    pub alerts: AlertsState,
    /// A status request is in flight: the 1 Hz refresh never stacks them up.
    pub status_pending: bool,
    /// The wall clock at the last tick (only while the status screen is visible), so the
    /// sparkline moves on with time even when nothing is logged.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    pub mapping: MappingState,
    pub popup: Option<Popup>,
    /// The open popup's scroll (one popup at a time: `open_popup` starts it at the top).
    pub popup_scroll: Scroll,
    pub prompt: Option<PromptState>,
    pub history: PromptHistory,
    pub flash: Option<Flash>,
    pub theme: Theme,
    /// The zone every time on screen is shown in.
    pub zone: DisplayZone,
    pub read_only: bool,
    /// The terminal captures the mouse (`--mouse`): the wheel scrolls.
    pub mouse: bool,
    pub mode: Mode,
    pub peer: String,
    pub location: String,
    pub sync: SyncPhase,
    pub help: Vec<HelpSection>,
    /// Keys typed so far of a multi-key chord, shown in the footer.
    pub pending_keys: String,
    pub size: (u16, u16),
    pub quitting: bool,
    /// The service attached to, and the `:ctx` picker (`console::instances`).
    pub instances: crate::console::instances::InstancesState,
}

impl AppState {
    pub fn new(mode: Mode, peer: &str, read_only: bool, theme: Theme) -> AppState {
        AppState {
            stack: vec![Screen::Contacts],
            nav: NavHistory::default(),
            contacts: ContactsState::default(),
            detail: DetailState::default(),
            children: ChildrenState::default(),
            log: LogState::default(),
            failures: FailuresState::default(),
            status: None,
            alerts: AlertsState::default(),
            status_pending: false,
            now: None,
            mapping: MappingState::default(),
            popup: None,
            popup_scroll: Scroll::default(),
            prompt: None,
            history: PromptHistory::default(),
            flash: None,
            theme,
            zone: DisplayZone::default(),
            read_only,
            mouse: false,
            mode,
            peer: peer.to_string(),
            location: String::new(),
            sync: SyncPhase::Idle,
            help: Vec::new(),
            pending_keys: String::new(),
            size: (80, 24),
            quitting: false,
            instances: Default::default(),
        }
    }

    /// The engine syncs more than one peer: rows that mix peers (the log, the failed queue)
    /// name theirs, and the header offers the switch.
    pub fn several_peers(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(|status| status.peers.len() > 1)
    }

    pub fn screen(&self) -> Screen {
        // The stack is never empty: `pop` keeps the root (see update::go_back).
        self.stack.last().copied().unwrap_or(Screen::Contacts)
    }

    /// Opens a popup at its top.
    pub fn open_popup(&mut self, popup: Popup) {
        self.popup = Some(popup);
        self.popup_scroll = Scroll::default();
    }

    pub fn flash(&mut self, level: FlashLevel, text: impl Into<String>) {
        self.flash = Some(Flash {
            level,
            text: text.into(),
        });
    }

    /// Open failures (retry_scheduled + failed + dead) as the engine last reported them.
    pub fn open_failures(&self) -> usize {
        if self.failures.loaded {
            return self.failures.operations.len();
        }
        self.status.as_ref().map_or(0, |status| {
            ["retry_scheduled", "failed", "dead"]
                .iter()
                .filter_map(|state| status.queue.get(*state))
                .sum()
        })
    }
}
