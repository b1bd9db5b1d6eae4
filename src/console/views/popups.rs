//! Popups over the body: help (from the keymap), confirm (Cancel focused), and the full record
//! behind a log line or a failed operation (secret-looking fields redacted). Each builds its
//! rows already wrapped to the popup's width, so `extent` can tell the reducer how far it
//! scrolls, and draws them through the one scrolling view (`util::scrolled`).

use super::log::outcome_style;
use super::util::{block, centered, labelled, opt, scrolled, value_text, wrap};
use crate::console::clock::TimeStyle;
use crate::console::keymap::Layer;
use crate::console::state::failures::{class_of, contact_of, direction_label, record_name};
use crate::console::state::{AppState, Confirm, Extent, Popup, Scroll};
use crate::console::theme::Theme;
use crate::store::{Direction, OpState};
use crate::sync::reason_code;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use serde_json::Value;

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let Some(popup) = &state.popup else {
        return;
    };
    // The unsaved-mapping question is the editor's own, short and fixed: no scrolling.
    if let Popup::Unsaved(question) = popup {
        return super::mapping::unsaved_popup(question, state, frame, area);
    }
    if let Popup::Instances = popup {
        return crate::console::instances::render(state, frame, area);
    }
    let theme = &state.theme;
    let rect = rect(popup, area);
    frame.render_widget(Clear, rect);
    let width = usize::from(rect.width.saturating_sub(2));
    let scroll = state.popup_scroll;
    match popup {
        Popup::Help => {
            let outer = block(" Help · esc closes · j/k scroll ".to_string(), theme);
            scrolled(frame, rect, outer, help_lines(state), scroll, theme);
        }
        Popup::Confirm(confirm) => confirm_popup(confirm, scroll, theme, frame, rect),
        Popup::LogDetail => {
            let outer = block(" Log entry · esc closes ".to_string(), theme);
            scrolled(frame, rect, outer, log_lines(state, width), scroll, theme);
        }
        Popup::FailureDetail => {
            let title = state.failures.selected_op().map_or(String::new(), |op| {
                format!(" Failure #{} · c contact · y copy id · esc closes ", op.id)
            });
            let outer = block(title, theme);
            scrolled(
                frame,
                rect,
                outer,
                failure_lines(state, width),
                scroll,
                theme,
            );
        }
        Popup::History => {
            let outer = block(" History · newest first · esc closes ".to_string(), theme);
            scrolled(
                frame,
                rect,
                outer,
                history_lines(state, width),
                scroll,
                theme,
            );
        }
        Popup::Unsaved(_) | Popup::Instances => {}
    }
}

/// Where a popup sits in the body.
fn rect(popup: &Popup, area: Rect) -> Rect {
    match popup {
        Popup::Help => centered(area, 76, area.height.saturating_sub(2).max(8)),
        Popup::Confirm(confirm) => {
            // As tall as the question needs (most need two rows), scrolling past the screen's.
            let rows = wrap(&confirm.question, usize::from(CONFIRM_WIDTH - 3)).len() as u16;
            centered(area, CONFIRM_WIDTH, rows.max(2) + 4)
        }
        Popup::LogDetail | Popup::FailureDetail | Popup::History => {
            centered(area, area.width.saturating_sub(4).min(100), area.height)
        }
        Popup::Unsaved(_) => centered(area, 60, 7),
        Popup::Instances => centered(area, 64, 8),
    }
}

const CONFIRM_WIDTH: u16 = 56;

/// How long the open popup's content is and how much of it shows, for the reducer's scroll.
pub fn extent(state: &AppState, popup: &Popup, area: Rect) -> Extent {
    let rect = rect(popup, area);
    let width = usize::from(rect.width.saturating_sub(2));
    let inner = usize::from(rect.height.saturating_sub(2));
    match popup {
        Popup::Help => Extent {
            total: help_lines(state).len(),
            viewport: inner,
        },
        Popup::Confirm(confirm) => Extent {
            total: wrap(&confirm.question, width.saturating_sub(1)).len(),
            viewport: inner.saturating_sub(2),
        },
        Popup::LogDetail => Extent {
            total: log_lines(state, width).len(),
            viewport: inner,
        },
        Popup::FailureDetail => Extent {
            total: failure_lines(state, width).len(),
            viewport: inner,
        },
        Popup::History => Extent {
            total: history_lines(state, width).len(),
            viewport: inner,
        },
        Popup::Unsaved(_) | Popup::Instances => Extent {
            total: 0,
            viewport: inner,
        },
    }
}

fn help_lines(state: &AppState) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let layer = Layer::from(state.screen());
    // This screen's keys first, then the global ones, then the rest.
    let mut sections: Vec<_> = state.help.iter().collect();
    sections.sort_by_key(|section| match section.layer {
        l if l == layer => 0,
        Layer::Global => 1,
        _ => 2,
    });
    let mut lines = Vec::new();
    for section in sections {
        lines.push(Line::from(Span::styled(
            format!(" {}", section.layer.as_str()),
            theme.title(),
        )));
        for binding in &section.bindings {
            lines.push(Line::from(vec![
                Span::styled(format!("   {:<12}", binding.keys), theme.key()),
                Span::raw(binding.desc.clone()),
            ]));
        }
    }
    if lines.is_empty() {
        lines.push(Line::from(" no key bindings loaded"));
    }
    lines
}

fn confirm_popup(confirm: &Confirm, scroll: Scroll, theme: &Theme, frame: &mut Frame, rect: Rect) {
    let outer = block(" Confirm ".to_string(), theme);
    let inner = outer.inner(rect);
    frame.render_widget(outer, rect);
    let [question, _, buttons] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let lines: Vec<Line> = wrap(
        &confirm.question,
        usize::from(question.width.saturating_sub(1)),
    )
    .into_iter()
    .map(|row| Line::from(format!(" {row}")))
    .collect();
    scrolled(frame, question, Block::default(), lines, scroll, theme);
    let button = |label: &str, focused: bool| {
        let style = if focused {
            theme.selected()
        } else {
            theme.text()
        };
        Span::styled(format!("[ {label} ]"), style)
    };
    let line = Line::from(vec![
        Span::raw("   "),
        button("Cancel", !confirm.yes_focused),
        Span::raw("   "),
        button("Yes", confirm.yes_focused),
        Span::styled("   y yes · n/esc cancel", theme.dim()),
    ]);
    frame.render_widget(Paragraph::new(line), buttons);
}

/// A map's values with credentials redacted (see [`redact`]).
fn redact_map(map: &serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
    match redact(&Value::Object(map.clone())) {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// Values under keys that look like credentials are never drawn.
fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let lower = key.to_lowercase();
                    let secret = ["token", "password", "secret", "authorization", "apikey"]
                        .iter()
                        .any(|word| lower.contains(word));
                    let shown = if secret {
                        Value::String("•••".into())
                    } else {
                        redact(value)
                    };
                    (key.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// A JSON value pretty-printed under a title, each row cut to `width` (secrets redacted).
fn json_lines<'a>(title: &str, value: &Value, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(Span::styled(format!(" {title}"), theme.title()))];
    let text = serde_json::to_string_pretty(&redact(value)).unwrap_or_default();
    for line in text.lines() {
        lines.extend(
            wrap(line, width.saturating_sub(3))
                .into_iter()
                .map(|row| Line::from(format!("   {row}"))),
        );
    }
    lines
}

/// A value as one short text: strings bare, nothing as "—", the rest as compact JSON.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "—".to_string(),
        other => value_text(other),
    }
}

/// The log entry in full: outcome, ids, response, and what changed, one line per field.
fn log_lines(state: &AppState, width: usize) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let Some(entry) = state.log.selected_entry() else {
        return Vec::new();
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(" outcome    ", theme.dim()),
        Span::styled(entry.outcome.as_str(), outcome_style(entry.outcome, theme)),
        Span::raw(format!(
            "  {} {} {}",
            entry.kind.as_str(),
            direction_label(entry.direction),
            entry.action.as_str()
        )),
    ])];
    let text = theme.text();
    lines.extend(labelled(
        "at",
        &state.zone.format(&entry.at, TimeStyle::DateTime),
        text,
        theme,
        width,
    ));
    lines.extend(labelled(
        "ids",
        &format!(
            "{} ⇄ {}",
            opt(entry.peer_id.as_deref()),
            opt(entry.ghl_id.as_deref())
        ),
        text,
        theme,
        width,
    ));
    lines.extend(labelled(
        "traceId",
        opt(entry.trace_id.as_deref()),
        text,
        theme,
        width,
    ));
    let response = [
        entry.status.map(|s| s.to_string()).unwrap_or_default(),
        entry.error_class.map_or("", |c| c.as_str()).to_string(),
        entry.message.clone().unwrap_or_default(),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    let response = if response.is_empty() {
        "—".to_string()
    } else {
        response
    };
    let response_style = if entry.error_class.is_some() {
        theme.error()
    } else {
        text
    };
    lines.extend(labelled(
        "response",
        &response,
        response_style,
        theme,
        width,
    ));
    lines.extend(labelled(
        "run / op",
        &format!(
            "{} / {}  ({} ms, {})",
            entry.run_id.map_or("—".into(), |id| id.to_string()),
            entry.op_id.map_or("—".into(), |id| id.to_string()),
            entry.duration_ms,
            entry.trigger
        ),
        text,
        theme,
        width,
    ));
    lines.push(Line::from(Span::styled(
        format!(" changes ({})", entry.diff.len()),
        theme.title(),
    )));
    if entry.diff.is_empty() {
        lines.push(Line::from(Span::styled("   none recorded", theme.dim())));
    }
    for (field, change) in redact_map(&entry.diff) {
        // A change is [before, after]; anything else is shown as the new value.
        let (before, after) = match &change {
            Value::Array(pair) if pair.len() == 2 => (pair[0].clone(), pair[1].clone()),
            other => (Value::Null, other.clone()),
        };
        let row = format!("{field}: {} → {}", shown(&before), shown(&after));
        for (n, part) in wrap(&row, width.saturating_sub(5)).into_iter().enumerate() {
            let indent = if n == 0 { "   " } else { "     " };
            lines.push(Line::from(format!("{indent}{part}")));
        }
    }
    lines
}

/// The failure in full: what, where, why (class, reason, message), when next, and the payload
/// and source record.
fn failure_lines(state: &AppState, width: usize) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let Some(op) = state.failures.selected_op() else {
        return Vec::new();
    };
    let text = theme.text();
    let error = op.error.as_ref();
    let mut lines = Vec::new();
    let mut add = |label: &str, value: &str, style| {
        lines.extend(labelled(label, value, style, theme, width));
    };
    add(
        "operation",
        &format!(
            "#{} {} {} {}",
            op.id,
            op.kind.as_str(),
            op.action.as_str(),
            direction_label(op.direction),
        ),
        text,
    );
    add(
        "record",
        &record_name(op).unwrap_or_else(|| "—".into()),
        text,
    );
    let (from, to) = match op.direction {
        Direction::ToGhl => (state.peer.as_str(), "GHL"),
        Direction::ToPeer => ("GHL", state.peer.as_str()),
    };
    add(
        "ids",
        &format!(
            "{} → {}  ({from} → {to})",
            op.source_id,
            opt(op.target_id.as_deref())
        ),
        text,
    );
    let contact = contact_of(op).map_or("—".to_string(), |contact| contact.to_string());
    add("contact", &contact, text);
    let next = match &op.state {
        OpState::RetryScheduled { next_at } => format!(
            " · next attempt {}",
            state.zone.format(next_at, TimeStyle::DateTime)
        ),
        _ => String::new(),
    };
    add(
        "state",
        &format!("{} after {} attempt(s){next}", op.state.name(), op.attempts),
        text,
    );
    add("class", class_of(op), text);
    add("reason", reason_code(op).as_str(), theme.warn());
    add("to do", &super::failures::what_to_do(op), theme.warn());
    add(
        "message",
        error.map_or("—", |e| e.message.as_str()),
        theme.error(),
    );
    add(
        "status",
        &error
            .and_then(|e| e.status)
            .map_or("—".to_string(), |s| s.to_string()),
        text,
    );
    add(
        "traceId",
        opt(error.and_then(|e| e.trace_id.as_deref())),
        text,
    );
    add(
        "updated",
        &state.zone.format(&op.updated_at, TimeStyle::DateTime),
        text,
    );
    lines.extend(json_lines("payload (as sent)", &op.payload, theme, width));
    lines.extend(json_lines(
        "source record (mapped again on retry)",
        &op.source,
        theme,
        width,
    ));
    lines
}

/// The open contact's history in full: each entry's time, outcome and what was done, then its
/// whole message, wrapped.
fn history_lines(state: &AppState, width: usize) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let Some(detail) = state.detail.detail.as_ref() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for entry in detail.history.iter().rev() {
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {} ", state.zone.format(&entry.at, TimeStyle::DateTime)),
                theme.dim(),
            ),
            Span::styled(
                entry.outcome.as_str().to_string(),
                outcome_style(entry.outcome, theme),
            ),
            Span::raw(format!(
                " {} {}",
                direction_label(entry.direction),
                entry.action.as_str()
            )),
        ]));
        if let Some(message) = entry.message.as_deref().filter(|m| !m.is_empty()) {
            lines.extend(
                wrap(message, width.saturating_sub(3))
                    .into_iter()
                    .map(|row| Line::from(Span::styled(format!("   {row}"), theme.text()))),
            );
        }
    }
    lines
}
