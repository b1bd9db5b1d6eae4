//! Terminal events → messages: the keymap decides what a key means in the current layer; keys
//! it leaves free become text for the prompt or the editor.

use crate::console::keymap::{Key, Keymap, Layer, Resolution};
use crate::console::msg::Msg;
use crate::console::state::{AppState, Popup, Screen};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The keymap layer for the current state: popup, then prompt, then the screen.
pub fn layer(state: &AppState) -> Layer {
    match &state.popup {
        Some(Popup::Confirm(_)) => return Layer::Confirm,
        Some(Popup::Help { .. }) => return Layer::Help,
        _ => {}
    }
    if state.prompt.is_some() {
        return Layer::Prompt;
    }
    Layer::from(state.screen())
}

/// Keys that are text while typing: anything without Ctrl/Alt, except Esc (always "back").
fn is_text_key(key: &KeyEvent) -> bool {
    !key.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        && !matches!(key.code, KeyCode::Esc)
}

/// Turns one terminal event into messages; `pending` holds an unfinished chord.
pub fn messages(
    keymap: &Keymap,
    state: &AppState,
    pending: &mut Vec<Key>,
    event: TermEvent,
) -> Vec<Msg> {
    match event {
        TermEvent::Key(key) => key_messages(keymap, state, pending, key),
        TermEvent::Paste(text) => vec![Msg::Paste(text)],
        TermEvent::Resize(width, height) => vec![Msg::Resize(width, height)],
        _ => Vec::new(),
    }
}

fn key_messages(
    keymap: &Keymap,
    state: &AppState,
    pending: &mut Vec<Key>,
    key: KeyEvent,
) -> Vec<Msg> {
    // Release events (Windows, kitty protocol) would run every action twice (tui-notes §4.2).
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let editing =
        state.screen() == Screen::Mapping && state.mapping.editing && state.popup.is_none();
    let typing = state.prompt.is_some() && state.popup.is_none();
    // Plain characters are text in the prompt; everything but Ctrl/Alt chords and Esc is text
    // in the editor (so `e`, `u`, `p` can be typed there).
    let text_first = match key.code {
        KeyCode::Char(_) if typing => is_text_key(&key),
        _ if editing => is_text_key(&key),
        _ => false,
    };
    if text_first && pending.is_empty() {
        return vec![Msg::Text(key)];
    }
    match keymap.resolve(layer(state), pending, Key::from(key)) {
        Resolution::Action(actions) => {
            let had_pending = !pending.is_empty();
            pending.clear();
            let mut msgs: Vec<Msg> = actions.into_iter().map(Msg::Action).collect();
            if had_pending {
                msgs.insert(0, Msg::PendingKeys(String::new()));
            }
            msgs
        }
        Resolution::Pending => {
            pending.push(Key::from(key));
            let shown = pending
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            vec![Msg::PendingKeys(shown)]
        }
        Resolution::Unbound => {
            let had_pending = !pending.is_empty();
            pending.clear();
            let mut msgs = Vec::new();
            if had_pending {
                msgs.push(Msg::PendingKeys(String::new()));
            }
            if typing || editing {
                msgs.push(Msg::Text(key));
            }
            msgs
        }
    }
}
