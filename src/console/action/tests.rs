//! Action strings and `:` palette lines: parsing, canonical form, write/danger flags.

use super::*;
use crate::console::screen::Screen;

fn all_examples() -> Vec<&'static str> {
    vec![
        "quit",
        "help",
        "prompt:command",
        "prompt:filter",
        "focus contacts",
        "focus detail",
        "focus tasks",
        "focus notes",
        "focus appointments",
        "focus mapping",
        "focus sync_log",
        "focus failures",
        "focus status",
        "focus next",
        "focus prev",
        "move up",
        "move down",
        "move top",
        "move bottom",
        "move page_up",
        "move page_down",
        "select",
        "back",
        "toggle_mark",
        "children:scope --toggle",
        "sync:now",
        "sync:contact",
        "sync:peer",
        "sync:retry --selected",
        "sync:retry --selected-class",
        "sync:retry --selected-reason",
        "sync:retry --class auth",
        "sync:retry --all",
        "sync:retry --original --selected",
        "sync:retry --original --class validation",
        "sync:skip --selected",
        "sync:resolve --selected",
        "log:follow --toggle",
        "log:wrap --toggle",
        "log:timestamps --toggle",
        "log:clear",
        "log:detail",
        "detail:history",
        "jump:contact",
        "copy:id",
        "mapping:edit",
        "mapping:save",
        "mapping:discard",
        "mapping:undo",
        "mapping:preview",
        "sort:next",
        "sort:reverse",
        "suspend",
        "redraw",
        "noop",
        "confirm:yes",
        "confirm:no",
        "confirm:switch",
    ]
}

#[test]
fn every_canonical_string_round_trips() {
    for s in all_examples() {
        let action: Action = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(action.to_string(), s);
    }
}

#[test]
fn arguments_are_order_insensitive_and_accept_equals() {
    let a: Action = "sync:retry --selected --original".parse().unwrap();
    assert_eq!(
        a,
        Action::Retry {
            target: RetryTarget::Selected,
            original: true
        }
    );
    let b: Action = "sync:retry --class=auth".parse().unwrap();
    assert_eq!(
        b,
        Action::Retry {
            target: RetryTarget::Class(ErrorClass::Auth),
            original: false
        }
    );
    assert_eq!("log:wrap".parse::<Action>().unwrap(), Action::LogWrapToggle);
    assert_eq!(
        "children:scope".parse::<Action>().unwrap(),
        Action::ChildrenScopeToggle
    );
}

#[test]
fn errors_name_the_bad_action_and_list_valid_ones() {
    let err = "launch rockets".parse::<Action>().unwrap_err();
    assert!(err.contains("\"launch\""), "{err}");
    assert!(err.contains("sync:retry"), "{err}");
    assert!(err.contains("log:follow --toggle"), "{err}");

    let err = "focus kitchen".parse::<Action>().unwrap_err();
    assert!(
        err.contains("\"kitchen\"") && err.contains("sync_log"),
        "{err}"
    );
    let err = "move sideways".parse::<Action>().unwrap_err();
    assert!(
        err.contains("\"sideways\"") && err.contains("page_down"),
        "{err}"
    );
    let err = "sync:retry".parse::<Action>().unwrap_err();
    assert!(err.contains("--selected"), "{err}");
    let err = "sync:retry --selected --selected-class"
        .parse::<Action>()
        .unwrap_err();
    assert!(err.contains("--selected-class"), "{err}");
    let err = "sync:retry --selected --all".parse::<Action>().unwrap_err();
    assert!(err.contains("exactly one"), "{err}");
    let err = "sync:retry --class nope".parse::<Action>().unwrap_err();
    assert!(err.contains("\"nope\"") && err.contains("auth"), "{err}");
    let err = "sync:retry --class".parse::<Action>().unwrap_err();
    assert!(err.contains("needs a value"), "{err}");
    let err = "quit now".parse::<Action>().unwrap_err();
    assert!(err.contains("\"now\""), "{err}");
    let err = "sync:skip".parse::<Action>().unwrap_err();
    assert!(err.contains("--selected"), "{err}");
    assert!("".parse::<Action>().is_err());
}

#[test]
fn write_and_dangerous_flags() {
    let parse = |s: &str| s.parse::<Action>().unwrap();
    for s in [
        "sync:now",
        "sync:contact",
        "sync:peer",
        "sync:retry --selected",
        "sync:retry --original --selected",
        "sync:retry --selected-class",
        "sync:retry --class auth",
        "sync:retry --all",
        "sync:skip --selected",
        "sync:resolve --selected",
        "mapping:save",
        "mapping:undo",
    ] {
        assert!(parse(s).is_write(), "{s} writes");
    }
    for s in [
        "sync:retry --selected-class",
        "sync:retry --class auth",
        "sync:retry --all",
        "sync:skip --selected",
        "sync:resolve --selected",
        "mapping:save",
        "mapping:undo",
    ] {
        assert!(parse(s).is_dangerous(), "{s} is dangerous");
    }
    for s in ["sync:now", "sync:retry --selected"] {
        assert!(!parse(s).is_dangerous(), "{s} needs no confirmation");
    }
    for s in all_examples() {
        let a = parse(s);
        assert!(
            !a.is_dangerous() || a.is_write(),
            "{s}: dangerous implies write"
        );
    }
    for s in [
        "quit",
        "mapping:edit",
        "mapping:preview",
        "mapping:discard",
        "log:clear",
        "toggle_mark",
    ] {
        assert!(!parse(s).is_write(), "{s} is read-only");
    }
}

#[test]
fn palette_commands_and_aliases() {
    let focus = |s| Action::Focus(FocusTarget::Screen(s));
    let cases = [
        (":contacts", focus(Screen::Contacts)),
        ("co", focus(Screen::Contacts)),
        (":tasks", focus(Screen::Tasks)),
        (":notes", focus(Screen::Notes)),
        (":appointments", focus(Screen::Appointments)),
        (":appt", focus(Screen::Appointments)),
        (":mapping", focus(Screen::Mapping)),
        (":log", focus(Screen::SyncLog)),
        (":failures", focus(Screen::Failures)),
        (":status", focus(Screen::Status)),
        (":sync now", Action::SyncNow),
        (":sync", Action::SyncNow),
        (":sync peer now", Action::SyncPeer),
        (":sync peer", Action::SyncPeer),
        (":sync contact", Action::SyncContact),
        (
            ":retry class auth",
            Action::Retry {
                target: RetryTarget::Class(ErrorClass::Auth),
                original: false,
            },
        ),
        (
            ":retry selected",
            Action::Retry {
                target: RetryTarget::Selected,
                original: false,
            },
        ),
        (
            ":retry selected original",
            Action::Retry {
                target: RetryTarget::Selected,
                original: true,
            },
        ),
        (
            ":retry selected-class",
            Action::Retry {
                target: RetryTarget::SelectedClass,
                original: false,
            },
        ),
        (
            ":retry all",
            Action::Retry {
                target: RetryTarget::All,
                original: false,
            },
        ),
        (":skip", Action::Skip),
        (":resolve selected", Action::Resolve),
        (":q", Action::Quit),
        (":quit", Action::Quit),
        ("  :Q  ", Action::Quit),
        (":help", Action::Help),
        (":log:wrap --toggle", Action::LogWrapToggle),
    ];
    for (line, want) in cases {
        assert_eq!(parse_command(line), Ok(want), "{line}");
    }
}

#[test]
fn palette_errors_list_known_commands() {
    let err = parse_command(":frobnicate").unwrap_err();
    assert!(err.contains("\":frobnicate\""), "{err}");
    assert!(err.contains(":contacts") && err.contains(":q"), "{err}");
    assert!(parse_command(":").unwrap_err().contains(":failures"));
    let err = parse_command(":retry class bogus").unwrap_err();
    assert!(
        err.contains("\"bogus\"") && err.contains("transient"),
        "{err}"
    );
    assert!(parse_command(":contacts now").is_err());
    assert!(parse_command(":sync later").is_err());
    assert!(parse_command(":retry sideways").is_err());
}

#[test]
fn palette_lists_matches_and_tab_completes() {
    use super::{complete, matches};
    let names =
        |typed: &str| -> Vec<String> { matches(typed).into_iter().map(|m| m.command).collect() };
    assert_eq!(names("fa"), ["failures"]);
    assert_eq!(
        names(":fail"),
        ["failures"],
        "aliases and the colon find it too"
    );
    assert_eq!(complete("fa").as_deref(), Some("failures "));
    let retry = names("retry");
    assert!(retry.contains(&"retry class ".to_string()), "{retry:?}");
    assert!(retry.contains(&"retry all".to_string()), "{retry:?}");
    assert_eq!(complete("re"), None, "retry and resolve share only \"re\"");
    assert_eq!(complete("ret").as_deref(), Some("retry "));
    assert_eq!(complete("retry c").as_deref(), Some("retry class "));
    assert_eq!(
        complete("retry class va").as_deref(),
        Some("retry class validation ")
    );
    assert_eq!(
        names("retry class a"),
        ["retry class ambiguous", "retry class auth"]
    );
    assert_eq!(
        complete("retry class a"),
        None,
        "ambiguous and no longer beginning"
    );
    assert!(names("s").len() >= 3);
    assert_eq!(complete("s"), None);
    assert!(names("zzz").is_empty());
    assert_eq!(complete("zzz"), None);
    assert_eq!(names("preview ghl:abc"), ["preview "]);
}
