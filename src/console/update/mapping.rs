//! The mapping editor's own rules: the unsaved-changes question (Save / Discard / Cancel) before
//! anything that would leave edits behind, moving in the text, and what the preview runs on.

use super::{input, on_action};
use crate::console::action::{Action, FocusTarget, Motion, PromptKind};
use crate::console::msg::{Effect, PreviewTarget, Request};
use crate::console::state::{
    AppState, FlashLevel, Popup, PromptState, Screen, UnsavedChoice, UnsavedQuestion,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_textarea::{CursorMove, Scrolling};

/// Asks first when `action` would leave unsaved mapping edits behind: quitting, another
/// screen, or Esc out of the editor. `None`: go ahead.
pub fn guard(state: &mut AppState, action: Action) -> Option<Vec<Effect>> {
    if state.popup.is_some() || state.prompt.is_some() || !state.mapping.is_dirty() {
        return None;
    }
    let on_mapping = state.screen() == Screen::Mapping;
    let leaves = match action {
        Action::Quit => true,
        Action::Focus(FocusTarget::Screen(screen)) => on_mapping && screen != Screen::Mapping,
        Action::Focus(FocusTarget::Next | FocusTarget::Prev) => on_mapping,
        // Esc while editing only stops editing; Esc after that leaves the screen.
        Action::Back => on_mapping && !state.mapping.editing,
        _ => false,
    };
    if !leaves {
        return None;
    }
    state.popup = Some(Popup::Unsaved(UnsavedQuestion {
        then: action,
        focus: UnsavedChoice::Cancel,
    }));
    Some(Vec::new())
}

/// Keys while the unsaved-changes question is open (the confirm layer's keys, plus `s` save
/// and `d` discard).
pub fn on_unsaved_key(state: &mut AppState, action: Action) -> Vec<Effect> {
    let Some(Popup::Unsaved(question)) = &mut state.popup else {
        return Vec::new();
    };
    let choice = match action {
        Action::MappingSave => UnsavedChoice::Save,
        Action::MappingDiscard => UnsavedChoice::Discard,
        Action::ConfirmNo | Action::Back | Action::Quit => UnsavedChoice::Cancel,
        Action::Select => question.focus,
        Action::Move(motion) => {
            let forward = matches!(motion, Motion::Down | Motion::PageDown | Motion::Bottom);
            question.focus = question.focus.step(forward);
            return Vec::new();
        }
        Action::Focus(FocusTarget::Next) => {
            question.focus = question.focus.step(true);
            return Vec::new();
        }
        Action::Focus(FocusTarget::Prev) => {
            question.focus = question.focus.step(false);
            return Vec::new();
        }
        _ => return Vec::new(),
    };
    let then = question.then;
    state.popup = None;
    match choice {
        UnsavedChoice::Cancel => {
            state.flash(FlashLevel::Info, "cancelled: the edits are still here");
            Vec::new()
        }
        UnsavedChoice::Discard => {
            let mut effects = discard(state);
            effects.extend(on_action(state, then));
            effects
        }
        UnsavedChoice::Save => {
            if state.mapping.problem.is_some() {
                state.flash(
                    FlashLevel::Error,
                    "fix the mapping error before saving, or discard the changes",
                );
                return Vec::new();
            }
            // The action waits for the save: quitting before it lands would lose the edits.
            state.mapping.after_save = Some(then);
            state.flash(FlashLevel::Info, "save mapping…");
            vec![Effect::Call(Request::SaveMapping {
                text: state.mapping.text(),
            })]
        }
    }
}

/// Back to the saved text, the cursor where it was, and a check of that text (without one
/// the Check pane would wait for an answer that never comes).
pub fn discard(state: &mut AppState) -> Vec<Effect> {
    let text = state.mapping.saved_text.clone();
    let origin = state.mapping.origin.clone();
    let versions = std::mem::take(&mut state.mapping.versions);
    state.mapping.load(text, origin, versions);
    state.flash(FlashLevel::Info, "changes discarded");
    input::mapping_check(state)
}

/// The save landed: run what was waiting for it.
pub fn saved(state: &mut AppState) -> Vec<Effect> {
    match state.mapping.after_save.take() {
        Some(then) => on_action(state, then),
        None => Vec::new(),
    }
}

/// j/k, PageUp/PageDown, Home/End (top, bottom) on the mapping screen move in the text, in
/// editing and in viewing alike, so a read-only console can read a long mapping.
pub fn move_in_text(state: &mut AppState, motion: Motion) {
    let editor = &mut state.mapping.editor;
    match motion {
        Motion::Up => editor.move_cursor(CursorMove::Up),
        Motion::Down => editor.move_cursor(CursorMove::Down),
        Motion::PageUp => editor.scroll(Scrolling::PageUp),
        Motion::PageDown => editor.scroll(Scrolling::PageDown),
        Motion::Top => editor.move_cursor(CursorMove::Jump(0, 0)),
        Motion::Bottom => {
            editor.move_cursor(CursorMove::Bottom);
            editor.move_cursor(CursorMove::End);
        }
    }
}

/// Outside editing, the arrows move the (hidden) cursor, which scrolls a long line into view.
/// (Ctrl-Home / Ctrl-End are keymap bindings, `move top` / `move bottom`: tui-textarea would
/// take them for Home / End.) True when handled.
pub fn editor_key(state: &mut AppState, key: KeyEvent) -> bool {
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return false;
    }
    let editor = &mut state.mapping.editor;
    match key.code {
        KeyCode::Left if !state.mapping.editing => editor.move_cursor(CursorMove::Back),
        KeyCode::Right if !state.mapping.editing => editor.move_cursor(CursorMove::Forward),
        _ => return false,
    }
    true
}

/// `p`: the `:` prompt opened on `preview `, ready for a peer id or a `ghl:` id (the preview's
/// title names the current record; typing after it would only append to it).
pub fn open_preview_prompt(state: &mut AppState) -> Vec<Effect> {
    state.prompt = Some(PromptState::new(PromptKind::Command, "preview "));
    Vec::new()
}

/// `:preview ID` (a peer record) or `:preview ghl:ID` (a GHL contact); `:preview` alone goes
/// back to the selected contact.
pub fn preview_command(state: &mut AppState, argument: &str) -> Vec<Effect> {
    match PreviewTarget::parse(argument) {
        Some(target) => {
            state.mapping.preview_target = Some(target);
            state.mapping.preview_pinned = true;
        }
        None => {
            state.mapping.preview_pinned = false;
            state.mapping.preview_target = None;
        }
    }
    state.mapping.preview.clear();
    state.mapping.preview_note = None;
    if state.screen() != Screen::Mapping {
        let mut effects = on_action(state, Action::Focus(FocusTarget::Screen(Screen::Mapping)));
        effects.extend(input::mapping_check(state));
        return effects;
    }
    input::mapping_check(state)
}
