//! The service the console is attached to, and the others on this host (`:ctx`, like k9s
//! contexts): one module owning the picker's state, keys and view, and the header's word on
//! the connection.
//!
//! `:ctx` opens the picker (the runner lists the sockets: `Effect::ListInstances`); j/k move,
//! Enter switches, Esc closes. `:ctx NAME` switches at once. A switch is the runner's
//! (`Effect::SwitchInstance`): it attaches to the other service, and `switched` starts the
//! console over on it, keeping only what is the person's (zone, keys, prompt history, size).

use crate::console::action::{Action, Motion};
use crate::console::msg::Effect;
use crate::console::state::{AppState, FlashLevel, Mode, Popup};
use crate::console::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use std::path::PathBuf;

/// One service found by its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRow {
    pub name: String,
    pub path: PathBuf,
    /// Something answers; a stale socket (a service that died) does not.
    pub alive: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstancesState {
    /// The instance attached to (`None`: the engine runs in this process).
    pub current: Option<String>,
    /// The attached service answers; false from `Event::Connection {connected: false}` until
    /// it is back.
    pub lost: bool,
    /// The picker's list (`None` while the runner reads the sockets).
    pub list: Option<Vec<InstanceRow>>,
    pub selected: usize,
    /// Why the list could not be read.
    pub problem: Option<String>,
}

/// `:ctx` (alone: the picker) or `:ctx NAME` (switch to it).
pub fn command(state: &mut AppState, argument: &str) -> Vec<Effect> {
    let name = argument.trim();
    if name.is_empty() {
        state.instances.list = None;
        state.instances.problem = None;
        state.instances.selected = 0;
        state.open_popup(Popup::Instances);
        return vec![Effect::ListInstances];
    }
    switch_to(state, name, None)
}

/// The runner's list of sockets.
pub fn on_list(state: &mut AppState, list: Result<Vec<InstanceRow>, String>) -> Vec<Effect> {
    match list {
        Ok(rows) => {
            // The cursor starts on the instance on screen.
            state.instances.selected = rows
                .iter()
                .position(|row| Some(&row.name) == state.instances.current.as_ref())
                .unwrap_or(0);
            state.instances.list = Some(rows);
        }
        Err(problem) => {
            state.instances.list = Some(Vec::new());
            state.instances.problem = Some(problem);
        }
    }
    Vec::new()
}

/// The picker's keys while it is open: motions and Enter. Others (Esc, quit) fall through.
pub fn on_key(state: &mut AppState, action: Action) -> Option<Vec<Effect>> {
    if state.popup != Some(Popup::Instances) || state.prompt.is_some() {
        return None;
    }
    let count = state.instances.list.as_ref().map_or(0, Vec::len);
    let selected = &mut state.instances.selected;
    match action {
        Action::Move(Motion::Up) => *selected = selected.saturating_sub(1),
        Action::Move(Motion::Down) => *selected = (*selected + 1).min(count.saturating_sub(1)),
        Action::Move(Motion::Top | Motion::PageUp) => *selected = 0,
        Action::Move(Motion::Bottom | Motion::PageDown) => *selected = count.saturating_sub(1),
        Action::Select => {
            let row = state
                .instances
                .list
                .as_ref()
                .and_then(|rows| rows.get(state.instances.selected))
                .cloned();
            return Some(match row {
                Some(row) => switch_to(state, &row.name, Some(row.path)),
                None => Vec::new(),
            });
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn switch_to(state: &mut AppState, name: &str, path: Option<PathBuf>) -> Vec<Effect> {
    if state.instances.current.as_deref() == Some(name) && !state.instances.lost {
        state.popup = None;
        state.flash(FlashLevel::Info, format!("already on {name}"));
        return Vec::new();
    }
    if state.mapping.is_dirty() {
        state.flash(
            FlashLevel::Error,
            format!(
                "the mapping has unsaved changes: save or discard them before switching to {name}"
            ),
        );
        return Vec::new();
    }
    state.popup = None;
    state.flash(FlashLevel::Info, format!("attaching to {name}…"));
    vec![Effect::SwitchInstance {
        name: name.to_string(),
        path,
    }]
}

/// The runner attached to another service (`who`: "ghlsync run NAME (pid N)"), or could not.
/// On success the console starts over on it; its first requests are returned.
pub fn switched(state: &mut AppState, result: Result<(String, String), String>) -> Vec<Effect> {
    let (name, who) = match result {
        Ok(found) => found,
        Err(message) => {
            state.flash(FlashLevel::Error, message);
            return Vec::new();
        }
    };
    let mut fresh = AppState::new(Mode::Live, "", state.read_only, state.theme);
    fresh.zone = state.zone;
    fresh.mouse = state.mouse;
    fresh.help = std::mem::take(&mut state.help);
    fresh.history = std::mem::take(&mut state.history);
    fresh.size = state.size;
    fresh.instances = InstancesState {
        current: Some(name),
        ..InstancesState::default()
    };
    *state = fresh;
    state.flash(FlashLevel::Info, format!("attached to {who}"));
    crate::console::update::init(state, false)
}

/// `Event::Connection`: the service was lost (the header says so until it is back), or is
/// back — then everything on screen is read again, since it may have restarted.
pub fn on_connection(state: &mut AppState, connected: bool, message: String) -> Vec<Effect> {
    state.instances.lost = !connected;
    if connected {
        state.flash(FlashLevel::Info, message);
        crate::console::update::init(state, false)
    } else {
        state.flash(FlashLevel::Warn, message);
        Vec::new()
    }
}

/// The header's word on the service: its name while attached, or that it is lost.
pub fn header_spans(state: &AppState) -> Vec<Span<'static>> {
    let theme = &state.theme;
    match &state.instances.current {
        None => Vec::new(),
        Some(_) if state.instances.lost => vec![
            Span::raw("  "),
            Span::styled(" service lost — reconnecting ", theme.error()),
        ],
        Some(name) => vec![
            Span::styled("  svc ", theme.hint()),
            Span::styled(name.clone(), theme.ok()),
        ],
    }
}

/// The picker, over the body.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let rows = state.instances.list.as_deref();
    let height = (rows.map_or(1, <[InstanceRow]>::len).max(1) as u16 + 4).min(area.height);
    let rect = centered(area, 64, height);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(" Services on this host · enter attaches · esc closes ")
        .title_style(theme.title());
    let width = usize::from(rect.width.saturating_sub(2));
    frame.render_widget(
        Paragraph::new(lines(state, theme, width)).block(block),
        rect,
    );
}

fn lines(state: &AppState, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let instances = &state.instances;
    let Some(rows) = &instances.list else {
        return vec![Line::styled("reading the sockets…", theme.hint())];
    };
    if let Some(problem) = &instances.problem {
        return vec![Line::styled(problem.clone(), theme.error())];
    }
    if rows.is_empty() {
        return vec![
            Line::raw("no service runs on this host"),
            Line::styled("start one: ghlsync run", theme.hint()),
        ];
    }
    // The visible window keeps the cursor on screen.
    let room = usize::from(state.size.1.saturating_sub(8)).max(1);
    let first = instances.selected.saturating_sub(room - 1);
    let mut out: Vec<Line<'static>> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(room)
        .map(|(index, row)| {
            let here = Some(&row.name) == instances.current.as_ref();
            let status = match (row.alive, here) {
                (_, true) => "attached",
                (true, false) => "running",
                (false, false) => "stale",
            };
            let name_width = width.saturating_sub(12).max(8);
            let mut name = row.name.clone();
            if name.chars().count() > name_width {
                name = name.chars().take(name_width - 1).collect::<String>() + "…";
            }
            let text = format!(" {name:<name_width$} {status:>9} ");
            let style = if index == instances.selected {
                theme.selected()
            } else if !row.alive {
                theme.hint()
            } else {
                ratatui::style::Style::default()
            };
            Line::styled(text, style)
        })
        .collect();
    if let Some(row) = rows.get(instances.selected) {
        out.push(Line::styled(
            clip_path(&row.path.display().to_string(), width),
            theme.hint(),
        ));
    }
    out
}

/// A long socket path keeps its end (the file name).
fn clip_path(path: &str, width: usize) -> String {
    let count = path.chars().count();
    if count <= width {
        return path.to_string();
    }
    let tail: String = path.chars().skip(count + 1 - width).collect();
    format!("…{tail}")
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height.min(area.height)),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, center, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(width.min(area.width)),
        Constraint::Fill(1),
    ])
    .areas(middle);
    center.intersection(area)
}

#[cfg(test)]
mod tests;
