//! Snapshots are colour-blind (ratatui#1402): these check the selection and status colours.

use super::fixtures::loaded_state;
use super::snapshots::draw;
use crate::console::state::Screen;
use crate::console::theme::Theme;
use ratatui::style::{Color, Modifier};

/// The first cell on screen whose row contains `needle`, with its row text.
fn find_row(terminal: &ratatui::Terminal<ratatui::backend::TestBackend>, needle: &str) -> u16 {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .find(|&y| {
            let row: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            row.contains(needle)
        })
        .unwrap_or_else(|| panic!("{needle:?} not on screen"))
}

#[test]
fn selected_contact_row_is_highlighted_and_moves() {
    let mut state = loaded_state();
    let first = state
        .contacts
        .selected_row()
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let terminal = draw(&state, 80, 24);
    let y = find_row(&terminal, &first);
    let cell = &terminal.backend().buffer()[(20, y)];
    assert_eq!(
        cell.bg,
        Color::Cyan,
        "selected row has the selection background"
    );

    state.contacts.move_by(1);
    let terminal = draw(&state, 80, 24);
    let cell = &terminal.backend().buffer()[(20, y)];
    assert_ne!(cell.bg, Color::Cyan, "the old row lost the highlight");
    let cell = &terminal.backend().buffer()[(20, y + 1)];
    assert_eq!(cell.bg, Color::Cyan, "the next row has it");
}

#[test]
fn state_badges_use_status_colours() {
    let mut state = loaded_state();
    state.contacts.move_by(5); // keep the selection off the rows under test
    let terminal = draw(&state, 120, 40);
    let buffer = terminal.backend().buffer();
    let badge = |word: &str| {
        let y = find_row(&terminal, word);
        // The STATE column starts right after the border.
        buffer[(1, y)].fg
    };
    assert_eq!(badge("C1001"), Color::Green, "synced is green");
    assert_eq!(badge("C1007"), Color::Red, "failed is red");
    assert_eq!(badge("C1006"), Color::Yellow, "queued is yellow");
}

#[test]
fn monochrome_theme_marks_selection_without_colour() {
    let mut state = loaded_state();
    state.theme = Theme::monochrome();
    state.stack = vec![Screen::Failures];
    let terminal = draw(&state, 80, 24);
    let buffer = terminal.backend().buffer();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            let cell = &buffer[(x, y)];
            assert!(
                matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
                "no colour at {x},{y} under NO_COLOR"
            );
        }
    }
    let y = find_row(&terminal, "C1021"); // the first operation: auth sorts first
    assert!(buffer[(3, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn a_429_pause_and_a_failing_peer_show_in_red_on_status() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Status];
    state.now = Some(super::fixtures::at(100));
    let status = state.status.as_mut().expect("the fixture has a status");
    status.rate_limit.paused_until_ms = Some(super::fixtures::at(130).timestamp_millis());
    status.peer_health.failures_in_a_row = 3;
    status.peer_health.last_error = Some("GET export/clients: HTTP 503".into());
    let terminal = draw(&state, 80, 24);
    let buffer = terminal.backend().buffer();
    // The cell where `text` starts on screen.
    let start_of = |text: &str| {
        let y = find_row(&terminal, text);
        let cells: Vec<&str> = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect();
        let first: Vec<String> = text.chars().map(String::from).collect();
        let x = cells
            .windows(first.len())
            .position(|window| window.iter().zip(&first).all(|(a, b)| a == b))
            .expect("on the row");
        &buffer[(x as u16, y)]
    };
    assert_eq!(
        start_of("paused by a 429").fg,
        Color::Red,
        "the pause is an error"
    );
    assert_eq!(
        start_of("failing (3 in a row)").fg,
        Color::Red,
        "a failing peer is an error"
    );

    // Once the pause is over, the burst gauge is back.
    state.now = Some(super::fixtures::at(200));
    let terminal = draw(&state, 80, 24);
    find_row(&terminal, "burst 64/100");
}

/// Every cell of a drawn screen, with its row and column.
fn cells(
    terminal: &ratatui::Terminal<ratatui::backend::TestBackend>,
) -> Vec<(u16, u16, ratatui::buffer::Cell)> {
    let buffer = terminal.backend().buffer();
    let mut out = Vec::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push((x, y, buffer[(x, y)].clone()));
        }
    }
    out
}

#[test]
fn no_green_or_red_text_on_the_selection_colour() {
    for screen in [
        Screen::Contacts,
        Screen::Mapping,
        Screen::SyncLog,
        Screen::Status,
    ] {
        for (width, height) in [(80, 24), (120, 40)] {
            let mut state = loaded_state();
            state.stack = vec![screen];
            // The first contact is failed (red): the selection is on it.
            let terminal = draw(&state, width, height);
            for (x, y, cell) in cells(&terminal) {
                if cell.bg == Color::Cyan && cell.symbol() != " " {
                    assert!(
                        !matches!(
                            cell.fg,
                            Color::Green | Color::Red | Color::LightGreen | Color::LightRed
                        ),
                        "{screen:?} {width}x{height}: {:?} on cyan at {x},{y}",
                        cell.fg
                    );
                }
            }
        }
    }
}

#[test]
fn the_status_lines_read_on_a_black_background() {
    // Dark grey, blue and black text all but vanish on a black terminal.
    let unreadable = [Color::DarkGray, Color::Blue, Color::Black];
    let mut state = loaded_state();
    let terminal = draw(&state, 80, 24);
    for (x, y, cell) in cells(&terminal) {
        let status_line = y < 2 || y == 23;
        if status_line && cell.bg == Color::Reset && cell.symbol() != " " {
            assert!(
                !unreadable.contains(&cell.fg),
                "{:?} {:?} at {x},{y} in the header or hint line",
                cell.symbol(),
                cell.fg
            );
        }
    }
    // A flash (info) on the status line too.
    state.flash(crate::console::state::FlashLevel::Info, "sync started");
    let terminal = draw(&state, 80, 24);
    let y = find_row(&terminal, "sync started");
    let x = 2;
    let fg = terminal.backend().buffer()[(x, y)].fg;
    assert!(!unreadable.contains(&fg), "info flash in {fg:?}");
    // The current tab is highlighted, the others are not.
    let terminal = draw(&loaded_state(), 80, 24);
    let buffer = terminal.backend().buffer();
    assert_eq!(
        buffer[(2, 1)].bg,
        Color::Cyan,
        "1 Contacts is the current tab"
    );
    assert_ne!(buffer[(14, 1)].bg, Color::Cyan, "2 Tasks is not");
}
