//! The console's keymap: which key sequence runs which [`Action`]s, per layer.
//!
//! The design is yazi's (tui-notes §1.3, §6). `keymap.toml` at the repo root is the default,
//! embedded at build. A user file (`keymap.toml` beside `ghlsync.toml`) layers over it per
//! layer: `prepend_keymap` entries are tried before the defaults (so they override them),
//! `append_keymap` entries after (so they only fill gaps), a user `keymap` replaces that layer's
//! defaults, and `run = "noop"` unbinds a chord (also shadowing the same chord in `global`).
//! An entry is `{ on = KEY | [KEY, …], run = ACTION | [ACTION, …], desc = "…", hint = "…" }`
//! (`hint`: the word the screen's hint line shows; entries without one are in help only); keys are
//! described in [`key`], actions in [`crate::console::action`].
//!
//! Loading never fails. Every problem (a TOML error, an unknown layer, section, field, key or
//! action, a duplicate chord, a chord that hides a longer one) is a [`KeymapWarning`] naming
//! file:line:col, and the entry or file in question is skipped; the console shows the warnings
//! once, and `ghlsync keymap check` prints them.
//!
//! Lookup ([`Keymap::resolve`]) tries the current layer, then `global` for the layers that
//! inherit it ([`Layer::inherits_global`]). A multi-key chord (`on = ["g", "g"]`) answers
//! [`Resolution::Pending`] for its prefix; the console keeps the pending keys and passes them
//! back with the next key, and drops them on `Action` or `Unbound`.

pub mod file;
pub mod key;
pub mod layer;
#[cfg(test)]
mod tests;

pub use file::KeymapWarning;
pub use key::Key;
pub use layer::{Chord, Layer, LayerTable};

use crate::config::paths::Dirs;
use crate::console::action::Action;
use file::{Entry, KeymapFile, Pos, Sections};
use layer::LayerMatch;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default keymap, embedded at build.
pub const DEFAULT_KEYMAP: &str = include_str!("../../../keymap.toml");
/// How warnings name the embedded default.
pub const DEFAULT_KEYMAP_NAME: &str = "keymap.toml (built-in)";
/// The user keymap's file name, in the XDG config dir beside `ghlsync.toml`.
pub const USER_KEYMAP_FILE: &str = "keymap.toml";

/// The user keymap's path: `keymap.toml` in the config dir.
pub fn user_keymap_path(dirs: &Dirs) -> PathBuf {
    dirs.config_dir.join(USER_KEYMAP_FILE)
}

/// What a key press means, given the keys already pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Run these actions in order; clear the pending keys.
    Action(Vec<Action>),
    /// A longer chord starts here: keep the keys pending (show a which-key hint).
    Pending,
    /// Nothing bound; clear the pending keys. In the prompt layer the key is text.
    Unbound,
}

/// One binding, for the help screen and which-key hints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The keys as written in `keymap.toml`'s canonical form, space-separated (`g g`, `<C-s>`).
    pub keys: String,
    pub actions: Vec<Action>,
    pub desc: Option<String>,
    /// The hint line's word for it, if it has one.
    pub hint: Option<String>,
}

impl Binding {
    fn from_chord(chord: &Chord) -> Binding {
        Binding {
            keys: chord.keys_string(),
            actions: chord.actions.clone(),
            desc: chord.desc.clone(),
            hint: chord.hint.clone(),
        }
    }

    /// True when any action writes (the console hides these under `--read-only`).
    pub fn is_write(&self) -> bool {
        self.actions.iter().any(Action::is_write)
    }
}

/// The effective keymap: one chord table per layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    tables: BTreeMap<Layer, LayerTable>,
}

impl Keymap {
    /// The default keymap layered with `user_file`, if given and present (a missing file is
    /// normal and silent). Never fails: problems are returned as warnings.
    pub fn load(user_file: Option<&Path>) -> (Keymap, Vec<KeymapWarning>) {
        let mut warnings = Vec::new();
        let user = user_file.and_then(|path| read_file(path, true, &mut warnings));
        let (keymap, more) =
            Keymap::from_texts(user.as_ref().map(|(n, t)| (n.as_str(), t.as_str())));
        warnings.extend(more);
        (keymap, warnings)
    }

    /// The default keymap alone.
    pub fn builtin() -> (Keymap, Vec<KeymapWarning>) {
        Keymap::from_texts(None)
    }

    /// The default keymap layered with a user file given as `(name, text)`.
    pub fn from_texts(user: Option<(&str, &str)>) -> (Keymap, Vec<KeymapWarning>) {
        let (default, mut warnings) = file::parse(DEFAULT_KEYMAP_NAME, DEFAULT_KEYMAP);
        let user = user.map(|(name, text)| {
            let (parsed, more) = file::parse(name, text);
            warnings.extend(more);
            parsed
        });
        let keymap = build(&default, user.as_ref(), &mut warnings);
        // File order: the default's warnings first, then the user file's, by position.
        warnings.sort_by_key(|w| (w.file != DEFAULT_KEYMAP_NAME, w.line, w.col));
        (keymap, warnings)
    }

    /// What `key` means in `layer` after the `pending` keys: the layer first, then `global`
    /// for the layers that inherit it.
    pub fn resolve(&self, layer: Layer, pending: &[Key], key: Key) -> Resolution {
        let mut seq = pending.to_vec();
        seq.push(key);
        match self.table(layer).lookup(&seq) {
            LayerMatch::Bound(chord) => return Resolution::Action(chord.actions.clone()),
            LayerMatch::Prefix => return Resolution::Pending,
            LayerMatch::Unbound => return Resolution::Unbound,
            LayerMatch::Absent => {}
        }
        if !layer.inherits_global() {
            return Resolution::Unbound;
        }
        match self.table(Layer::Global).lookup(&seq) {
            LayerMatch::Bound(chord) => Resolution::Action(chord.actions.clone()),
            LayerMatch::Prefix => Resolution::Pending,
            LayerMatch::Unbound | LayerMatch::Absent => Resolution::Unbound,
        }
    }

    /// Every binding of `layer` alone (not `global`), in priority order; unbound (`noop`)
    /// chords are left out.
    pub fn bindings(&self, layer: Layer) -> Vec<Binding> {
        self.table(layer)
            .chords()
            .iter()
            .filter(|c| !c.is_noop())
            .map(Binding::from_chord)
            .collect()
    }

    /// What works in `layer`: its own bindings, then the `global` ones it does not shadow.
    pub fn visible_bindings(&self, layer: Layer) -> Vec<Binding> {
        let mut out = self.bindings(layer);
        if layer.inherits_global() {
            let own = self.table(layer);
            out.extend(
                self.table(Layer::Global)
                    .chords()
                    .iter()
                    .filter(|c| !c.is_noop() && own.lookup(&c.keys) == LayerMatch::Absent)
                    .map(Binding::from_chord),
            );
        }
        out
    }

    /// The chords that continue `pending` in `layer` (for a which-key popup).
    pub fn continuations(&self, layer: Layer, pending: &[Key]) -> Vec<Binding> {
        let own = self.table(layer);
        let mut out: Vec<Binding> = own
            .continuations(pending)
            .map(Binding::from_chord)
            .collect();
        if layer.inherits_global() {
            out.extend(
                self.table(Layer::Global)
                    .continuations(pending)
                    .filter(|c| own.lookup(&c.keys) == LayerMatch::Absent)
                    .map(Binding::from_chord),
            );
        }
        out
    }

    fn table(&self, layer: Layer) -> &LayerTable {
        static EMPTY: LayerTable = LayerTable::EMPTY;
        self.tables.get(&layer).unwrap_or(&EMPTY)
    }
}

/// Checks one keymap file as a user file layered over the default: every warning, or none.
/// A missing or unreadable file is a warning too.
pub fn check(path: &Path) -> Vec<KeymapWarning> {
    let mut warnings = Vec::new();
    if let Some((name, text)) = read_file(path, false, &mut warnings) {
        let (_, more) = Keymap::from_texts(Some((&name, &text)));
        warnings.extend(more);
    }
    warnings
}

fn read_file(
    path: &Path,
    missing_ok: bool,
    warnings: &mut Vec<KeymapWarning>,
) -> Option<(String, String)> {
    let name = path.display().to_string();
    match crate::bounded_file::read_text(path, crate::bounded_file::KEYMAP_BYTES) {
        Ok(text) => Some((name, text)),
        Err(err) if missing_ok && err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            warnings.push(KeymapWarning {
                file: name,
                line: None,
                col: None,
                message: format!("cannot read the keymap ({err}); using the default"),
            });
            None
        }
    }
}

/// Which file and section a chord came from, to word the warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    user: bool,
    section: &'static str,
    pos: Pos,
}

fn build(
    default: &KeymapFile,
    user: Option<&KeymapFile>,
    warnings: &mut Vec<KeymapWarning>,
) -> Keymap {
    let empty = Sections::default();
    let mut tables = BTreeMap::new();
    for layer in Layer::ALL {
        let d = default.layers.get(&layer).unwrap_or(&empty);
        let u = user.and_then(|f| f.layers.get(&layer)).unwrap_or(&empty);
        let base = match (&u.keymap, &d.keymap) {
            (Some(user_base), _) => (true, user_base.as_slice()),
            (None, Some(default_base)) => (false, default_base.as_slice()),
            (None, None) => (false, &[][..]),
        };
        let order: [(bool, &'static str, &[Entry]); 5] = [
            (true, "prepend_keymap", &u.prepend),
            (false, "prepend_keymap", &d.prepend),
            (base.0, "keymap", base.1),
            (false, "append_keymap", &d.append),
            (true, "append_keymap", &u.append),
        ];
        let mut table = LayerTable::default();
        let mut origins: Vec<(Vec<Key>, Origin)> = Vec::new();
        for (is_user, section, entries) in order {
            let file_name = if is_user {
                user.map_or(DEFAULT_KEYMAP_NAME, |f| f.name.as_str())
            } else {
                default.name.as_str()
            };
            for entry in entries {
                let origin = Origin {
                    user: is_user,
                    section,
                    pos: entry.pos,
                };
                let warn = |warnings: &mut Vec<KeymapWarning>, message: String| {
                    warnings.push(KeymapWarning {
                        file: file_name.to_string(),
                        line: Some(entry.pos.line),
                        col: Some(entry.pos.col),
                        message,
                    });
                };
                let keys = entry.chord.keys_string();
                if let Some((_, first)) = origins.iter().find(|(k, _)| *k == entry.chord.keys) {
                    let first = *first;
                    if first.user && !origin.user {
                        // A user entry overriding a default: the point of prepend/keymap.
                    } else if first.user == origin.user && first.section == section {
                        warn(
                            warnings,
                            format!(
                                "duplicate chord \"{keys}\" in [{layer}] {section} (first at {}); the first wins",
                                first.pos
                            ),
                        );
                    } else if origin.user && section == "append_keymap" {
                        warn(
                            warnings,
                            format!(
                                "\"{keys}\" is already bound in [{layer}]; append_keymap only fills gaps, use prepend_keymap to override"
                            ),
                        );
                    } else {
                        warn(
                            warnings,
                            format!(
                                "\"{keys}\" is already bound in [{layer}] {} (at {}); this one never fires",
                                first.section, first.pos
                            ),
                        );
                    }
                    continue;
                }
                if !entry.chord.is_noop() {
                    let clash = table.chords().iter().find(|c| {
                        !c.is_noop()
                            && c.keys.len() != entry.chord.keys.len()
                            && (c.keys.starts_with(&entry.chord.keys)
                                || entry.chord.keys.starts_with(&c.keys))
                    });
                    if let Some(other) = clash {
                        let (short, long) = if other.keys.len() < entry.chord.keys.len() {
                            (other.keys_string(), keys.clone())
                        } else {
                            (keys.clone(), other.keys_string())
                        };
                        warn(
                            warnings,
                            format!(
                                "\"{short}\" and \"{long}\" clash in [{layer}]: \"{short}\" runs at once, so \"{long}\" can never be typed"
                            ),
                        );
                    }
                }
                origins.push((entry.chord.keys.clone(), origin));
                table.push(entry.chord.clone());
            }
        }
        tables.insert(layer, table);
    }
    Keymap { tables }
}
