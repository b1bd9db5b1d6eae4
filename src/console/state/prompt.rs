//! The one-line prompt shared by the `:` palette and the `/` filter (k9s: one prompt model,
//! two buffer kinds).

pub use crate::console::action::PromptKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptState {
    pub kind: PromptKind,
    pub input: String,
    /// The filter as it was when the prompt opened, restored by Esc.
    pub before: String,
    /// Cursor position in chars.
    pub cursor: usize,
}

impl PromptState {
    pub fn new(kind: PromptKind, input: &str) -> PromptState {
        PromptState {
            kind,
            input: input.to_string(),
            before: input.to_string(),
            cursor: input.chars().count(),
        }
    }

    pub fn insert(&mut self, text: &str) {
        // One line only: a pasted newline must never submit (tui-notes §4.3).
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        let at = self.byte_index();
        self.input.insert_str(at, &clean);
        self.cursor += clean.chars().count();
    }

    pub fn backspace(&mut self) {
        if self.cursor == 0 {
            return;
        }
        self.cursor -= 1;
        let at = self.byte_index();
        self.input.remove(at);
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.input.chars().count());
    }

    fn byte_index(&self) -> usize {
        self.input
            .char_indices()
            .nth(self.cursor)
            .map_or(self.input.len(), |(index, _)| index)
    }

    pub fn sigil(&self) -> char {
        match self.kind {
            PromptKind::Command => ':',
            PromptKind::Filter => '/',
        }
    }
}
