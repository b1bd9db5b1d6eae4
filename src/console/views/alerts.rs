//! Alerts: the service's open alerts first, then the history (raised and recovered, newest
//! first), one line each with its time, state, subject and message; the selected one's whole
//! message (what happened and what to do) below.

use super::util::{block, clip, scroll_offset, wrap};
use crate::console::clock::TimeStyle;
use crate::console::state::AppState;
use crate::engine::board::{Alert, AlertKey, AlertState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Rows of the selected alert's full message.
const DETAIL_ROWS: u16 = 4;

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let alerts = &state.alerts;
    let title = format!(
        " Alerts · {} open · {} in history ",
        alerts.open.len(),
        alerts.history.len()
    );
    if alerts.is_empty() {
        let outer = block(title, theme);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        let service = state.status.as_ref().is_some_and(|s| s.service.is_some());
        let text = match (alerts.loaded, service) {
            (false, _) => " loading…",
            (true, true) => " No alerts: nothing has gone wrong since the service started.",
            (true, false) => {
                " No alerts: in-process (no service). Alerts come from the service (ghlsync run); the console shows them when attached to it."
            }
        };
        let lines: Vec<Line> = wrap(text, usize::from(inner.width))
            .into_iter()
            .map(|line| Line::from(Span::styled(line, theme.dim())))
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let [list, detail] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(DETAIL_ROWS + 2)]).areas(area);
    let outer = block(title, theme);
    let inner = outer.inner(list);
    frame.render_widget(outer, list);
    let height = usize::from(inner.height);
    let offset = scroll_offset(alerts.selected, height);
    let width = usize::from(inner.width);
    let lines: Vec<Line> = alerts
        .rows()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(index, (open, alert))| row(state, alert, open, index == alerts.selected, width))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);

    let Some((open, selected)) = alerts.rows().nth(alerts.selected) else {
        return;
    };
    let outer = block(
        format!(
            " {} · {} ",
            subject(&selected.key),
            if open {
                "open"
            } else {
                state_word(selected.state)
            }
        ),
        theme,
    );
    let inner = outer.inner(detail);
    frame.render_widget(outer, detail);
    let lines: Vec<Line> = wrap(&selected.message, usize::from(inner.width))
        .into_iter()
        .take(usize::from(inner.height))
        .map(Line::from)
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `2026-06-01 10:00  OPEN       peer down · repsly  repsly stopped answering…`
fn row<'a>(state: &AppState, alert: &Alert, open: bool, selected: bool, width: usize) -> Line<'a> {
    let theme = &state.theme;
    let when = state.zone.format(&alert.at, TimeStyle::DateTime);
    let (word, style) = match (open, alert.state) {
        (true, _) => ("OPEN", theme.error()),
        (false, AlertState::Raised) => ("raised", theme.warn()),
        (false, AlertState::Recovered) => ("recovered", theme.ok()),
    };
    let subject = clip(&subject(&alert.key), 20);
    let used = when.chars().count() + 1 + 10 + 1 + 20 + 2;
    let message = clip(&alert.message, width.saturating_sub(used + 1).max(8));
    let line = Line::from(vec![
        Span::styled(format!(" {when} "), theme.in_row(theme.dim(), selected)),
        Span::styled(format!("{word:<10} "), theme.in_row(style, selected)),
        Span::styled(
            format!("{subject:<20}  "),
            theme.in_row(theme.text(), selected),
        ),
        Span::styled(message, theme.in_row(theme.text(), selected)),
    ]);
    if selected {
        line.style(theme.selected())
    } else {
        line
    }
}

fn state_word(state: AlertState) -> &'static str {
    match state {
        AlertState::Raised => "raised",
        AlertState::Recovered => "recovered",
    }
}

/// What an alert is about, short.
pub fn subject(key: &AlertKey) -> String {
    match key {
        AlertKey::DeadOperations(peer) => format!("dead ops · {peer}"),
        AlertKey::Auth => "GHL auth".into(),
        AlertKey::Quota => "daily quota".into(),
        AlertKey::PeerDown(peer) => format!("peer down · {peer}"),
        AlertKey::WebhooksSilent => "webhooks silent".into(),
        AlertKey::Reload(what) => format!("reload · {what}"),
    }
}
