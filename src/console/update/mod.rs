//! The reducer: `update(&mut AppState, Msg) -> Vec<Effect>`. Pure — no I/O, no clock, no
//! randomness — so every behaviour of the console is testable by feeding messages and looking
//! at the state and the effects. The runner performs the effects.

mod answers;
mod children;
mod failures;
mod input;
mod mapping;
mod navigation;
mod peers;
mod writes;

use crate::console::action::{Action, PromptKind};
use crate::console::msg::{Effect, Msg, Request};
use crate::console::state::{AppState, FlashLevel, Popup, PromptState, Screen};

pub use navigation::enter_screen;

/// How many log entries to load at start-up (the live stream adds to them).
pub const LOG_TAIL_ON_START: usize = 500;

/// The requests the console makes when it opens, and a first sync in demo mode.
pub fn init(state: &mut AppState, sync_at_once: bool) -> Vec<Effect> {
    let mut effects = vec![
        Effect::Call(Request::first_contacts()),
        Effect::Call(Request::LogTail {
            limit: LOG_TAIL_ON_START,
        }),
        Effect::Call(Request::Status),
        Effect::Call(Request::FailedQueue),
        Effect::Call(Request::Alerts),
    ];
    if sync_at_once && !state.read_only {
        effects.extend(writes::sync_now(state));
    }
    effects
}

pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    // Every move to another trail, whatever made it, is remembered for Esc (navigation::back
    // restores one without recording it).
    let before = state.stack.clone();
    // A flash says what the last thing did; the next key a person presses has read it, and
    // the hint line it covered comes back (an action that has news flashes again).
    if matches!(msg, Msg::Action(_) | Msg::Text(_) | Msg::Paste(_)) {
        state.flash = None;
    }
    let effects = dispatch(state, msg);
    if !state.nav.take_returning() && state.stack != before {
        let after = state.stack.clone();
        state.nav.record(before, &after);
    }
    effects
}

fn dispatch(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Action(action) => on_action(state, action),
        Msg::Text(key) => input::on_key(state, key),
        Msg::Paste(text) => input::on_paste(state, &text),
        Msg::Resize(width, height) => {
            state.size = (width, height);
            Vec::new()
        }
        Msg::PendingKeys(keys) => {
            state.pending_keys = keys;
            Vec::new()
        }
        Msg::Warning(text) => {
            state.flash(FlashLevel::Warn, text);
            Vec::new()
        }
        Msg::Answer(answer) => answers::on_answer(state, answer),
        Msg::Log(entry) => answers::on_log(state, entry),
        Msg::Tick(now) => on_tick(state, now),
        Msg::Alert(alert) => answers::on_alert(state, alert),
        Msg::Connection { connected, message } => {
            crate::console::instances::on_connection(state, connected, message)
        }
        Msg::Instances(list) => crate::console::instances::on_list(state, list),
        Msg::Switched(result) => crate::console::instances::switched(state, result),
    }
}

/// The status screen's 1 Hz refresh. The runner only ticks while Status is on screen; a tick
/// that arrives after leaving it (or while the last answer is outstanding) asks for nothing.
fn on_tick(state: &mut AppState, now: chrono::DateTime<chrono::Utc>) -> Vec<Effect> {
    state.now = Some(now);
    if state.screen() != Screen::Status || state.status_pending {
        return Vec::new();
    }
    state.status_pending = true;
    vec![Effect::Call(Request::Status)]
}

/// Whether the runner should tick: only while the status screen is what a person sees.
pub fn wants_ticks(state: &AppState) -> bool {
    state.screen() == Screen::Status && !state.quitting
}

fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    if action.is_write() && state.read_only {
        state.flash(
            FlashLevel::Warn,
            format!("read-only: \"{action}\" is disabled (started with --read-only)"),
        );
        return Vec::new();
    }
    // The confirm popup owns the keyboard: only its answers (and quitting) get through.
    if let Some(Popup::Confirm(_)) = &state.popup {
        return writes::on_confirm_key(state, action);
    }
    if let Some(Popup::Unsaved(_)) = &state.popup {
        return mapping::on_unsaved_key(state, action);
    }
    if let Some(effects) = crate::console::instances::on_key(state, action) {
        return effects;
    }
    if let Some(effects) = mapping::guard(state, action) {
        return effects;
    }
    match action {
        Action::Quit => {
            state.quitting = true;
            vec![Effect::Quit]
        }
        Action::Help => {
            match state.popup {
                Some(Popup::Help) => state.popup = None,
                _ => state.open_popup(Popup::Help),
            }
            Vec::new()
        }
        Action::Prompt(kind) => open_prompt(state, kind),
        Action::Focus(target) => navigation::focus(state, target),
        Action::Move(motion) if state.prompt.is_some() => {
            input::recall(state, motion);
            Vec::new()
        }
        Action::Move(motion) => navigation::move_cursor(state, motion),
        Action::Select => navigation::select(state),
        Action::Back => navigation::back(state),
        Action::ChildrenScopeToggle => children::toggle_scope(state),
        Action::ToggleMark => {
            if state.screen() == Screen::Failures {
                state.failures.toggle_mark();
            }
            Vec::new()
        }
        Action::SyncNow => writes::sync_now(state),
        Action::Retry { target, original } => writes::retry(state, target, original),
        Action::Skip => writes::close(state, false),
        Action::Resolve => writes::close(state, true),
        Action::LogFollowToggle => {
            state.log.follow = !state.log.follow;
            if state.log.follow {
                state.log.select_last();
            }
            Vec::new()
        }
        Action::LogWrapToggle => {
            state.log.wrap = !state.log.wrap;
            Vec::new()
        }
        Action::LogTimestampsToggle => {
            state.log.timestamps = !state.log.timestamps;
            Vec::new()
        }
        Action::LogClear => {
            state.log.entries.clear();
            state.log.selected = 0;
            Vec::new()
        }
        Action::LogDetail => {
            if state.log.selected_entry().is_some() {
                state.open_popup(Popup::LogDetail);
            }
            Vec::new()
        }
        Action::DetailHistory => {
            if state.screen() == Screen::Detail
                && state
                    .detail
                    .detail
                    .as_ref()
                    .is_some_and(|detail| !detail.history.is_empty())
            {
                state.open_popup(Popup::History);
            }
            Vec::new()
        }
        Action::JumpContact => failures::jump_contact(state),
        Action::CopyId => failures::copy_id(state),
        Action::MappingEdit => navigation::edit_mapping(state),
        Action::MappingSave => writes::confirm_or_run(state, writes::save_mapping_write()),
        Action::MappingUndo => writes::confirm_or_run(state, writes::undo_mapping_write()),
        Action::MappingDiscard => writes::discard_mapping(state),
        Action::MappingPreview => mapping::open_preview_prompt(state),
        // Only the contact list sorts; a user keymap binding these elsewhere does nothing.
        Action::SortNext if state.screen() == Screen::Contacts => {
            state.contacts.cycle_sort();
            Vec::new()
        }
        Action::SortReverse if state.screen() == Screen::Contacts => {
            state.contacts.toggle_reverse();
            Vec::new()
        }
        Action::SortNext | Action::SortReverse => Vec::new(),
        Action::Suspend => vec![Effect::Suspend],
        Action::Redraw => vec![Effect::ClearScreen],
        Action::PeerNext => peers::switch(state, None),
        Action::SyncContact => writes::sync_contact(state),
        Action::SyncPeer => writes::sync_peer(state),
        Action::Noop | Action::ConfirmYes | Action::ConfirmNo | Action::ConfirmSwitch => Vec::new(),
    }
}

fn open_prompt(state: &mut AppState, kind: PromptKind) -> Vec<Effect> {
    let current = match (kind, state.screen()) {
        (PromptKind::Filter, Screen::Contacts) => state.contacts.filter.clone(),
        (PromptKind::Filter, Screen::SyncLog) => state.log.filter_text.clone(),
        (PromptKind::Filter, Screen::Failures) => state.failures.filter.clone(),
        // Mapping: `/` finds text in the mapping. Elsewhere the prompt opens too, so what is
        // typed after `/` is never taken for keys; Enter then says the screen has no filter.
        (PromptKind::Filter, _) | (PromptKind::Command, _) => String::new(),
    };
    state.prompt = Some(PromptState::new(kind, &current));
    Vec::new()
}

/// Applies the filter prompt's text to the screen it belongs to, as the user types.
fn apply_filter(state: &mut AppState, text: &str) {
    match state.screen() {
        Screen::Contacts => state.contacts.set_filter(text),
        Screen::SyncLog => state.log.set_filter(text),
        Screen::Failures => state.failures.set_filter(text),
        Screen::Mapping => {
            state.mapping.find(text);
        }
        _ => {}
    }
}

/// What Enter on the filter prompt says where nothing was filtered: the mapping's text not
/// found, or a screen that has no filter.
fn filter_submitted(state: &mut AppState, text: &str) {
    match state.screen() {
        Screen::Contacts | Screen::SyncLog | Screen::Failures => {}
        Screen::Mapping => {
            if !text.is_empty() && !state.mapping.find(text) {
                state.flash(FlashLevel::Info, format!("not in the mapping: {text}"));
            }
        }
        screen => state.flash(
            FlashLevel::Info,
            format!(
                "{} has no filter; try :contacts, :log or :failures",
                screen.title()
            ),
        ),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_editor;
#[cfg(test)]
mod tests_failures;
#[cfg(test)]
mod tests_peers;
#[cfg(test)]
mod tests_scope;
#[cfg(test)]
mod tests_sync_one;
