//! Tasks, notes and appointments, in one of two scopes: the selected contact's (read live from
//! GHL with the contact detail) or every contact's (pages of the engine's `children` query,
//! loaded as the cursor nears the end of what is loaded).

use crate::console::engine_api::{ChildPage, ChildRow};
use crate::console::screen::Screen;
use crate::peers::EntityKind;

/// Rows asked for per page in the all-contacts scope.
pub const PAGE: usize = 200;
/// The next page is asked for when the cursor is this close to the last loaded row.
pub const PREFETCH: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChildScope {
    /// The selected contact's children (the default: Contacts › Contact › Tasks).
    #[default]
    Contact,
    /// Every contact's, each row naming its contact.
    All,
}

impl ChildScope {
    pub fn label(self) -> &'static str {
        match self {
            ChildScope::Contact => "this contact",
            ChildScope::All => "all contacts",
        }
    }

    pub fn toggled(self) -> ChildScope {
        match self {
            ChildScope::Contact => ChildScope::All,
            ChildScope::All => ChildScope::Contact,
        }
    }
}

/// The loaded part of one kind's list across all contacts.
#[derive(Debug, Clone, Default)]
pub struct AllChildren {
    pub rows: Vec<ChildRow>,
    /// How many the engine has in all (rows holds the first `rows.len()`).
    pub total: usize,
    pub loaded: bool,
    /// A page request is in flight (at most one per kind).
    pub loading: bool,
    pub problems: Vec<String>,
}

impl AllChildren {
    /// Folds a page in: the first page replaces, the next one appends, anything else is stale.
    pub fn apply(&mut self, page: ChildPage) {
        self.loading = false;
        if page.offset == 0 {
            self.rows = page.rows;
        } else if page.offset == self.rows.len() {
            self.rows.extend(page.rows);
        } else {
            return;
        }
        self.total = page.total;
        self.problems = page.problems;
        self.loaded = true;
    }

    pub fn has_more(&self) -> bool {
        self.rows.len() < self.total
    }
}

#[derive(Debug, Clone, Default)]
pub struct ChildrenState {
    /// One scope for the three screens: switching tabs keeps what a person chose.
    pub scope: ChildScope,
    pub tasks: AllChildren,
    pub notes: AllChildren,
    pub appointments: AllChildren,
    /// The cursor in the list on screen.
    pub selected: usize,
}

/// The kind of record a children screen lists.
pub fn kind_of(screen: Screen) -> Option<EntityKind> {
    match screen {
        Screen::Tasks => Some(EntityKind::Task),
        Screen::Notes => Some(EntityKind::Note),
        Screen::Appointments => Some(EntityKind::Appointment),
        _ => None,
    }
}

impl ChildrenState {
    pub fn all(&self, kind: EntityKind) -> &AllChildren {
        match kind {
            EntityKind::Task => &self.tasks,
            EntityKind::Note => &self.notes,
            // Contacts never reach here; appointments are the remaining kind.
            _ => &self.appointments,
        }
    }

    pub fn all_mut(&mut self, kind: EntityKind) -> &mut AllChildren {
        match kind {
            EntityKind::Task => &mut self.tasks,
            EntityKind::Note => &mut self.notes,
            _ => &mut self.appointments,
        }
    }

    /// The row under the cursor in the all-contacts list of `kind`.
    pub fn selected_row(&self, kind: EntityKind) -> Option<&ChildRow> {
        self.all(kind).rows.get(self.selected)
    }

    /// Whether the cursor is close enough to the end of `kind`'s loaded rows to ask for more.
    pub fn wants_more(&self, kind: EntityKind) -> bool {
        let all = self.all(kind);
        all.loaded && !all.loading && all.has_more() && self.selected + PREFETCH >= all.rows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::engine_api::RowState;

    fn row(id: usize) -> ChildRow {
        ChildRow {
            peer_id: format!("T{id}"),
            ghl_id: None,
            contact_peer_id: None,
            contact_name: None,
            title: None,
            body: None,
            at: None,
            end: None,
            completed: None,
            status: None,
            state: RowState::Synced,
            synced_at: None,
        }
    }

    fn page(offset: usize, len: usize, total: usize) -> ChildPage {
        ChildPage {
            kind: EntityKind::Task,
            offset,
            total,
            rows: (offset..offset + len).map(row).collect(),
            problems: Vec::new(),
        }
    }

    #[test]
    fn pages_append_in_order_and_stale_ones_are_dropped() {
        let mut all = AllChildren::default();
        all.apply(page(0, 200, 450));
        assert_eq!(
            (all.rows.len(), all.total, all.has_more()),
            (200, 450, true)
        );
        all.apply(page(200, 200, 450));
        assert_eq!(all.rows.len(), 400);
        all.apply(page(200, 200, 450));
        assert_eq!(all.rows.len(), 400, "a repeated page is stale");
        all.apply(page(400, 50, 450));
        assert!(!all.has_more());
        all.apply(page(0, 10, 10));
        assert_eq!(all.rows.len(), 10, "a first page starts over");
    }

    #[test]
    fn more_is_wanted_near_the_end_only() {
        let mut children = ChildrenState::default();
        children.tasks.apply(page(0, 200, 450));
        assert!(!children.wants_more(EntityKind::Task));
        children.selected = 185;
        assert!(children.wants_more(EntityKind::Task));
        children.tasks.loading = true;
        assert!(
            !children.wants_more(EntityKind::Task),
            "one request at a time"
        );
    }
}
