//! What the console can be asked to do. Every key binding (`run = "…"` in `keymap.toml`) and
//! every `:` palette command resolves to one typed [`Action`]; the update function matches on
//! these, never on keys or strings.
//!
//! Actions are written like yazi's: a name, optionally `layer:`-prefixed, with CLI-style
//! arguments (`"sync:retry --class auth"`). [`Action::from_str`] parses that form and
//! [`Display`](std::fmt::Display) writes the canonical form back, so `parse(display(a)) == a`.
//!
//! Two properties are decided here rather than in config, after k9s: [`Action::is_write`]
//! (hidden and refused under `--read-only`) and [`Action::is_dangerous`] (needs a confirmation
//! whose default button is Cancel).

use crate::net::ErrorClass;
use serde::Deserialize;
use serde::de::IntoDeserializer;

pub use crate::console::screen::Screen;

/// Where `focus` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FocusTarget {
    Screen(Screen),
    Next,
    Prev,
}

/// Cursor motions (`move …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Motion {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
}

impl Motion {
    const ALL: [Motion; 6] = [
        Motion::Up,
        Motion::Down,
        Motion::Top,
        Motion::Bottom,
        Motion::PageUp,
        Motion::PageDown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Motion::Up => "up",
            Motion::Down => "down",
            Motion::Top => "top",
            Motion::Bottom => "bottom",
            Motion::PageUp => "page_up",
            Motion::PageDown => "page_down",
        }
    }
}

/// The two prompts sharing one input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromptKind {
    /// `:` command palette, parsed by [`parse_command`].
    Command,
    /// `/` filter of the current pane.
    Filter,
}

/// Which failed operations a retry applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryTarget {
    /// The marked rows, else the row under the cursor.
    Selected,
    /// Every failed operation of the class of the row under the cursor.
    SelectedClass,
    /// Every failed operation with the reason code of the row under the cursor.
    SelectedReason,
    /// Every failed operation whose last error has this class.
    Class(ErrorClass),
    /// Every failed operation.
    All,
}

/// One thing the console can do. See the module docs for the string form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    Prompt(PromptKind),
    Focus(FocusTarget),
    Move(Motion),
    /// Open the detail of the selected row / activate (Enter).
    Select,
    /// Close the top popup or detail, clear the filter (Esc).
    Back,
    ToggleMark,
    /// Tasks, notes, appointments: the selected contact's or every contact's.
    ChildrenScopeToggle,
    SyncNow,
    /// Retry failed operations now, with the current mapping or (`original`) the stored payload.
    Retry {
        target: RetryTarget,
        original: bool,
    },
    /// Give up on the selected failed operations.
    Skip,
    /// Mark the selected failed operations fixed by hand.
    Resolve,
    LogFollowToggle,
    LogWrapToggle,
    LogTimestampsToggle,
    LogClear,
    LogDetail,
    /// The contact detail's history, every entry in full (the pane shows the latest, cut).
    DetailHistory,
    /// The selected failure's record: its contact's detail (by peer or GHL id).
    JumpContact,
    /// The selected failure's record id to the clipboard (OSC 52).
    CopyId,
    MappingEdit,
    MappingSave,
    MappingDiscard,
    MappingUndo,
    MappingPreview,
    SortNext,
    SortReverse,
    Suspend,
    Redraw,
    /// Does nothing; in a keymap it unbinds a chord.
    Noop,
    ConfirmYes,
    ConfirmNo,
    /// Moves the confirm popup's focus to the other button.
    ConfirmSwitch,
    /// Show the next peer's contacts, children, mapping and status (`:peer NAME` picks one).
    PeerNext,
    /// "One contact now": the contact under the cursor (contact list) or on screen (detail),
    /// through every peer that syncs contacts.
    SyncContact,
    /// "One peer now": a sync of the peer on screen only.
    SyncPeer,
}

/// The action names with their argument forms, for error messages and docs.
pub const ACTION_FORMS: &[&str] = &[
    "quit",
    "help",
    "prompt:command",
    "prompt:filter",
    "focus contacts|detail|tasks|notes|appointments|mapping|sync_log|failures|status|next|prev",
    "move up|down|top|bottom|page_up|page_down",
    "select",
    "back",
    "toggle_mark",
    "children:scope --toggle",
    "sync:now",
    "sync:retry [--original] --selected|--selected-class|--selected-reason|--class CLASS|--all",
    "sync:skip --selected",
    "sync:resolve --selected",
    "log:follow --toggle",
    "log:wrap --toggle",
    "log:timestamps --toggle",
    "log:clear",
    "log:detail",
    "detail:history",
    "jump:contact",
    "copy:id",
    "mapping:edit",
    "mapping:save",
    "mapping:discard",
    "mapping:undo",
    "mapping:preview",
    "sort:next",
    "sort:reverse",
    "suspend",
    "redraw",
    "noop",
    "confirm:yes",
    "confirm:no",
    "confirm:switch",
    "peer:next",
    "sync:contact",
    "sync:peer",
];

const CLASS_NAMES: &str =
    "rate_limited, transient, ambiguous, auth, scope_or_config, validation, not_found, decode";

fn parse_class(s: &str) -> Result<ErrorClass, String> {
    ErrorClass::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(s))
        .map_err(|_| format!("unknown error class {s:?}; expected one of {CLASS_NAMES}"))
}

impl Action {
    /// Changes the store, GHL or the peer: hidden and refused under `--read-only`.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Action::SyncNow
                | Action::SyncContact
                | Action::SyncPeer
                | Action::Retry { .. }
                | Action::Skip
                | Action::Resolve
                | Action::MappingSave
                | Action::MappingUndo
        )
    }

    /// Needs a confirmation whose default button is Cancel.
    pub fn is_dangerous(&self) -> bool {
        matches!(
            self,
            Action::Retry {
                target: RetryTarget::SelectedClass
                    | RetryTarget::SelectedReason
                    | RetryTarget::Class(_)
                    | RetryTarget::All,
                ..
            } | Action::Skip
                | Action::Resolve
                | Action::MappingSave
                | Action::MappingUndo
        )
    }
}

mod palette;
mod text;

pub use palette::{COMMANDS, Match, complete, is_write_command, matches, parse_command};

#[cfg(test)]
mod tests;
