//! The peer switcher: which peer's contacts, children, mapping and status are on screen. The
//! sync log and the failed queue show every peer (each row names its own), so they stay.

use crate::console::msg::{Effect, Request};
use crate::console::state::{AppState, FlashLevel, Screen};

/// Shows peer `name`, or (`None`) the one after the current peer.
pub fn switch(state: &mut AppState, name: Option<&str>) -> Vec<Effect> {
    let peers: Vec<String> = state
        .status
        .as_ref()
        .map(|status| status.peers.iter().map(|p| p.name.clone()).collect())
        .unwrap_or_default();
    let target = match name {
        Some(name) if peers.iter().any(|p| p == name) => name.to_string(),
        Some(name) => {
            state.flash(
                FlashLevel::Error,
                format!("no peer {name:?}; the peers are: {}", peers.join(", ")),
            );
            return Vec::new();
        }
        None if peers.len() < 2 => {
            state.flash(
                FlashLevel::Info,
                format!(
                    "{} is the only peer; more are [peers.NAME] sections in the config",
                    state.peer
                ),
            );
            return Vec::new();
        }
        None => {
            let at = peers.iter().position(|p| *p == state.peer).unwrap_or(0);
            peers[(at + 1) % peers.len()].clone()
        }
    };
    if target == state.peer {
        return Vec::new();
    }
    if state.mapping.is_dirty() {
        state.flash(
            FlashLevel::Error,
            format!(
                "the {} mapping has unsaved changes: save or discard them before showing {target}",
                state.peer
            ),
        );
        return Vec::new();
    }
    state.peer = target.clone();
    // What was on screen is the other peer's: emptied, and asked for again as this peer's.
    state.contacts.replace(Vec::new(), false);
    state.detail = Default::default();
    state.children = Default::default();
    state.mapping = Default::default();
    if state.screen() == Screen::Detail {
        state.stack = vec![Screen::Contacts];
    }
    state.flash(
        FlashLevel::Info,
        format!("peer {target}: the sync log and failed syncs still show every peer"),
    );
    let mut effects = vec![
        Effect::Call(Request::first_contacts()),
        Effect::Call(Request::Status),
    ];
    let screen = state.screen();
    if screen != Screen::Contacts {
        effects.extend(super::enter_screen(state, screen));
    }
    effects
}
