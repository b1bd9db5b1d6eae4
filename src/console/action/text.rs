//! The string form of actions: `FromStr` parses `name --flags args`, `Display` writes the
//! canonical form back, so `parse(display(a)) == a`.

use super::{ACTION_FORMS, Action, FocusTarget, Motion, PromptKind, RetryTarget, parse_class};
use std::fmt;
use std::str::FromStr;

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
            "detail:history" => Some(Action::DetailHistory),
            "jump:contact" => Some(Action::JumpContact),
            "copy:id" => Some(Action::CopyId),
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
            "confirm:switch" => Some(Action::ConfirmSwitch),
            "peer:next" => Some(Action::PeerNext),
            "sync:contact" => Some(Action::SyncContact),
            "sync:peer" => Some(Action::SyncPeer),
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
                let selected_class = args.take_flag("--selected-class");
                let selected_reason = args.take_flag("--selected-reason");
                let all = args.take_flag("--all");
                let class = args.take_value("--class")?.map(parse_class).transpose()?;
                let target = match (selected, selected_class, selected_reason, all, class) {
                    (true, false, false, false, None) => RetryTarget::Selected,
                    (false, true, false, false, None) => RetryTarget::SelectedClass,
                    (false, false, true, false, None) => RetryTarget::SelectedReason,
                    (false, false, false, true, None) => RetryTarget::All,
                    (false, false, false, false, Some(class)) => RetryTarget::Class(class),
                    _ => {
                        return Err(
                            "\"sync:retry\" needs exactly one of --selected, --selected-class, --selected-reason, --class CLASS or --all"
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
            "children:scope" => {
                // `--toggle` is the only mode; it may be left out.
                args.take_flag("--toggle");
                Action::ChildrenScopeToggle
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
            Action::ChildrenScopeToggle => f.write_str("children:scope --toggle"),
            Action::SyncNow => f.write_str("sync:now"),
            Action::Retry { target, original } => {
                f.write_str("sync:retry")?;
                if *original {
                    f.write_str(" --original")?;
                }
                match target {
                    RetryTarget::Selected => f.write_str(" --selected"),
                    RetryTarget::SelectedClass => f.write_str(" --selected-class"),
                    RetryTarget::SelectedReason => f.write_str(" --selected-reason"),
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
            Action::DetailHistory => f.write_str("detail:history"),
            Action::JumpContact => f.write_str("jump:contact"),
            Action::CopyId => f.write_str("copy:id"),
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
            Action::ConfirmSwitch => f.write_str("confirm:switch"),
            Action::PeerNext => f.write_str("peer:next"),
            Action::SyncContact => f.write_str("sync:contact"),
            Action::SyncPeer => f.write_str("sync:peer"),
        }
    }
}
