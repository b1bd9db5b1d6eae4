//! Layers (one per screen or popup) and the ordered chord table of one layer.

use super::key::{Key, display_sequence};
use crate::console::action::Action;
use crate::console::screen::Screen;
use std::fmt;
use std::str::FromStr;

/// Where a key press is looked up. The console picks the layer from the top popup or the
/// focused screen; [`Layer::Global`] is the fallback for the layers that inherit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    Global,
    Contacts,
    Detail,
    Tasks,
    Notes,
    Appointments,
    Mapping,
    SyncLog,
    Failures,
    Status,
    Prompt,
    Confirm,
    Help,
    Alerts,
}

impl Layer {
    pub const ALL: [Layer; 14] = [
        Layer::Global,
        Layer::Contacts,
        Layer::Detail,
        Layer::Tasks,
        Layer::Notes,
        Layer::Appointments,
        Layer::Mapping,
        Layer::SyncLog,
        Layer::Failures,
        Layer::Status,
        Layer::Prompt,
        Layer::Confirm,
        Layer::Help,
        Layer::Alerts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Global => "global",
            Layer::Contacts => "contacts",
            Layer::Detail => "detail",
            Layer::Tasks => "tasks",
            Layer::Notes => "notes",
            Layer::Appointments => "appointments",
            Layer::Mapping => "mapping",
            Layer::SyncLog => "sync_log",
            Layer::Failures => "failures",
            Layer::Status => "status",
            Layer::Prompt => "prompt",
            Layer::Confirm => "confirm",
            Layer::Help => "help",
            Layer::Alerts => "alerts",
        }
    }

    /// Whether unbound keys fall through to [`Layer::Global`]. The modal layers do not: in the
    /// prompt an unbound key is text for the input line, and a confirmation takes only its own
    /// keys.
    pub fn inherits_global(self) -> bool {
        !matches!(self, Layer::Global | Layer::Prompt | Layer::Confirm)
    }
}

/// The one mapping from screens to their layers (the names are the same on both sides).
impl From<Screen> for Layer {
    fn from(screen: Screen) -> Layer {
        match screen {
            Screen::Contacts => Layer::Contacts,
            Screen::Detail => Layer::Detail,
            Screen::Tasks => Layer::Tasks,
            Screen::Notes => Layer::Notes,
            Screen::Appointments => Layer::Appointments,
            Screen::Mapping => Layer::Mapping,
            Screen::SyncLog => Layer::SyncLog,
            Screen::Failures => Layer::Failures,
            Screen::Status => Layer::Status,
            Screen::Alerts => Layer::Alerts,
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layer {
    type Err = String;
    fn from_str(s: &str) -> Result<Layer, String> {
        Layer::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown layer [{s}]; layers are {}",
                    Layer::ALL.map(Layer::as_str).join(", ")
                )
            })
    }
}

/// One entry of a layer: a key sequence and the actions it runs in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chord {
    pub keys: Vec<Key>,
    pub actions: Vec<Action>,
    pub desc: Option<String>,
    /// The word the screen's hint line shows for it (`hint = "save"`); chords without one are
    /// in help only.
    pub hint: Option<String>,
}

impl Chord {
    /// `run = "noop"`: the chord is unbound (and shadows the same chord in global).
    pub fn is_noop(&self) -> bool {
        self.actions.iter().all(|a| *a == Action::Noop)
    }

    pub fn keys_string(&self) -> String {
        display_sequence(&self.keys)
    }
}

/// What a layer alone says about a key sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LayerMatch<'a> {
    Bound(&'a Chord),
    /// A longer chord starts with this sequence.
    Prefix,
    /// `noop`: explicitly unbound here; do not look further.
    Unbound,
    /// The layer says nothing; the caller may try global.
    Absent,
}

/// A layer's chords in priority order (user prepend, defaults, user append); the first chord
/// for a sequence wins, and later duplicates are dropped when the table is built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerTable {
    chords: Vec<Chord>,
}

impl LayerTable {
    pub(super) const EMPTY: LayerTable = LayerTable { chords: Vec::new() };

    /// Adds a chord unless one with the same keys is already present; returns whether it was
    /// added.
    pub(super) fn push(&mut self, chord: Chord) -> bool {
        if self.chords.iter().any(|c| c.keys == chord.keys) {
            return false;
        }
        self.chords.push(chord);
        true
    }

    pub fn chords(&self) -> &[Chord] {
        &self.chords
    }

    pub(super) fn lookup(&self, seq: &[Key]) -> LayerMatch<'_> {
        let exact = self.chords.iter().find(|c| c.keys == seq);
        if let Some(chord) = exact.filter(|c| !c.is_noop()) {
            return LayerMatch::Bound(chord);
        }
        let is_prefix = self
            .chords
            .iter()
            .any(|c| !c.is_noop() && c.keys.len() > seq.len() && c.keys.starts_with(seq));
        if is_prefix {
            LayerMatch::Prefix
        } else if exact.is_some() {
            LayerMatch::Unbound
        } else {
            LayerMatch::Absent
        }
    }

    /// The bound chords that continue `pending` (for a which-key hint).
    pub(super) fn continuations<'a>(
        &'a self,
        pending: &'a [Key],
    ) -> impl Iterator<Item = &'a Chord> + 'a {
        self.chords.iter().filter(move |c| {
            !c.is_noop() && c.keys.len() > pending.len() && c.keys.starts_with(pending)
        })
    }
}
