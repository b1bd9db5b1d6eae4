//! The one-line prompt shared by the `:` palette and the `/` filter (k9s: one prompt model,
//! two buffer kinds), and the history Up/Down walk through, one per kind, in memory only.

pub use crate::console::action::PromptKind;

/// Entries each prompt kind remembers.
pub const HISTORY_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptState {
    pub kind: PromptKind,
    pub input: String,
    /// The filter as it was when the prompt opened, restored by Esc.
    pub before: String,
    /// Cursor position in chars.
    pub cursor: usize,
    /// The history entry shown, counted from the oldest; `None` while editing the draft.
    pub recalled: Option<usize>,
    /// What was typed before Up was first pressed, given back by Down past the newest entry.
    pub draft: String,
}

/// Submitted prompt lines, oldest first, each kept once (a repeat moves to the end).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptHistory {
    command: Vec<String>,
    filter: Vec<String>,
}

impl PromptHistory {
    pub fn entries(&self, kind: PromptKind) -> &[String] {
        match kind {
            PromptKind::Command => &self.command,
            PromptKind::Filter => &self.filter,
        }
    }

    pub fn remember(&mut self, kind: PromptKind, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let entries = match kind {
            PromptKind::Command => &mut self.command,
            PromptKind::Filter => &mut self.filter,
        };
        entries.retain(|entry| entry != line);
        entries.push(line.to_string());
        if entries.len() > HISTORY_MAX {
            entries.remove(0);
        }
    }
}

impl PromptState {
    pub fn new(kind: PromptKind, input: &str) -> PromptState {
        PromptState {
            kind,
            input: input.to_string(),
            before: input.to_string(),
            cursor: input.chars().count(),
            recalled: None,
            draft: String::new(),
        }
    }

    /// Up: the next older entry (the newest first); false when there is none.
    pub fn recall_older(&mut self, history: &[String]) -> bool {
        let index = match self.recalled {
            None if history.is_empty() => return false,
            None => {
                self.draft = self.input.clone();
                history.len() - 1
            }
            Some(0) => return false,
            Some(index) => index - 1,
        };
        self.show(history, Some(index));
        true
    }

    /// Down: the next newer entry, then the draft again; false when already on the draft.
    pub fn recall_newer(&mut self, history: &[String]) -> bool {
        match self.recalled {
            None => false,
            Some(index) if index + 1 < history.len() => {
                self.show(history, Some(index + 1));
                true
            }
            Some(_) => {
                self.show(history, None);
                true
            }
        }
    }

    fn show(&mut self, history: &[String], recalled: Option<usize>) {
        self.recalled = recalled;
        self.input = match recalled.and_then(|index| history.get(index)) {
            Some(entry) => entry.clone(),
            None => self.draft.clone(),
        };
        self.cursor = self.input.chars().count();
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

    /// Tab in the `:` palette: the command before the cursor completed (`fa` → `failures `),
    /// the text after the cursor kept.
    pub fn complete_command(&mut self) {
        let at = self.byte_index();
        let Some(completed) = crate::console::action::complete(&self.input[..at]) else {
            return;
        };
        let rest = self.input[at..].to_string();
        self.cursor = completed.chars().count();
        self.input = completed + &rest;
    }

    /// What the cursor is in: the text before it.
    pub fn before_cursor(&self) -> &str {
        &self.input[..self.byte_index()]
    }

    pub fn sigil(&self) -> char {
        match self.kind {
            PromptKind::Command => ':',
            PromptKind::Filter => '/',
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_per_kind_deduplicated_and_capped() {
        let mut history = PromptHistory::default();
        for line in ["contacts", "log", " contacts ", "", "q"] {
            history.remember(PromptKind::Command, line);
        }
        assert_eq!(
            history.entries(PromptKind::Command),
            ["log", "contacts", "q"]
        );
        assert!(history.entries(PromptKind::Filter).is_empty());
        for i in 0..HISTORY_MAX + 5 {
            history.remember(PromptKind::Filter, &format!("f{i}"));
        }
        let filters = history.entries(PromptKind::Filter);
        assert_eq!(filters.len(), HISTORY_MAX);
        assert_eq!(filters[0], "f5", "the oldest go first");
    }

    #[test]
    fn up_walks_back_and_down_returns_to_the_draft() {
        let history = vec!["one".to_string(), "two".to_string()];
        let mut prompt = PromptState::new(PromptKind::Command, "");
        prompt.insert("dra");
        assert!(prompt.recall_older(&history));
        assert_eq!((prompt.input.as_str(), prompt.cursor), ("two", 3));
        assert!(prompt.recall_older(&history));
        assert_eq!(prompt.input, "one");
        assert!(!prompt.recall_older(&history), "nothing older");
        assert_eq!(prompt.input, "one");
        assert!(prompt.recall_newer(&history));
        assert_eq!(prompt.input, "two");
        assert!(prompt.recall_newer(&history));
        assert_eq!(prompt.input, "dra", "the draft comes back");
        assert!(!prompt.recall_newer(&history));
        let mut empty = PromptState::new(PromptKind::Filter, "x");
        assert!(!empty.recall_older(&[]));
        assert_eq!(empty.input, "x");
    }
}
