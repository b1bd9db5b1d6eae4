//! Reducer tests of the failures loop: the `/` filter (typed keys are text, never actions),
//! scrolling popups and the detail, jumping to a failure's contact in both directions, `R` on
//! a reason, and the OSC 52 copy.

use super::update;
use crate::console::action::{Action, FocusTarget, Motion, PromptKind, RetryTarget};
use crate::console::engine_api::{ContactRef, ContactRow, RowState};
use crate::console::keymap::Keymap;
use crate::console::msg::{Answer, Effect, Msg, Request};
use crate::console::runner::keys;
use crate::console::state::{AppState, Popup, Screen};
use crate::console::tests::fixtures::{act, calls, contact_rows, ghl_only_detail, loaded_state};
use crate::console::views::scroll_extent;
use crate::sync::{RetryMode, Selection};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

fn on_failures() -> AppState {
    let mut state = loaded_state();
    state.stack = vec![Screen::Failures];
    state
}

/// Puts the cursor on the failure with this operation id.
fn select_failure(state: &mut AppState, id: u64) {
    let position = state
        .failures
        .visible_ops()
        .position(|op| op.id == id)
        .expect("the failure is visible");
    state.failures.selected = position;
}

fn visible_ids(state: &AppState) -> Vec<u64> {
    state.failures.visible_ops().map(|op| op.id).collect()
}

#[test]
fn the_filter_applies_as_typed_esc_restores_and_clears_it() {
    let mut state = on_failures();
    act(&mut state, Action::Prompt(PromptKind::Filter));
    update(&mut state, Msg::Paste("no_match".into()));
    assert_eq!(visible_ids(&state), [7, 8], "live, as typed");
    // Esc in the prompt gives back the filter it opened with (none).
    act(&mut state, Action::Back);
    assert!(state.prompt.is_none());
    assert_eq!(state.failures.visible_len(), 7);
    // Enter keeps it; Esc on the screen then clears it before anything else.
    act(&mut state, Action::Prompt(PromptKind::Filter));
    update(&mut state, Msg::Paste("GHLNEW".into()));
    act(&mut state, Action::Select);
    assert_eq!(state.failures.filter, "GHLNEW");
    assert_eq!(visible_ids(&state), [14], "by GHL id, in any case");
    act(&mut state, Action::Back);
    assert_eq!(state.failures.filter, "");
    assert_eq!(
        state.screen(),
        Screen::Failures,
        "Esc cleared, did not leave"
    );
    assert_eq!(state.failures.visible_len(), 7);
}

#[test]
fn keys_typed_after_slash_are_text_and_never_run() {
    let (keymap, _) = Keymap::builtin();
    let mut state = on_failures();
    let mut pending = Vec::new();
    let mut effects = Vec::new();
    let mut send = |state: &mut AppState, key: KeyEvent, effects: &mut Vec<Effect>| {
        for msg in keys::messages(&keymap, state, &mut pending, Event::Key(key)) {
            effects.extend(update(state, msg));
        }
    };
    let plain = |code: KeyCode| KeyEvent::new(code, KeyModifiers::NONE);
    send(&mut state, plain(KeyCode::Char('/')), &mut effects);
    assert!(state.prompt.is_some(), "/ opens the filter");
    // r retries, R retries a reason, q quits, 1 goes to Contacts, y copies, c jumps: not here.
    for c in ['r', 'R', 'q', '1', 'y', 'c', 'j', 'G', '?', ':'] {
        send(&mut state, plain(KeyCode::Char(c)), &mut effects);
    }
    // A terminal may report an upper-case letter with Shift: still text.
    send(
        &mut state,
        KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT),
        &mut effects,
    );
    assert_eq!(
        state.prompt.as_ref().map(|p| p.input.as_str()),
        Some("rRq1ycjG?:R")
    );
    assert_eq!(state.failures.filter, "rRq1ycjG?:R", "applied live");
    assert!(effects.is_empty(), "no action ran: {effects:?}");
    assert!(!state.quitting);
    assert_eq!(state.screen(), Screen::Failures);
    assert_eq!(state.popup, None);
    assert_eq!(state.flash, None);
    // Backspace edits, Enter applies, and only then do keys act again.
    for _ in 0..11 {
        send(&mut state, plain(KeyCode::Backspace), &mut effects);
    }
    send(&mut state, plain(KeyCode::Char('7')), &mut effects);
    send(&mut state, plain(KeyCode::Enter), &mut effects);
    assert_eq!(state.failures.filter, "7");
    assert!(effects.is_empty());
    send(&mut state, plain(KeyCode::Char('1')), &mut effects);
    assert_eq!(state.screen(), Screen::Contacts, "1 is a key again");
}

#[test]
fn popups_and_the_detail_scroll_within_bounds_and_say_where() {
    let mut state = on_failures();
    state.size = (80, 24);
    select_failure(&mut state, 14);
    act(&mut state, Action::Select);
    assert_eq!(state.popup, Some(Popup::FailureDetail));
    let extent = scroll_extent(&state).expect("the detail scrolls");
    assert!(
        extent.total > extent.viewport,
        "all of a failure is longer than 24 rows: {extent:?}"
    );
    assert_eq!(
        state.popup_scroll.position(extent).as_deref(),
        Some(format!("1–{} of {}", extent.viewport, extent.total).as_str())
    );
    act(&mut state, Action::Move(Motion::Up));
    assert_eq!(state.popup_scroll.offset, 0, "nothing above the top");
    act(&mut state, Action::Move(Motion::Down));
    act(&mut state, Action::Move(Motion::PageDown));
    assert_eq!(
        state.popup_scroll.offset,
        extent.viewport.min(extent.max_offset())
    );
    act(&mut state, Action::Move(Motion::Bottom));
    assert_eq!(state.popup_scroll.offset, extent.max_offset());
    act(&mut state, Action::Move(Motion::Down));
    assert_eq!(
        state.popup_scroll.offset,
        extent.max_offset(),
        "nor below the bottom"
    );
    assert_eq!(
        state.popup_scroll.position(extent),
        Some(format!(
            "{}–{} of {}",
            extent.max_offset() + 1,
            extent.total,
            extent.total
        ))
    );
    assert_eq!(
        state.failures.selected_op().map(|op| op.id),
        Some(14),
        "the list stayed"
    );
    // A popup opens at its top.
    act(&mut state, Action::Back);
    act(&mut state, Action::Help);
    assert_eq!(state.popup_scroll.offset, 0);
    act(&mut state, Action::Move(Motion::PageDown));
    assert!(state.popup_scroll.offset > 0, "help scrolls");
    act(&mut state, Action::Move(Motion::Top));
    assert_eq!(state.popup_scroll.offset, 0);

    // The contact detail scrolls its mapped fields the same way, on a short terminal.
    let mut state = loaded_state();
    state.stack = vec![Screen::Contacts, Screen::Detail];
    state.size = (80, 16);
    let extent = scroll_extent(&state).expect("the detail scrolls");
    assert_eq!(extent.total, 4);
    act(&mut state, Action::Move(Motion::Bottom));
    assert_eq!(state.detail.scroll.offset, extent.max_offset());
    act(&mut state, Action::Move(Motion::Down));
    assert_eq!(state.detail.scroll.offset, extent.max_offset());
}

#[test]
fn a_long_confirm_question_scrolls_and_j_k_do_not_press_a_button() {
    let mut state = on_failures();
    state.size = (80, 12);
    act(
        &mut state,
        Action::Retry {
            target: RetryTarget::SelectedReason,
            original: false,
        },
    );
    let Some(Popup::Confirm(confirm)) = &mut state.popup else {
        panic!("a confirm popup");
    };
    confirm.question = "Retry every failure of reason validation? ".repeat(12);
    let extent = scroll_extent(&state).expect("the question scrolls");
    assert!(extent.total > extent.viewport, "{extent:?}");
    act(&mut state, Action::Move(Motion::Bottom));
    assert_eq!(state.popup_scroll.offset, extent.max_offset());
    let Some(Popup::Confirm(confirm)) = &state.popup else {
        panic!("still open");
    };
    assert!(!confirm.yes_focused, "scrolling leaves Cancel focused");
}

/// The contact list with the GHL contact whose create in the peer failed (op 14).
fn with_ghl_only_row(state: &mut AppState) {
    let mut rows = contact_rows();
    rows.push(ContactRow {
        peer_id: None,
        ghl_id: Some("ghlnew0001".into()),
        name: "Juniper Bakery".into(),
        email: Some("hello@juniper.example".into()),
        phone: Some("+1 555 0199".into()),
        company: Some("Juniper Bakery".into()),
        state: RowState::Failed,
        last_at: None,
    });
    state.contacts.replace(rows, true);
}

#[test]
fn c_jumps_to_the_contact_of_a_failure_in_either_direction() {
    // Peer → GHL: the contact by its peer id, selected in the list.
    let mut state = on_failures();
    select_failure(&mut state, 7);
    let effects = act(&mut state, Action::JumpContact);
    assert_eq!(state.stack, vec![Screen::Failures, Screen::Detail]);
    assert_eq!(
        state
            .contacts
            .selected_row()
            .and_then(|r| r.peer_id.as_deref()),
        Some("C1000")
    );
    // The fixture's detail is C1000's already: nothing to ask for.
    assert!(calls(&effects).is_empty(), "{effects:?}");
    assert_eq!(state.detail.contact, Some(ContactRef::Peer("C1000".into())));

    // A note: its contact.
    let mut state = on_failures();
    select_failure(&mut state, 20);
    act(&mut state, Action::Select); // from the failure's detail too
    let effects = act(&mut state, Action::JumpContact);
    assert_eq!(state.popup, None);
    assert_eq!(
        calls(&effects),
        vec![&Request::ContactDetail {
            contact: ContactRef::Peer("C1007".into())
        }]
    );

    // GHL → peer, not linked yet: by its GHL id, which the contact list finds too.
    let mut state = on_failures();
    with_ghl_only_row(&mut state);
    state.contacts.set_filter("acme");
    select_failure(&mut state, 14);
    let effects = act(&mut state, Action::JumpContact);
    assert_eq!(
        calls(&effects),
        vec![&Request::ContactDetail {
            contact: ContactRef::Ghl("ghlnew0001".into())
        }]
    );
    assert_eq!(
        state.contacts.selected_row().map(|r| r.name.as_str()),
        Some("Juniper Bakery"),
        "selected in the list, its filter cleared"
    );
    // The answer is GHL's side alone; it is the one asked for, and is shown.
    update(
        &mut state,
        Msg::Answer(Answer::Detail(Box::new(ghl_only_detail()))),
    );
    let detail = state.detail.detail.as_ref().expect("the detail is kept");
    assert_eq!(
        (detail.peer_id.as_deref(), detail.ghl_id.as_deref()),
        (None, Some("ghlnew0001"))
    );
    // Esc comes back to the failure; the contact list has the contact selected, and Enter
    // there opens it again by GHL id.
    let effects = act(&mut state, Action::Back);
    assert_eq!(state.stack, vec![Screen::Failures]);
    assert_eq!(calls(&effects), vec![&Request::FailedQueue]);
    assert_eq!(state.failures.selected_op().map(|op| op.id), Some(14));
    act(
        &mut state,
        Action::Focus(FocusTarget::Screen(Screen::Contacts)),
    );
    state.detail = Default::default();
    let effects = act(&mut state, Action::Select);
    assert_eq!(
        calls(&effects),
        vec![&Request::ContactDetail {
            contact: ContactRef::Ghl("ghlnew0001".into())
        }]
    );
}

#[test]
fn the_contact_list_finds_a_ghl_only_contact_by_its_ghl_id() {
    let mut state = loaded_state();
    with_ghl_only_row(&mut state);
    state.contacts.set_filter("GHLNEW0001");
    assert_eq!(state.contacts.visible.len(), 1);
    assert_eq!(
        state.contacts.selected_row().and_then(|r| r.contact()),
        Some(ContactRef::Ghl("ghlnew0001".into()))
    );
}

#[test]
fn shift_r_retries_the_selected_rows_reason_after_a_confirmation() {
    let mut state = on_failures();
    select_failure(&mut state, 8);
    let retry = Action::Retry {
        target: RetryTarget::SelectedReason,
        original: false,
    };
    assert!(act(&mut state, retry).is_empty(), "asks first");
    let Some(Popup::Confirm(confirm)) = &state.popup else {
        panic!("a confirm popup");
    };
    assert!(!confirm.yes_focused, "Cancel is the default");
    assert_eq!(
        confirm.question,
        "Retry every failure of reason no_match_key (2)?"
    );
    let effects = act(&mut state, Action::ConfirmYes);
    assert_eq!(
        calls(&effects),
        vec![&Request::Retry {
            selection: Selection::Reason("no_match_key".into()),
            mode: RetryMode::CurrentMapping,
        }]
    );
    // A failure with no reason of its own: its class's name is its code.
    select_failure(&mut state, 9);
    act(&mut state, retry);
    let Some(Popup::Confirm(confirm)) = &state.popup else {
        panic!("a confirm popup");
    };
    assert_eq!(
        confirm.question,
        "Retry every failure of reason transient (1)?"
    );
    // Elsewhere there is no selected failure.
    act(&mut state, Action::Back);
    state.stack = vec![Screen::Contacts];
    assert!(act(&mut state, retry).is_empty());
    assert_eq!(state.popup, None);
}

#[test]
fn y_copies_the_record_id_with_osc52_and_says_so() {
    let mut state = on_failures();
    select_failure(&mut state, 14);
    let effects = act(&mut state, Action::CopyId);
    assert_eq!(effects, vec![Effect::Copy("ghlnew0001".into())]);
    assert_eq!(
        state.flash.as_ref().map(|f| f.text.as_str()),
        Some("copied ghlnew0001 to the clipboard (OSC 52)")
    );
    // Off the Failures screen it copies nothing.
    state.stack = vec![Screen::Contacts];
    assert!(act(&mut state, Action::CopyId).is_empty());
}

#[test]
fn the_contact_history_opens_in_full_and_scrolls() {
    let mut state = loaded_state();
    state.size = (80, 24);
    state.stack = vec![Screen::Contacts, Screen::Detail];
    let mut detail = ghl_only_detail();
    let mut entry = detail.history[0].clone();
    entry.message = Some("rejected: ".repeat(80));
    detail.history = vec![entry; 12];
    state.detail.detail = Some(Box::new(detail));
    act(&mut state, Action::DetailHistory);
    assert_eq!(state.popup, Some(Popup::History));
    let extent = scroll_extent(&state).expect("the popup scrolls");
    assert!(extent.total > extent.viewport, "{extent:?}");
    act(
        &mut state,
        Action::Move(crate::console::action::Motion::Bottom),
    );
    assert_eq!(
        state.popup_scroll.clamped(extent),
        extent.total - extent.viewport
    );
    act(&mut state, Action::Back);
    assert_eq!(state.popup, None);
}

#[test]
fn the_sync_summary_counts_parked_records_as_the_header_does() {
    let mut state = loaded_state();
    let mut counts = std::collections::BTreeMap::new();
    counts.insert("create/ok".to_string(), 5);
    counts.insert("create/failed".to_string(), 2);
    counts.insert("create/parked".to_string(), 3);
    let report = crate::sync::RunReport {
        run: crate::store::RunRecord {
            id: 4,
            trigger: "console".into(),
            peer: "repsly".into(),
            started_at: chrono::Utc::now(),
            ended_at: None,
            counts,
            dry_run: false,
        },
        plan: Vec::new(),
    };
    update(
        &mut state,
        Msg::Answer(crate::console::msg::Answer::Ran(Box::new(report))),
    );
    let flash = state.flash.expect("the summary");
    assert_eq!(
        flash.text,
        "sync 4 done: 5 ok, 0 unchanged, 2 failed, 3 parked"
    );
}
