//! Reading one keymap file into per-layer sections, with a warning (file:line:col) for every
//! entry that cannot be used. Nothing here fails: a file that is not valid TOML, or whose
//! shape is wrong, yields one warning and no sections.

use super::key::Key;
use super::layer::{Chord, Layer};
use crate::console::action::Action;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// A problem in a keymap file. The console shows these once; `ghlsync keymap check` prints
/// them. `line`/`col` are 1-based and absent for whole-file problems (unreadable file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapWarning {
    pub file: String,
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub message: String,
}

impl fmt::Display for KeymapWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.col) {
            (Some(line), Some(col)) => write!(f, "{}:{line}:{col}: {}", self.file, self.message),
            (Some(line), None) => write!(f, "{}:{line}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A chord and where it was written.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub chord: Chord,
    pub pos: Pos,
}

/// The three sections a layer may have (yazi's `KeymapSection`).
#[derive(Debug, Clone, Default)]
pub(super) struct Sections {
    /// `keymap = [...]`: the shipped defaults; in a user file it replaces them.
    pub keymap: Option<Vec<Entry>>,
    /// `prepend_keymap`: tried before the defaults (overrides them).
    pub prepend: Vec<Entry>,
    /// `append_keymap`: tried after the defaults (fills gaps).
    pub append: Vec<Entry>,
}

/// One parsed file: its name for warnings, its sections per layer, and the positions needed
/// to attribute later warnings.
#[derive(Debug, Clone)]
pub(super) struct KeymapFile {
    pub name: String,
    pub layers: BTreeMap<Layer, Sections>,
}

type RawEntry = BTreeMap<Spanned<String>, Spanned<toml::Value>>;
type RawSection = Spanned<Vec<Spanned<RawEntry>>>;
// Keys and layer tables are not spanned: toml has no span for the implicit table or the keys
// of a dotted header (`[[global.prepend_keymap]]`). Warnings about a layer or section point at
// its header or value instead.
type RawLayer = BTreeMap<String, RawSection>;
type RawFile = BTreeMap<String, RawLayer>;

/// Turns byte offsets into 1-based line:col (col counts characters).
struct LineIndex<'a> {
    text: &'a str,
}

impl LineIndex<'_> {
    fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        Pos { line, col }
    }
}

/// Parses `text` (named `name` in warnings).
pub(super) fn parse(name: &str, text: &str) -> (KeymapFile, Vec<KeymapWarning>) {
    let index = LineIndex { text };
    let mut warnings = Vec::new();
    let mut file = KeymapFile {
        name: name.to_string(),
        layers: BTreeMap::new(),
    };
    let warn = |warnings: &mut Vec<KeymapWarning>, pos: Option<Pos>, message: String| {
        warnings.push(KeymapWarning {
            file: name.to_string(),
            line: pos.map(|p| p.line),
            col: pos.map(|p| p.col),
            message,
        });
    };

    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => {
            let pos = err.span().map(|span| index.pos(span.start));
            let message = format!(
                "not a valid keymap, ignoring this file: {}",
                crate::config::toml_problem(err.message())
            );
            warn(&mut warnings, pos, message);
            return (file, warnings);
        }
    };

    for (layer_name, layer_value) in raw {
        let layer: Layer = match layer_name.parse() {
            Ok(layer) => layer,
            Err(message) => {
                let pos = header_pos(text, &layer_name)
                    .or_else(|| {
                        let first = layer_value.values().map(|s| s.span().start).min()?;
                        Some(first)
                    })
                    .map(|offset| index.pos(offset));
                warn(&mut warnings, pos, message);
                continue;
            }
        };
        let sections = file.layers.entry(layer).or_default();
        for (section_name, entries) in layer_value {
            let section_pos = index.pos(entries.span().start);
            let mut parsed = Vec::new();
            for entry in entries.into_inner() {
                let entry_pos = index.pos(entry.span().start);
                let raw = entry.into_inner();
                if let Some(chord) = parse_entry(&index, raw, entry_pos, &mut |pos, msg| {
                    warn(&mut warnings, Some(pos), msg)
                }) {
                    parsed.push(Entry {
                        chord,
                        pos: entry_pos,
                    });
                }
            }
            match section_name.as_str() {
                "keymap" => sections.keymap.get_or_insert_with(Vec::new).extend(parsed),
                "prepend_keymap" => sections.prepend.extend(parsed),
                "append_keymap" => sections.append.extend(parsed),
                other => warn(
                    &mut warnings,
                    Some(section_pos),
                    format!(
                        "unknown section {other:?} in [{layer}]; expected keymap, prepend_keymap or append_keymap"
                    ),
                ),
            }
        }
    }
    (file, warnings)
}

/// Where `[name]`, `[name.…` or `[[name.…` first appears at the start of a line.
fn header_pos(text: &str, name: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let inner = trimmed.trim_start_matches('[').trim_start();
        if trimmed.starts_with('[')
            && inner.starts_with(name)
            && inner[name.len()..].trim_start().starts_with([']', '.'])
        {
            return Some(offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    None
}

/// One `{ on, run, desc, hint }` entry. Returns `None` (after warning) when `on` or `run` is
/// missing or bad; unknown fields and a bad `desc` or `hint` only warn.
fn parse_entry(
    index: &LineIndex<'_>,
    entry: RawEntry,
    entry_pos: Pos,
    warn: &mut dyn FnMut(Pos, String),
) -> Option<Chord> {
    let mut keys: Option<Vec<Key>> = None;
    let mut actions: Option<Vec<Action>> = None;
    let mut desc = None;
    let mut hint = None;
    let mut saw_on = false;
    let mut saw_run = false;
    for (field, value) in entry {
        let field_pos = index.pos(field.span().start);
        let value_pos = index.pos(value.span().start);
        match field.get_ref().as_str() {
            "on" => {
                saw_on = true;
                keys = strings(value.get_ref(), "on", value_pos, warn).and_then(|list| {
                    let mut parsed = Vec::new();
                    for s in list {
                        match s.parse::<Key>() {
                            Ok(key) => parsed.push(key),
                            Err(err) => {
                                warn(value_pos, format!("{err}; this binding is ignored"));
                                return None;
                            }
                        }
                    }
                    Some(parsed)
                });
            }
            "run" => {
                saw_run = true;
                actions = strings(value.get_ref(), "run", value_pos, warn).and_then(|list| {
                    let mut parsed = Vec::new();
                    for s in list {
                        match s.parse::<Action>() {
                            Ok(action) => parsed.push(action),
                            Err(err) => {
                                warn(value_pos, format!("{err}; this binding is ignored"));
                                return None;
                            }
                        }
                    }
                    Some(parsed)
                });
            }
            "desc" => match value.get_ref() {
                toml::Value::String(s) => desc = Some(s.clone()),
                other => warn(
                    value_pos,
                    format!(
                        "\"desc\" must be a string, not {}; ignored",
                        other.type_str()
                    ),
                ),
            },
            "hint" => match value.get_ref() {
                toml::Value::String(s) if !s.trim().is_empty() => hint = Some(s.trim().to_string()),
                other => warn(
                    value_pos,
                    format!(
                        "\"hint\" must be a short non-empty string (the word shown in the hint line), not {}; ignored",
                        other.type_str()
                    ),
                ),
            },
            other => warn(
                field_pos,
                format!(
                    "unknown field {other:?} in a binding (fields are on, run, desc, hint); ignored"
                ),
            ),
        }
    }
    if !saw_on {
        warn(
            entry_pos,
            "binding without \"on\" (its keys); ignored".into(),
        );
    }
    if !saw_run {
        warn(
            entry_pos,
            "binding without \"run\" (its action); ignored".into(),
        );
    }
    Some(Chord {
        keys: keys?,
        actions: actions?,
        desc,
        hint,
    })
}

/// A string or a non-empty array of strings.
fn strings(
    value: &toml::Value,
    field: &str,
    pos: Pos,
    warn: &mut dyn FnMut(Pos, String),
) -> Option<Vec<String>> {
    match value {
        toml::Value::String(s) => Some(vec![s.clone()]),
        toml::Value::Array(items) if !items.is_empty() => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    toml::Value::String(s) => out.push(s.clone()),
                    other => {
                        warn(
                            pos,
                            format!(
                                "{field:?} must list strings, found {}; this binding is ignored",
                                other.type_str()
                            ),
                        );
                        return None;
                    }
                }
            }
            Some(out)
        }
        toml::Value::Array(_) => {
            warn(
                pos,
                format!("{field:?} is an empty array; this binding is ignored"),
            );
            None
        }
        other => {
            warn(
                pos,
                format!(
                    "{field:?} must be a string or an array of strings, not {}; this binding is ignored",
                    other.type_str()
                ),
            );
            None
        }
    }
}
