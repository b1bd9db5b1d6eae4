//! One key press, normalised so the keymap and crossterm agree (tui-notes §4.13).
//!
//! Syntax (yazi's): a bare character (`"q"`, `"G"`, `"?"`, `"<"`), or `<…>` with modifiers
//! `S-` (shift), `C-` (ctrl), `A-` (alt), `D-` (super) and a name: `Space`, `Enter`, `Esc`,
//! `Tab`, `Backspace`, `Delete`, `Insert`, `Home`, `End`, `PageUp`, `PageDown`, `Up`, `Down`,
//! `Left`, `Right`, `F1`…`F24`, or one character (`<C-s>`). Names are case-insensitive.
//!
//! Normalisation, applied both to parsed keys and to crossterm events:
//! - SHIFT is dropped from characters; a shifted letter becomes its upper-case form, so `"G"`,
//!   `"<S-g>"`, `Char('G')` and `Char('G')+SHIFT` and `Char('g')+SHIFT` are all one key.
//! - Shift+Tab is `BackTab` without modifiers, whichever way the terminal reports it.
//! - Only SHIFT, CONTROL, ALT and SUPER are kept (no lock states, no kind).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;
use std::str::FromStr;

/// A normalised key press. Build it with [`Key::new`], `From<KeyEvent>` or `FromStr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    mods: KeyModifiers,
}

const KEPT_MODS: KeyModifiers = KeyModifiers::SHIFT
    .union(KeyModifiers::CONTROL)
    .union(KeyModifiers::ALT)
    .union(KeyModifiers::SUPER);

const NAMED: &[(&str, KeyCode)] = &[
    ("Space", KeyCode::Char(' ')),
    ("Enter", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Tab", KeyCode::Tab),
    ("Backspace", KeyCode::Backspace),
    ("Delete", KeyCode::Delete),
    ("Insert", KeyCode::Insert),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("PageUp", KeyCode::PageUp),
    ("PageDown", KeyCode::PageDown),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
];

impl Key {
    /// A key from a code and modifiers, normalised.
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & KEPT_MODS;
        let code = match code {
            KeyCode::Char(c) => {
                let shifted = mods.contains(KeyModifiers::SHIFT);
                mods.remove(KeyModifiers::SHIFT);
                if shifted && c.is_lowercase() {
                    // Only single-char upper cases (not 'ß' → "SS").
                    let mut upper = c.to_uppercase();
                    match (upper.next(), upper.next()) {
                        (Some(u), None) => KeyCode::Char(u),
                        _ => KeyCode::Char(c),
                    }
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// A plain character, as typed.
    pub fn char(c: char) -> Key {
        Key::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    pub fn code(&self) -> KeyCode {
        self.code
    }

    pub fn modifiers(&self) -> KeyModifiers {
        self.mods
    }
}

impl From<KeyEvent> for Key {
    fn from(event: KeyEvent) -> Key {
        Key::new(event.code, event.modifiers)
    }
}

/// Why a key string did not parse. The message names the string and the accepted syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad key {input:?}: {reason}")]
pub struct KeyParseError {
    pub input: String,
    pub reason: String,
}

impl FromStr for Key {
    type Err = KeyParseError;

    fn from_str(s: &str) -> Result<Key, KeyParseError> {
        let err = |reason: &str| KeyParseError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (None, _) => return Err(err("empty key")),
            (Some(c), None) => return Ok(Key::char(c)),
            _ => {}
        }
        let inner = s
            .strip_prefix('<')
            .and_then(|rest| rest.strip_suffix('>'))
            .filter(|inner| !inner.is_empty())
            .ok_or_else(|| {
                err("expected one character or <Name> with optional S-/C-/A-/D- modifiers, e.g. \"q\", \"<C-s>\", \"<S-Tab>\", \"<F1>\"")
            })?;
        let mut mods = KeyModifiers::NONE;
        let mut rest = inner;
        // A modifier is one letter and a dash, followed by something (so `<->` is a dash key).
        while rest.len() > 2 && rest.as_bytes()[1] == b'-' {
            let m = match rest.as_bytes()[0] {
                b'S' | b's' => KeyModifiers::SHIFT,
                b'C' | b'c' => KeyModifiers::CONTROL,
                b'A' | b'a' => KeyModifiers::ALT,
                b'D' | b'd' => KeyModifiers::SUPER,
                _ => return Err(err("unknown modifier; use S-, C-, A- or D-")),
            };
            if mods.contains(m) {
                return Err(err("repeated modifier"));
            }
            mods |= m;
            rest = &rest[2..];
        }
        let mut name_chars = rest.chars();
        let code = match (name_chars.next(), name_chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => parse_name(rest).ok_or_else(|| {
                err("unknown key name; use Space, Enter, Esc, Tab, Backspace, Delete, Insert, Home, End, PageUp, PageDown, Up, Down, Left, Right, F1…F24 or one character")
            })?,
        };
        Ok(Key::new(code, mods))
    }
}

fn parse_name(name: &str) -> Option<KeyCode> {
    if let Some((_, code)) = NAMED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Some(*code);
    }
    if name.eq_ignore_ascii_case("BackTab") {
        return Some(KeyCode::BackTab);
    }
    let digits = name.strip_prefix('F').or_else(|| name.strip_prefix('f'))?;
    match digits.parse::<u8>() {
        Ok(n @ 1..=24) if !digits.starts_with('0') => Some(KeyCode::F(n)),
        _ => None,
    }
}

impl fmt::Display for Key {
    /// The canonical form, exactly what a user would type in `keymap.toml`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut mods = self.mods;
        let name: String = match self.code {
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(c) if mods.is_empty() => return write!(f, "{c}"),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::BackTab => {
                mods |= KeyModifiers::SHIFT;
                "Tab".into()
            }
            KeyCode::F(n) => format!("F{n}"),
            code => match NAMED.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => (*name).into(),
                None => format!("{code:?}"),
            },
        };
        f.write_str("<")?;
        for (m, prefix) in [
            (KeyModifiers::SHIFT, "S-"),
            (KeyModifiers::CONTROL, "C-"),
            (KeyModifiers::ALT, "A-"),
            (KeyModifiers::SUPER, "D-"),
        ] {
            if mods.contains(m) {
                f.write_str(prefix)?;
            }
        }
        write!(f, "{name}>")
    }
}

/// Writes a sequence the way help shows it: keys separated by spaces (`g g`).
pub fn display_sequence(keys: &[Key]) -> String {
    keys.iter()
        .map(Key::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEventKind, KeyEventState};

    fn key(s: &str) -> Key {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn event(code: KeyCode, mods: KeyModifiers) -> Key {
        Key::from(KeyEvent {
            code,
            modifiers: mods,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        })
    }

    #[test]
    fn shifted_letters_are_one_key_however_they_arrive() {
        let g = key("G");
        assert_eq!(key("<S-g>"), g);
        assert_eq!(key("<S-G>"), g);
        assert_eq!(event(KeyCode::Char('G'), KeyModifiers::NONE), g);
        assert_eq!(event(KeyCode::Char('G'), KeyModifiers::SHIFT), g);
        assert_eq!(event(KeyCode::Char('g'), KeyModifiers::SHIFT), g);
        assert_ne!(key("g"), g);
        assert_eq!(g.to_string(), "G");
        // Shift on a symbol is already in the symbol.
        assert_eq!(event(KeyCode::Char('?'), KeyModifiers::SHIFT), key("?"));
        assert_eq!(key("<S-?>"), key("?"));
    }

    #[test]
    fn back_tab_and_shift_tab_agree() {
        let bt = key("<S-Tab>");
        assert_eq!(event(KeyCode::BackTab, KeyModifiers::SHIFT), bt);
        assert_eq!(event(KeyCode::BackTab, KeyModifiers::NONE), bt);
        assert_eq!(event(KeyCode::Tab, KeyModifiers::SHIFT), bt);
        assert_eq!(key("<BackTab>"), bt);
        assert_eq!(bt.to_string(), "<S-Tab>");
        assert_ne!(key("<Tab>"), bt);
    }

    #[test]
    fn ctrl_letters_and_named_keys() {
        assert_eq!(
            event(KeyCode::Char('s'), KeyModifiers::CONTROL),
            key("<C-s>")
        );
        assert_eq!(key("<c-s>"), key("<C-s>"));
        assert_ne!(key("<C-s>"), key("s"));
        // Ctrl+Shift+s arrives as 'S' with both; the shift is folded into the letter.
        assert_eq!(
            event(
                KeyCode::Char('s'),
                KeyModifiers::CONTROL | KeyModifiers::SHIFT
            ),
            key("<C-S>")
        );
        assert_eq!(key("<C-S-s>"), key("<C-S>"));
        assert_eq!(event(KeyCode::Enter, KeyModifiers::NONE), key("<Enter>"));
        assert_eq!(event(KeyCode::Esc, KeyModifiers::NONE), key("<Esc>"));
        assert_eq!(event(KeyCode::Up, KeyModifiers::NONE), key("<up>"));
        assert_eq!(
            event(KeyCode::PageDown, KeyModifiers::NONE),
            key("<PageDown>")
        );
        assert_eq!(event(KeyCode::F(1), KeyModifiers::NONE), key("<F1>"));
        assert_eq!(
            event(KeyCode::Char(' '), KeyModifiers::NONE),
            key("<Space>")
        );
        assert_eq!(key(" "), key("<Space>"));
        assert_eq!(
            event(KeyCode::Up, KeyModifiers::SHIFT).to_string(),
            "<S-Up>"
        );
        // Lock states and other modifiers do not matter.
        assert_eq!(
            Key::from(KeyEvent {
                code: KeyCode::Char('j'),
                modifiers: KeyModifiers::NONE,
                kind: KeyEventKind::Repeat,
                state: KeyEventState::CAPS_LOCK,
            }),
            key("j")
        );
    }

    #[test]
    fn literal_brackets_and_dashes() {
        assert_eq!(key("<"), Key::char('<'));
        assert_eq!(key(">"), Key::char('>'));
        assert_eq!(key("-"), Key::char('-'));
        assert_eq!(key("<->"), Key::char('-'));
        assert_eq!(
            key("<C-->"),
            Key::new(KeyCode::Char('-'), KeyModifiers::CONTROL)
        );
        assert_eq!(key("<C-<>").to_string(), "<C-<>");
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "q",
            "G",
            "?",
            ":",
            "<",
            "<Space>",
            "<C-s>",
            "<S-Tab>",
            "<Tab>",
            "<F1>",
            "<F12>",
            "<Enter>",
            "<Esc>",
            "<Up>",
            "<PageDown>",
            "<A-x>",
            "<C-A-Delete>",
            "<D-k>",
            "<S-Up>",
        ] {
            assert_eq!(key(s).to_string(), s, "{s}");
        }
        assert_eq!(display_sequence(&[key("g"), key("g")]), "g g");
    }

    #[test]
    fn bad_keys_name_the_input() {
        for s in [
            "", "ab", "<>", "<Foo>", "<X-a>", "<C-C-a>", "<F0>", "<F25>", "<F01>", "<C-",
        ] {
            let err = s.parse::<Key>().expect_err(s);
            assert_eq!(err.input, s);
            assert!(err.to_string().contains(&format!("{s:?}")), "{err}");
        }
    }
}
