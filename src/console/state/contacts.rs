//! The contacts list: rows from the engine, a text filter and a sort, with the visible order
//! cached so a keystroke in the filter costs one pass over the rows, not one per frame.

use crate::console::engine_api::{ContactRow, RowState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContactSort {
    #[default]
    Name,
    /// Failures and conflicts first: the rows that need a person.
    State,
    /// Most recently synced first.
    Recent,
}

impl ContactSort {
    pub fn next(self) -> ContactSort {
        match self {
            ContactSort::Name => ContactSort::State,
            ContactSort::State => ContactSort::Recent,
            ContactSort::Recent => ContactSort::Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ContactSort::Name => "name",
            ContactSort::State => "state",
            ContactSort::Recent => "recent",
        }
    }
}

pub fn state_rank(state: RowState) -> u8 {
    match state {
        RowState::Failed => 0,
        RowState::Conflict => 1,
        RowState::Queued => 2,
        RowState::Unlinked => 3,
        RowState::Synced => 4,
    }
}

pub fn state_label(state: RowState) -> &'static str {
    match state {
        RowState::Synced => "synced",
        RowState::Failed => "failed",
        RowState::Queued => "queued",
        RowState::Conflict => "conflict",
        RowState::Unlinked => "unlinked",
    }
}

#[derive(Debug, Clone, Default)]
pub struct ContactsState {
    pub rows: Vec<ContactRow>,
    pub filter: String,
    pub sort: ContactSort,
    pub reverse: bool,
    /// Indices into `rows`, filtered and sorted.
    pub visible: Vec<usize>,
    /// Index into `visible`.
    pub selected: usize,
    pub loaded: bool,
    /// A reload is in flight (live log entries for new contacts ask for at most one at a time).
    pub refreshing: bool,
}

impl ContactsState {
    pub fn replace(&mut self, rows: Vec<ContactRow>) {
        let keep = self.selected_row().map(|row| row.peer_id.clone());
        self.rows = rows;
        self.loaded = true;
        self.refreshing = false;
        self.recompute(keep);
    }

    pub fn set_filter(&mut self, filter: &str) {
        let keep = self.selected_row().map(|row| row.peer_id.clone());
        self.filter = filter.to_string();
        self.recompute(keep);
    }

    pub fn cycle_sort(&mut self) {
        let keep = self.selected_row().map(|row| row.peer_id.clone());
        self.sort = self.sort.next();
        self.recompute(keep);
    }

    pub fn toggle_reverse(&mut self) {
        let keep = self.selected_row().map(|row| row.peer_id.clone());
        self.reverse = !self.reverse;
        self.recompute(keep);
    }

    fn recompute(&mut self, keep: Option<String>) {
        let needle = self.filter.to_lowercase();
        let words: Vec<&str> = needle.split_whitespace().collect();
        let mut visible: Vec<usize> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| words.is_empty() || matches_all(row, &words))
            .map(|(index, _)| index)
            .collect();
        let rows = &self.rows;
        match self.sort {
            ContactSort::Name => visible.sort_by(|&a, &b| {
                rows[a]
                    .name
                    .to_lowercase()
                    .cmp(&rows[b].name.to_lowercase())
                    .then_with(|| rows[a].peer_id.cmp(&rows[b].peer_id))
            }),
            ContactSort::State => visible.sort_by(|&a, &b| {
                state_rank(rows[a].state)
                    .cmp(&state_rank(rows[b].state))
                    .then_with(|| rows[a].name.cmp(&rows[b].name))
            }),
            ContactSort::Recent => {
                visible.sort_by(|&a, &b| rows[b].last_at.cmp(&rows[a].last_at));
            }
        }
        if self.reverse {
            visible.reverse();
        }
        self.visible = visible;
        self.selected = keep
            .and_then(|id| {
                self.visible
                    .iter()
                    .position(|&index| self.rows[index].peer_id == id)
            })
            .unwrap_or(self.selected)
            .min(self.visible.len().saturating_sub(1));
    }

    pub fn selected_row(&self) -> Option<&ContactRow> {
        self.visible
            .get(self.selected)
            .and_then(|&index| self.rows.get(index))
    }

    /// Puts the cursor on a contact, clearing a filter that hides it; false when unknown.
    pub fn select_peer(&mut self, peer_id: &str) -> bool {
        let Some(index) = self.rows.iter().position(|row| row.peer_id == peer_id) else {
            return false;
        };
        if !self.visible.contains(&index) {
            self.set_filter("");
        }
        match self.visible.iter().position(|&i| i == index) {
            Some(position) => {
                self.selected = position;
                true
            }
            None => false,
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.visible.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn count(&self, state: RowState) -> usize {
        self.rows.iter().filter(|row| row.state == state).count()
    }
}

fn matches_all(row: &ContactRow, words: &[&str]) -> bool {
    let haystack = format!(
        "{} {} {} {} {} {}",
        row.name,
        row.peer_id,
        row.ghl_id.as_deref().unwrap_or(""),
        row.email.as_deref().unwrap_or(""),
        row.phone.as_deref().unwrap_or(""),
        state_label(row.state)
    )
    .to_lowercase();
    words.iter().all(|word| haystack.contains(word))
}
