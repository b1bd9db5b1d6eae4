//! The header (mode badge, peer, sync state, failures, open alerts, zone; then the tab bar) and the footer
//! (prompt, flash line or the screen's key hints from the keymap), k9s-style.

use super::util::block;
use crate::console::action::{PromptKind, matches};
use crate::console::keymap::Layer;
use crate::console::state::{AppState, FlashLevel, Mode, Screen, SyncPhase};
use crate::console::theme::Badge;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

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
    spans.push(Span::styled(" peer ", theme.hint()));
    spans.push(Span::raw(state.peer.clone()));
    if let Some(status) = state.status.as_ref().filter(|_| state.several_peers()) {
        // Which of how many, and the key that shows the next (the keymap's default).
        let at = status
            .peers
            .iter()
            .position(|p| p.name == state.peer)
            .unwrap_or(0);
        spans.push(Span::styled(
            format!(" {}/{} P", at + 1, status.peers.len()),
            theme.hint(),
        ));
    }
    if !state.location.is_empty() && area.width >= 100 {
        spans.push(Span::styled("  location ", theme.hint()));
        spans.push(Span::raw(state.location.clone()));
    }
    spans.extend(crate::console::instances::header_spans(state));
    spans.push(Span::styled("  sync ", theme.hint()));
    spans.push(match &state.sync {
        SyncPhase::Idle => Span::styled("idle", theme.ok()),
        SyncPhase::Running => Span::styled("running…", theme.warn()),
        SyncPhase::Failed(_) => Span::styled("failed", theme.error()),
    });
    let failures = state.open_failures();
    spans.push(Span::styled("  failures ", theme.hint()));
    spans.push(Span::styled(
        failures.to_string(),
        if failures > 0 {
            theme.error()
        } else {
            theme.ok()
        },
    ));
    // Open alerts of the service, red, live (`!` lists them).
    let alerts = state.alerts.open.len();
    if alerts > 0 {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(
            format!(" {alerts} ALERT{} ", if alerts == 1 { "" } else { "S" }),
            theme.badge(Badge::Alert),
        ));
    }
    // Right of the first line: the zone every time on screen is in, when it fits.
    let zone = format!("times {} ", state.zone.name());
    let width = usize::from(area.width);
    let used: usize = spans.iter().map(|span| span.content.chars().count()).sum();
    frame.render_widget(
        Paragraph::new(vec![Line::from(spans), tab_bar(state, area.width)]),
        area,
    );
    if used + zone.chars().count() < width {
        let row = Rect::new(area.x, area.y, area.width, 1);
        frame.render_widget(
            Paragraph::new(Span::styled(zone, theme.hint())).alignment(Alignment::Right),
            row,
        );
    }
}

/// The tabs `1`–`8` by name, the current one highlighted (a detail highlights the tab it sits
/// under), then the trail when there is one and room for it. Full names when they fit, short
/// ones at 80 columns.
pub fn tab_bar(state: &AppState, width: u16) -> Line<'static> {
    let theme = &state.theme;
    let current = state.screen().tab();
    let width = usize::from(width);
    let tabs = |short: bool| -> Vec<(String, bool)> {
        Screen::TABS
            .iter()
            .enumerate()
            .map(|(i, tab)| {
                let name = if short {
                    tab.short_title()
                } else {
                    tab.title()
                };
                (format!("{} {name}", i + 1), *tab == current)
            })
            .collect()
    };
    let length = |tabs: &[(String, bool)]| -> usize {
        1 + tabs
            .iter()
            .map(|(t, _)| t.chars().count() + 2)
            .sum::<usize>()
    };
    let full = tabs(false);
    let tabs = if length(&full) <= width {
        full
    } else {
        tabs(true)
    };
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (text, selected) in tabs {
        used += text.chars().count() + 2;
        if used > width + 1 {
            break;
        }
        spans.push(Span::styled(
            text,
            if selected {
                theme.tab_selected()
            } else {
                theme.tab()
            },
        ));
        spans.push(Span::raw("  "));
    }
    if state.stack.len() > 1 {
        let crumbs: Vec<&str> = state.stack.iter().map(|screen| screen.title()).collect();
        let crumbs = format!("› {}", crumbs.join(" › "));
        if used + crumbs.chars().count() <= width {
            spans.push(Span::styled(crumbs, theme.hint()));
        }
    }
    Line::from(spans)
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
            Span::styled(" keys: ", theme.hint()),
            Span::styled(state.pending_keys.clone(), theme.key()),
        ])
    } else {
        hint_line(state, area.width)
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The hint line: the current screen's keymap layer's hinted bindings (`hint = "…"`), then
/// the global ones, as many as fit, `? help` always kept. A layer without hints shows its first
/// bindings, worded from their descriptions. While the mapping is edited only the keys that are
/// not text there (Ctrl chords, Esc) are shown. The one hint line of every screen.
pub fn hint_line(state: &AppState, width: u16) -> Line<'static> {
    let theme = &state.theme;
    let editing = state.screen() == Screen::Mapping && state.mapping.editing;
    let pieces = hint_pieces(state, editing);
    let width = usize::from(width);
    let size = |(keys, word): &(String, String)| keys.chars().count() + word.chars().count() + 3;
    // `? help` is kept whatever else has to go.
    let kept: usize = pieces
        .iter()
        .filter(|(_, word)| word == "help")
        .map(size)
        .sum();
    let mut budget = width.saturating_sub(kept + 1);
    let mut spans = vec![Span::raw(" ")];
    for piece in &pieces {
        let is_help = piece.1 == "help";
        if !is_help {
            if size(piece) > budget {
                continue;
            }
            budget -= size(piece);
        }
        spans.push(Span::styled(piece.0.clone(), theme.key()));
        spans.push(Span::styled(format!(" {}  ", piece.1), theme.hint()));
    }
    Line::from(spans)
}

/// `(keys, word)` for the hint line, in order: the layer's, then global's not shadowed.
pub fn hint_pieces(state: &AppState, editing: bool) -> Vec<(String, String)> {
    let layer = Layer::from(state.screen());
    let section = |layer: Layer| {
        state
            .help
            .iter()
            .filter(move |section| section.layer == layer)
            .flat_map(|section| section.bindings.iter())
    };
    let usable = |keys: &str| {
        !editing || keys.starts_with("<C-") || keys.starts_with("<A-") || keys == "<Esc>"
    };
    let own: Vec<_> = section(layer).filter(|b| usable(&b.keys)).collect();
    let hinted = own.iter().any(|binding| binding.hint.is_some());
    let mut pieces: Vec<(String, String)> = Vec::new();
    let mut taken: Vec<&str> = own.iter().map(|binding| binding.keys.as_str()).collect();
    for binding in &own {
        let word = match &binding.hint {
            Some(hint) => hint.clone(),
            None if !hinted => short(&binding.desc),
            None => continue,
        };
        if pieces.iter().any(|(_, w)| *w == word) {
            continue;
        }
        pieces.push((key_label(&binding.keys), word));
        if !hinted && pieces.len() >= 5 {
            break;
        }
    }
    for binding in section(Layer::Global) {
        let Some(hint) = &binding.hint else {
            continue;
        };
        if taken.contains(&binding.keys.as_str()) || !usable(&binding.keys) {
            continue;
        }
        taken.push(binding.keys.as_str());
        let word = if editing && binding.action == "back" {
            "stop editing".to_string()
        } else {
            hint.clone()
        };
        pieces.push((key_label(&binding.keys), word));
    }
    pieces
}

/// A key as the hint line shows it: the keymap's form without the angle brackets (`C-s`,
/// `Esc`, `Enter`).
fn key_label(keys: &str) -> String {
    keys.split(' ')
        .map(|key| {
            key.strip_prefix('<')
                .and_then(|k| k.strip_suffix('>'))
                .unwrap_or(key)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first words of a description that say something, for a layer without hints: its first
/// clause ("All contacts / this contact" → "all contacts"), and when that is one word, the
/// description's last ("Show / hide timestamps" → "show timestamps").
fn short(desc: &str) -> String {
    const FILLER: [&str; 7] = ["the", "a", "an", "every", "of", "this", "with"];
    let words = |text: &str| -> Vec<String> {
        text.split_whitespace()
            .map(|word| {
                word.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|word| !word.is_empty() && !FILLER.contains(&word.as_str()))
            .collect()
    };
    let clause = desc.split(['/', '(', ';', ':']).next().unwrap_or(desc);
    let mut picked: Vec<String> = words(clause).into_iter().take(2).collect();
    if picked.len() < 2
        && let Some(last) = words(desc).pop().filter(|last| !picked.contains(last))
    {
        picked.push(last);
    }
    picked.join(" ")
}

/// Most matches the palette lists at once.
const PALETTE_ROWS: usize = 8;

/// While typing in the `:` palette: the commands that match, above the prompt line (Tab
/// completes). Nothing when nothing matches: Enter then says what is known.
pub fn palette_matches(state: &AppState, frame: &mut Frame, body: Rect) {
    let Some(prompt) = &state.prompt else {
        return;
    };
    if prompt.kind != PromptKind::Command {
        return;
    }
    // Under --read-only the writes are not offered (help leaves them out the same way).
    let found: Vec<_> = matches(prompt.before_cursor())
        .into_iter()
        .filter(|found| {
            !state.read_only || !crate::console::action::is_write_command(&found.command)
        })
        .collect();
    if found.is_empty() {
        return;
    }
    let theme = &state.theme;
    let shown = found.len().min(PALETTE_ROWS);
    let height = (shown as u16 + 2).min(body.height);
    let area = Rect::new(
        body.x,
        body.bottom().saturating_sub(height),
        body.width,
        height,
    );
    let more = found.len() - shown;
    let title = if more > 0 {
        format!(" {} commands (+{more}) · Tab completes ", found.len())
    } else {
        " Tab completes ".to_string()
    };
    let lines: Vec<Line> = found
        .iter()
        .take(shown)
        .map(|m| {
            Line::from(vec![
                Span::styled(format!(" :{:<22}", m.command), theme.key()),
                Span::styled(m.desc.to_string(), theme.hint()),
            ])
        })
        .collect();
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block(title, theme)), area);
}
