//! Text: the prompt line and the mapping editor. Keys arrive here only when no binding claimed
//! them; pastes always arrive here, so a pasted newline is text, never Enter.

use super::{apply_filter, on_action};
use crate::console::action::{Motion, PromptKind, parse_command};
use crate::console::msg::{Effect, PreviewTarget, Request};
use crate::console::state::{AppState, FlashLevel, Screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if state.prompt.is_some() {
        return prompt_key(state, key);
    }
    if state.screen() == Screen::Mapping && state.popup.is_none() {
        if super::mapping::editor_key(state, key) {
            return Vec::new();
        }
        // tui-textarea's own emacs shortcuts stay available for keys the keymap left free.
        if state.mapping.editing && state.mapping.editor.input(key) {
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
        KeyCode::Tab if prompt.kind == PromptKind::Command => prompt.complete_command(),
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
    if let Some(prompt) = &state.prompt
        && prompt.kind == PromptKind::Filter
    {
        let text = prompt.input.clone();
        apply_filter(state, &text);
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
            super::filter_submitted(state, &prompt.input);
            Vec::new()
        }
        PromptKind::Command if prompt.input.trim().is_empty() => Vec::new(),
        PromptKind::Command => {
            if let Some(argument) = argument_of("preview", &prompt.input) {
                return super::mapping::preview_command(state, &argument);
            }
            if let Some(name) = argument_of("peer", &prompt.input).filter(|n| !n.is_empty()) {
                return super::peers::switch(state, Some(&name));
            }
            if let Some(name) = argument_of("ctx", &prompt.input) {
                return crate::console::instances::command(state, &name);
            }
            match parse_command(&prompt.input) {
                Ok(action) => on_action(state, action),
                Err(message) => {
                    state.flash(FlashLevel::Error, message);
                    Vec::new()
                }
            }
        }
    }
}

/// `:COMMAND ARG`'s argument (`Some("")` for `:COMMAND` alone).
fn argument_of(command: &str, line: &str) -> Option<String> {
    let line = line.trim();
    let line = line.strip_prefix(':').unwrap_or(line).trim_start();
    let (head, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    head.eq_ignore_ascii_case(command)
        .then(|| rest.trim().to_string())
}

fn edited(state: &mut AppState) -> Vec<Effect> {
    state.mapping.edited();
    mapping_check(state)
}

/// Asks the engine to check the editor's text and, with a record to preview on, to preview it.
/// The check and the preview are two requests: the check is local and quick, so the Check
/// pane never waits on the peer (a preview reads the record over HTTP, and may fail).
pub fn mapping_check(state: &mut AppState) -> Vec<Effect> {
    if !state.mapping.loaded {
        return Vec::new();
    }
    let generation = state.mapping.generation;
    let text = state.mapping.text();
    if !state.mapping.preview_pinned {
        state.mapping.preview_target =
            state
                .contacts
                .selected_row()
                .and_then(|row| match (&row.peer_id, &row.ghl_id) {
                    (Some(peer_id), _) => Some(PreviewTarget::Peer(peer_id.clone())),
                    // A GHL contact not linked yet previews the way it would go: GHL → peer.
                    (None, Some(ghl_id)) => Some(PreviewTarget::Ghl(ghl_id.clone())),
                    (None, None) => None,
                });
    }
    let mut effects = vec![Effect::Call(Request::MappingCheck {
        generation,
        text: text.clone(),
    })];
    if let Some(target) = state.mapping.preview_target.clone() {
        effects.push(Effect::Call(Request::MappingPreview {
            generation,
            text,
            target,
        }));
    }
    effects
}
