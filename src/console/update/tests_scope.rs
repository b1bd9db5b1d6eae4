//! Reducer tests for the children scope, the status refresh, prompt history and retrying the
//! selected row's class.

use super::{update, wants_ticks};
use crate::console::action::{Action, FocusTarget, Motion, PromptKind, RetryTarget};
use crate::console::msg::{Answer, Msg, Request};
use crate::console::state::children::PAGE;
use crate::console::state::{AppState, ChildScope, FlashLevel, Popup, Screen};
use crate::console::tests::fixtures::{act, at, calls, child_page, loaded_state, status};
use crate::net::ErrorClass;
use crate::peers::EntityKind;
use crate::sync::{RetryMode, Selection};

fn page_request(offset: usize) -> Request {
    Request::Children {
        kind: EntityKind::Task,
        offset,
        limit: PAGE,
    }
}

#[test]
fn tasks_switch_between_one_contact_and_all_contacts() {
    let mut state = loaded_state();
    act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::Tasks)),
    );
    assert_eq!(state.children.scope, ChildScope::Contact);
    assert_eq!(
        state.stack,
        vec![Screen::Contacts, Screen::Detail, Screen::Tasks]
    );

    let effects = act(&mut state, Action::ChildrenScopeToggle);
    assert_eq!(state.children.scope, ChildScope::All);
    assert_eq!(
        state.stack,
        vec![Screen::Tasks],
        "everyone's tasks stand alone"
    );
    assert_eq!(calls(&effects), vec![&page_request(0)]);
    assert!(state.children.tasks.loading);

    // The first page lands; the cursor is already near its end, so the next is asked for.
    let effects = update(
        &mut state,
        Msg::Answer(Answer::Children(child_page(EntityKind::Task))),
    );
    assert_eq!(state.children.tasks.rows.len(), 12);
    assert_eq!(calls(&effects), vec![&page_request(12)]);
    assert!(
        act(&mut state, Action::Move(Motion::Down)).is_empty(),
        "one page request at a time"
    );

    // Back to one contact: the contact of the row under the cursor.
    let contact = state.children.tasks.rows[1].contact_peer_id.clone();
    let effects = act(&mut state, Action::ChildrenScopeToggle);
    assert_eq!(state.children.scope, ChildScope::Contact);
    assert_eq!(
        state
            .contacts
            .selected_row()
            .and_then(|r| r.peer_id.clone()),
        contact
    );
    assert_eq!(
        calls(&effects),
        vec![&Request::ContactDetail {
            contact: crate::console::engine_api::ContactRef::Peer(contact.unwrap_or_default())
        }]
    );
    // The scope is kept across the three screens and tab switches.
    act(&mut state, Action::ChildrenScopeToggle);
    act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::Notes)),
    );
    assert_eq!(state.stack, vec![Screen::Notes]);
}

#[test]
fn enter_on_a_row_of_all_contacts_opens_that_contact() {
    let mut state = loaded_state();
    state.children.scope = ChildScope::All;
    act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::Appointments)),
    );
    update(
        &mut state,
        Msg::Answer(Answer::Children(child_page(EntityKind::Appointment))),
    );
    act(&mut state, Action::Move(Motion::Down));
    act(&mut state, Action::Move(Motion::Down));
    let contact = state.children.appointments.rows[2].contact_peer_id.clone();
    let effects = act(&mut state, Action::Select);
    assert_eq!(state.stack, vec![Screen::Contacts, Screen::Detail]);
    assert_eq!(
        state
            .contacts
            .selected_row()
            .and_then(|r| r.peer_id.clone()),
        contact
    );
    assert!(matches!(
        calls(&effects)[..],
        [Request::ContactDetail { .. }] | []
    ));
}

#[test]
fn without_a_selected_contact_the_children_screens_show_everyone() {
    let mut state = loaded_state();
    state.contacts.replace(Vec::new(), true);
    let effects = act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::Tasks)),
    );
    assert_eq!(state.children.scope, ChildScope::All);
    assert_eq!(calls(&effects), vec![&page_request(0)]);
    assert_eq!(
        state.flash.as_ref().map(|f| f.level),
        Some(FlashLevel::Info)
    );
    // And the toggle will not go to "this contact" with no contact to show.
    let effects = act(&mut state, Action::ChildrenScopeToggle);
    assert!(effects.is_empty());
    assert_eq!(state.children.scope, ChildScope::All);
}

#[test]
fn the_status_screen_refreshes_each_tick_only_while_shown() {
    let mut state = loaded_state();
    assert!(!wants_ticks(&state), "no timer on the contact list");
    assert!(update(&mut state, Msg::Tick(at(1))).is_empty());

    act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::Status)),
    );
    assert!(wants_ticks(&state));
    let effects = update(&mut state, Msg::Tick(at(2)));
    assert_eq!(calls(&effects), vec![&Request::Status]);
    assert_eq!(state.now, Some(at(2)));
    assert!(
        update(&mut state, Msg::Tick(at(3))).is_empty(),
        "the last refresh has not answered yet"
    );
    update(&mut state, Msg::Answer(Answer::Status(Box::new(status()))));
    assert_eq!(
        calls(&update(&mut state, Msg::Tick(at(4)))),
        vec![&Request::Status]
    );
    // A failed refresh does not stop the next one.
    update(
        &mut state,
        Msg::Answer(Answer::Failed {
            request: "status",
            class: "store".into(),
            message: "busy".into(),
        }),
    );
    assert_eq!(
        calls(&update(&mut state, Msg::Tick(at(5)))),
        vec![&Request::Status]
    );
    act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::SyncLog)),
    );
    assert!(!wants_ticks(&state));
}

#[test]
fn prompt_history_is_recalled_per_kind_and_never_moves_the_list() {
    let mut state = loaded_state();
    for line in ["contacts", "log", "contacts"] {
        act(&mut state, Action::Prompt(PromptKind::Command));
        update(&mut state, Msg::Paste(line.into()));
        act(&mut state, Action::Select);
    }
    act(&mut state, Action::Prompt(PromptKind::Filter));
    update(&mut state, Msg::Paste("bakery".into()));
    act(&mut state, Action::Select);
    assert_eq!(state.contacts.filter, "bakery");
    act(&mut state, Action::Back);
    assert_eq!(state.contacts.filter, "");

    let selected = state.contacts.selected;
    act(&mut state, Action::Prompt(PromptKind::Command));
    let input = |state: &AppState| state.prompt.as_ref().map(|p| p.input.clone());
    act(&mut state, Action::Move(Motion::Up));
    assert_eq!(input(&state).as_deref(), Some("contacts"), "deduplicated");
    act(&mut state, Action::Move(Motion::Up));
    assert_eq!(input(&state).as_deref(), Some("log"));
    act(&mut state, Action::Move(Motion::Up));
    assert_eq!(input(&state).as_deref(), Some("log"), "no older entry");
    act(&mut state, Action::Move(Motion::Down));
    act(&mut state, Action::Move(Motion::Down));
    assert_eq!(input(&state).as_deref(), Some(""), "back to the draft");
    assert_eq!(state.contacts.selected, selected, "the list did not move");
    act(&mut state, Action::Back);

    // The filter prompt has its own history, applied live as it is recalled.
    act(&mut state, Action::Prompt(PromptKind::Filter));
    act(&mut state, Action::Move(Motion::Up));
    assert_eq!(input(&state).as_deref(), Some("bakery"));
    assert_eq!(state.contacts.filter, "bakery");
}

#[test]
fn shift_c_retries_the_selected_rows_class_after_a_confirmation() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Failures];
    act(&mut state, Action::Move(Motion::Bottom)); // a validation failure
    let retry = Action::Retry {
        target: RetryTarget::SelectedClass,
        original: false,
    };
    assert!(act(&mut state, retry).is_empty());
    let Some(Popup::Confirm(confirm)) = &state.popup else {
        panic!("a confirm popup");
    };
    assert!(!confirm.yes_focused, "Cancel is the default");
    assert!(
        confirm.question.contains("validation (5)"),
        "{}",
        confirm.question
    );
    let effects = act(&mut state, Action::ConfirmYes);
    assert_eq!(
        calls(&effects),
        vec![&Request::Retry {
            selection: Selection::Class(ErrorClass::Validation),
            mode: RetryMode::CurrentMapping,
        }]
    );

    // Elsewhere there is no selected row, and under --read-only no retry at all.
    state.stack = vec![Screen::Contacts];
    assert!(act(&mut state, retry).is_empty());
    assert!(state.popup.is_none());
    state.stack = vec![Screen::Failures];
    state.read_only = true;
    assert!(act(&mut state, retry).is_empty());
    assert!(state.popup.is_none());
}

#[test]
fn sorting_applies_to_the_contact_list_only() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Failures];
    act(&mut state, Action::SortNext);
    assert_eq!(state.contacts.sort, Default::default());
}
