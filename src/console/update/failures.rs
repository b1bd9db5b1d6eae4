//! The Failures screen's own moves: from a failure to its contact, and its record id to the
//! clipboard.

use crate::console::engine_api::ContactRef;
use crate::console::msg::Effect;
use crate::console::state::failures::contact_of;
use crate::console::state::{AppState, FlashLevel, Screen};

/// `c`: the selected failure's contact. A peer → GHL record opens by its peer id, a GHL → peer
/// one by its GHL id (the engine finds the peer record it is linked to, or shows GHL's side
/// alone when it is not linked yet), a task, note or appointment by its contact. The trail is
/// Failures › Contact, so Esc comes back to the failure; the contact is selected in the contact
/// list too (its filter cleared if it hid it), so its tasks and the mapping preview follow it.
pub fn jump_contact(state: &mut AppState) -> Vec<Effect> {
    let Some(op) = on_failure(state) else {
        return Vec::new();
    };
    let Some(contact) = contact_of(&op) else {
        state.flash(
            FlashLevel::Info,
            format!("failure #{} names no contact", op.id),
        );
        return Vec::new();
    };
    state.popup = None;
    select_in_list(state, &contact);
    state.stack = vec![Screen::Failures, Screen::Detail];
    super::navigation::open_contact_detail(state, contact)
}

/// Puts the contact list's cursor on `contact` when the list has it (by either id).
fn select_in_list(state: &mut AppState, contact: &ContactRef) {
    let found = match contact {
        ContactRef::Peer(peer_id) => state.contacts.select_peer(peer_id),
        ContactRef::Ghl(ghl_id) => state.contacts.select_ghl(ghl_id),
    };
    if !found {
        state.flash(
            FlashLevel::Info,
            format!("opening the contact with {contact} (not in the contact list yet)"),
        );
    }
}

/// `y`: the selected failure's record id (its id on the side it came from) to the clipboard.
pub fn copy_id(state: &mut AppState) -> Vec<Effect> {
    let Some(id) = on_failure(state).map(|op| op.source_id.clone()) else {
        return Vec::new();
    };
    state.flash(
        FlashLevel::Info,
        format!("copied {id} to the clipboard (OSC 52)"),
    );
    vec![Effect::Copy(id)]
}

/// The failure under the cursor, on the Failures screen (its list or its detail).
fn on_failure(state: &mut AppState) -> Option<crate::store::Operation> {
    if state.screen() != Screen::Failures {
        state.flash(FlashLevel::Info, "select a failure first (:failures)");
        return None;
    }
    if state.failures.selected_op().is_none() {
        state.flash(FlashLevel::Info, "no failure selected");
        return None;
    }
    state.failures.selected_op().cloned()
}
