//! What flows into `update` (`Msg`) and what comes out (`Effect`). Requests to the engine are
//! named here, not as raw `Command`s, so the reducer states intent and the runner owns the one
//! translation to the protocol (and back, as `Answer`).

use crate::console::action::Action;
use crate::console::engine_api::{
    ChildPage, ContactDetail, ContactList, ContactRef, FieldPreview, MappingProblem, Status,
};
use crate::peers::EntityKind;
use crate::store::{LogEntry, MappingVersion, Operation};
use crate::sync::{RetryMode, RetryReport, RunReport, Selection};
use crossterm::event::KeyEvent;

#[derive(Debug, Clone)]
pub enum Msg {
    Action(Action),
    /// A key no binding claimed, for text input (prompt, mapping editor).
    Text(KeyEvent),
    /// Bracketed paste: inserted as text, never run as keys.
    Paste(String),
    Resize(u16, u16),
    /// Keys typed so far of an unfinished chord ("" when none).
    PendingKeys(String),
    /// A keymap problem to show once.
    Warning(String),
    Answer(Answer),
    /// One record outcome, live.
    Log(LogEntry),
    /// A second passed while the status screen is visible (the only timer: idle elsewhere).
    Tick(chrono::DateTime<chrono::Utc>),
    /// An alert of the service raised or recovered, live.
    Alert(crate::engine::board::Alert),
    /// The attached service was lost, or is back (`Event::Connection`).
    Connection {
        connected: bool,
        message: String,
    },
    /// The services on this host, by their sockets (`Effect::ListInstances`), or why not.
    Instances(Result<Vec<crate::console::instances::InstanceRow>, String>),
    /// Attached to another service (its name, "ghlsync run NAME (pid N)"), or why not.
    Switched(Result<(String, String), String>),
}

/// How many contacts the console's first answer holds: more than any screen shows.
pub const FIRST_CONTACTS: usize = 500;

/// A request to the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// The contact list: the first `limit` rows, or all.
    Contacts {
        limit: Option<usize>,
    },
    /// One contact in full, by peer id or (a GHL contact not linked yet) GHL id.
    ContactDetail {
        contact: ContactRef,
    },
    /// A page of one kind's children across all contacts.
    Children {
        kind: EntityKind,
        offset: usize,
        limit: usize,
    },
    FailedQueue,
    Status,
    LogTail {
        limit: usize,
    },
    SyncNow,
    Retry {
        selection: Selection,
        mode: RetryMode,
    },
    Close {
        selection: Selection,
        resolved: bool,
    },
    Mapping,
    MappingCheck {
        generation: u64,
        text: String,
    },
    MappingPreview {
        generation: u64,
        text: String,
        target: PreviewTarget,
    },
    SaveMapping {
        text: String,
    },
    UndoMapping,
    /// The service's open alerts and their history.
    Alerts,
    /// "One contact now" (`Command::SyncContact`), for every peer that syncs contacts.
    SyncContact {
        contact: ContactRef,
    },
    /// "One peer now": a sync of the peer on screen only.
    SyncPeer,
}

impl Request {
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Request::SyncNow
                | Request::Retry { .. }
                | Request::Close { .. }
                | Request::SaveMapping { .. }
                | Request::UndoMapping
                | Request::SyncContact { .. }
                | Request::SyncPeer
        )
    }

    /// About every peer (the failed queue, the log, a sync, a retry): sent without a peer.
    /// The rest are about the peer on screen.
    pub fn is_about_every_peer(&self) -> bool {
        matches!(
            self,
            Request::FailedQueue
                | Request::LogTail { .. }
                | Request::SyncNow
                | Request::Retry { .. }
                | Request::Close { .. }
                | Request::SyncContact { .. }
        )
    }

    /// Every contact the store knows.
    pub fn all_contacts() -> Request {
        Request::Contacts { limit: None }
    }

    /// The first screens of the contact list, answered in a few milliseconds however many
    /// contacts there are; the console asks for the rest once they are on screen.
    pub fn first_contacts() -> Request {
        Request::Contacts {
            limit: Some(FIRST_CONTACTS),
        }
    }

    /// The labels the reducer recognises in `Answer::Failed`.
    pub const MAPPING_CHECK: &'static str = "mapping check";
    pub const MAPPING_PREVIEW: &'static str = "mapping preview";
    pub const SAVE_MAPPING: &'static str = "save mapping";
    pub const SYNC_CONTACT: &'static str = "sync contact";

    pub fn label(&self) -> &'static str {
        match self {
            Request::Contacts { .. } => "contacts",
            Request::ContactDetail { .. } => "contact detail",
            Request::Children { .. } => "children",
            Request::FailedQueue => "failed queue",
            Request::Status => "status",
            Request::LogTail { .. } => "log",
            Request::SyncNow => "sync",
            Request::Retry { .. } => "retry",
            Request::Close { .. } => "close",
            Request::Mapping => "mapping",
            Request::MappingCheck { .. } => Request::MAPPING_CHECK,
            Request::MappingPreview { .. } => Request::MAPPING_PREVIEW,
            Request::SaveMapping { .. } => Request::SAVE_MAPPING,
            Request::UndoMapping => "undo mapping",
            Request::Alerts => "alerts",
            Request::SyncContact { .. } => Request::SYNC_CONTACT,
            // A run like "sync now" (the header's sync phase follows it), of one peer.
            Request::SyncPeer => "sync",
        }
    }
}

/// The record a mapping preview runs on, and so its direction: a peer record shows what goes
/// to GHL (peer → GHL), a GHL contact what goes to the peer, in the peer's field names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewTarget {
    Peer(String),
    Ghl(String),
}

impl PreviewTarget {
    /// How the editor's preview input reads a typed id: `ghl:ID` is a GHL contact, `peer:ID`
    /// or a bare id a peer record.
    pub fn parse(text: &str) -> Option<PreviewTarget> {
        let text = text.trim();
        let (ghl, id) = match text.split_once(':') {
            Some((prefix, id)) if prefix.eq_ignore_ascii_case("ghl") => (true, id),
            Some((prefix, id)) if prefix.eq_ignore_ascii_case("peer") => (false, id),
            _ => (false, text),
        };
        let id = id.trim();
        if id.is_empty() {
            return None;
        }
        Some(if ghl {
            PreviewTarget::Ghl(id.to_string())
        } else {
            PreviewTarget::Peer(id.to_string())
        })
    }

    pub fn id(&self) -> &str {
        match self {
            PreviewTarget::Peer(id) | PreviewTarget::Ghl(id) => id,
        }
    }

    /// The form `parse` reads back.
    pub fn as_input(&self) -> String {
        match self {
            PreviewTarget::Peer(id) => format!("peer:{id}"),
            PreviewTarget::Ghl(id) => format!("ghl:{id}"),
        }
    }
}

/// The engine's answer, in the console's terms.
#[derive(Debug, Clone)]
pub enum Answer {
    Contacts(ContactList),
    Detail(Box<ContactDetail>),
    Children(ChildPage),
    FailedQueue(Vec<Operation>),
    Status(Box<Status>),
    Log(Vec<LogEntry>),
    Ran(Box<RunReport>),
    Retried(RetryReport),
    Closed {
        ids: Vec<u64>,
        resolved: bool,
    },
    Mapping {
        text: String,
        origin: String,
        versions: Vec<MappingVersion>,
    },
    MappingChecked {
        generation: u64,
        problem: Option<MappingProblem>,
    },
    MappingPreview {
        generation: u64,
        rows: Vec<FieldPreview>,
        problem: Option<MappingProblem>,
    },
    MappingSaved {
        version: u32,
        undo: bool,
    },
    Alerts {
        open: Vec<crate::engine::board::Alert>,
        history: Vec<crate::engine::board::Alert>,
    },
    /// "One contact now" ran: the contact asked for, and its runs' counts added up.
    ContactSynced {
        contact: ContactRef,
        report: Box<RunReport>,
    },
    /// The engine refused or failed the request.
    Failed {
        request: &'static str,
        class: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Call(Request),
    Quit,
    /// Ctrl-Z: leave the terminal, stop, and come back on `fg`.
    Suspend,
    /// Repaint everything (after a resume, or when the screen got garbled).
    ClearScreen,
    /// Put this text on the clipboard of the terminal a person sits at (OSC 52: works over SSH).
    Copy(String),
    /// List the services on this host by their sockets (answered as `Msg::Instances`).
    ListInstances,
    /// Attach to service `name` (at `path`, else its default socket); `Msg::Switched` says how
    /// it went.
    SwitchInstance {
        name: String,
        path: Option<std::path::PathBuf>,
    },
}
