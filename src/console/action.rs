//! What the console can be asked to do. Every key binding (`run = "…"` in `keymap.toml`) and
//! every `:` palette command resolves to one typed [`Action`]; the update function matches on
//! these, never on keys or strings.
//!
//! Actions are written like yazi's: a name, optionally `layer:`-prefixed, with CLI-style
//! arguments (`"sync:retry --class auth"`). [`Action::from_str`] parses that form and
//! [`Display`](std::fmt::Display) writes the canonical form back, so `parse(display(a)) == a`.
//!
//! Two properties are decided here rather than in config, after k9s: [`Action::is_write`]
//! (hidden and refused under `--read-only`) and [`Action::is_dangerous`] (needs a confirmation
//! whose default button is Cancel).

use crate::ghl::ErrorClass;
use serde::Deserialize;
use serde::de::IntoDeserializer;
use std::fmt;
use std::str::FromStr;

/// The console's screens, in tab order (`1`–`8` in the default keymap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Screen {
    Contacts,
    Tasks,
    Notes,
    Appointments,
    Mapping,
    SyncLog,
    Failures,
    Status,
}

impl Screen {
    pub const ALL: [Screen; 8] = [
        Screen::Contacts,
        Screen::Tasks,
        Screen::Notes,
        Screen::Appointments,
        Screen::Mapping,
        Screen::SyncLog,
        Screen::Failures,
        Screen::Status,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Screen::Contacts => "contacts",
            Screen::Tasks => "tasks",
            Screen::Notes => "notes",
            Screen::Appointments => "appointments",
            Screen::Mapping => "mapping",
            Screen::SyncLog => "sync_log",
            Screen::Failures => "failures",
            Screen::Status => "status",
        }
    }

    /// The next screen in tab order, wrapping.
    pub fn next(self) -> Screen {
        let i = Screen::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Screen::ALL[(i + 1) % Screen::ALL.len()]
    }

    /// The previous screen in tab order, wrapping.
    pub fn prev(self) -> Screen {
        let i = Screen::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Screen::ALL[(i + Screen::ALL.len() - 1) % Screen::ALL.len()]
    }
}

impl fmt::Display for Screen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Screen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Screen::ALL
            .into_iter()
            .find(|screen| screen.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown screen {s:?}; expected one of {}",
                    Screen::ALL.map(Screen::as_str).join(", ")
                )
            })
    }
}

/// Where `focus` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FocusTarget {
    Screen(Screen),
    Next,
    Prev,
}

/// Cursor motions (`move …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Motion {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
}

impl Motion {
    const ALL: [Motion; 6] = [
        Motion::Up,
        Motion::Down,
        Motion::Top,
        Motion::Bottom,
        Motion::PageUp,
        Motion::PageDown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Motion::Up => "up",
            Motion::Down => "down",
            Motion::Top => "top",
            Motion::Bottom => "bottom",
            Motion::PageUp => "page_up",
            Motion::PageDown => "page_down",
        }
    }
}

/// The two prompts sharing one input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromptKind {
    /// `:` command palette, parsed by [`parse_command`].
    Command,
    /// `/` filter of the current pane.
    Filter,
}

/// Which failed operations a retry applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryTarget {
    /// The marked rows, else the row under the cursor.
    Selected,
    /// Every failed operation whose last error has this class.
    Class(ErrorClass),
    /// Every failed operation.
    All,
}

/// One thing the console can do. See the module docs for the string form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    Prompt(PromptKind),
    Focus(FocusTarget),
    Move(Motion),
    /// Open the detail of the selected row / activate (Enter).
    Select,
    /// Close the top popup or detail, clear the filter (Esc).
    Back,
    ToggleMark,
    SyncNow,
    /// Retry failed operations now, with the current mapping or (`original`) the stored payload.
    Retry {
        target: RetryTarget,
        original: bool,
    },
    /// Give up on the selected failed operations.
    Skip,
    /// Mark the selected failed operations fixed by hand.
    Resolve,
    LogFollowToggle,
    LogWrapToggle,
    LogTimestampsToggle,
    LogClear,
    LogDetail,
    MappingEdit,
    MappingSave,
    MappingDiscard,
    MappingUndo,
    MappingPreview,
    SortNext,
    SortReverse,
    Suspend,
    Redraw,
    /// Does nothing; in a keymap it unbinds a chord.
    Noop,
    ConfirmYes,
    ConfirmNo,
}

/// The action names with their argument forms, for error messages and docs.
pub const ACTION_FORMS: &[&str] = &[
    "quit",
    "help",
    "prompt:command",
    "prompt:filter",
    "focus contacts|tasks|notes|appointments|mapping|sync_log|failures|status|next|prev",
    "move up|down|top|bottom|page_up|page_down",
    "select",
    "back",
    "toggle_mark",
    "sync:now",
    "sync:retry [--original] --selected|--class CLASS|--all",
    "sync:skip --selected",
    "sync:resolve --selected",
    "log:follow --toggle",
    "log:wrap --toggle",
    "log:timestamps --toggle",
    "log:clear",
    "log:detail",
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
];

const CLASS_NAMES: &str =
    "rate_limited, transient, ambiguous, auth, scope_or_config, validation, not_found, decode";

fn parse_class(s: &str) -> Result<ErrorClass, String> {
    ErrorClass::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(s))
        .map_err(|_| format!("unknown error class {s:?}; expected one of {CLASS_NAMES}"))
}

impl Action {
    /// Changes the store, GHL or the peer: hidden and refused under `--read-only`.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Action::SyncNow
                | Action::Retry { .. }
                | Action::Skip
                | Action::Resolve
                | Action::MappingSave
                | Action::MappingUndo
        )
    }

    /// Needs a confirmation whose default button is Cancel.
    pub fn is_dangerous(&self) -> bool {
        matches!(
            self,
            Action::Retry {
                target: RetryTarget::Class(_) | RetryTarget::All,
                ..
            } | Action::Skip
                | Action::Resolve
                | Action::MappingSave
                | Action::MappingUndo
        )
    }
}

/// Splits `args` into flags and checks them against what an action accepts.
struct Args<'a> {
    action: &'a str,
    rest: Vec<&'a str>,
}

impl<'a> Args<'a> {
    fn take_flag(&mut self, flag: &str) -> bool {
        match self.rest.iter().position(|a| *a == flag) {
            Some(i) => {
                self.rest.remove(i);
                true
            }
            None => false,
        }
    }

    /// `--name VALUE` or `--name=VALUE`.
    fn take_value(&mut self, flag: &str) -> Result<Option<&'a str>, String> {
        let prefix = format!("{flag}=");
        if let Some(i) = self.rest.iter().position(|a| a.starts_with(&prefix)) {
            let arg = self.rest.remove(i);
            return Ok(Some(&arg[prefix.len()..]));
        }
        match self.rest.iter().position(|a| *a == flag) {
            Some(i) if i + 1 < self.rest.len() && !self.rest[i + 1].starts_with("--") => {
                let value = self.rest.remove(i + 1);
                self.rest.remove(i);
                Ok(Some(value))
            }
            Some(_) => Err(format!("{:?}: {flag} needs a value", self.action)),
            None => Ok(None),
        }
    }

    fn positional(&mut self) -> Option<&'a str> {
        match self.rest.first() {
            Some(a) if !a.starts_with("--") => Some(self.rest.remove(0)),
            _ => None,
        }
    }

    fn finish(self, action: Action) -> Result<Action, String> {
        match self.rest.first() {
            None => Ok(action),
            Some(extra) => Err(format!(
                "{:?}: unexpected argument {extra:?}; expected \"{action}\"",
                self.action
            )),
        }
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut words = s.split_whitespace();
        let Some(name) = words.next() else {
            return Err(format!(
                "empty action; valid actions: {}",
                ACTION_FORMS.join(", ")
            ));
        };
        let mut args = Args {
            action: name,
            rest: words.collect(),
        };
        let simple = match name {
            "quit" => Some(Action::Quit),
            "help" => Some(Action::Help),
            "prompt:command" => Some(Action::Prompt(PromptKind::Command)),
            "prompt:filter" => Some(Action::Prompt(PromptKind::Filter)),
            "select" => Some(Action::Select),
            "back" => Some(Action::Back),
            "toggle_mark" => Some(Action::ToggleMark),
            "sync:now" => Some(Action::SyncNow),
            "log:clear" => Some(Action::LogClear),
            "log:detail" => Some(Action::LogDetail),
            "mapping:edit" => Some(Action::MappingEdit),
            "mapping:save" => Some(Action::MappingSave),
            "mapping:discard" => Some(Action::MappingDiscard),
            "mapping:undo" => Some(Action::MappingUndo),
            "mapping:preview" => Some(Action::MappingPreview),
            "sort:next" => Some(Action::SortNext),
            "sort:reverse" => Some(Action::SortReverse),
            "suspend" => Some(Action::Suspend),
            "redraw" => Some(Action::Redraw),
            "noop" => Some(Action::Noop),
            "confirm:yes" => Some(Action::ConfirmYes),
            "confirm:no" => Some(Action::ConfirmNo),
            _ => None,
        };
        if let Some(action) = simple {
            return args.finish(action);
        }
        let action = match name {
            "focus" => {
                let target = args.positional().ok_or_else(|| {
                    format!(
                        "\"focus\" needs a screen, next or prev; expected {}",
                        ACTION_FORMS[4]
                    )
                })?;
                let target = match target {
                    "next" => FocusTarget::Next,
                    "prev" => FocusTarget::Prev,
                    other => FocusTarget::Screen(other.parse()?),
                };
                Action::Focus(target)
            }
            "move" => {
                let motion = args.positional().ok_or_else(|| {
                    format!("\"move\" needs a motion; expected {}", ACTION_FORMS[5])
                })?;
                let motion = Motion::ALL
                    .into_iter()
                    .find(|m| m.as_str() == motion)
                    .ok_or_else(|| {
                        format!("unknown motion {motion:?}; expected {}", ACTION_FORMS[5])
                    })?;
                Action::Move(motion)
            }
            "sync:retry" => {
                let original = args.take_flag("--original");
                let selected = args.take_flag("--selected");
                let all = args.take_flag("--all");
                let class = args.take_value("--class")?.map(parse_class).transpose()?;
                let target = match (selected, all, class) {
                    (true, false, None) => RetryTarget::Selected,
                    (false, true, None) => RetryTarget::All,
                    (false, false, Some(class)) => RetryTarget::Class(class),
                    _ => {
                        return Err(
                            "\"sync:retry\" needs exactly one of --selected, --class CLASS or --all"
                                .into(),
                        );
                    }
                };
                Action::Retry { target, original }
            }
            "sync:skip" | "sync:resolve" => {
                if !args.take_flag("--selected") {
                    return Err(format!("{name:?} needs --selected"));
                }
                if name == "sync:skip" {
                    Action::Skip
                } else {
                    Action::Resolve
                }
            }
            "log:follow" | "log:wrap" | "log:timestamps" => {
                // `--toggle` is the only mode so far; it may be left out.
                args.take_flag("--toggle");
                match name {
                    "log:follow" => Action::LogFollowToggle,
                    "log:wrap" => Action::LogWrapToggle,
                    _ => Action::LogTimestampsToggle,
                }
            }
            _ => {
                return Err(format!(
                    "unknown action {name:?}; valid actions: {}",
                    ACTION_FORMS.join(", ")
                ));
            }
        };
        args.finish(action)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Quit => f.write_str("quit"),
            Action::Help => f.write_str("help"),
            Action::Prompt(PromptKind::Command) => f.write_str("prompt:command"),
            Action::Prompt(PromptKind::Filter) => f.write_str("prompt:filter"),
            Action::Focus(FocusTarget::Screen(screen)) => write!(f, "focus {screen}"),
            Action::Focus(FocusTarget::Next) => f.write_str("focus next"),
            Action::Focus(FocusTarget::Prev) => f.write_str("focus prev"),
            Action::Move(motion) => write!(f, "move {}", motion.as_str()),
            Action::Select => f.write_str("select"),
            Action::Back => f.write_str("back"),
            Action::ToggleMark => f.write_str("toggle_mark"),
            Action::SyncNow => f.write_str("sync:now"),
            Action::Retry { target, original } => {
                f.write_str("sync:retry")?;
                if *original {
                    f.write_str(" --original")?;
                }
                match target {
                    RetryTarget::Selected => f.write_str(" --selected"),
                    RetryTarget::Class(class) => write!(f, " --class {}", class.as_str()),
                    RetryTarget::All => f.write_str(" --all"),
                }
            }
            Action::Skip => f.write_str("sync:skip --selected"),
            Action::Resolve => f.write_str("sync:resolve --selected"),
            Action::LogFollowToggle => f.write_str("log:follow --toggle"),
            Action::LogWrapToggle => f.write_str("log:wrap --toggle"),
            Action::LogTimestampsToggle => f.write_str("log:timestamps --toggle"),
            Action::LogClear => f.write_str("log:clear"),
            Action::LogDetail => f.write_str("log:detail"),
            Action::MappingEdit => f.write_str("mapping:edit"),
            Action::MappingSave => f.write_str("mapping:save"),
            Action::MappingDiscard => f.write_str("mapping:discard"),
            Action::MappingUndo => f.write_str("mapping:undo"),
            Action::MappingPreview => f.write_str("mapping:preview"),
            Action::SortNext => f.write_str("sort:next"),
            Action::SortReverse => f.write_str("sort:reverse"),
            Action::Suspend => f.write_str("suspend"),
            Action::Redraw => f.write_str("redraw"),
            Action::Noop => f.write_str("noop"),
            Action::ConfirmYes => f.write_str("confirm:yes"),
            Action::ConfirmNo => f.write_str("confirm:no"),
        }
    }
}

/// The `:` palette's commands, k9s-style: the first name is canonical, the rest are aliases.
pub const COMMANDS: &[(&[&str], &str)] = &[
    (&["contacts", "contact", "co"], "go to contacts"),
    (&["tasks", "task", "ta"], "go to tasks"),
    (&["notes", "note", "no"], "go to notes"),
    (
        &["appointments", "appointment", "appts", "appt", "ap"],
        "go to appointments",
    ),
    (&["mapping", "mappings", "map"], "go to the mapping editor"),
    (
        &["log", "logs", "synclog", "sync_log"],
        "go to the sync log",
    ),
    (&["failures", "failed", "fail", "fa"], "go to failed syncs"),
    (&["status", "st"], "go to status"),
    (&["sync now", "sync"], "run a sync now"),
    (
        &["retry selected", "retry"],
        "retry the selected failures (add --original for the stored payload)",
    ),
    (
        &["retry class CLASS"],
        "retry every failure of an error class",
    ),
    (&["retry all"], "retry every failure"),
    (&["skip selected", "skip"], "skip the selected failures"),
    (
        &["resolve selected", "resolve"],
        "mark the selected failures resolved",
    ),
    (&["help", "h", "?"], "show key help"),
    (&["quit", "q", "q!", "qa"], "quit"),
];

fn command_list() -> String {
    COMMANDS
        .iter()
        .map(|(names, _)| format!(":{}", names.join("|:")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a `:` palette line (the leading `:` is optional). A line that is no palette command
/// but is a valid action string (`:log:wrap --toggle`) runs that action.
pub fn parse_command(line: &str) -> Result<Action, String> {
    let line = line.trim();
    let line = line.strip_prefix(':').unwrap_or(line).trim();
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&head, rest)) = words.split_first() else {
        return Err(format!("empty command; known commands: {}", command_list()));
    };
    let screen = |screen| Action::Focus(FocusTarget::Screen(screen));
    let no_args = |action: Action| -> Result<Action, String> {
        match rest.first() {
            None => Ok(action),
            Some(extra) => Err(format!(":{head} takes no argument (got {extra:?})")),
        }
    };
    match head.to_ascii_lowercase().as_str() {
        "contacts" | "contact" | "co" => no_args(screen(Screen::Contacts)),
        "tasks" | "task" | "ta" => no_args(screen(Screen::Tasks)),
        "notes" | "note" | "no" => no_args(screen(Screen::Notes)),
        "appointments" | "appointment" | "appts" | "appt" | "ap" => {
            no_args(screen(Screen::Appointments))
        }
        "mapping" | "mappings" | "map" => no_args(screen(Screen::Mapping)),
        "log" | "logs" | "synclog" | "sync_log" => no_args(screen(Screen::SyncLog)),
        "failures" | "failed" | "fail" | "fa" => no_args(screen(Screen::Failures)),
        "status" | "st" => no_args(screen(Screen::Status)),
        "help" | "h" | "?" => no_args(Action::Help),
        "quit" | "q" | "q!" | "qa" => no_args(Action::Quit),
        "sync" => match rest {
            [] | ["now"] => Ok(Action::SyncNow),
            _ => Err(format!(":sync takes \"now\" (got {:?})", rest.join(" "))),
        },
        "retry" => parse_retry(rest),
        "skip" | "resolve" => match rest {
            [] | ["selected"] => Ok(if head.eq_ignore_ascii_case("skip") {
                Action::Skip
            } else {
                Action::Resolve
            }),
            _ => Err(format!(
                ":{head} works on the selection only: \":{head} selected\""
            )),
        },
        _ => line.parse::<Action>().map_err(|_| {
            format!(
                "unknown command {:?}; known commands: {}",
                format!(":{line}"),
                command_list()
            )
        }),
    }
}

/// `:retry [selected] | class CLASS | all`, each with an optional `original`/`--original`.
fn parse_retry(rest: &[&str]) -> Result<Action, String> {
    let original = rest.iter().any(|w| *w == "original" || *w == "--original");
    let rest: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|w| *w != "original" && *w != "--original")
        .collect();
    let target = match rest.as_slice() {
        [] | ["selected"] => RetryTarget::Selected,
        ["all"] => RetryTarget::All,
        ["class", class] => RetryTarget::Class(parse_class(class)?),
        ["class"] => return Err(format!(":retry class needs a class: {CLASS_NAMES}")),
        _ => {
            return Err(format!(
                "unknown :retry form {:?}; use \":retry selected\", \":retry class CLASS\" or \":retry all\" (add \"original\" for the stored payload)",
                rest.join(" ")
            ));
        }
    };
    Ok(Action::Retry { target, original })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_examples() -> Vec<&'static str> {
        vec![
            "quit",
            "help",
            "prompt:command",
            "prompt:filter",
            "focus contacts",
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
            "sync:now",
            "sync:retry --selected",
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
            "sync:retry --selected",
            "sync:retry --original --selected",
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
    fn screens_cycle() {
        assert_eq!(Screen::Contacts.next(), Screen::Tasks);
        assert_eq!(Screen::Status.next(), Screen::Contacts);
        assert_eq!(Screen::Contacts.prev(), Screen::Status);
        for s in Screen::ALL {
            assert_eq!(s.as_str().parse::<Screen>(), Ok(s));
            assert_eq!(s.next().prev(), s);
        }
    }
}
