//! The service's figures and alerts on screen: the Alerts screen, the header badge kept live
//! by `Msg::Alert`, and the Status screen's service panel, at 80×24 from fixtures.

use super::fixtures::{at, calls, loaded_state};
use super::snapshots::draw;
use crate::console::action::{Action, FocusTarget};
use crate::console::msg::{Answer, Msg, Request};
use crate::console::state::{AppState, Screen};
use crate::console::update::update;
use crate::engine::board::{
    Alert, AlertKey, AlertState, PeerFigures, SERIES_MINUTES, ServiceStatus,
};
use std::collections::BTreeMap;

fn alert(key: AlertKey, state: AlertState, message: &str, seconds: i64) -> Alert {
    Alert {
        key,
        state,
        message: message.into(),
        at: at(seconds),
    }
}

/// A minute series with a shape: quiet, a burst, a tail.
fn series(shape: impl Fn(usize) -> u32) -> Vec<u32> {
    (0..SERIES_MINUTES).map(shape).collect()
}

pub fn service_status() -> ServiceStatus {
    let mut next = BTreeMap::new();
    next.insert("contacts".to_string(), at(300));
    next.insert("appointments".to_string(), at(1800));
    ServiceStatus {
        instance: "acme".into(),
        started_at: Some(at(-7200)),
        peers: vec![
            PeerFigures {
                name: "repsly".into(),
                last_run: Some(at(-60)),
                next_runs: next,
                writes: series(|m| {
                    if (40..50).contains(&m) {
                        12
                    } else {
                        (m % 3) as u32
                    }
                }),
                errors: series(|m| u32::from(m == 45 || m == 46)),
            },
            PeerFigures {
                name: "robly".into(),
                last_run: None,
                next_runs: BTreeMap::new(),
                writes: series(|_| 0),
                errors: series(|m| u32::from(m == 10)),
            },
        ],
        rate_limited: series(|m| u32::from(m == 44) * 3),
        webhooks: series(|m| (m % 5) as u32),
        last_webhook_at: Some(at(-5)),
        inbox_len: 2,
        lag_secs: Some(42),
        open_alerts: 1,
    }
}

fn alerts_fixture() -> (Vec<Alert>, Vec<Alert>) {
    let down = alert(
        AlertKey::PeerDown("robly".into()),
        AlertState::Raised,
        "robly stopped answering (3 calls failed in a row: HTTP 503); check the app's status page",
        -600,
    );
    let history = vec![
        alert(
            AlertKey::Auth,
            AlertState::Raised,
            "GHL refused the token (401); put a new token in secrets.toml",
            -5400,
        ),
        alert(
            AlertKey::Auth,
            AlertState::Recovered,
            "GHL accepts the token again",
            -5000,
        ),
        down.clone(),
    ];
    (vec![down], history)
}

fn text(state: &AppState) -> String {
    let terminal = draw(state, 80, 24);
    let buffer = terminal.backend().buffer().clone();
    (0..24)
        .map(|y| {
            (0..80)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn snapshot_80x24(name: &str, state: &AppState) {
    let mut state = state.clone();
    state.size = (80, 24);
    let terminal = draw(&state, 80, 24);
    insta::assert_snapshot!(format!("{name}_80x24"), terminal.backend());
}

#[test]
fn the_alerts_screen_lists_open_first_then_history_newest_first() {
    let mut state = loaded_state();
    let (open, history) = alerts_fixture();
    let effects = update(
        &mut state,
        Msg::Action(Action::Focus(FocusTarget::Screen(Screen::Alerts))),
    );
    assert_eq!(calls(&effects), [&Request::Alerts]);
    update(&mut state, Msg::Answer(Answer::Alerts { open, history }));
    let screen = text(&state);
    assert!(screen.contains("1 ALERT"), "the header badge:\n{screen}");
    assert!(
        screen.contains("Alerts · 1 open · 3 in history"),
        "{screen}"
    );
    let open_row = screen.find("OPEN").expect("the open alert");
    let recovered_row = screen.find("recovered").expect("the recovery");
    assert!(open_row < recovered_row, "open first:\n{screen}");
    snapshot_80x24("alerts", &state);

    // The cursor's alert in full below the list.
    update(
        &mut state,
        Msg::Action(Action::Move(crate::console::action::Motion::Down)),
    );
    assert_eq!(state.alerts.selected, 1);
    assert!(text(&state).contains("GHL accepts the token again"));
}

#[test]
fn the_badge_follows_live_alerts_and_a_recovery_clears_it() {
    let mut state = loaded_state();
    assert!(
        !text(&state).contains("ALERT"),
        "no badge with nothing open"
    );
    update(
        &mut state,
        Msg::Alert(alert(
            AlertKey::Quota,
            AlertState::Raised,
            "daily quota under its reserve",
            0,
        )),
    );
    update(
        &mut state,
        Msg::Alert(alert(
            AlertKey::Auth,
            AlertState::Raised,
            "token refused",
            1,
        )),
    );
    let screen = text(&state);
    assert!(screen.contains(" 2 ALERTS "), "{screen}");
    assert!(
        screen.contains("alert: token refused"),
        "the flash says it:\n{screen}"
    );
    update(
        &mut state,
        Msg::Alert(alert(
            AlertKey::Quota,
            AlertState::Recovered,
            "quota back",
            2,
        )),
    );
    update(
        &mut state,
        Msg::Alert(alert(AlertKey::Auth, AlertState::Recovered, "token ok", 3)),
    );
    let screen = text(&state);
    assert!(!screen.contains("ALERT"), "{screen}");
    assert_eq!(state.alerts.history.len(), 4);
}

#[test]
fn a_status_counting_other_open_alerts_reads_them_again() {
    let mut state = loaded_state();
    let mut status = super::fixtures::status();
    status.service = Some(service_status());
    let effects = update(
        &mut state,
        Msg::Answer(Answer::Status(Box::new(status.clone()))),
    );
    assert_eq!(calls(&effects), [&Request::Alerts], "1 open, none known");
    let (open, history) = alerts_fixture();
    update(&mut state, Msg::Answer(Answer::Alerts { open, history }));
    let effects = update(&mut state, Msg::Answer(Answer::Status(Box::new(status))));
    assert!(calls(&effects).is_empty(), "counts agree: nothing to ask");
}

#[test]
fn the_alerts_key_is_in_the_keymap_and_help() {
    let keymap = crate::console::keymap::Keymap::builtin().0;
    let help = crate::console::help::help_sections(&keymap, false);
    let listed = help.iter().any(|section| {
        section
            .bindings
            .iter()
            .any(|b| b.action == "focus alerts" && b.keys == "!")
    });
    assert!(listed, "`!` → focus alerts in help");
    let mut state = loaded_state();
    update(
        &mut state,
        Msg::Action(Action::Focus(FocusTarget::Screen(Screen::Status))),
    );
    assert!(
        crate::console::views::hint_line(&state, 80)
            .spans
            .iter()
            .any(|s| s.content.contains("alerts"))
    );
}

#[test]
fn status_shows_the_services_figures_per_peer() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Status];
    state.now = Some(at(0));
    let mut status = super::fixtures::status();
    status.service = Some(service_status());
    state.status = Some(Box::new(status));
    let (open, history) = alerts_fixture();
    state.alerts.replace(open, history);
    let screen = text(&state);
    for expected in [
        "Service acme",
        "webhooks 4/min",
        "inbox 2",
        "lag 42 s",
        "429s/min",
        "writes/min",
        "errors/min",
        "repsly",
        "robly",
        "never",
    ] {
        assert!(screen.contains(expected), "no {expected:?}:\n{screen}");
    }
    assert!(!screen.contains("in-process"), "{screen}");
    // The burst of minute 40–49 shows as full bars in the writes sparkline.
    assert!(screen.contains('█'), "{screen}");
    snapshot_80x24("status_service", &state);
}

#[test]
fn status_without_a_service_says_in_process() {
    let mut state = loaded_state();
    state.stack = vec![Screen::Status];
    assert!(text(&state).contains("in-process (no service)"));
    state.stack = vec![Screen::Alerts];
    state.alerts.replace(Vec::new(), Vec::new());
    assert!(text(&state).contains("in-process (no service)"));
}
