//! The Status screen's service panel, when the engine is `ghlsync run`: the location's
//! webhook rate, inbox and lag, its 429s per minute, and per peer the last and next run with
//! writes and errors per minute over the last hour. The peer on screen (`P` switches) gets
//! sparklines; the others a line each, so several peers still fit at 80×24.

use super::util::{block, clip};
use crate::console::clock::TimeStyle;
use crate::console::state::AppState;
use crate::engine::board::{PeerFigures, ServiceStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

/// The label column left of each sparkline.
const LABEL: u16 = 22;

/// Rows the panel wants for `service` (borders included).
pub fn height(service: &ServiceStatus) -> u16 {
    // Borders, the location line, 429s, the peer on screen (3), one line per other peer.
    let others = service.peers.len().saturating_sub(1);
    2 + 2 + 3 + u16::try_from(others).unwrap_or(u16::MAX)
}

pub fn render(state: &AppState, service: &ServiceStatus, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let since = service.started_at.as_ref().map_or(String::new(), |at| {
        format!(" · up since {}", state.zone.format(at, TimeStyle::DateTime))
    });
    let outer = block(format!(" Service {}{since} ", service.instance), theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let mut rows = Layout::vertical(vec![Constraint::Length(1); usize::from(inner.height)])
        .split(inner)
        .to_vec()
        .into_iter();

    let Some(row) = rows.next() else { return };
    frame.render_widget(Paragraph::new(location_line(state, service)), row);
    if let Some(row) = rows.next() {
        series_row(
            state,
            frame,
            row,
            "429s/min",
            &service.rate_limited,
            theme.warn(),
        );
    }
    let current = service
        .peers
        .iter()
        .find(|p| p.name == state.peer)
        .or_else(|| service.peers.first());
    if let Some(peer) = current {
        if let Some(row) = rows.next() {
            frame.render_widget(Paragraph::new(peer_line(state, peer, false)), row);
        }
        if let Some(row) = rows.next() {
            series_row(state, frame, row, "writes/min", &peer.writes, theme.ok());
        }
        if let Some(row) = rows.next() {
            series_row(state, frame, row, "errors/min", &peer.errors, theme.error());
        }
    }
    for peer in service
        .peers
        .iter()
        .filter(|p| current.is_none_or(|c| c.name != p.name))
    {
        let Some(row) = rows.next() else { break };
        frame.render_widget(Paragraph::new(peer_line(state, peer, true)), row);
    }
}

/// `webhooks 3/min · inbox 0 · lag 2 s · last 14:03:07`: the location as a whole.
fn location_line<'a>(state: &AppState, service: &ServiceStatus) -> Line<'a> {
    let theme = &state.theme;
    let per_minute = last_minute(&service.webhooks);
    let lag = match service.lag_secs {
        Some(secs) => lag_text(secs),
        None => "none".to_string(),
    };
    let lag_style = match service.lag_secs {
        Some(secs) if secs >= 300 => theme.error(),
        Some(secs) if secs >= 30 => theme.warn(),
        _ => theme.ok(),
    };
    let mut spans = vec![
        Span::styled(" webhooks ", theme.dim()),
        Span::raw(format!("{per_minute}/min")),
        Span::styled(" · inbox ", theme.dim()),
        Span::raw(service.inbox_len.to_string()),
        Span::styled(" · lag ", theme.dim()),
        Span::styled(lag, lag_style),
    ];
    if let Some(at) = &service.last_webhook_at {
        spans.push(Span::styled(" · last ", theme.dim()));
        spans.push(Span::raw(state.zone.format(at, TimeStyle::Time)));
    }
    Line::from(spans)
}

fn lag_text(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

/// A peer's last and next run; `totals` adds the hour's writes and errors (for the peers
/// shown without sparklines).
fn peer_line<'a>(state: &AppState, peer: &PeerFigures, totals: bool) -> Line<'a> {
    let theme = &state.theme;
    let time = |at: &chrono::DateTime<chrono::Utc>| state.zone.format(at, TimeStyle::Time);
    let last = peer.last_run.as_ref().map_or("never".to_string(), time);
    // The soonest of the peer's schedules, and what it runs.
    let next = peer
        .next_runs
        .iter()
        .min_by_key(|(_, at)| **at)
        .map_or("unscheduled".to_string(), |(entity, at)| {
            format!("{} {entity}", time(at))
        });
    let mut spans = vec![
        Span::styled(format!(" {:<10}", clip(&peer.name, 10)), theme.title()),
        Span::styled(" last ", theme.dim()),
        Span::raw(last),
        Span::styled(" · next ", theme.dim()),
        Span::raw(next),
    ];
    if totals {
        let errors: u32 = peer.errors.iter().sum();
        spans.push(Span::styled(" · ", theme.dim()));
        spans.push(Span::raw(format!(
            "{} writes",
            peer.writes.iter().sum::<u32>()
        )));
        spans.push(Span::styled(", ", theme.dim()));
        spans.push(Span::styled(
            format!("{errors} errors /h"),
            if errors > 0 {
                theme.error()
            } else {
                theme.text()
            },
        ));
    }
    Line::from(spans)
}

/// `  writes/min  Σ 42 ▁▂▅…`: a label with the hour's total, then the last minutes that fit.
fn series_row(
    state: &AppState,
    frame: &mut Frame,
    row: Rect,
    label: &str,
    series: &[u32],
    style: Style,
) {
    let theme = &state.theme;
    let [left, right] =
        Layout::horizontal([Constraint::Length(LABEL), Constraint::Fill(1)]).areas(row);
    let total: u64 = series.iter().map(|v| u64::from(*v)).sum();
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("   {label:<11}"), theme.dim()),
            Span::raw(format!("{total:>5}/h ")),
        ])),
        left,
    );
    // The newest minutes at the right edge: as many as the width holds.
    let width = usize::from(right.width);
    let tail: Vec<u64> = series
        .iter()
        .skip(series.len().saturating_sub(width))
        .map(|v| u64::from(*v))
        .collect();
    frame.render_widget(Sparkline::default().data(&tail).style(style), right);
}

/// The current minute's count (the series' last bucket).
fn last_minute(series: &[u32]) -> u32 {
    series.last().copied().unwrap_or(0)
}
