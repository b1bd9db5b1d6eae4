//! Reducer tests of the mapping editor (unsaved-edit guard, read-only, the Check pane, the
//! preview target) and of the Esc stack.

use super::update;
use crate::console::action::{Action, FocusTarget, PromptKind};
use crate::console::engine_api::RowState;
use crate::console::msg::{Answer, Effect, Msg, PreviewTarget, Request};
use crate::console::state::{AppState, FlashLevel, Popup, Screen, UnsavedChoice};
use crate::console::tests::fixtures::{MAPPING_TEXT, act, calls, loaded_state};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn focus(screen: Screen) -> Action {
    Action::Focus(FocusTarget::Screen(screen))
}

/// On the mapping screen, editing, with one line typed.
fn dirty_editor() -> AppState {
    let mut state = loaded_state();
    act(&mut state, focus(Screen::Mapping));
    act(&mut state, Action::MappingEdit);
    update(&mut state, Msg::Paste("# fixed\n".into()));
    assert!(state.mapping.is_dirty());
    state
}

fn question_focus(state: &AppState) -> Option<UnsavedChoice> {
    match &state.popup {
        Some(Popup::Unsaved(question)) => Some(question.focus),
        _ => None,
    }
}

#[test]
fn quitting_with_unsaved_edits_asks_and_enter_cancels() {
    let mut state = dirty_editor();
    let effects = act(&mut state, Action::Quit);
    assert!(!effects.contains(&Effect::Quit), "asked first");
    assert!(!state.quitting);
    assert_eq!(question_focus(&state), Some(UnsavedChoice::Cancel));
    // Enter on the default button cancels: the edits and the screen stay.
    let effects = act(&mut state, Action::Select);
    assert!(effects.is_empty());
    assert!(state.popup.is_none());
    assert!(state.mapping.is_dirty());
    assert_eq!(state.screen(), Screen::Mapping);

    // `:q` is the same question.
    act(&mut state, Action::Prompt(PromptKind::Command));
    update(&mut state, Msg::Paste("q".into()));
    let effects = act(&mut state, Action::Select);
    assert!(!effects.contains(&Effect::Quit));
    assert!(question_focus(&state).is_some());
    act(&mut state, Action::Back);
    assert!(state.popup.is_none() && state.mapping.is_dirty());
}

#[test]
fn switching_screens_with_unsaved_edits_asks_and_discard_reverts_then_goes() {
    let mut state = dirty_editor();
    let (row, col) = state.mapping.editor.cursor();
    act(&mut state, focus(Screen::Failures));
    assert_eq!(state.screen(), Screen::Mapping, "not yet");
    assert!(question_focus(&state).is_some());
    let effects = act(&mut state, Action::MappingDiscard);
    assert_eq!(state.screen(), Screen::Failures);
    assert!(!state.mapping.is_dirty());
    assert_eq!(state.mapping.text(), MAPPING_TEXT);
    assert_eq!(
        state.mapping.editor.cursor(),
        (
            row.min(5),
            col.min(MAPPING_TEXT.lines().nth(row).map_or(0, str::len))
        ),
        "the cursor stays (clamped to the saved text)"
    );
    let requests = calls(&effects);
    assert!(requests.contains(&&Request::FailedQueue), "then it went on");
    assert!(
        requests
            .iter()
            .any(|r| matches!(r, Request::MappingCheck { .. })),
        "the reverted text is checked again: {requests:?}"
    );
}

#[test]
fn esc_stops_editing_first_then_asks_before_leaving() {
    let mut state = dirty_editor();
    act(&mut state, Action::Back);
    assert!(!state.mapping.editing);
    assert!(state.popup.is_none(), "stopping editing loses nothing");
    act(&mut state, Action::Back);
    assert!(question_focus(&state).is_some());
    // Tab walks the buttons: Cancel → Save.
    act(&mut state, Action::Focus(FocusTarget::Next));
    assert_eq!(question_focus(&state), Some(UnsavedChoice::Save));
    assert_eq!(
        state.screen(),
        Screen::Mapping,
        "Tab in the popup is not a screen switch"
    );
}

#[test]
fn save_in_the_question_saves_then_quits_once_the_save_landed() {
    let mut state = dirty_editor();
    act(&mut state, Action::Quit);
    let effects = act(&mut state, Action::MappingSave);
    let text = format!("# fixed\n{MAPPING_TEXT}");
    assert_eq!(calls(&effects), vec![&Request::SaveMapping { text }]);
    assert!(
        !effects.contains(&Effect::Quit),
        "not before the save landed"
    );
    let effects = update(
        &mut state,
        Msg::Answer(Answer::MappingSaved {
            version: 4,
            undo: false,
        }),
    );
    assert!(effects.contains(&Effect::Quit));
    assert!(state.quitting);

    // A save that fails: nothing else happens, the edits stay.
    let mut state = dirty_editor();
    act(&mut state, focus(Screen::Status));
    act(&mut state, Action::MappingSave);
    let effects = update(
        &mut state,
        Msg::Answer(Answer::Failed {
            request: Request::SAVE_MAPPING,
            class: "store".into(),
            message: "disk full".into(),
        }),
    );
    assert!(effects.is_empty());
    assert_eq!(state.screen(), Screen::Mapping);
    assert!(state.mapping.is_dirty());
    assert!(state.mapping.after_save.is_none());
    assert_eq!(
        state.flash.as_ref().map(|f| f.level),
        Some(FlashLevel::Error)
    );
}

#[test]
fn save_in_the_question_refuses_an_invalid_mapping() {
    let mut state = dirty_editor();
    let generation = state.mapping.generation;
    update(
        &mut state,
        Msg::Answer(Answer::MappingChecked {
            generation,
            problem: Some(crate::console::engine_api::MappingProblem {
                line: Some(1),
                column: Some(1),
                message: "bad".into(),
            }),
        }),
    );
    act(&mut state, Action::Quit);
    let effects = act(&mut state, Action::MappingSave);
    assert!(effects.is_empty());
    assert!(!state.quitting);
    assert!(state.mapping.is_dirty());
}

#[test]
fn the_cursor_stays_put_through_a_save_and_the_reload_after_it() {
    let mut state = dirty_editor();
    let cursor = state.mapping.editor.cursor();
    let text = state.mapping.text();
    update(
        &mut state,
        Msg::Answer(Answer::MappingSaved {
            version: 2,
            undo: false,
        }),
    );
    update(
        &mut state,
        Msg::Answer(Answer::Mapping {
            text,
            origin: "repsly mapping (editor)".into(),
            versions: Vec::new(),
        }),
    );
    assert!(!state.mapping.is_dirty());
    assert_eq!(state.mapping.editor.cursor(), cursor);
}

#[test]
fn read_only_shows_the_mapping_but_never_edits_it() {
    let mut state = loaded_state();
    state.read_only = true;
    act(&mut state, Action::MappingEdit);
    assert_eq!(state.screen(), Screen::Mapping, "the mapping is shown");
    assert!(!state.mapping.editing);
    let flash = state.flash.clone().expect("a flash saying why");
    assert!(flash.text.contains("read-only"), "{}", flash.text);
    act(&mut state, Action::Select);
    assert!(!state.mapping.editing, "Enter does not edit either");
    update(&mut state, Msg::Paste("x".into()));
    assert!(!state.mapping.is_dirty());
}

#[test]
fn the_check_pane_never_waits_for_an_answer_that_cannot_come() {
    let mut state = dirty_editor();
    assert!(!state.mapping.checked, "checking…");
    // The engine answers the check with an error: said, not "checking…" for good.
    update(
        &mut state,
        Msg::Answer(Answer::Failed {
            request: Request::MAPPING_CHECK,
            class: "engine".into(),
            message: "the engine stopped".into(),
        }),
    );
    assert!(state.mapping.checked);
    assert!(state.mapping.check_failed.is_some());
    // A preview that fails (the peer is down) does not hold the check back.
    let effects = act(&mut state, Action::MappingDiscard);
    assert!(effects.is_empty(), "discard asks first");
    let effects = act(&mut state, Action::ConfirmYes);
    let requests = calls(&effects);
    assert!(
        matches!(
            requests[..],
            [Request::MappingCheck { .. }, Request::MappingPreview { .. }]
        ),
        "a discard checks the reverted text: {requests:?}"
    );
    let generation = state.mapping.generation;
    update(
        &mut state,
        Msg::Answer(Answer::Failed {
            request: Request::MAPPING_PREVIEW,
            class: "transient".into(),
            message: "HTTP 503".into(),
        }),
    );
    assert!(!state.mapping.checked, "the check is still to come");
    update(
        &mut state,
        Msg::Answer(Answer::MappingChecked {
            generation,
            problem: None,
        }),
    );
    assert!(state.mapping.checked && state.mapping.check_failed.is_none());
    assert!(
        state
            .mapping
            .preview_note
            .as_deref()
            .is_some_and(|n| n.contains("503"))
    );
}

#[test]
fn the_preview_runs_on_a_typed_peer_or_ghl_id() {
    let mut state = loaded_state();
    act(&mut state, focus(Screen::Mapping));
    act(&mut state, Action::MappingPreview);
    let prompt = state.prompt.clone().expect("the preview prompt");
    // Ready for an id: what is typed is the whole target, never appended to the current one.
    assert_eq!(prompt.input, "preview ");
    update(&mut state, Msg::Paste("ghl:ghl000507".into()));
    let effects = act(&mut state, Action::Select);
    let target = PreviewTarget::Ghl("ghl000507".into());
    assert_eq!(state.mapping.preview_target, Some(target.clone()));
    assert!(
        calls(&effects)
            .iter()
            .any(|r| matches!(r, Request::MappingPreview { target: t, .. } if *t == target))
    );
    // Pinned: moving in the contact list does not replace it.
    state.contacts.move_by(3);
    update(&mut state, Msg::Paste("x".into()));
    assert_eq!(state.mapping.preview_target, Some(target));
    // `:preview` alone goes back to the selected contact.
    act(&mut state, Action::Prompt(PromptKind::Command));
    update(&mut state, Msg::Paste("preview".into()));
    act(&mut state, Action::Select);
    let selected = state
        .contacts
        .selected_row()
        .and_then(|r| r.peer_id.clone());
    assert_eq!(
        state.mapping.preview_target,
        selected.map(PreviewTarget::Peer)
    );
}

#[test]
fn ctrl_home_and_ctrl_end_go_to_the_first_and_last_line() {
    let mut state = dirty_editor();
    // What the built-in keymap makes of Ctrl-End and Ctrl-Home while editing.
    let (keymap, _) = crate::console::keymap::Keymap::builtin();
    let keys = |state: &mut AppState, code| {
        let event = crossterm::event::Event::Key(KeyEvent::new(code, KeyModifiers::CONTROL));
        for msg in crate::console::runner::keys::messages(&keymap, state, &mut Vec::new(), event) {
            update(state, msg);
        }
    };
    let selected = state.contacts.selected;
    keys(&mut state, KeyCode::End);
    let last = state.mapping.editor.lines().len() - 1;
    assert_eq!(state.mapping.editor.cursor().0, last);
    keys(&mut state, KeyCode::Home);
    assert_eq!(state.mapping.editor.cursor(), (0, 0));
    assert_eq!(
        state.contacts.selected, selected,
        "the text moved, not the contact list"
    );
    // Outside editing the arrows still move in the text (a long line scrolls into view).
    act(&mut state, Action::Back);
    update(
        &mut state,
        Msg::Text(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE)),
    );
    assert_eq!(state.mapping.editor.cursor(), (0, 1));
}

#[test]
fn esc_returns_where_you_came_from() {
    let mut state = loaded_state();
    act(&mut state, focus(Screen::Failures));
    // From a failure to its contact (as the jump does), then Esc: the failures again.
    assert!(state.contacts.select_peer("C1007"));
    act(&mut state, focus(Screen::Detail));
    assert_eq!(state.screen(), Screen::Detail);
    let effects = act(&mut state, Action::Back);
    assert_eq!(state.stack, vec![Screen::Failures]);
    assert_eq!(calls(&effects), vec![&Request::FailedQueue]);
    act(&mut state, Action::Back);
    assert_eq!(state.stack, vec![Screen::Contacts]);

    // Contacts → Mapping → Sync log → Esc → Mapping → Esc → Contacts, then nothing further.
    act(&mut state, focus(Screen::Mapping));
    act(&mut state, focus(Screen::SyncLog));
    act(&mut state, Action::Back);
    assert_eq!(state.screen(), Screen::Mapping);
    act(&mut state, Action::Back);
    assert_eq!(state.screen(), Screen::Contacts);
    assert!(state.nav.is_empty());
    act(&mut state, Action::Back);
    assert_eq!(state.screen(), Screen::Contacts);

    // Going back to a place already on the way drops the detour: no walking in circles.
    act(&mut state, focus(Screen::Status));
    act(&mut state, focus(Screen::Failures));
    act(&mut state, focus(Screen::Status));
    act(&mut state, Action::Back);
    assert_eq!(state.screen(), Screen::Contacts);
}

#[test]
fn a_contact_state_word_filters_the_list() {
    let mut state = loaded_state();
    act(&mut state, Action::Prompt(PromptKind::Filter));
    update(&mut state, Msg::Paste("failed".into()));
    let contacts = &state.contacts;
    assert!(!contacts.visible.is_empty());
    assert!(
        contacts
            .visible
            .iter()
            .all(|&i| contacts.rows[i].state == RowState::Failed)
    );
}

#[test]
fn tab_completes_the_palette_command_under_the_cursor() {
    let mut state = loaded_state();
    act(&mut state, Action::Prompt(PromptKind::Command));
    update(&mut state, Msg::Paste("fa".into()));
    let tab = Msg::Text(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    update(&mut state, tab.clone());
    let prompt = state.prompt.clone().expect("still typing");
    assert_eq!((prompt.input.as_str(), prompt.cursor), ("failures ", 9));
    let effects = act(&mut state, Action::Select);
    assert_eq!(state.screen(), Screen::Failures);
    assert_eq!(calls(&effects), vec![&Request::FailedQueue]);

    // The word under the cursor, the rest kept; nothing to add leaves the line alone.
    act(&mut state, Action::Prompt(PromptKind::Command));
    update(&mut state, Msg::Paste("retry c".into()));
    update(&mut state, tab.clone());
    update(&mut state, Msg::Paste("au".into()));
    update(&mut state, tab.clone());
    assert_eq!(
        state.prompt.as_ref().map(|p| p.input.as_str()),
        Some("retry class auth ")
    );
    act(&mut state, Action::Back);
    act(&mut state, Action::Prompt(PromptKind::Command));
    update(&mut state, Msg::Paste("s".into()));
    update(&mut state, tab);
    assert_eq!(state.prompt.as_ref().map(|p| p.input.as_str()), Some("s"));
}

#[test]
fn slash_on_the_mapping_finds_text_and_never_runs_keys() {
    let mut state = loaded_state();
    act(&mut state, focus(Screen::Mapping));
    act(&mut state, Action::Prompt(PromptKind::Filter));
    assert!(state.prompt.is_some(), "the prompt opens on every screen");
    // `e` would start editing, `D` discard: typed after `/` they are text.
    for key in ["e", "D", "q"] {
        update(&mut state, Msg::Paste(key.into()));
    }
    assert!(!state.mapping.editing, "no key ran");
    assert!(!state.quitting);
    let prompt = state.prompt.clone().expect("still typing");
    assert_eq!(prompt.input, "eDq");
    // Enter on text the mapping holds puts the cursor on its line.
    act(&mut state, Action::Back);
    act(&mut state, Action::Prompt(PromptKind::Filter));
    let unique = |needle: &str| {
        MAPPING_TEXT
            .lines()
            .filter(|line| line.to_lowercase().contains(&needle.to_lowercase()))
            .count()
            == 1
    };
    let needle = MAPPING_TEXT
        .lines()
        .enumerate()
        .skip(2)
        .find(|(_, line)| !line.trim().is_empty() && unique(line.trim()))
        .map(|(row, line)| (row, line.trim().to_string()))
        .expect("a line to find");
    update(&mut state, Msg::Paste(needle.1.to_uppercase()));
    act(&mut state, Action::Select);
    assert_eq!(
        state.mapping.editor.cursor().0,
        needle.0,
        "found in any case"
    );
    // A screen with no filter says so on Enter, after taking the text as text.
    act(&mut state, focus(Screen::Status));
    act(&mut state, Action::Prompt(PromptKind::Filter));
    update(&mut state, Msg::Paste("q".into()));
    act(&mut state, Action::Select);
    assert!(!state.quitting);
    assert!(
        state
            .flash
            .as_ref()
            .is_some_and(|flash| flash.text.contains("has no filter"))
    );
}
