//! The `:ctx` picker and the header's word on the service: reducer and 80×24 render.

use super::InstanceRow;
use crate::console::action::{Action, Motion, PromptKind};
use crate::console::msg::{Effect, Msg, Request};
use crate::console::state::{AppState, FlashLevel, Popup};
use crate::console::tests::fixtures::{act, calls, loaded_state};
use crate::console::update::update;
use crate::console::views::render;
use std::path::PathBuf;

fn palette(state: &mut AppState, line: &str) -> Vec<Effect> {
    act(state, Action::Prompt(PromptKind::Command));
    update(state, Msg::Paste(line.into()));
    act(state, Action::Select)
}

fn row(name: &str, alive: bool) -> InstanceRow {
    InstanceRow {
        name: name.into(),
        path: PathBuf::from(format!("/run/user/1000/ghlsync/{name}.sock")),
        alive,
    }
}

fn attached_to(name: &str) -> AppState {
    let mut state = loaded_state();
    state.instances.current = Some(name.into());
    state
}

fn screen_text(state: &AppState) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).expect("terminal");
    terminal.draw(|frame| render(state, frame)).expect("draws");
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

#[test]
fn ctx_lists_the_services_and_enter_attaches_to_the_one_picked() {
    let mut state = attached_to("beta");
    let effects = palette(&mut state, ":ctx");
    assert_eq!(effects, vec![Effect::ListInstances]);
    assert_eq!(state.popup, Some(Popup::Instances));
    assert!(screen_text(&state).contains("reading the sockets"));

    let rows = vec![row("alpha", true), row("beta", true), row("gamma", false)];
    update(&mut state, Msg::Instances(Ok(rows)));
    assert_eq!(
        state.instances.selected, 1,
        "the cursor starts on the one attached"
    );
    let text = screen_text(&state);
    for expected in [
        "Services on this host",
        "alpha",
        "running",
        "attached",
        "stale",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    assert!(
        text.contains("ghlsync/beta.sock"),
        "the selected socket's path\n{text}"
    );

    // j/k move within the list; Enter attaches to the row under the cursor.
    act(&mut state, Action::Move(Motion::Up));
    act(&mut state, Action::Move(Motion::Up));
    assert_eq!(state.instances.selected, 0);
    let effects = act(&mut state, Action::Select);
    assert_eq!(
        effects,
        vec![Effect::SwitchInstance {
            name: "alpha".into(),
            path: Some(PathBuf::from("/run/user/1000/ghlsync/alpha.sock")),
        }]
    );
    assert_eq!(state.popup, None);
}

#[test]
fn ctx_name_switches_and_the_console_starts_over_on_the_other_service() {
    let mut state = attached_to("alpha");
    assert!(!state.contacts.rows.is_empty());
    state.history.remember(PromptKind::Command, "status");
    let effects = palette(&mut state, ":ctx beta");
    assert_eq!(
        effects,
        vec![Effect::SwitchInstance {
            name: "beta".into(),
            path: None,
        }]
    );
    // Attached: what was on screen was alpha's; beta's is asked for.
    let effects = update(
        &mut state,
        Msg::Switched(Ok(("beta".into(), "ghlsync run beta (pid 42)".into()))),
    );
    assert_eq!(state.instances.current.as_deref(), Some("beta"));
    assert!(state.contacts.rows.is_empty(), "alpha's rows are gone");
    assert!(state.status.is_none());
    assert!(!state.help.is_empty(), "the keys stay");
    let asked = calls(&effects);
    assert!(asked.contains(&&Request::Status), "{asked:?}");
    assert!(asked.contains(&&Request::FailedQueue), "{asked:?}");
    let flash = state.flash.clone().expect("a flash");
    assert!(
        flash.text.contains("ghlsync run beta (pid 42)"),
        "{}",
        flash.text
    );

    // Attaching again to the one on screen does nothing; a failed attach says why and keeps
    // what is on screen.
    assert!(palette(&mut state, ":ctx beta").is_empty());
    let effects = update(
        &mut state,
        Msg::Switched(Err("no ghlsync service answers".into())),
    );
    assert!(effects.is_empty());
    let flash = state.flash.clone().expect("a flash");
    assert_eq!(flash.level, FlashLevel::Error);
    assert_eq!(state.instances.current.as_deref(), Some("beta"));
}

#[test]
fn the_header_says_when_the_service_is_lost_and_the_console_reloads_when_it_is_back() {
    let mut state = attached_to("acme");
    let text = screen_text(&state);
    assert!(
        text.lines().next().unwrap_or("").contains("svc acme"),
        "{text}"
    );

    let effects = update(
        &mut state,
        Msg::Connection {
            connected: false,
            message: "service lost (ghlsync run acme (pid 7): closed); reconnecting".into(),
        },
    );
    assert!(effects.is_empty());
    let text = screen_text(&state);
    assert!(
        text.lines()
            .next()
            .unwrap_or("")
            .contains("service lost — reconnecting"),
        "at 80 columns:\n{text}"
    );

    let effects = update(
        &mut state,
        Msg::Connection {
            connected: true,
            message: "reconnected to ghlsync run acme (pid 8)".into(),
        },
    );
    assert!(!state.instances.lost);
    assert!(
        calls(&effects).contains(&&Request::Status),
        "everything is read again"
    );
    assert!(!screen_text(&state).contains("service lost"));
}

#[test]
fn in_process_the_header_names_no_service() {
    let state = loaded_state();
    assert!(!screen_text(&state).contains("svc "));
}
