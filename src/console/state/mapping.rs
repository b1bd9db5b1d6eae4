//! The mapping editor: the text being edited, what the engine said about it last, and the
//! saved versions. Checks carry a generation number so a slow answer about old text is dropped.
//!
//! The editor (tui-textarea) is rendered by reference, never cloned, so its viewport (kept in
//! an atomic by tui-textarea) survives from frame to frame: PageUp/PageDown know the height of
//! what is on screen and the view scrolls sideways to follow the cursor's column.

use crate::console::action::Action;
use crate::console::engine_api::{FieldPreview, MappingProblem};
pub use crate::console::msg::PreviewTarget;
use crate::store::MappingVersion;
use ratatui::style::{Modifier, Style};
use tui_textarea::{CursorMove, TextArea};

#[derive(Debug, Clone, Default)]
pub struct MappingState {
    pub editor: TextArea<'static>,
    /// The text as last loaded or saved; `dirty` compares against it.
    pub saved_text: String,
    pub origin: String,
    pub versions: Vec<MappingVersion>,
    /// Bumped on every edit; answers for an older generation are stale.
    pub generation: u64,
    pub problem: Option<MappingProblem>,
    /// Whether the last check has answered (so "valid" is not claimed before it has).
    pub checked: bool,
    /// The last check could not be made (the engine answered an error): said in the Check
    /// pane instead of "checking…" forever.
    pub check_failed: Option<String>,
    pub preview: Vec<FieldPreview>,
    /// What the preview ran on, when its answer came back without rows (no such record).
    pub preview_note: Option<String>,
    /// The record the preview applies the mapping to: a peer record (peer → GHL) or a GHL
    /// contact (GHL → peer). The selected contact's peer id unless one was typed (`p`).
    pub preview_target: Option<PreviewTarget>,
    /// The target was typed by hand: a new contact selection does not replace it.
    pub preview_pinned: bool,
    pub loaded: bool,
    /// Keys go to the text (`mapping:edit`); Esc leaves editing.
    pub editing: bool,
    /// An action waiting for a save to land (Save in the unsaved-changes question), run when
    /// the engine answers `MappingSaved`, dropped if the save fails.
    pub after_save: Option<Action>,
}

/// The unsaved-changes question: Save / Discard / Cancel, Cancel focused by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsavedQuestion {
    /// What the person asked for (quit, another screen, back).
    pub then: Action,
    pub focus: UnsavedChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsavedChoice {
    Save,
    Discard,
    Cancel,
}

impl UnsavedChoice {
    pub const ALL: [UnsavedChoice; 3] = [
        UnsavedChoice::Save,
        UnsavedChoice::Discard,
        UnsavedChoice::Cancel,
    ];

    pub fn label(self) -> &'static str {
        match self {
            UnsavedChoice::Save => "Save",
            UnsavedChoice::Discard => "Discard",
            UnsavedChoice::Cancel => "Cancel",
        }
    }

    /// The next button to the right (`forward`) or left, wrapping.
    pub fn step(self, forward: bool) -> UnsavedChoice {
        let i = UnsavedChoice::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or(2);
        let n = UnsavedChoice::ALL.len();
        UnsavedChoice::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

impl MappingState {
    /// New text from the engine (or the saved text again, on discard). The cursor stays where
    /// it was (clamped to the new text), so saving or discarding never sends a person back to
    /// line 1.
    /// Puts the cursor on the first line holding `needle` (any case), from the top; false when
    /// no line does. An empty needle finds nothing and moves nothing.
    pub fn find(&mut self, needle: &str) -> bool {
        let needle = needle.trim().to_lowercase();
        if needle.is_empty() {
            return false;
        }
        let found = self
            .editor
            .lines()
            .iter()
            .enumerate()
            .find_map(|(row, line)| {
                let lower = line.to_lowercase();
                lower
                    .find(&needle)
                    .map(|byte| (row, lower[..byte].chars().count()))
            });
        let Some((row, col)) = found else {
            return false;
        };
        let jump = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        self.editor
            .move_cursor(CursorMove::Jump(jump(row), jump(col)));
        true
    }

    pub fn load(&mut self, text: String, origin: String, versions: Vec<MappingVersion>) {
        let (row, col) = self.editor.cursor();
        self.editor = TextArea::from(text.lines().map(str::to_string).collect::<Vec<_>>());
        self.editor
            .set_line_number_style(Style::default().add_modifier(Modifier::DIM));
        self.editor.set_cursor_line_style(Style::default());
        self.set_editing(self.editing);
        if self.loaded {
            let jump = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
            self.editor
                .move_cursor(CursorMove::Jump(jump(row), jump(col)));
        }
        self.saved_text = text;
        self.origin = origin;
        self.versions = versions;
        self.problem = None;
        self.checked = false;
        self.check_failed = None;
        self.generation += 1;
        self.loaded = true;
    }

    /// Enters or leaves editing; the cursor shows only while editing.
    pub fn set_editing(&mut self, editing: bool) {
        self.editing = editing;
        self.editor.set_cursor_style(if editing {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        });
    }

    pub fn text(&self) -> String {
        let mut text = self.editor.lines().join("\n");
        if self.saved_text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    pub fn is_dirty(&self) -> bool {
        self.loaded && self.text() != self.saved_text
    }

    /// Called after every edit: the next check belongs to a new generation.
    pub fn edited(&mut self) -> u64 {
        self.generation += 1;
        self.checked = false;
        self.check_failed = None;
        self.generation
    }

    pub fn latest_version(&self) -> Option<u32> {
        self.versions.last().map(|v| v.version)
    }

    /// What the editor's title calls the mapping: a file by its file name (a long path would
    /// be clipped to its start, and the name is what a person recognises), the built-in one
    /// as such, anything else as the engine names it.
    pub fn title_name(&self) -> String {
        let origin = self.origin.trim();
        if origin.ends_with("(built-in)") {
            return "built-in mapping".to_string();
        }
        let path = std::path::Path::new(origin);
        let is_file = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
        match path.file_name() {
            Some(name) if is_file => name.to_string_lossy().into_owned(),
            _ => origin.to_string(),
        }
    }
}

/// A problem's message without the `origin:line:column: ` its error text starts with, and
/// without TOML's own "at line N, column M" banner and source excerpt: the Check pane says the
/// place once, as `line N:M`, and the editor shows the text.
pub fn problem_message(problem: &MappingProblem) -> String {
    let message = problem.message.as_str();
    let message = match (problem.line, problem.column) {
        (Some(line), Some(column)) => {
            let place = format!(":{line}:{column}: ");
            message
                .find(&place)
                .map_or(message, |at| &message[at + place.len()..])
        }
        _ => message,
    };
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("TOML parse error at line")
                // Excerpt lines: `5 | peer = …`, `  |      ^`.
                && !line
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ')
                    .starts_with('|')
        })
        .collect();
    if lines.is_empty() {
        message.trim().to_string()
    } else {
        lines.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_located_message_says_its_place_once() {
        let problem = MappingProblem {
            line: Some(5),
            column: Some(7),
            message: "repsly mapping (editor):5:7: TOML parse error at line 5, column 7\n  |\n5 | peer = \n  |       ^\ninvalid string\nexpected `\"`"
                .into(),
        };
        assert_eq!(problem_message(&problem), "invalid string expected `\"`");
        let plain = MappingProblem {
            line: Some(2),
            column: Some(1),
            message: "x.toml:2:1: unknown GHL field \"companyNme\"".into(),
        };
        assert_eq!(problem_message(&plain), "unknown GHL field \"companyNme\"");
        let unplaced = MappingProblem {
            line: None,
            column: None,
            message: "repsly has no contact \"C9\"".into(),
        };
        assert_eq!(problem_message(&unplaced), "repsly has no contact \"C9\"");
    }

    #[test]
    fn a_file_mapping_is_titled_by_its_file_name() {
        let mut state = MappingState::default();
        for (origin, title) in [
            (
                "/home/ops/.config/ghlsync/mappings/repsly-acme.toml",
                "repsly-acme.toml",
            ),
            ("assets/mappings/repsly.toml (built-in)", "built-in mapping"),
            (
                "repsly mapping v3 (saved in the store)",
                "repsly mapping v3 (saved in the store)",
            ),
        ] {
            state.origin = origin.into();
            assert_eq!(state.title_name(), title);
        }
    }

    #[test]
    fn loading_again_keeps_the_cursor() {
        let mut state = MappingState::default();
        state.load("a\nbb\ncccc\n".into(), "x".into(), Vec::new());
        state.editor.move_cursor(CursorMove::Jump(2, 3));
        state.load("a\nbb\ncccc\n".into(), "x".into(), Vec::new());
        assert_eq!(state.editor.cursor(), (2, 3));
        state.load("a\n".into(), "x".into(), Vec::new());
        assert_eq!(state.editor.cursor(), (0, 1), "clamped to the shorter text");
    }
}
