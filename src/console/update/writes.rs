//! Actions that change something: sync, retry, skip, resolve, save and undo the mapping.
//! Dangerous ones go through the confirm popup first, with Cancel focused.

use crate::console::action::{Action, RetryTarget};
use crate::console::engine_api::ContactRef;
use crate::console::msg::{Effect, Request};
use crate::console::state::{
    AppState, Confirm, FlashLevel, PendingWrite, Popup, Screen, SyncPhase,
};
use crate::sync::{RetryMode, Selection, reason_code};

pub fn sync_now(state: &mut AppState) -> Vec<Effect> {
    if state.sync == SyncPhase::Running {
        state.flash(FlashLevel::Info, "a sync is already running");
        return Vec::new();
    }
    state.sync = SyncPhase::Running;
    state.flash(FlashLevel::Info, "sync started");
    vec![Effect::Call(Request::SyncNow)]
}

/// "One contact now": the contact under the cursor (contact list) or on screen (detail), by
/// its GHL id when it has one (the engine syncs GHL's side to every peer), else its peer id.
pub fn sync_contact(state: &mut AppState) -> Vec<Effect> {
    let contact = match state.screen() {
        Screen::Contacts => state.contacts.selected_row().and_then(|row| {
            row.ghl_id
                .clone()
                .map(ContactRef::Ghl)
                .or_else(|| row.contact())
        }),
        Screen::Detail => state
            .detail
            .detail
            .as_ref()
            .and_then(|detail| detail.ghl_id.clone())
            .map(ContactRef::Ghl)
            .or_else(|| state.detail.contact.clone()),
        _ => None,
    };
    let Some(contact) = contact else {
        state.flash(
            FlashLevel::Info,
            "no contact here: pick one in the contact list (1) or open its detail",
        );
        return Vec::new();
    };
    state.flash(FlashLevel::Info, format!("syncing contact {contact} now…"));
    vec![Effect::Call(Request::SyncContact { contact })]
}

/// "One peer now": a sync of the peer on screen only (the runner sends it to that peer).
pub fn sync_peer(state: &mut AppState) -> Vec<Effect> {
    if state.sync == SyncPhase::Running {
        state.flash(FlashLevel::Info, "a sync is already running");
        return Vec::new();
    }
    if state.peer.is_empty() {
        state.flash(
            FlashLevel::Info,
            "which peer is on screen is not known yet (the status has not answered); try again in a moment",
        );
        return Vec::new();
    }
    state.sync = SyncPhase::Running;
    state.flash(
        FlashLevel::Info,
        format!("sync of peer {} started", state.peer),
    );
    vec![Effect::Call(Request::SyncPeer)]
}

/// The failed operations "the selection" means on the current screen.
fn selected_ids(state: &AppState) -> Vec<u64> {
    match state.screen() {
        Screen::Failures => state.failures.target_ids(),
        // On a contact, the contact's own open failures.
        Screen::Contacts | Screen::Detail => {
            let contact = match state.screen() {
                Screen::Detail => state.detail.contact.clone(),
                _ => state.contacts.selected_row().and_then(|row| row.contact()),
            };
            let Some(contact) = contact else {
                return Vec::new();
            };
            // The contact's own writes: by its peer id, or (not linked yet) its GHL id.
            state
                .failures
                .operations
                .iter()
                .filter(|op| op.source_id == contact.id())
                .map(|op| op.id)
                .collect()
        }
        _ => Vec::new(),
    }
}

pub fn retry(state: &mut AppState, target: RetryTarget, original: bool) -> Vec<Effect> {
    let mode = if original {
        RetryMode::OriginalPayload
    } else {
        state.failures.retry_mode
    };
    let (selection, question) = match target {
        RetryTarget::Selected => {
            let ids = selected_ids(state);
            if ids.is_empty() {
                state.flash(FlashLevel::Info, "nothing to retry here");
                return Vec::new();
            }
            let question = format!("Retry {} operation(s)?", ids.len());
            (Selection::Ids(ids), question)
        }
        RetryTarget::SelectedClass => {
            let class = match state.screen() {
                Screen::Failures => state
                    .failures
                    .selected_op()
                    .and_then(|op| op.error.as_ref())
                    .map(|error| error.class),
                _ => None,
            };
            let Some(class) = class else {
                state.flash(
                    FlashLevel::Info,
                    "select a failure first (:failures); its class is retried",
                );
                return Vec::new();
            };
            let count = state
                .failures
                .operations
                .iter()
                .filter(|op| op.error.as_ref().is_some_and(|e| e.class == class))
                .count();
            (
                Selection::Class(class),
                format!("Retry every failure of class {} ({count})?", class.as_str()),
            )
        }
        RetryTarget::SelectedReason => {
            let code = match state.screen() {
                Screen::Failures => state.failures.selected_op().map(reason_code),
                _ => None,
            };
            let Some(code) = code.map(|code| code.as_str().to_string()) else {
                state.flash(
                    FlashLevel::Info,
                    "select a failure first (:failures); its reason is retried",
                );
                return Vec::new();
            };
            let count = state.failures.reason_count(&code);
            let question = format!("Retry every failure of reason {code} ({count})?");
            (Selection::Reason(code), question)
        }
        RetryTarget::Class(class) => (
            Selection::Class(class),
            format!("Retry every failure of class {}?", class.as_str()),
        ),
        RetryTarget::All => (Selection::All, "Retry every failure?".to_string()),
    };
    let write = PendingWrite::Retry { selection, mode };
    let action = Action::Retry { target, original };
    if action.is_dangerous() {
        ask(state, question, write)
    } else {
        run(state, write)
    }
}

pub fn close(state: &mut AppState, resolved: bool) -> Vec<Effect> {
    let ids = selected_ids(state);
    if ids.is_empty() {
        state.flash(FlashLevel::Info, "select a failure first (:failures)");
        return Vec::new();
    }
    let verb = if resolved { "Mark resolved" } else { "Skip" };
    let question = format!("{verb} {} operation(s)?", ids.len());
    ask(
        state,
        question,
        PendingWrite::Close {
            selection: Selection::Ids(ids),
            resolved,
        },
    )
}

pub fn save_mapping_write() -> PendingWrite {
    PendingWrite::SaveMapping
}

pub fn undo_mapping_write() -> PendingWrite {
    PendingWrite::UndoMapping
}

pub fn discard_mapping(state: &mut AppState) -> Vec<Effect> {
    if !state.mapping.is_dirty() {
        state.flash(FlashLevel::Info, "no unsaved changes");
        return Vec::new();
    }
    ask(
        state,
        "Discard unsaved mapping changes?".to_string(),
        PendingWrite::DiscardMapping,
    )
}

/// Save and undo always confirm (they change what every later sync writes).
pub fn confirm_or_run(state: &mut AppState, write: PendingWrite) -> Vec<Effect> {
    if !state.mapping.loaded {
        state.flash(FlashLevel::Info, "open the mapping editor first (:mapping)");
        return Vec::new();
    }
    let question = match &write {
        PendingWrite::SaveMapping if !state.mapping.is_dirty() => {
            state.flash(FlashLevel::Info, "no changes to save");
            return Vec::new();
        }
        PendingWrite::SaveMapping if state.mapping.problem.is_some() => {
            state.flash(FlashLevel::Error, "fix the mapping error before saving");
            return Vec::new();
        }
        PendingWrite::SaveMapping => "Save the mapping as a new version?".to_string(),
        _ => "Go back to the previous mapping version?".to_string(),
    };
    ask(state, question, write)
}

fn ask(state: &mut AppState, question: String, write: PendingWrite) -> Vec<Effect> {
    state.open_popup(Popup::Confirm(Confirm {
        question,
        write,
        yes_focused: false,
    }));
    Vec::new()
}

/// Keys while the confirm popup is open.
pub fn on_confirm_key(state: &mut AppState, action: Action) -> Vec<Effect> {
    let Some(Popup::Confirm(confirm)) = &mut state.popup else {
        return Vec::new();
    };
    match action {
        Action::ConfirmYes => {}
        Action::Select if confirm.yes_focused => {}
        Action::Select | Action::ConfirmNo | Action::Back => {
            state.popup = None;
            state.flash(FlashLevel::Info, "cancelled");
            return Vec::new();
        }
        Action::ConfirmSwitch | Action::Focus(_) => {
            confirm.yes_focused = !confirm.yes_focused;
            return Vec::new();
        }
        // A question longer than the popup scrolls, as every popup does.
        Action::Move(motion) => {
            super::navigation::scroll_popup(state, motion);
            return Vec::new();
        }
        Action::Quit => {
            state.quitting = true;
            return vec![Effect::Quit];
        }
        _ => return Vec::new(),
    }
    let write = confirm.write.clone();
    state.popup = None;
    run(state, write)
}

fn run(state: &mut AppState, write: PendingWrite) -> Vec<Effect> {
    let request = match write {
        PendingWrite::Retry { selection, mode } => Request::Retry { selection, mode },
        PendingWrite::Close {
            selection,
            resolved,
        } => Request::Close {
            selection,
            resolved,
        },
        PendingWrite::SaveMapping => Request::SaveMapping {
            text: state.mapping.text(),
        },
        PendingWrite::UndoMapping => Request::UndoMapping,
        PendingWrite::DiscardMapping => return super::mapping::discard(state),
    };
    // Under --read-only nothing reaches here (on_action refuses writes), but a confirm opened
    // before cannot exist either: the check is cheap insurance.
    if state.read_only && request.is_write() {
        state.flash(FlashLevel::Warn, "read-only: refused");
        return Vec::new();
    }
    state.flash(FlashLevel::Info, format!("{}…", request.label()));
    vec![Effect::Call(request)]
}
