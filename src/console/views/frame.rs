//! The header (location, peer, mode badge, sync state, breadcrumbs) and the footer (prompt,
//! flash line or key hints), k9s-style.

use crate::console::keymap::Layer;
use crate::console::state::{AppState, FlashLevel, Mode, SyncPhase};
use crate::console::theme::Badge;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn header(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let mut spans = vec![Span::styled(" ghlsync ", theme.title())];
    let (badge, text) = match state.mode {
        Mode::Sandbox => (Badge::Sandbox, " SANDBOX "),
        Mode::Live => (Badge::Live, " LIVE "),
    };
    spans.push(Span::styled(text, theme.badge(badge)));
    if state.read_only {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(" READ-ONLY ", theme.badge(Badge::ReadOnly)));
    }
    spans.push(Span::styled(" peer ", theme.dim()));
    spans.push(Span::raw(state.peer.clone()));
    if !state.location.is_empty() && area.width >= 100 {
        spans.push(Span::styled("  location ", theme.dim()));
        spans.push(Span::raw(state.location.clone()));
    }
    spans.push(Span::styled("  sync ", theme.dim()));
    spans.push(match &state.sync {
        SyncPhase::Idle => Span::styled("idle", theme.ok()),
        SyncPhase::Running => Span::styled("running…", theme.warn()),
        SyncPhase::Failed(_) => Span::styled("failed", theme.error()),
    });
    let failures = state.open_failures();
    spans.push(Span::styled("  failures ", theme.dim()));
    spans.push(Span::styled(
        failures.to_string(),
        if failures > 0 {
            theme.error()
        } else {
            theme.ok()
        },
    ));
    let crumbs: Vec<&str> = state.stack.iter().map(|screen| screen.title()).collect();
    let crumbs = format!(" {}", crumbs.join(" › "));
    // Right: the zone every time on screen is in. The key hints give way to it when narrow.
    let zone = format!("times {} ", state.zone.name());
    const HINTS: &str = "   ? help  : command  / filter";
    let width = usize::from(area.width);
    let used = crumbs.chars().count() + zone.chars().count();
    let mut second = vec![Span::styled(crumbs, theme.title())];
    if used + HINTS.chars().count() < width {
        second.push(Span::styled(HINTS, theme.dim()));
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(spans), Line::from(second)]),
        area,
    );
    if used < width && area.height >= 2 {
        let row = Rect::new(area.x, area.y + 1, area.width, 1);
        frame.render_widget(
            Paragraph::new(Span::styled(zone, theme.dim())).alignment(Alignment::Right),
            row,
        );
    }
}

pub fn footer(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    if let Some(prompt) = &state.prompt {
        let line = Line::from(vec![
            Span::styled(prompt.sigil().to_string(), theme.key()),
            Span::raw(prompt.input.clone()),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        let cursor_x = area
            .x
            .saturating_add(1)
            .saturating_add(prompt.cursor as u16)
            .min(area.right().saturating_sub(1));
        frame.set_cursor_position((cursor_x, area.y));
        return;
    }
    let line = if let Some(flash) = &state.flash {
        let style = match flash.level {
            FlashLevel::Info => theme.info(),
            FlashLevel::Warn => theme.warn(),
            FlashLevel::Error => theme.error(),
        };
        Line::from(Span::styled(format!(" {}", flash.text), style))
    } else if !state.pending_keys.is_empty() {
        Line::from(vec![
            Span::styled(" keys: ", theme.dim()),
            Span::styled(state.pending_keys.clone(), theme.key()),
        ])
    } else {
        Line::from(Span::styled(hints(state, area.width), theme.dim()))
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The current layer's bindings from the keymap, as many as fit.
fn hints(state: &AppState, width: u16) -> String {
    let layer = Layer::from(state.screen());
    let mut out = String::new();
    let bindings = state
        .help
        .iter()
        .filter(|section| section.layer == layer)
        .flat_map(|section| section.bindings.iter());
    for binding in bindings {
        let piece = format!(" {} {} ", binding.keys, short(&binding.desc));
        if out.chars().count() + piece.chars().count() + 8 > usize::from(width) {
            break;
        }
        out.push_str(&piece);
    }
    out.push_str(" ? help");
    out
}

/// The first words of a description, enough for a hint.
fn short(desc: &str) -> String {
    desc.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
