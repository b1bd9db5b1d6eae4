//! Pure render functions: `render(&AppState, &mut Frame)` draws the whole console from the
//! state alone, so snapshots need no engine and no terminal. Every layout adapts to the area it
//! gets; nothing assumes more than 80×24.

mod alerts;
mod children;
mod contacts;
mod detail;
mod failures;
mod frame;
mod log;
mod mapping;
mod popups;
mod service;
mod status;
mod util;

use crate::console::state::{AppState, Extent, Screen};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

pub use frame::hint_line;
pub use mapping::EDITOR_TITLE;

/// Header, body and footer of a screen of this size.
fn areas(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// How far what scrolls on screen now (the open popup, else the contact detail) can scroll at
/// the console's size: the reducer keeps scroll offsets inside it. `None`: nothing scrolls.
pub fn scroll_extent(state: &AppState) -> Option<Extent> {
    let (width, height) = state.size;
    let [_, body, _] = areas(Rect::new(0, 0, width, height));
    match &state.popup {
        Some(popup) => Some(popups::extent(state, popup, body)),
        None if state.screen() == Screen::Detail => detail::extent(state, body),
        None => None,
    }
}

pub fn render(state: &AppState, frame: &mut Frame) {
    let [header, body, footer] = areas(frame.area());
    frame::header(state, frame, header);
    match state.screen() {
        Screen::Contacts => contacts::render(state, frame, body),
        Screen::Detail => detail::render(state, frame, body),
        Screen::Tasks | Screen::Notes | Screen::Appointments => {
            children::render(state, frame, body)
        }
        Screen::Mapping => mapping::render(state, frame, body),
        Screen::SyncLog => log::render(state, frame, body),
        Screen::Failures => failures::render(state, frame, body),
        Screen::Status => status::render(state, frame, body),
        Screen::Alerts => alerts::render(state, frame, body),
    }
    popups::render(state, frame, body);
    frame::palette_matches(state, frame, body);
    frame::footer(state, frame, footer);
}
