//! The failed queue: a header row per error class and, under it, per reason code, then one row
//! per failure (direction, kind, record, reason, attempts); below the list, the selected
//! failure's whole error, wrapped, so it reads at 80 columns without opening it.

use super::util::{block, clip, scroll_offset, wrap};
use crate::console::clock::TimeStyle;
use crate::console::state::AppState;
use crate::console::state::failures::{Row, direction_label, record_name};
use crate::store::Operation;
use crate::sync::{RetryMode, reason_advice, reason_code};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Rows of the error preview under the list (its top border included).
const PREVIEW_HEIGHT: u16 = 7;

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let failures = &state.failures;
    let outer = block(title(state), theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    if failures.visible_len() == 0 {
        let (text, style) = match (failures.loaded, failures.operations.is_empty()) {
            (false, _) => (" loading…".to_string(), theme.dim()),
            (true, true) => (" the failed queue is empty".to_string(), theme.ok()),
            (true, false) => (
                format!(" nothing matches /{} (esc clears it)", failures.filter),
                theme.dim(),
            ),
        };
        frame.render_widget(Paragraph::new(text).style(style), inner);
        return;
    }
    let preview_height = if inner.height >= 14 {
        PREVIEW_HEIGHT
    } else {
        0
    };
    let [list, preview] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(preview_height)]).areas(inner);
    render_list(state, frame, list);
    if preview_height > 0 {
        render_preview(state, frame, preview);
    }
}

fn title(state: &AppState) -> String {
    let failures = &state.failures;
    let total = failures.operations.len();
    let count = if failures.filter.is_empty() {
        total.to_string()
    } else {
        format!(
            "{} of {total} · /{}",
            failures.visible_len(),
            failures.filter
        )
    };
    let mode = match failures.retry_mode {
        RetryMode::CurrentMapping => "current mapping",
        RetryMode::OriginalPayload => "original payload",
    };
    let marked = if failures.marked.is_empty() {
        String::new()
    } else {
        format!(" · {} marked", failures.marked.len())
    };
    format!(" Failures {count} · retry with {mode}{marked} ")
}

/// Column widths: mark, direction, kind, reason, attempts; the record takes the rest.
const MARK: usize = 2;
const DIRECTION: usize = 7;
const KIND: usize = 12;
const REASON: usize = 20;
const TRIES: usize = 4;
/// Wide terminals also get the state and the time of the last attempt.
const STATE: usize = 16;
const UPDATED: usize = 18;

fn pad(text: &str, width: usize) -> String {
    format!("{:<width$}", clip(text, width.saturating_sub(1)))
}

fn render_list(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let failures = &state.failures;
    let width = usize::from(area.width);
    let wide = width >= 110;
    let fixed = MARK + DIRECTION + KIND + REASON + TRIES + if wide { STATE + UPDATED } else { 0 };
    let record = width.saturating_sub(fixed).max(8);
    let rows = failures.rows();
    let selected_row = rows
        .iter()
        .position(|row| *row == Row::Failure(failures.selected))
        .unwrap_or(0);
    let height = usize::from(area.height.saturating_sub(1));
    let offset = scroll_offset(selected_row, height);
    let mut header = format!(
        "{}{}{}{}{}",
        " ".repeat(MARK),
        pad("DIR", DIRECTION),
        pad("KIND", KIND),
        pad("RECORD", record),
        pad("REASON", REASON),
    );
    header.push_str("TRY");
    if wide {
        header = format!(
            "{header} {}{}",
            pad("STATE", STATE),
            pad("LAST TRY", UPDATED)
        );
    }
    let mut lines = vec![Line::from(Span::styled(header, theme.dim()))];
    let ops: Vec<&Operation> = failures.visible_ops().collect();
    for row in rows.iter().skip(offset).take(height) {
        lines.push(match *row {
            Row::Class(class, count) => {
                Line::from(Span::styled(format!("▸ {class} {count}"), theme.title()))
            }
            Row::Reason(code, count) => Line::from(vec![
                Span::raw("  "),
                Span::styled(format!("· {code} {count}"), theme.warn()),
            ]),
            Row::Failure(position) => {
                let Some(op) = ops.get(position) else {
                    continue;
                };
                let marked = failures.marked.contains(&op.id);
                let mut text = format!(
                    "{}{}{}{}{}{:>3}",
                    if marked { "● " } else { "  " },
                    pad(direction_label(op.direction), DIRECTION),
                    pad(op.kind.as_str(), KIND),
                    pad(&record_label(op, state.several_peers()), record),
                    pad(reason_code(op).as_str(), REASON),
                    op.attempts
                );
                if wide {
                    text = format!(
                        "{text}  {}{}",
                        pad(op.state.name(), STATE),
                        state.zone.format(&op.updated_at, TimeStyle::DateTime)
                    );
                }
                let style = if position == failures.selected {
                    theme.selected()
                } else if marked {
                    theme.marked()
                } else {
                    Style::default()
                };
                Line::from(Span::styled(format!("{text:<width$}"), style))
            }
        });
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// "Name · id", or the id alone when the record has no name.
/// The record's name and id; with several peers, the peer first (`repsly_eu: Ann · C-12`).
fn record_label(op: &Operation, several_peers: bool) -> String {
    let label = match record_name(op) {
        Some(name) => format!("{name} · {}", op.source_id),
        None => op.source_id.clone(),
    };
    if several_peers {
        format!("{}: {label}", op.peer)
    } else {
        label
    }
}

fn render_preview(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let Some(op) = state.failures.selected_op() else {
        return;
    };
    let error = op.error.as_ref();
    let title = format!(
        " #{} {} {} {} · {} ",
        op.id,
        op.kind.as_str(),
        op.action.as_str(),
        direction_label(op.direction),
        op.source_id
    );
    let outer = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border())
        .title(clip(&title, usize::from(area.width)))
        .title_style(theme.dim());
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let width = usize::from(inner.width.saturating_sub(1));
    let status = error
        .and_then(|e| e.status)
        .map_or(String::new(), |s| format!("{s} "));
    let message = error.map_or("no error recorded", |e| e.message.as_str());
    // What to do comes first: the reason's advice (naming the field), then what was answered.
    let advice = what_to_do(op);
    let mut rows: Vec<(String, Style)> = wrap(&advice, width)
        .into_iter()
        .map(|row| (row, theme.warn()))
        .collect();
    if advice != message {
        rows.extend(
            wrap(&format!("{status}{message}"), width)
                .into_iter()
                .map(|row| (row, theme.error())),
        );
    }
    let room = usize::from(inner.height).saturating_sub(1);
    if rows.len() > room {
        rows.truncate(room);
        if let Some((last, _)) = rows.last_mut() {
            *last = format!("{}…", clip(last, width.saturating_sub(1)));
        }
    }
    let mut lines: Vec<Line> = rows
        .into_iter()
        .map(|(row, style)| Line::from(Span::styled(format!(" {row}"), style)))
        .collect();
    let trace = error
        .and_then(|e| e.trace_id.as_deref())
        .map_or(String::new(), |t| format!(" · traceId {t}"));
    lines.push(Line::from(Span::styled(
        clip(
            &format!(
                " {} · {} attempt(s){trace} · enter: all of it",
                op.state.name(),
                op.attempts
            ),
            usize::from(inner.width),
        ),
        theme.dim(),
    )));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The reason's advice for a failure, and whether a mapping fix can clear it.
pub fn what_to_do(op: &Operation) -> String {
    let code = reason_code(op);
    let advice = reason_advice(op);
    if code.fixable_by_mapping() {
        format!("{advice} (a mapping fix can clear it)")
    } else {
        advice
    }
}
