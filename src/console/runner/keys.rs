//! Terminal events → messages: the keymap decides what a key means in the current layer; keys
//! it leaves free become text for the prompt or the editor.

use crate::console::action::{Action, Motion};
use crate::console::keymap::{Key, Keymap, Layer, Resolution};
use crate::console::msg::Msg;
use crate::console::state::{AppState, Popup, Screen};
use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

/// The keymap layer for the current state: popup, then prompt, then the screen.
pub fn layer(state: &AppState) -> Layer {
    match &state.popup {
        Some(Popup::Confirm(_) | Popup::Unsaved(_)) => return Layer::Confirm,
        Some(Popup::Help) => return Layer::Help,
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
        TermEvent::Mouse(mouse) => mouse_messages(state, mouse),
        _ => Vec::new(),
    }
}

/// Rows a wheel notch scrolls.
const WHEEL_ROWS: usize = 3;

/// The wheel moves the cursor of the list on screen, as `j`/`k` would; clicks are not used.
/// While typing or with a popup open, the mouse does nothing.
fn mouse_messages(state: &AppState, mouse: MouseEvent) -> Vec<Msg> {
    if state.popup.is_some() || state.prompt.is_some() {
        return Vec::new();
    }
    let motion = match mouse.kind {
        MouseEventKind::ScrollDown => Motion::Down,
        MouseEventKind::ScrollUp => Motion::Up,
        _ => return Vec::new(),
    };
    vec![Msg::Action(Action::Move(motion)); WHEEL_ROWS]
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
            // On the mapping screen unbound keys (the arrows) move in the text even when not
            // editing, so a long line can be scrolled into view.
            let viewing_mapping = state.screen() == Screen::Mapping && state.popup.is_none();
            if typing || editing || viewing_mapping {
                msgs.push(Msg::Text(key));
            }
            msgs
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::tests::fixtures::loaded_state;
    use crate::console::update::update;
    use crossterm::event::{MouseButton, MouseEvent};

    fn wheel(kind: MouseEventKind) -> TermEvent {
        TermEvent::Mouse(MouseEvent {
            kind,
            column: 10,
            row: 5,
            modifiers: KeyModifiers::NONE,
        })
    }

    /// What one mouse event turns into, with the built-in keymap.
    fn mouse(state: &AppState, kind: MouseEventKind) -> Vec<Msg> {
        let (keymap, _) = Keymap::builtin();
        messages(&keymap, state, &mut Vec::new(), wheel(kind))
    }

    #[test]
    fn the_wheel_moves_the_list_and_clicks_do_nothing() {
        let mut state = loaded_state();
        let down = mouse(&state, MouseEventKind::ScrollDown);
        assert_eq!(down.len(), WHEEL_ROWS);
        for msg in down {
            update(&mut state, msg);
        }
        assert_eq!(state.contacts.selected, WHEEL_ROWS);
        for msg in mouse(&state, MouseEventKind::ScrollUp) {
            update(&mut state, msg);
        }
        assert_eq!(state.contacts.selected, 0);
        let click = MouseEventKind::Down(MouseButton::Left);
        assert!(mouse(&state, click).is_empty());
    }

    #[test]
    fn the_wheel_does_nothing_while_typing() {
        let mut state = loaded_state();
        update(
            &mut state,
            Msg::Action(Action::Prompt(crate::console::action::PromptKind::Filter)),
        );
        assert!(state.prompt.is_some());
        assert!(mouse(&state, MouseEventKind::ScrollDown).is_empty());
    }
}
