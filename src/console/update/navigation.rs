//! Moving around: screens, the breadcrumb stack, cursors, Enter and Esc.

use super::{apply_filter, children, input};
use crate::console::action::{FocusTarget, Motion, PromptKind};
use crate::console::engine_api::ContactRef;
use crate::console::msg::{Effect, Request};
use crate::console::state::{AppState, ChildScope, FlashLevel, Popup, Screen};
use crate::console::views;

pub fn focus(state: &mut AppState, target: FocusTarget) -> Vec<Effect> {
    let current = state.screen();
    let screen = match target {
        FocusTarget::Screen(screen) => screen,
        FocusTarget::Next => current.next(),
        FocusTarget::Prev => current.prev(),
    };
    state.popup = None;
    state.prompt = None;
    if screen.is_top_level() {
        state.stack = vec![screen];
        return enter_screen(state, screen);
    }
    if screen == Screen::Detail {
        state.stack = vec![Screen::Contacts, Screen::Detail];
        return enter_screen(state, screen);
    }
    // Tasks, notes and appointments: Contacts › Contact › Tasks, or Tasks of everyone.
    state.children.selected = 0;
    state.stack = children::stack_for(state.children.scope, screen);
    enter_screen(state, screen)
}

/// What a screen needs from the engine when it comes into view.
pub fn enter_screen(state: &mut AppState, screen: Screen) -> Vec<Effect> {
    match screen {
        Screen::Contacts => vec![Effect::Call(Request::all_contacts())],
        Screen::Failures => vec![Effect::Call(Request::FailedQueue)],
        Screen::Status => vec![Effect::Call(Request::Status)],
        Screen::Alerts => vec![Effect::Call(Request::Alerts)],
        Screen::SyncLog => Vec::new(),
        Screen::Mapping if !state.mapping.loaded => vec![Effect::Call(Request::Mapping)],
        Screen::Mapping => Vec::new(),
        Screen::Tasks | Screen::Notes | Screen::Appointments
            if state.children.scope == ChildScope::All =>
        {
            children::reload(state, screen)
        }
        Screen::Tasks | Screen::Notes | Screen::Appointments
            if state.contacts.selected_row().is_none() =>
        {
            // No contact to show the children of: show everyone's rather than nothing.
            state.flash(
                FlashLevel::Info,
                "no contact selected: showing all contacts",
            );
            state.children.scope = ChildScope::All;
            state.stack = children::stack_for(ChildScope::All, screen);
            children::reload(state, screen)
        }
        Screen::Detail | Screen::Tasks | Screen::Notes | Screen::Appointments => {
            let Some(contact) = state.contacts.selected_row().and_then(|row| row.contact()) else {
                state.flash(FlashLevel::Info, "select a contact first");
                state.stack = vec![Screen::Contacts];
                return Vec::new();
            };
            open_contact_detail(state, contact)
        }
    }
}

/// The contact detail of `contact` (by peer or GHL id), asked for unless it is shown already.
pub fn open_contact_detail(state: &mut AppState, contact: ContactRef) -> Vec<Effect> {
    let shown = state.detail.contact.as_ref() == Some(&contact) && state.detail.detail.is_some();
    if shown {
        return Vec::new();
    }
    state.detail.contact = Some(contact.clone());
    state.detail.detail = None;
    state.detail.scroll = Default::default();
    vec![Effect::Call(Request::ContactDetail { contact })]
}

/// Scrolls the open popup, within what the view draws at this size.
pub fn scroll_popup(state: &mut AppState, motion: Motion) {
    if let Some(extent) = views::scroll_extent(state) {
        state.popup_scroll.apply(motion, extent);
    }
}

/// Rows a page-up/down moves: the body height less header, footer and table chrome.
fn page(state: &AppState) -> isize {
    state.size.1.saturating_sub(8).max(1) as isize
}

pub fn move_cursor(state: &mut AppState, motion: Motion) -> Vec<Effect> {
    let delta = match motion {
        Motion::Up => -1,
        Motion::Down => 1,
        Motion::PageUp => -page(state),
        Motion::PageDown => page(state),
        Motion::Top => isize::MIN / 2,
        Motion::Bottom => isize::MAX / 2,
    };
    if state.popup.is_some() {
        scroll_popup(state, motion);
        return Vec::new();
    }
    match state.screen() {
        Screen::Contacts => state.contacts.move_by(delta),
        Screen::SyncLog => {
            state.log.move_by(delta);
            if motion == Motion::Bottom {
                state.log.follow = true;
            }
        }
        Screen::Failures => state.failures.move_by(delta),
        Screen::Detail => {
            if let Some(extent) = views::scroll_extent(state) {
                state.detail.scroll.apply(motion, extent);
            }
        }
        Screen::Tasks | Screen::Notes | Screen::Appointments => {
            let len = children::len(state);
            state.children.selected = state
                .children
                .selected
                .saturating_add_signed(delta)
                .min(len.saturating_sub(1));
            return children::load_more(state);
        }
        Screen::Mapping => super::mapping::move_in_text(state, motion),
        Screen::Status => {}
        Screen::Alerts => state.alerts.move_by(delta),
    }
    Vec::new()
}

/// Enter: submit the prompt, open the row under the cursor.
pub fn select(state: &mut AppState) -> Vec<Effect> {
    if state.prompt.is_some() {
        return input::submit_prompt(state);
    }
    match &state.popup {
        Some(Popup::Help | Popup::LogDetail | Popup::FailureDetail | Popup::History) => {
            state.popup = None;
            return Vec::new();
        }
        Some(Popup::Confirm(_) | Popup::Unsaved(_) | Popup::Instances) | None => {}
    }
    match state.screen() {
        Screen::Contacts => {
            if state.contacts.selected_row().is_none() {
                return Vec::new();
            }
            state.stack.push(Screen::Detail);
            enter_screen(state, Screen::Detail)
        }
        Screen::SyncLog => {
            if state.log.selected_entry().is_some() {
                state.open_popup(Popup::LogDetail);
            }
            Vec::new()
        }
        Screen::Failures => {
            if state.failures.selected_op().is_some() {
                state.open_popup(Popup::FailureDetail);
            }
            Vec::new()
        }
        Screen::Mapping if !state.mapping.editing => edit_mapping(state),
        screen if screen.is_children() && state.children.scope == ChildScope::All => {
            children::open_contact(state, screen)
        }
        _ => Vec::new(),
    }
}

/// Esc: close the innermost thing — popup, prompt, editing, filter, then one breadcrumb.
pub fn back(state: &mut AppState) -> Vec<Effect> {
    if state.popup.take().is_some() {
        return Vec::new();
    }
    if let Some(prompt) = state.prompt.take() {
        if prompt.kind == PromptKind::Filter {
            apply_filter(state, &prompt.before);
        }
        return Vec::new();
    }
    if state.mapping.editing && state.screen() == Screen::Mapping {
        state.mapping.set_editing(false);
        return Vec::new();
    }
    match state.screen() {
        Screen::Contacts if !state.contacts.filter.is_empty() => {
            state.contacts.set_filter("");
            return Vec::new();
        }
        Screen::SyncLog if !state.log.filter_text.is_empty() => {
            state.log.set_filter("");
            return Vec::new();
        }
        Screen::Failures if !state.failures.filter.is_empty() => {
            state.failures.set_filter("");
            return Vec::new();
        }
        _ => {}
    }
    // Where this trail was entered from (Failures › a contact › Esc: Failures again).
    if let Some(trail) = state.nav.pop() {
        state.stack = trail;
        let screen = state.screen();
        return enter_screen(state, screen);
    }
    if state.stack.len() > 1 {
        state.stack.pop();
        let screen = state.screen();
        return enter_screen(state, screen);
    }
    if state.screen() != Screen::Contacts {
        state.stack = vec![Screen::Contacts];
        return enter_screen(state, Screen::Contacts);
    }
    Vec::new()
}

/// `e` / Enter on the mapping: start editing. Under `--read-only` the mapping is shown, never
/// edited: every edit ends in a save, which read-only refuses, so typing would only be lost.
pub fn edit_mapping(state: &mut AppState) -> Vec<Effect> {
    let mut effects = Vec::new();
    if state.screen() != Screen::Mapping {
        state.stack = vec![Screen::Mapping];
        effects = enter_screen(state, Screen::Mapping);
        effects.extend(input::mapping_check(state));
    }
    if state.read_only {
        state.flash(
            FlashLevel::Warn,
            "read-only: the mapping is shown, not edited (started with --read-only)",
        );
        return effects;
    }
    state.mapping.set_editing(true);
    effects
}
