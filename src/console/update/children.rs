//! Tasks, notes and appointments: the scope toggle, the pages of the all-contacts list, and
//! Enter on a row (its contact's detail).

use crate::console::msg::{Effect, Request};
use crate::console::state::children::{PAGE, kind_of};
use crate::console::state::{AppState, ChildScope, FlashLevel, Screen};

/// The breadcrumb trail of a children screen: under the contact, or on its own for everyone.
pub fn stack_for(scope: ChildScope, screen: Screen) -> Vec<Screen> {
    match scope {
        ChildScope::Contact => vec![Screen::Contacts, Screen::Detail, screen],
        ChildScope::All => vec![screen],
    }
}

/// The first page of the all-contacts list (again, after a sync may have changed it).
pub fn reload(state: &mut AppState, screen: Screen) -> Vec<Effect> {
    let Some(kind) = kind_of(screen) else {
        return Vec::new();
    };
    let all = state.children.all_mut(kind);
    all.loading = true;
    vec![Effect::Call(Request::Children {
        kind,
        offset: 0,
        limit: PAGE,
    })]
}

/// The next page once the cursor nears the end of what is loaded.
pub fn load_more(state: &mut AppState) -> Vec<Effect> {
    let screen = state.screen();
    let Some(kind) = kind_of(screen) else {
        return Vec::new();
    };
    if state.children.scope != ChildScope::All || !state.children.wants_more(kind) {
        return Vec::new();
    }
    let all = state.children.all_mut(kind);
    all.loading = true;
    vec![Effect::Call(Request::Children {
        kind,
        offset: all.rows.len(),
        limit: PAGE,
    })]
}

/// `a`: the selected contact's children ⇄ every contact's. Going back to one contact picks
/// the contact of the row under the cursor, so a person can narrow down from the big list.
pub fn toggle_scope(state: &mut AppState) -> Vec<Effect> {
    let screen = state.screen();
    let Some(kind) = kind_of(screen) else {
        state.flash(
            FlashLevel::Info,
            "the scope applies to :tasks, :notes and :appointments",
        );
        return Vec::new();
    };
    let scope = state.children.scope.toggled();
    if scope == ChildScope::Contact {
        let contact = state
            .children
            .selected_row(kind)
            .and_then(|row| row.contact_peer_id.clone());
        if let Some(peer_id) = contact {
            state.contacts.select_peer(&peer_id);
        }
        if state.contacts.selected_row().is_none() {
            state.flash(FlashLevel::Info, "select a contact first (:contacts)");
            return Vec::new();
        }
    }
    state.children.scope = scope;
    state.children.selected = 0;
    state.stack = stack_for(scope, screen);
    super::enter_screen(state, screen)
}

/// Enter on a row of the all-contacts list: that contact's detail.
pub fn open_contact(state: &mut AppState, screen: Screen) -> Vec<Effect> {
    let Some(kind) = kind_of(screen) else {
        return Vec::new();
    };
    let Some(row) = state.children.selected_row(kind) else {
        return Vec::new();
    };
    let Some(peer_id) = row.contact_peer_id.clone() else {
        state.flash(FlashLevel::Info, "this row's contact is not known");
        return Vec::new();
    };
    if !state.contacts.select_peer(&peer_id) {
        state.flash(
            FlashLevel::Info,
            format!("contact {peer_id} is not in the contact list"),
        );
        return Vec::new();
    }
    state.stack = vec![Screen::Contacts, Screen::Detail];
    super::enter_screen(state, Screen::Detail)
}

/// Rows in the list on screen, in the current scope.
pub fn len(state: &AppState) -> usize {
    let Some(kind) = kind_of(state.screen()) else {
        return 0;
    };
    match state.children.scope {
        ChildScope::All => state.children.all(kind).rows.len(),
        ChildScope::Contact => state.detail.detail.as_ref().map_or(0, |detail| match kind {
            crate::peers::EntityKind::Task => detail.tasks.len(),
            crate::peers::EntityKind::Note => detail.notes.len(),
            _ => detail.appointments.len(),
        }),
    }
}
