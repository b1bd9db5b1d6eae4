//! Reducer tests for the peer switcher.

use super::update;
use crate::console::action::{Action, PromptKind};
use crate::console::msg::{Msg, Request};
use crate::console::state::{AppState, FlashLevel, Screen};
use crate::console::tests::fixtures::{act, calls, loaded_state};
use crate::engine::PeerState;

fn two_peers() -> AppState {
    let mut state = loaded_state();
    if let Some(status) = state.status.as_mut() {
        status.peers.push(PeerState {
            name: "crm".into(),
            health: Default::default(),
        });
    }
    state
}

fn palette(state: &mut AppState, line: &str) -> Vec<crate::console::msg::Effect> {
    act(state, Action::Prompt(PromptKind::Command));
    update(state, Msg::Paste(line.into()));
    act(state, Action::Select)
}

#[test]
fn the_next_peer_replaces_what_is_on_screen_and_asks_for_its_own() {
    let mut state = two_peers();
    assert!(state.several_peers());
    assert!(!state.contacts.rows.is_empty());
    let effects = act(&mut state, Action::PeerNext);
    assert_eq!(state.peer, "crm");
    assert!(state.contacts.rows.is_empty(), "repsly's rows are gone");
    assert!(state.detail.detail.is_none());
    assert!(!state.mapping.loaded);
    let asked = calls(&effects);
    assert!(asked.contains(&&Request::first_contacts()), "{asked:?}");
    assert!(asked.contains(&&Request::Status), "{asked:?}");
    // Round the list: back to the first.
    act(&mut state, Action::PeerNext);
    assert_eq!(state.peer, "repsly");
}

#[test]
fn the_palette_names_a_peer_and_refuses_an_unknown_one() {
    let mut state = two_peers();
    state.stack = vec![Screen::Contacts, Screen::Mapping];
    let effects = palette(&mut state, ":peer crm");
    assert_eq!(state.peer, "crm");
    assert!(
        calls(&effects).contains(&&Request::Mapping),
        "the mapping screen reloads"
    );
    palette(&mut state, ":peer zoho");
    assert_eq!(state.peer, "crm");
    let flash = state.flash.clone().expect("a flash");
    assert_eq!(flash.level, FlashLevel::Error);
    assert!(
        flash.text.contains("zoho") && flash.text.contains("repsly"),
        "{}",
        flash.text
    );
}

#[test]
fn one_peer_says_so_and_unsaved_mapping_edits_stop_the_switch() {
    let mut state = loaded_state();
    assert!(act(&mut state, Action::PeerNext).is_empty());
    assert_eq!(state.peer, "repsly");
    assert!(
        state
            .flash
            .clone()
            .expect("a flash")
            .text
            .contains("only peer")
    );

    let mut state = two_peers();
    state.mapping.editor.insert_str("# edited\n");
    assert!(state.mapping.is_dirty());
    assert!(act(&mut state, Action::PeerNext).is_empty());
    assert_eq!(state.peer, "repsly", "unsaved edits are never dropped");
    assert!(
        state
            .flash
            .clone()
            .expect("a flash")
            .text
            .contains("unsaved")
    );
}
