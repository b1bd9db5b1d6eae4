//! The `:` palette (k9s-style): commands with aliases, each resolved to an [`Action`].

use super::{Action, CLASS_NAMES, FocusTarget, RetryTarget, Screen, parse_class};

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
    (&["alerts", "alert", "al"], "go to the service's alerts"),
    (&["sync now", "sync"], "run a sync now"),
    (
        &["sync peer now", "sync peer"],
        "sync the peer on screen now, only it",
    ),
    (
        &["sync contact"],
        "sync the selected contact now (contact list or detail)",
    ),
    (
        &["retry selected", "retry"],
        "retry the selected failures (add --original for the stored payload)",
    ),
    (
        &["retry class CLASS"],
        "retry every failure of an error class",
    ),
    (
        &["retry selected-class"],
        "retry every failure of the selected row's class",
    ),
    (&["retry all"], "retry every failure"),
    (&["skip selected", "skip"], "skip the selected failures"),
    (
        &["resolve selected", "resolve"],
        "mark the selected failures resolved",
    ),
    (
        &["preview ID", "preview ghl:ID"],
        "preview the mapping on a peer record, or a GHL contact (ghl:ID)",
    ),
    (
        &["peer NAME", "peer"],
        "show peer NAME (alone: the next peer); the log and failures show every peer",
    ),
    (
        &["ctx NAME", "ctx"],
        "the ghlsync services on this host (alone: pick one) or attach to NAME",
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
        "alerts" | "alert" | "al" => no_args(screen(Screen::Alerts)),
        "help" | "h" | "?" => no_args(Action::Help),
        // `:peer NAME` is taken by the prompt (it names a peer only the engine knows).
        "peer" | "peers" => no_args(Action::PeerNext),
        "quit" | "q" | "q!" | "qa" => no_args(Action::Quit),
        "sync" => match rest {
            [] | ["now"] => Ok(Action::SyncNow),
            ["peer"] | ["peer", "now"] => Ok(Action::SyncPeer),
            ["contact"] | ["contact", "now"] => Ok(Action::SyncContact),
            _ => Err(format!(
                ":sync takes \"now\", \"peer now\" or \"contact\" (got {:?})",
                rest.join(" ")
            )),
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
        ["selected-class"] => RetryTarget::SelectedClass,
        ["all"] => RetryTarget::All,
        ["class", class] => RetryTarget::Class(parse_class(class)?),
        ["class"] => return Err(format!(":retry class needs a class: {CLASS_NAMES}")),
        _ => {
            return Err(format!(
                "unknown :retry form {:?}; use \":retry selected\", \":retry selected-class\", \":retry class CLASS\" or \":retry all\" (add \"original\" for the stored payload)",
                rest.join(" ")
            ));
        }
    };
    Ok(Action::Retry { target, original })
}

/// Error classes `:retry class` takes, for completion.
const CLASSES: [&str; 8] = [
    "rate_limited",
    "transient",
    "ambiguous",
    "auth",
    "scope_or_config",
    "validation",
    "not_found",
    "decode",
];

/// One palette line that matches what is typed: the command as it would be completed, and what
/// it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub command: String,
    pub desc: &'static str,
}

/// The palette's commands that start with `typed` (the leading `:` optional), best first: a
/// command whose canonical name matches before one matched by an alias. `retry class ` lists
/// the classes.
pub fn matches(typed: &str) -> Vec<Match> {
    let typed = typed.trim_start();
    let typed = typed
        .strip_prefix(':')
        .unwrap_or(typed)
        .to_ascii_lowercase();
    if let Some(class) = typed.strip_prefix("retry class ") {
        return CLASSES
            .iter()
            .filter(|name| name.starts_with(class.trim()))
            .map(|name| Match {
                command: format!("retry class {name}"),
                desc: "retry every failure of this class",
            })
            .collect();
    }
    let mut out: Vec<Match> = Vec::new();
    for (names, desc) in COMMANDS {
        // The words a person types: a name's text up to its placeholder (`retry class CLASS`
        // completes to `retry class `).
        let typeable = |name: &str| -> String {
            name.split(' ')
                .take_while(|word| !word.chars().any(|c| c.is_ascii_uppercase()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let hit = names.iter().find(|name| {
            let takes_argument = name.contains(|c: char| c.is_ascii_uppercase());
            let name = typeable(name);
            // Typed so far, or typed in full with its argument after it.
            name.starts_with(&typed)
                || (takes_argument
                    && !name.is_empty()
                    && typed
                        .strip_prefix(name.as_str())
                        .is_some_and(|rest| rest.starts_with(' ')))
        });
        if let Some(name) = hit {
            let mut command = typeable(name);
            if name.contains(|c: char| c.is_ascii_uppercase()) {
                command.push(' ');
            }
            if !out.iter().any(|m| m.command == command) {
                out.push(Match { command, desc });
            }
        }
    }
    out
}

/// Whether a palette command writes (sync, retry, skip, resolve): hidden under --read-only.
/// A command still waiting for its argument (`retry class `) counts by its first word.
pub fn is_write_command(command: &str) -> bool {
    match parse_command(command) {
        Ok(action) => action.is_write(),
        Err(_) => matches!(
            command.split_whitespace().next(),
            Some("sync" | "retry" | "skip" | "resolve")
        ),
    }
}

/// Tab in the palette: what `typed` completes to — the one match, else the longest beginning
/// all matches share (when longer than what is typed); `None` when there is nothing to add.
pub fn complete(typed: &str) -> Option<String> {
    let found = matches(typed);
    let first = found.first()?;
    let common = found
        .iter()
        .skip(1)
        .fold(first.command.clone(), |common, m| {
            common
                .chars()
                .zip(m.command.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect()
        });
    let typed = typed.trim_start();
    let typed = typed.strip_prefix(':').unwrap_or(typed);
    // One match: complete it and the space before an argument.
    let completed = if found.len() == 1 && !common.ends_with(' ') {
        format!("{common} ")
    } else {
        common
    };
    (completed.len() > typed.len() && completed.starts_with(&typed.to_ascii_lowercase()))
        .then_some(completed)
}
