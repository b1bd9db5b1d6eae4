//! The failed queue, grouped by error class, with marks for batch retries.

use crate::store::Operation;
use crate::sync::RetryMode;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub struct FailuresState {
    /// Sorted by error class, then id: the order rows are shown in.
    pub operations: Vec<Operation>,
    pub selected: usize,
    pub marked: BTreeSet<u64>,
    /// What a retry sends: the record mapped again (after a fix) or the original payload.
    pub retry_mode: RetryMode,
    pub loaded: bool,
    /// A reload is in flight (failed log entries ask for at most one at a time).
    pub refreshing: bool,
}

impl Default for FailuresState {
    fn default() -> Self {
        FailuresState {
            operations: Vec::new(),
            selected: 0,
            marked: BTreeSet::new(),
            retry_mode: RetryMode::CurrentMapping,
            loaded: false,
            refreshing: false,
        }
    }
}

/// The class a failure is grouped under ("unknown" when no error was recorded).
pub fn class_of(op: &Operation) -> &'static str {
    op.error.as_ref().map_or("unknown", |e| e.class.as_str())
}

impl FailuresState {
    pub fn replace(&mut self, mut operations: Vec<Operation>) {
        let keep = self.selected_op().map(|op| op.id);
        operations.sort_by(|a, b| class_of(a).cmp(class_of(b)).then(a.id.cmp(&b.id)));
        self.operations = operations;
        self.loaded = true;
        self.refreshing = false;
        let ids: BTreeSet<u64> = self.operations.iter().map(|op| op.id).collect();
        self.marked.retain(|id| ids.contains(id));
        self.selected = keep
            .and_then(|id| self.operations.iter().position(|op| op.id == id))
            .unwrap_or(self.selected)
            .min(self.operations.len().saturating_sub(1));
    }

    pub fn selected_op(&self) -> Option<&Operation> {
        self.operations.get(self.selected)
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.operations.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected_op().map(|op| op.id) {
            if !self.marked.remove(&id) {
                self.marked.insert(id);
            }
        }
    }

    /// Classes with their counts, in display order.
    pub fn groups(&self) -> Vec<(&'static str, usize)> {
        let mut groups: Vec<(&'static str, usize)> = Vec::new();
        for op in &self.operations {
            match groups.last_mut() {
                Some((class, count)) if *class == class_of(op) => *count += 1,
                _ => groups.push((class_of(op), 1)),
            }
        }
        groups
    }

    /// The ids an action on "the selection" means: the marked ones, else the one under the cursor.
    pub fn target_ids(&self) -> Vec<u64> {
        if self.marked.is_empty() {
            self.selected_op().map(|op| vec![op.id]).unwrap_or_default()
        } else {
            self.marked.iter().copied().collect()
        }
    }
}
