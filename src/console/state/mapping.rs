//! The mapping editor: the text being edited, what the engine said about it last, and the
//! saved versions. Checks carry a generation number so a slow answer about old text is dropped.

use crate::console::engine_api::{FieldPreview, MappingProblem};
use crate::store::MappingVersion;
use tui_textarea::TextArea;

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
    pub preview: Vec<FieldPreview>,
    /// The contact the preview applies the mapping to.
    pub preview_peer_id: Option<String>,
    pub loaded: bool,
    /// Keys go to the text (`mapping:edit`); Esc leaves editing.
    pub editing: bool,
}

impl MappingState {
    pub fn load(&mut self, text: String, origin: String, versions: Vec<MappingVersion>) {
        self.editor = TextArea::from(text.lines().map(str::to_string).collect::<Vec<_>>());
        self.saved_text = text;
        self.origin = origin;
        self.versions = versions;
        self.problem = None;
        self.checked = false;
        self.generation += 1;
        self.loaded = true;
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
        self.generation
    }

    pub fn latest_version(&self) -> Option<u32> {
        self.versions.last().map(|v| v.version)
    }
}
