//! Reducer tests: messages in, state and effects out. No engine, no terminal.

use super::{init, update};
use crate::console::action::{Action, FocusTarget, Motion, PromptKind, RetryTarget};
use crate::console::engine_api::{ContactList, ContactRef, MappingProblem};
use crate::console::msg::{Answer, Effect, Msg, Request};
use crate::console::state::{AppState, FlashLevel, Mode, Popup, Screen, SyncPhase};
use crate::console::tests::fixtures::{
    MAPPING_TEXT, act, calls, contact_rows, loaded_state, log_entry,
};
use crate::console::theme::Theme;
use crate::net::ErrorClass;
use crate::store::Outcome;
use crate::sync::{RetryMode, Selection};

#[test]
fn start_up_loads_everything_and_demo_syncs_at_once() {
    let mut state = loaded_state();
    let effects = init(&mut state, true);
    let requests = calls(&effects);
    assert!(requests.contains(&&Request::first_contacts()));
    assert!(requests.contains(&&Request::FailedQueue));
    assert!(requests.contains(&&Request::SyncNow));
    assert_eq!(state.sync, SyncPhase::Running);

    let mut state = loaded_state();
    state.read_only = true;
    assert!(!calls(&init(&mut state, true)).contains(&&Request::SyncNow));
}

#[test]
fn filter_applies_while_typing_and_esc_restores_it() {
    let mut state = loaded_state();
    act(&mut state, Action::Prompt(PromptKind::Filter));
    update(&mut state, Msg::Paste("bakery\n".into()));
    assert_eq!(
        state.contacts.filter, "bakery",
        "newline pasted is dropped, not Enter"
    );
    assert!(state.prompt.is_some(), "a pasted newline never submits");
    assert_eq!(state.contacts.visible.len(), 3);
    act(&mut state, Action::Back);
    assert!(state.prompt.is_none());
    assert_eq!(state.contacts.filter, "");
    assert_eq!(state.contacts.visible.len(), 30);
}

#[test]
fn a_company_word_typed_in_the_filter_finds_a_contact_named_by_its_person() {
    let mut state = loaded_state();
    let mut rows = contact_rows();
    rows[4].name = "Grace Hopper".into();
    rows[4].company = Some("Evergreen Market".into());
    let peer_id = rows[4].peer_id.clone();
    update(
        &mut state,
        Msg::Answer(Answer::Contacts(ContactList {
            rows,
            complete: true,
        })),
    );
    act(&mut state, Action::Prompt(PromptKind::Filter));
    update(&mut state, Msg::Paste("EVERGREEN".into()));
    let contacts = &state.contacts;
    let found: Vec<&str> = contacts
        .visible
        .iter()
        .map(|&i| contacts.rows[i].name.as_str())
        .collect();
    // Rows 14 and 24 are named by the company; row 4 is found by it alone.
    assert_eq!(
        found,
        [
            "Evergreen Market #14",
            "Evergreen Market #24",
            "Grace Hopper"
        ]
    );
    assert_eq!(contacts.rows[contacts.visible[2]].peer_id, peer_id);
}

#[test]
fn palette_switches_screens_and_reports_bad_commands() {
    let mut state = loaded_state();
    act(&mut state, Action::Prompt(PromptKind::Command));
    update(&mut state, Msg::Paste("failures".into()));
    let effects = act(&mut state, Action::Select);
    assert_eq!(state.screen(), Screen::Failures);
    assert_eq!(calls(&effects), vec![&Request::FailedQueue]);

    act(&mut state, Action::Prompt(PromptKind::Command));
    update(&mut state, Msg::Paste("frobnicate".into()));
    let effects = act(&mut state, Action::Select);
    assert!(effects.is_empty());
    let flash = state.flash.clone().expect("an error flash");
    assert_eq!(flash.level, FlashLevel::Error);
    assert!(flash.text.contains("frobnicate"));
}

#[test]
fn read_only_refuses_every_write() {
    let mut state = loaded_state();
    state.read_only = true;
    state.stack = vec![Screen::Failures];
    for action in [
        Action::SyncNow,
        Action::Retry {
            target: RetryTarget::Selected,
            original: false,
        },
        Action::Retry {
            target: RetryTarget::All,
            original: true,
        },
        Action::Skip,
        Action::Resolve,
        Action::MappingSave,
        Action::MappingUndo,
    ] {
        let effects = act(&mut state, action);
        assert!(effects.is_empty(), "{action} refused");
        assert!(state.popup.is_none(), "{action}: no confirm either");
        assert_eq!(
            state.flash.as_ref().map(|f| f.level),
            Some(FlashLevel::Warn)
        );
    }
}

#[test]
fn dangerous_retry_asks_first_and_enter_alone_cancels() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Failures];
    let retry_class = Action::Retry {
        target: RetryTarget::Class(ErrorClass::Validation),
        original: false,
    };
    assert!(act(&mut state, retry_class).is_empty());
    let Some(Popup::Confirm(confirm)) = &state.popup else {
        panic!("a confirm popup");
    };
    assert!(!confirm.yes_focused, "Cancel is the default");
    // Enter on the default button cancels.
    assert!(act(&mut state, Action::Select).is_empty());
    assert!(state.popup.is_none());

    act(&mut state, retry_class);
    act(&mut state, Action::ConfirmSwitch); // focus Yes
    let effects = act(&mut state, Action::Select);
    assert_eq!(
        calls(&effects),
        vec![&Request::Retry {
            selection: Selection::Class(ErrorClass::Validation),
            mode: RetryMode::CurrentMapping,
        }]
    );
}

#[test]
fn retry_selected_uses_marks_and_needs_no_confirmation() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Failures];
    act(&mut state, Action::ToggleMark);
    act(&mut state, Action::Move(Motion::Down));
    act(&mut state, Action::ToggleMark);
    let effects = act(
        &mut state,
        Action::Retry {
            target: RetryTarget::Selected,
            original: true,
        },
    );
    assert_eq!(
        calls(&effects),
        vec![&Request::Retry {
            selection: Selection::Ids(vec![3, 9]),
            mode: RetryMode::OriginalPayload,
        }]
    );
}

#[test]
fn skip_confirms_with_y() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Failures];
    act(&mut state, Action::Skip);
    let effects = act(&mut state, Action::ConfirmYes);
    assert_eq!(
        calls(&effects),
        vec![&Request::Close {
            selection: Selection::Ids(vec![3]),
            resolved: false,
        }]
    );
}

#[test]
fn enter_opens_a_contact_and_esc_comes_back() {
    let mut state = loaded_state();
    state.detail = Default::default();
    let effects = act(&mut state, Action::Select);
    assert_eq!(state.stack, vec![Screen::Contacts, Screen::Detail]);
    let peer_id = state
        .contacts
        .selected_row()
        .and_then(|r| r.peer_id.clone());
    assert_eq!(
        calls(&effects),
        vec![&Request::ContactDetail {
            contact: ContactRef::Peer(peer_id.unwrap_or_default())
        }]
    );
    act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::Tasks)),
    );
    assert_eq!(
        state.stack,
        vec![Screen::Contacts, Screen::Detail, Screen::Tasks]
    );
    act(&mut state, Action::Back);
    act(&mut state, Action::Back);
    assert_eq!(state.stack, vec![Screen::Contacts]);
}

#[test]
fn log_pauses_when_scrolled_up_and_follows_again_at_the_bottom() {
    let mut state = loaded_state();
    state.stack = vec![Screen::SyncLog];
    let last = state.log.visible().len() - 1;
    assert_eq!(state.log.selected, last);
    act(&mut state, Action::Move(Motion::Up));
    assert!(!state.log.follow);
    update(&mut state, Msg::Log(log_entry(100, Outcome::Ok)));
    assert_eq!(state.log.selected, last - 1, "paused: the view stays put");
    act(&mut state, Action::Move(Motion::Bottom));
    assert!(state.log.follow);
    update(&mut state, Msg::Log(log_entry(101, Outcome::Ok)));
    assert_eq!(state.log.selected, state.log.visible().len() - 1);
}

#[test]
fn a_log_entry_for_a_new_contact_reloads_the_list_once() {
    let mut state = loaded_state();
    let mut entry = log_entry(1, Outcome::Ok);
    entry.peer_id = Some("C-NEW".into());
    let first = update(&mut state, Msg::Log(entry.clone()));
    let second = update(&mut state, Msg::Log(entry));
    assert_eq!(calls(&first), vec![&Request::all_contacts()]);
    assert!(second.is_empty(), "one reload in flight at a time");
}

#[test]
fn a_failed_entry_turns_the_contact_badge_red() {
    let mut state = loaded_state();
    let entry = log_entry(1, Outcome::Failed); // C1001, synced in the fixture
    update(&mut state, Msg::Log(entry));
    let row = state
        .contacts
        .rows
        .iter()
        .find(|r| r.peer_id.as_deref() == Some("C1001"));
    assert_eq!(
        row.map(|r| r.state),
        Some(crate::console::engine_api::RowState::Failed)
    );
}

#[test]
fn mapping_edits_are_checked_and_stale_answers_dropped() {
    let mut state = loaded_state();
    act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::Mapping)),
    );
    act(&mut state, Action::MappingEdit);
    assert!(state.mapping.editing);
    let effects = update(&mut state, Msg::Paste("# note\r\n".into()));
    let generation = state.mapping.generation;
    assert!(state.mapping.text().contains("# note\n"));
    assert!(!state.mapping.text().contains('\r'));
    assert!(matches!(
        calls(&effects)[..],
        [Request::MappingCheck { generation: c, .. }, Request::MappingPreview { generation: g, .. }]
            if *g == generation && *c == generation
    ));
    let problem = MappingProblem {
        line: Some(2),
        column: Some(3),
        message: "bad".into(),
    };
    update(
        &mut state,
        Msg::Answer(Answer::MappingChecked {
            generation: generation - 1,
            problem: Some(problem.clone()),
        }),
    );
    assert_eq!(state.mapping.problem, None, "stale answer ignored");
    update(
        &mut state,
        Msg::Answer(Answer::MappingChecked {
            generation,
            problem: Some(problem),
        }),
    );
    assert!(state.mapping.problem.is_some());
    let effects = act(&mut state, Action::MappingSave);
    assert!(effects.is_empty());
    assert!(
        state.popup.is_none(),
        "an invalid mapping is not offered for saving"
    );
}

#[test]
fn saving_the_mapping_confirms_then_sends_the_text() {
    let mut state = loaded_state();
    act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::Mapping)),
    );
    act(&mut state, Action::MappingEdit);
    update(&mut state, Msg::Paste("# fixed\n".into()));
    act(&mut state, Action::MappingSave);
    let effects = act(&mut state, Action::ConfirmYes);
    let text = format!("# fixed\n{MAPPING_TEXT}");
    assert_eq!(calls(&effects), vec![&Request::SaveMapping { text }]);
}

#[test]
fn a_finished_run_goes_idle_and_refreshes() {
    let mut state = loaded_state();
    state.sync = SyncPhase::Running;
    let effects = update(
        &mut state,
        Msg::Answer(Answer::Failed {
            request: "sync",
            class: "auth".into(),
            message: "token refused".into(),
        }),
    );
    assert!(effects.is_empty());
    assert_eq!(state.sync, SyncPhase::Failed("token refused".into()));
    assert_eq!(act(&mut state, Action::Quit), vec![Effect::Quit]);
}

#[test]
fn a_first_page_of_contacts_is_shown_at_once_and_the_rest_asked_for() {
    let mut state = AppState::new(Mode::Sandbox, "repsly", false, Theme::colour());
    let mut rows = contact_rows();
    let all = rows.len();
    rows.truncate(2);
    let first = update(
        &mut state,
        Msg::Answer(Answer::Contacts(ContactList {
            rows,
            complete: false,
        })),
    );
    assert_eq!(calls(&first), vec![&Request::all_contacts()]);
    assert!(state.contacts.loaded && !state.contacts.complete);
    assert_eq!(state.contacts.visible.len(), 2);
    let rest = update(
        &mut state,
        Msg::Answer(Answer::Contacts(ContactList {
            rows: contact_rows(),
            complete: true,
        })),
    );
    assert!(rest.is_empty(), "nothing more to ask for: {rest:?}");
    assert!(state.contacts.complete);
    assert_eq!(state.contacts.rows.len(), all);
}
