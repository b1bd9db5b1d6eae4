//! Text: the prompt line and the mapping editor. Keys arrive here only when no binding claimed
//! them; pastes always arrive here, so a pasted newline is text, never Enter.

use super::{apply_filter, on_action};
use crate::console::action::{Motion, PromptKind, parse_command};
use crate::console::msg::{Effect, Request};
use crate::console::state::{AppState, FlashLevel, Screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if state.prompt.is_some() {
        return prompt_key(state, key);
    }
    if state.screen() == Screen::Mapping && state.mapping.editing && state.popup.is_none() {
        // tui-textarea's own emacs shortcuts stay available for keys the keymap left free.
        if state.mapping.editor.input(key) {
            return edited(state);
        }
    }
    Vec::new()
}

fn prompt_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let Some(prompt) = state.prompt.as_mut() else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('u') if ctrl => {
            prompt.input.clear();
            prompt.cursor = 0;
        }
        KeyCode::Char(c) if !ctrl => prompt.insert(&c.to_string()),
        KeyCode::Backspace => prompt.backspace(),
        KeyCode::Left => prompt.left(),
        KeyCode::Right => prompt.right(),
        KeyCode::Home => prompt.cursor = 0,
        KeyCode::End => prompt.cursor = prompt.input.chars().count(),
        // Fallbacks for a keymap whose prompt layer leaves Enter or Esc unbound.
        KeyCode::Enter => return submit_prompt(state),
        KeyCode::Esc => return super::navigation::back(state),
        _ => return Vec::new(),
    }
    live_filter(state);
    Vec::new()
}

/// The filter applies as it is typed (k9s).
fn live_filter(state: &mut AppState) {
    if let Some(prompt) = &state.prompt {
        if prompt.kind == PromptKind::Filter {
            let text = prompt.input.clone();
            apply_filter(state, &text);
        }
    }
}

pub fn on_paste(state: &mut AppState, text: &str) -> Vec<Effect> {
    if let Some(prompt) = state.prompt.as_mut() {
        prompt.insert(text);
        live_filter(state);
        return Vec::new();
    }
    if state.screen() == Screen::Mapping && state.mapping.editing && state.popup.is_none() {
        // tui-textarea ignores paste events; insert the text ourselves, without the CRs.
        let clean = text.replace("\r\n", "\n").replace('\r', "\n");
        state.mapping.editor.insert_str(clean);
        return edited(state);
    }
    state.flash(
        FlashLevel::Info,
        "paste ignored: open the mapping editor or a prompt",
    );
    Vec::new()
}

/// Up/Down in the prompt: earlier lines of the same kind (the filter applies as recalled).
pub fn recall(state: &mut AppState, motion: Motion) {
    let Some(prompt) = state.prompt.as_mut() else {
        return;
    };
    let history = state.history.entries(prompt.kind);
    let changed = match motion {
        Motion::Up | Motion::PageUp | Motion::Top => prompt.recall_older(history),
        Motion::Down | Motion::PageDown | Motion::Bottom => prompt.recall_newer(history),
    };
    if changed {
        live_filter(state);
    }
}

pub fn submit_prompt(state: &mut AppState) -> Vec<Effect> {
    let Some(prompt) = state.prompt.take() else {
        return Vec::new();
    };
    state.history.remember(prompt.kind, &prompt.input);
    match prompt.kind {
        PromptKind::Filter => {
            apply_filter(state, &prompt.input);
            Vec::new()
        }
        PromptKind::Command if prompt.input.trim().is_empty() => Vec::new(),
        PromptKind::Command => match parse_command(&prompt.input) {
            Ok(action) => on_action(state, action),
            Err(message) => {
                state.flash(FlashLevel::Error, message);
                Vec::new()
            }
        },
    }
}

fn edited(state: &mut AppState) -> Vec<Effect> {
    state.mapping.edited();
    mapping_check(state)
}

/// Asks the engine to check the editor's text and, with a contact selected, to preview it.
pub fn mapping_check(state: &mut AppState) -> Vec<Effect> {
    if !state.mapping.loaded {
        return Vec::new();
    }
    let generation = state.mapping.generation;
    let text = state.mapping.text();
    let peer_id = state
        .contacts
        .selected_row()
        .and_then(|row| row.peer_id.clone());
    state.mapping.preview_peer_id = peer_id.clone();
    vec![Effect::Call(match peer_id {
        Some(peer_id) => Request::MappingPreview {
            generation,
            text,
            peer_id,
        },
        None => Request::MappingCheck { generation, text },
    })]
}
