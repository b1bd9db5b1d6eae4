//! Reducer tests for "one contact now" (`s` on a contact) and "one peer now" (`:sync peer now`).

use super::update;
use crate::console::action::{Action, PromptKind};
use crate::console::engine_api::ContactRef;
use crate::console::msg::{Answer, Effect, Msg, Request};
use crate::console::runner::effects::{answer_for, command_for};
use crate::console::state::{AppState, FlashLevel, Screen, SyncPhase};
use crate::console::tests::fixtures::{act, calls, loaded_state};
use crate::engine::{Command, Reply};
use crate::sync::RunReport;

fn palette(state: &mut AppState, line: &str) -> Vec<Effect> {
    act(state, Action::Prompt(PromptKind::Command));
    update(state, Msg::Paste(line.into()));
    act(state, Action::Select)
}

fn report(peer: &str, counts: &[(&str, u64)]) -> RunReport {
    RunReport {
        run: crate::store::RunRecord {
            id: 7,
            trigger: "contact".into(),
            peer: peer.into(),
            started_at: chrono::Utc::now(),
            ended_at: None,
            counts: counts.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            dry_run: false,
        },
        plan: Vec::new(),
    }
}

fn flash(state: &AppState) -> (FlashLevel, String) {
    let flash = state.flash.clone().expect("a flash line");
    (flash.level, flash.text)
}

#[test]
fn s_on_the_contact_list_syncs_the_row_under_the_cursor_by_its_ghl_id() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Contacts];
    let row = state.contacts.selected_row().cloned().expect("a row");
    let effects = act(&mut state, Action::SyncContact);
    let ghl_id = row.ghl_id.clone().expect("a linked row");
    assert_eq!(
        calls(&effects),
        [&Request::SyncContact {
            contact: ContactRef::Ghl(ghl_id.clone())
        }]
    );
    assert!(flash(&state).1.contains(&ghl_id), "{:?}", flash(&state));
    // A contact sync is no "sync now": the header's sync phase is left alone.
    assert_eq!(state.sync, SyncPhase::Idle);

    // The answer: counts in the flash line, and the screens read again.
    let reply = Reply::Runs {
        reports: vec![
            report("repsly", &[("update/ok", 1), ("skip/unchanged", 2)]),
            report("crm", &[("create/failed", 1)]),
        ],
    };
    let request = Request::SyncContact {
        contact: ContactRef::Ghl(ghl_id.clone()),
    };
    let effects = update(&mut state, Msg::Answer(answer_for(&request, reply)));
    let (level, text) = flash(&state);
    assert_eq!(level, FlashLevel::Warn, "a failure is a warning");
    assert_eq!(
        text,
        format!("contact GHL id {ghl_id} synced (repsly, crm): 1 written, 2 unchanged, 1 failed")
    );
    let asked = calls(&effects);
    assert!(asked.contains(&&Request::FailedQueue), "{asked:?}");
    assert!(asked.contains(&&Request::all_contacts()), "{asked:?}");
}

#[test]
fn s_on_an_unlinked_row_uses_its_peer_id_and_the_detail_its_ghl_id() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Contacts];
    let unlinked = state
        .contacts
        .visible
        .iter()
        .position(|&i| state.contacts.rows[i].ghl_id.is_none())
        .expect("the fixture has an unlinked row");
    state.contacts.selected = unlinked;
    let peer_id = state
        .contacts
        .selected_row()
        .and_then(|row| row.peer_id.clone())
        .expect("a peer id");
    let effects = act(&mut state, Action::SyncContact);
    assert_eq!(
        calls(&effects),
        [&Request::SyncContact {
            contact: ContactRef::Peer(peer_id)
        }]
    );

    state.stack = vec![Screen::Contacts, Screen::Detail];
    let ghl_id = state
        .detail
        .detail
        .as_ref()
        .and_then(|d| d.ghl_id.clone())
        .expect("the detail fixture is linked");
    let effects = act(&mut state, Action::SyncContact);
    assert_eq!(
        calls(&effects),
        [&Request::SyncContact {
            contact: ContactRef::Ghl(ghl_id)
        }]
    );
    // The request goes to the engine as "one contact now", about every peer.
    let request = calls(&effects)[0].clone();
    assert!(request.is_write() && request.is_about_every_peer());
    assert!(matches!(
        command_for(&request),
        Command::SyncContact {
            contact: ContactRef::Ghl(_)
        }
    ));
}

#[test]
fn a_failed_contact_sync_says_why_and_other_screens_have_no_contact() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Contacts];
    let request = Request::SyncContact {
        contact: ContactRef::Peer("C9".into()),
    };
    let reply = Reply::Error {
        class: "not_found".into(),
        message: "peer id C9 is linked to no GHL contact".into(),
    };
    update(&mut state, Msg::Answer(answer_for(&request, reply)));
    let (level, text) = flash(&state);
    assert_eq!(level, FlashLevel::Error);
    assert!(
        text.contains("sync contact failed (not_found)") && text.contains("C9"),
        "{text}"
    );

    state.stack = vec![Screen::Status];
    assert!(act(&mut state, Action::SyncContact).is_empty());
    assert!(
        flash(&state).1.contains("no contact here"),
        "{:?}",
        flash(&state)
    );
}

#[test]
fn the_palette_syncs_the_peer_on_screen_only() {
    let mut state = loaded_state();
    let effects = palette(&mut state, ":sync peer now");
    assert_eq!(calls(&effects), [&Request::SyncPeer]);
    assert_eq!(state.sync, SyncPhase::Running);
    assert!(flash(&state).1.contains("repsly"), "{:?}", flash(&state));
    // Sent to the peer on screen (not "every peer"), as a console-triggered run.
    assert!(!Request::SyncPeer.is_about_every_peer());
    assert!(matches!(
        command_for(&Request::SyncPeer),
        Command::Sync { ref options } if options.trigger == "console"
    ));
    // One at a time.
    assert!(palette(&mut state, ":sync peer").is_empty());
    let reply = Reply::Run {
        report: report("repsly", &[("update/ok", 3)]),
    };
    update(
        &mut state,
        Msg::Answer(answer_for(&Request::SyncPeer, reply)),
    );
    assert_eq!(state.sync, SyncPhase::Idle);
    assert!(flash(&state).1.contains("3 ok"), "{:?}", flash(&state));
    // Its failure shows in the header as a sync's does.
    palette(&mut state, ":sync peer");
    update(
        &mut state,
        Msg::Answer(Answer::Failed {
            request: Request::SyncPeer.label(),
            class: "auth".into(),
            message: "token expired".into(),
        }),
    );
    assert_eq!(state.sync, SyncPhase::Failed("token expired".into()));
}

#[test]
fn read_only_refuses_both_with_a_message() {
    let mut state = loaded_state();
    state.read_only = true;
    state.stack = vec![Screen::Contacts];
    assert!(act(&mut state, Action::SyncContact).is_empty());
    let (level, text) = flash(&state);
    assert_eq!(level, FlashLevel::Warn);
    assert!(
        text.contains("read-only") && text.contains("sync:contact"),
        "{text}"
    );
    assert!(palette(&mut state, ":sync peer now").is_empty());
    assert!(flash(&state).1.contains("read-only"), "{:?}", flash(&state));
    assert_eq!(state.sync, SyncPhase::Idle);
}
