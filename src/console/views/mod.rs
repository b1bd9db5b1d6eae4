//! Pure render functions: `render(&AppState, &mut Frame)` draws the whole console from the
//! state alone, so snapshots need no engine and no terminal. Every layout adapts to the area it
//! gets; nothing assumes more than 80×24.

mod children;
mod contacts;
mod detail;
mod failures;
mod frame;
mod log;
mod mapping;
mod popups;
mod status;
mod util;

use crate::console::state::{AppState, Screen};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

pub use frame::hint_line;
pub use mapping::EDITOR_TITLE;

pub fn render(state: &AppState, frame: &mut Frame) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
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
    }
    popups::render(state, frame, body);
    frame::palette_matches(state, frame, body);
    frame::footer(state, frame, footer);
}
