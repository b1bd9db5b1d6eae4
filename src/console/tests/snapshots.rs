//! Every screen and popup, rendered from fixtures at 80×24 (the SSH floor) and 120×40.

use super::fixtures::loaded_state;
use crate::console::action::{Action, FocusTarget, PromptKind};
use crate::console::msg::Msg;
use crate::console::state::{AppState, Popup, Screen};
use crate::console::update::update;
use crate::console::views::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn draw(state: &AppState, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| render(state, frame))
        .expect("draw into the test backend");
    terminal
}

fn snapshot(name: &str, state: &AppState) {
    for (width, height) in [(80, 24), (120, 40)] {
        let mut state = state.clone();
        state.size = (width, height);
        let terminal = draw(&state, width, height);
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), terminal.backend());
    }
}

fn on(screen: Screen) -> AppState {
    let mut state = loaded_state();
    state.stack = match screen {
        Screen::Detail => vec![Screen::Contacts, Screen::Detail],
        Screen::Tasks | Screen::Notes | Screen::Appointments => {
            vec![Screen::Contacts, Screen::Detail, screen]
        }
        other => vec![other],
    };
    state
}

#[test]
fn screens() {
    for (name, screen) in [
        ("contacts", Screen::Contacts),
        ("detail", Screen::Detail),
        ("tasks", Screen::Tasks),
        ("notes", Screen::Notes),
        ("appointments", Screen::Appointments),
        ("mapping", Screen::Mapping),
        ("sync_log", Screen::SyncLog),
        ("failures", Screen::Failures),
        ("status", Screen::Status),
    ] {
        snapshot(name, &on(screen));
    }
}

#[test]
fn children_of_all_contacts() {
    for (name, screen) in [
        ("tasks_all", Screen::Tasks),
        ("notes_all", Screen::Notes),
        ("appointments_all", Screen::Appointments),
    ] {
        let mut state = on(screen);
        update(&mut state, Msg::Action(Action::ChildrenScopeToggle));
        assert_eq!(
            state.stack,
            vec![screen],
            "all contacts is a top-level list"
        );
        // The toggle asked for the first page again; the fixture's page answers it.
        let kind = crate::console::state::children::kind_of(screen).expect("a children screen");
        state
            .children
            .all_mut(kind)
            .apply(super::fixtures::child_page(kind));
        update(
            &mut state,
            Msg::Action(Action::Move(crate::console::action::Motion::Down)),
        );
        snapshot(name, &state);
    }
}

#[test]
fn status_refreshing_and_prompt_history() {
    let mut state = on(Screen::Status);
    update(&mut state, Msg::Tick(super::fixtures::at(50)));
    snapshot("status_refreshed", &state);

    let mut state = on(Screen::Failures);
    for line in ["contacts", "status", "failures"] {
        update(&mut state, Msg::Action(Action::Prompt(PromptKind::Command)));
        update(&mut state, Msg::Paste(line.into()));
        update(&mut state, Msg::Action(Action::Select));
    }
    update(&mut state, Msg::Action(Action::Prompt(PromptKind::Command)));
    update(
        &mut state,
        Msg::Action(Action::Move(crate::console::action::Motion::Up)),
    );
    update(
        &mut state,
        Msg::Action(Action::Move(crate::console::action::Motion::Up)),
    );
    snapshot("prompt_history_recalled", &state);
}

#[test]
fn contacts_filtered_and_sorted() {
    let mut state = on(Screen::Contacts);
    update(&mut state, Msg::Action(Action::Prompt(PromptKind::Filter)));
    update(&mut state, Msg::Paste("bakery".into()));
    snapshot("contacts_filter_prompt", &state);
    update(&mut state, Msg::Action(Action::Select));
    update(&mut state, Msg::Action(Action::SortNext));
    snapshot("contacts_filtered_by_state", &state);
}

#[test]
fn log_variants() {
    let mut state = on(Screen::SyncLog);
    state.log.set_filter("outcome:failed");
    state.log.wrap = true;
    state.log.follow = false;
    snapshot("sync_log_filtered_paused", &state);
}

#[test]
fn mapping_editing_with_problem() {
    let mut state = on(Screen::Mapping);
    state.mapping.editing = true;
    state.mapping.problem = Some(crate::console::engine_api::MappingProblem {
        line: Some(5),
        column: Some(7),
        message: "unknown GHL field \"companyNme\"".into(),
    });
    snapshot("mapping_problem", &state);
}

#[test]
fn popups() {
    let mut state = on(Screen::Failures);
    update(&mut state, Msg::Action(Action::Help));
    snapshot("popup_help", &state);

    let mut state = on(Screen::Failures);
    update(
        &mut state,
        Msg::Action(Action::Retry {
            target: crate::console::action::RetryTarget::Class(crate::net::ErrorClass::Validation),
            original: false,
        }),
    );
    assert!(matches!(state.popup, Some(Popup::Confirm(_))));
    snapshot("popup_confirm", &state);

    let mut state = on(Screen::Failures);
    update(
        &mut state,
        Msg::Action(Action::Retry {
            target: crate::console::action::RetryTarget::SelectedClass,
            original: false,
        }),
    );
    assert!(matches!(state.popup, Some(Popup::Confirm(_))));
    snapshot("popup_confirm_selected_class", &state);

    let mut state = on(Screen::SyncLog);
    state.log.selected = state.log.visible().len() - 4;
    update(&mut state, Msg::Action(Action::LogDetail));
    snapshot("popup_log_detail", &state);

    let mut state = on(Screen::Failures);
    update(&mut state, Msg::Action(Action::Select));
    snapshot("popup_failure_detail", &state);

    let mut state = on(Screen::Contacts);
    update(&mut state, Msg::Action(Action::Prompt(PromptKind::Command)));
    update(&mut state, Msg::Paste("retry class auth".into()));
    snapshot("prompt_command", &state);
}

#[test]
fn read_only_and_flash() {
    let mut state = on(Screen::Failures);
    state.read_only = true;
    state.help =
        crate::console::help::help_sections(&crate::console::keymap::Keymap::builtin().0, true);
    update(&mut state, Msg::Action(Action::SyncNow));
    snapshot("read_only_refusal", &state);
}

#[test]
fn empty_console() {
    let state = AppState::new(
        crate::console::state::Mode::Live,
        "repsly",
        false,
        crate::console::theme::Theme::colour(),
    );
    snapshot("empty_contacts", &state);
    let mut state = state;
    update(
        &mut state,
        Msg::Action(Action::Focus(FocusTarget::Screen(Screen::Status))),
    );
    snapshot("empty_status", &state);
}

/// The hint line of a screen, as text (the footer alone, so one snapshot shows several).
fn hint_text(state: &AppState) -> String {
    crate::console::views::hint_line(state, 80)
        .spans
        .iter()
        .map(|span| span.content.to_string())
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[test]
fn hint_lines_come_from_each_screens_keymap_layer() {
    let mut lines = Vec::new();
    for (name, screen) in [
        ("contacts", Screen::Contacts),
        ("failures", Screen::Failures),
        ("mapping", Screen::Mapping),
    ] {
        lines.push(format!("{name:<16}|{}", hint_text(&on(screen))));
    }
    let mut editing = on(Screen::Mapping);
    update(&mut editing, Msg::Action(Action::MappingEdit));
    lines.push(format!("{:<16}|{}", "mapping editing", hint_text(&editing)));
    insta::assert_snapshot!("hint_lines_80", lines.join("\n"));
}

#[test]
fn unsaved_question_palette_and_tab_bar() {
    // The unsaved-changes question, Cancel focused.
    let mut state = on(Screen::Mapping);
    update(&mut state, Msg::Action(Action::MappingEdit));
    update(&mut state, Msg::Paste("# fixed\n".into()));
    update(
        &mut state,
        Msg::Action(Action::Focus(FocusTarget::Screen(Screen::Failures))),
    );
    assert!(matches!(state.popup, Some(Popup::Unsaved(_))));
    snapshot("popup_unsaved_mapping", &state);

    // The palette while typing: the matches, Tab completes.
    let mut state = on(Screen::Failures);
    update(&mut state, Msg::Action(Action::Prompt(PromptKind::Command)));
    update(&mut state, Msg::Paste("re".into()));
    snapshot("palette_matches", &state);

    // The tab bar on a detail reached from Failures: Contacts is the tab, the trail follows.
    let mut state = on(Screen::Failures);
    update(
        &mut state,
        Msg::Action(Action::Focus(FocusTarget::Screen(Screen::Detail))),
    );
    let terminal = draw(&state, 80, 24);
    let header: Vec<String> = (0..2)
        .map(|y| {
            (0..80)
                .map(|x| terminal.backend().buffer()[(x, y)].symbol().to_string())
                .collect()
        })
        .collect();
    insta::assert_snapshot!("header_tab_bar_80", header.join("\n"));
}

#[test]
fn the_editor_scrolls_sideways_to_the_cursor_and_pages_by_its_height() {
    let mut state = on(Screen::Mapping);
    let long = format!("# {}END", "x".repeat(150));
    let mut text = format!("{long}\n");
    for i in 0..40 {
        text.push_str(&format!("# line {i}\n"));
    }
    state
        .mapping
        .load(text, "/etc/ghlsync/acme.toml".into(), Vec::new());
    update(&mut state, Msg::Action(Action::MappingEdit));
    let screen = |state: &AppState| -> String {
        let terminal = draw(state, 80, 24);
        let buffer = terminal.backend().buffer();
        (0..24)
            .map(|y| {
                (0..80)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        screen(&state).contains("acme.toml"),
        "titled by its file name"
    );
    // End of the long line: its tail is on screen, scrolled sideways.
    update(
        &mut state,
        Msg::Text(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::End,
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    let after_end = screen(&state);
    assert!(after_end.contains("xEND"), "{after_end}");
    // PageDown moves by what the editor shows (the viewport is known once drawn).
    update(
        &mut state,
        Msg::Text(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::PageDown,
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    let row = state.mapping.editor.cursor().0;
    assert!(row >= 5, "a page down, not a line: row {row}");
    screen(&state);
    update(
        &mut state,
        Msg::Text(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Home,
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    let shown = screen(&state);
    assert!(shown.contains(&format!("# line {}", row - 1)), "{shown}");
}

#[test]
fn the_contact_detail_is_titled_by_the_name_the_list_showed() {
    let mut state = on(Screen::Detail);
    // A person at a company: the list names the person, the mapping only the company.
    assert!(
        state
            .contacts
            .update_row("C1000", |row| row.name = "Ada Lovelace".into())
    );
    let terminal = draw(&state, 80, 24);
    let buffer = terminal.backend().buffer();
    let title: String = (0..80)
        .map(|x| buffer[(x, 2)].symbol().to_string())
        .collect();
    assert!(title.contains("Contact Ada Lovelace"), "{title}");
}

/// The Failures screen: grouped by class and reason with the error under the list; filtered.
#[test]
fn failures_grouped_filtered_and_in_full() {
    let mut state = on(Screen::Failures);
    // The cursor on the GHL → peer failure, whose error wraps in the preview.
    state.failures.selected = 3;
    snapshot("failures_grouped", &state);

    update(&mut state, Msg::Action(Action::Prompt(PromptKind::Filter)));
    update(&mut state, Msg::Paste("no_match".into()));
    update(&mut state, Msg::Action(Action::Select));
    snapshot("failures_filtered", &state);

    // The whole failure, scrolled down to its payload and source record.
    let mut state = on(Screen::Failures);
    state.size = (80, 24);
    state.failures.selected = 3;
    update(&mut state, Msg::Action(Action::Select));
    for _ in 0..12 {
        update(
            &mut state,
            Msg::Action(Action::Move(crate::console::action::Motion::Down)),
        );
    }
    let terminal = draw(&state, 80, 24);
    insta::assert_snapshot!("failure_detail_scrolled_80x24", terminal.backend());
}

/// The sync log entry's popup: what changed, one line per field.
#[test]
fn log_entry_diff() {
    let mut state = on(Screen::SyncLog);
    state.log.push(super::fixtures::log_entry_with_diff());
    state.log.select_last();
    update(&mut state, Msg::Action(Action::LogDetail));
    snapshot("log_entry_diff", &state);
}

/// A GHL contact not linked to a peer record yet, opened by its GHL id.
#[test]
fn ghl_only_contact_detail() {
    let mut state = on(Screen::Detail);
    state.detail.contact = Some(crate::console::engine_api::ContactRef::Ghl(
        "ghlnew0001".into(),
    ));
    state.detail.detail = Some(Box::new(super::fixtures::ghl_only_detail()));
    snapshot("detail_ghl_only", &state);
}
