//! Status: rate-limit gauges (paused-until after a 429), requests and errors per second (from
//! the live log; a service's per-minute figures instead, `service.rs`), cursors, queue sizes,
//! both APIs' connection state and the last runs.

use super::util::block;
use crate::console::clock::{TimeStyle, ZoneSource};
use crate::console::state::AppState;
use crate::ghl::{AuthInfo, AuthMethod};
use crate::peers::PeerHealth;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Sparkline};

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let Some(status) = &state.status else {
        let outer = block(" Status ".to_string(), theme);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        frame.render_widget(Paragraph::new(" loading…").style(theme.dim()), inner);
        return;
    };
    // A service's panel takes the live-log sparklines' place; the store and runs below keep
    // at least 6 rows.
    let middle = status.service.as_ref().map_or(5, |service| {
        super::service::height(service).min(area.height.saturating_sub(4 + 6).max(5))
    });
    let [limits, rates, rest] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(middle),
        Constraint::Fill(1),
    ])
    .areas(area);

    let rate = &status.rate_limit;
    // The refresh time shows the screen is live (it is read again every second while shown).
    let refreshed = state.now.as_ref().map_or(String::new(), |now| {
        format!("· at {} ", state.zone.format(now, TimeStyle::Time))
    });
    let outer = block(
        format!(
            " Rate limit · {} sent · {} × 429 {refreshed}",
            rate.requests_sent, rate.rate_limited_seen
        ),
        theme,
    );
    let inner = outer.inner(limits);
    frame.render_widget(outer, limits);
    let [burst, daily] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(inner);
    let burst_ratio = if rate.max == 0 {
        0.0
    } else {
        (rate.tokens / f64::from(rate.max)).clamp(0.0, 1.0)
    };
    let paused = rate
        .paused_until_ms
        .and_then(chrono::DateTime::from_timestamp_millis)
        .filter(|until| state.now.is_none_or(|now| *until > now));
    let burst_gauge = match paused {
        // A 429 holds every request back: that matters more than the bucket.
        Some(until) => Gauge::default()
            .gauge_style(theme.error())
            .ratio(0.0)
            .label(format!(
                "paused by a 429 until {}",
                state.zone.format(&until, TimeStyle::Time)
            )),
        None => Gauge::default()
            .gauge_style(theme.ok())
            .ratio(burst_ratio)
            .label(format!(
                "burst {:.0}/{} per {} ms",
                rate.tokens.max(0.0),
                rate.max,
                rate.interval_ms
            )),
    };
    frame.render_widget(burst_gauge, burst);
    let (daily_ratio, daily_label) = match (rate.daily_remaining, rate.daily_limit) {
        (Some(remaining), Some(limit)) if limit > 0 => (
            (remaining as f64 / limit as f64).clamp(0.0, 1.0),
            format!("daily {remaining}/{limit} left"),
        ),
        _ => (0.0, "daily quota unknown".to_string()),
    };
    frame.render_widget(
        Gauge::default()
            .gauge_style(theme.info())
            .ratio(daily_ratio)
            .label(daily_label),
        daily,
    );

    match &status.service {
        Some(service) => super::service::render(state, service, frame, rates),
        None => live_rates(state, frame, rates),
    }

    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Fill(1)]).areas(rest);
    let mut lines = vec![Line::from(Span::styled(" queue", theme.title()))];
    for (name, count) in &status.queue {
        let style = if *count > 0 && name != "in_flight" {
            theme.error()
        } else {
            theme.text()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {name:<16}"), theme.dim()),
            Span::styled(count.to_string(), style),
        ]));
    }
    lines.push(Line::from(Span::styled(" cursors", theme.title())));
    for (name, value) in &status.cursors {
        lines.push(Line::from(vec![
            Span::styled(format!("  {name:<16}"), theme.dim()),
            Span::raw(value.clone()),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled(" log entries ", theme.dim()),
        Span::raw(status.log_entries.to_string()),
    ]));
    let outer = block(" Store ".to_string(), theme);
    let inner = outer.inner(left);
    frame.render_widget(outer, left);
    frame.render_widget(Paragraph::new(lines), inner);

    let lines: Vec<Line> = status
        .last_runs
        .iter()
        .map(|run| {
            let total: u64 = run.counts.values().sum();
            let failed: u64 = run
                .counts
                .iter()
                .filter(|(key, _)| key.ends_with("/failed"))
                .map(|(_, n)| n)
                .sum();
            let ended = run.ended_at.as_ref().map_or("running".to_string(), |at| {
                state.zone.format(at, TimeStyle::DateTime)
            });
            Line::from(vec![
                Span::styled(format!(" #{:<4}", run.id), theme.dim()),
                Span::raw(format!("{:<8} {ended} {total:>6} records ", run.trigger)),
                Span::styled(
                    format!("{failed} failed"),
                    if failed > 0 {
                        theme.error()
                    } else {
                        theme.ok()
                    },
                ),
            ])
        })
        .collect();
    let source = match state.zone.source {
        ZoneSource::Config => "configured",
        ZoneSource::Local => "local",
        ZoneSource::Fallback => "default",
    };
    // The zone the times are in; where it came from too, when the panel is wide enough.
    let mut title = format!(" Last runs · {} ({source}) ", state.zone.name());
    if title.chars().count() + 2 > usize::from(right.width) {
        title = format!(" Last runs · {} ", state.zone.name());
    }
    // Connections above the runs: both APIs' state stays in view at 80×24.
    let [connections, runs] =
        Layout::vertical([Constraint::Length(5), Constraint::Fill(1)]).areas(right);
    let outer = block(" Connections ".to_string(), theme);
    let inner = outer.inner(connections);
    frame.render_widget(outer, connections);
    frame.render_widget(
        Paragraph::new(vec![
            auth_line(state, &status.auth),
            unauthorized_line(state, &status.auth),
            peer_line(state, &status.peer, &status.peer_health),
        ]),
        inner,
    );
    let outer = block(title, theme);
    let inner = outer.inner(runs);
    frame.render_widget(outer, runs);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Writes and errors per second from the live log: what an in-process engine has (a service
/// keeps per-minute figures of its own, `views/service.rs`).
fn live_rates(state: &AppState, frame: &mut Frame, rates: Rect) {
    let theme = &state.theme;
    let (requests, errors) = state.log.rate_series(
        usize::from(rates.width.saturating_sub(2)),
        state.now.map(|now| now.timestamp()),
    );
    let peak = requests.iter().max().copied().unwrap_or(0);
    let outer = block(
        format!(" Writes/s (peak {peak}) · errors/s · in-process (no service) "),
        theme,
    );
    let inner = outer.inner(rates);
    frame.render_widget(outer, rates);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Sparkline::default().data(&requests).style(theme.ok()), top);
    frame.render_widget(
        Sparkline::default().data(&errors).style(theme.error()),
        bottom,
    );
}

/// How the peer's API has been answering: ok with the last answer's time, or failing with the
/// number of failures in a row and the last error (its whole text is in the sync log).
fn peer_line<'a>(state: &AppState, peer: &str, health: &PeerHealth) -> Line<'a> {
    let theme = &state.theme;
    let label = Span::styled(format!(" {peer} "), theme.dim());
    let time = |at: &chrono::DateTime<chrono::Utc>| state.zone.format(at, TimeStyle::Time);
    match (health.failures_in_a_row, &health.last_error) {
        (0, _) => {
            let text = match &health.last_ok_at {
                Some(at) => format!("ok, answered {}", time(at)),
                None => health.verdict().to_string(),
            };
            Line::from(vec![label, Span::styled(text, theme.ok())])
        }
        (failures, error) => Line::from(vec![
            label,
            Span::styled(
                format!(
                    "{} ({failures} in a row): {}",
                    health.verdict(),
                    error.as_deref().unwrap_or("")
                ),
                theme.error(),
            ),
        ]),
    }
}

/// When GHL last refused the token (401), so "is auth the problem?" has an answer on screen.
fn unauthorized_line<'a>(state: &AppState, auth: &AuthInfo) -> Line<'a> {
    let theme = &state.theme;
    let at = auth
        .last_unauthorized_at
        .and_then(|at| chrono::DateTime::from_timestamp(at, 0));
    let Some(at) = at else {
        return Line::from(vec![
            Span::styled(" last 401 ", theme.dim()),
            Span::raw("none since start"),
        ]);
    };
    let when = state.zone.format(&at, TimeStyle::Time);
    let text = match state.now.map(|now| (now - at).num_minutes()) {
        Some(ago) => format!("{when} ({ago} min ago)"),
        None => when,
    };
    Line::from(vec![
        Span::styled(" last 401 ", theme.dim()),
        Span::styled(text, theme.warn()),
    ])
}

/// How GHL is reached: a static token (no expiry known) or OAuth with the token's expiry, and
/// how long is left when the state knows the time. The token itself never reaches the screen.
fn auth_line<'a>(state: &AppState, auth: &AuthInfo) -> Line<'a> {
    let theme = &state.theme;
    let text = match (auth.method, auth.expires_at) {
        (AuthMethod::StaticToken, _) => "token (no expiry)".to_string(),
        (AuthMethod::OAuth, None) => "OAuth".to_string(),
        (AuthMethod::OAuth, Some(expires_at)) => {
            let Some(at) = chrono::DateTime::from_timestamp(expires_at, 0) else {
                return Line::from(Span::styled(
                    " auth OAuth (expiry unreadable)",
                    theme.error(),
                ));
            };
            let when = state.zone.format(&at, TimeStyle::Time);
            match state.now.map(|now| (at - now).num_minutes()) {
                Some(left) if left < 0 => {
                    return Line::from(vec![
                        Span::styled(" auth ", theme.dim()),
                        Span::styled(format!("OAuth, expired {when}"), theme.error()),
                    ]);
                }
                // Short enough for the 80-column panel.
                Some(left) => format!("OAuth, {left} min left"),
                None => format!("OAuth, expires {when}"),
            }
        }
    };
    Line::from(vec![Span::styled(" auth ", theme.dim()), Span::raw(text)])
}
