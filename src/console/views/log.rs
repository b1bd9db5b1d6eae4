//! The live sync log: one line per record outcome, newest at the bottom while following.

use super::util::{block, scroll_offset};
use crate::console::clock::{DisplayZone, TimeStyle};
use crate::console::state::AppState;
use crate::console::theme::Theme;
use crate::store::{LogEntry, Outcome};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub fn outcome_style(outcome: Outcome, theme: &Theme) -> Style {
    match outcome {
        Outcome::Ok => theme.ok(),
        Outcome::Unchanged | Outcome::DryRun => theme.dim(),
        Outcome::Conflict | Outcome::Queued | Outcome::Parked | Outcome::Retrying => theme.warn(),
        Outcome::Failed => theme.error(),
    }
}

/// One log entry on one line; with several peers, the arrow names the entry's peer.
pub fn entry_line<'a>(
    entry: &LogEntry,
    timestamps: Option<&DisplayZone>,
    several_peers: bool,
    theme: &Theme,
) -> Line<'a> {
    let mut spans = Vec::with_capacity(8);
    if let Some(zone) = timestamps {
        spans.push(Span::styled(
            format!("{} ", zone.format(&entry.at, TimeStyle::Time)),
            theme.dim(),
        ));
    }
    spans.push(Span::styled(
        format!("{:<9} ", entry.outcome.as_str()),
        outcome_style(entry.outcome, theme),
    ));
    let arrow = match (entry.direction, several_peers) {
        (crate::store::Direction::ToGhl, false) => "→ghl ".to_string(),
        (crate::store::Direction::ToPeer, false) => "→peer".to_string(),
        (crate::store::Direction::ToGhl, true) => format!("{}→ghl", entry.peer),
        (crate::store::Direction::ToPeer, true) => format!("→{}", entry.peer),
    };
    spans.push(Span::raw(format!(
        "{:<11} {} {:<6} ",
        entry.kind.as_str(),
        arrow,
        entry.action.as_str()
    )));
    spans.push(Span::raw(entry.peer_id.clone().unwrap_or_default()));
    if let Some(ghl) = &entry.ghl_id {
        spans.push(Span::styled(format!(" ⇄ {ghl}"), theme.dim()));
    }
    if let Some(class) = entry.error_class {
        spans.push(Span::styled(
            format!(" [{}]", class.as_str()),
            theme.error(),
        ));
    }
    if let Some(message) = &entry.message {
        spans.push(Span::raw(format!(" {message}")));
    }
    Line::from(spans)
}

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let log = &state.log;
    let visible = log.visible();
    let mut title = format!(
        " Sync log {} · {}{}{} ",
        visible.len(),
        if log.follow { "following" } else { "paused" },
        if log.wrap { " · wrap" } else { "" },
        if log.timestamps { "" } else { " · no time" },
    );
    if !log.filter_text.is_empty() {
        title.push_str(&format!("· /{} ", log.filter_text));
    }
    let outer = block(title, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    if visible.is_empty() {
        let text = if log.entries.is_empty() {
            " no sync activity yet"
        } else {
            " nothing matches the filter (esc clears it)"
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim()), inner);
        return;
    }
    let height = usize::from(inner.height);
    let selected = log.selected.min(visible.len() - 1);
    let offset = scroll_offset(selected, height);
    let lines: Vec<Line> = visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .filter_map(|(position, &index)| {
            let entry = log.entries.get(index)?;
            let line = entry_line(
                entry,
                log.timestamps.then_some(&state.zone),
                state.several_peers(),
                theme,
            );
            Some(if position == selected {
                line.style(theme.selected())
            } else {
                line
            })
        })
        .collect();
    let mut paragraph = Paragraph::new(lines);
    if log.wrap {
        paragraph = paragraph.wrap(Wrap { trim: false });
    }
    frame.render_widget(paragraph, inner);
}
