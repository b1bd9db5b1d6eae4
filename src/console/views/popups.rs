//! Popups over the body: help (from the keymap), confirm (Cancel focused), and the full record
//! behind a log line or a failed operation (secret-looking fields redacted).

use super::log::outcome_style;
use super::util::{block, centered, opt};
use crate::console::clock::TimeStyle;
use crate::console::keymap::Layer;
use crate::console::state::{AppState, Confirm, Popup};
use crate::console::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use serde_json::Value;

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    match &state.popup {
        None => {}
        Some(Popup::Help { scroll }) => help(state, *scroll, frame, area),
        Some(Popup::Confirm(confirm)) => confirm_popup(confirm, &state.theme, frame, area),
        Some(Popup::LogDetail) => log_detail(state, frame, area),
        Some(Popup::FailureDetail) => failure_detail(state, frame, area),
        Some(Popup::Unsaved(question)) => {
            super::mapping::unsaved_popup(question, state, frame, area)
        }
    }
}

fn help(state: &AppState, scroll: u16, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let popup = centered(area, 76, area.height.saturating_sub(2).max(8));
    frame.render_widget(Clear, popup);
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
    let outer = block(" Help · esc closes · j/k scroll ".to_string(), theme);
    frame.render_widget(
        Paragraph::new(lines).block(outer).scroll((scroll, 0)),
        popup,
    );
}

fn confirm_popup(confirm: &Confirm, theme: &Theme, frame: &mut Frame, area: Rect) {
    let popup = centered(area, 56, 7);
    frame.render_widget(Clear, popup);
    let outer = block(" Confirm ".to_string(), theme);
    let inner = outer.inner(popup);
    frame.render_widget(outer, popup);
    let [question, _, buttons] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(format!(" {}", confirm.question)).wrap(Wrap { trim: true }),
        question,
    );
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

fn json_lines<'a>(title: &str, value: &Value, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(Span::styled(format!(" {title}"), theme.title()))];
    let text = serde_json::to_string_pretty(&redact(value)).unwrap_or_default();
    lines.extend(text.lines().map(|line| Line::from(format!("   {line}"))));
    lines
}

fn field<'a>(name: &str, value: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!(" {name:<11}"), theme.dim()),
        Span::raw(value),
    ])
}

fn detail_frame(title: String, lines: Vec<Line>, theme: &Theme, frame: &mut Frame, area: Rect) {
    let popup = centered(area, area.width.saturating_sub(4).min(100), area.height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(title, theme))
            .wrap(Wrap { trim: false }),
        popup,
    );
}

fn log_detail(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let Some(entry) = state.log.selected_entry() else {
        return;
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" outcome    ", theme.dim()),
            Span::styled(entry.outcome.as_str(), outcome_style(entry.outcome, theme)),
            Span::raw(format!(
                "  {} {} {}",
                entry.kind.as_str(),
                entry.direction.as_str(),
                entry.action.as_str()
            )),
        ]),
        field(
            "at",
            state.zone.format(&entry.at, TimeStyle::DateTime),
            theme,
        ),
        field(
            "ids",
            format!(
                "{} ⇄ {}",
                opt(entry.peer_id.as_deref()),
                opt(entry.ghl_id.as_deref())
            ),
            theme,
        ),
        field("traceId", opt(entry.trace_id.as_deref()).to_string(), theme),
        field(
            "response",
            format!(
                "{} {} {}",
                entry.status.map(|s| s.to_string()).unwrap_or_default(),
                entry.error_class.map_or("", |c| c.as_str()),
                entry.message.as_deref().unwrap_or("")
            ),
            theme,
        ),
        field(
            "run / op",
            format!(
                "{} / {}  ({} ms, {})",
                entry.run_id.map_or("—".into(), |id| id.to_string()),
                entry.op_id.map_or("—".into(), |id| id.to_string()),
                entry.duration_ms,
                entry.trigger
            ),
            theme,
        ),
    ];
    lines.extend(json_lines(
        "request (changed fields)",
        &Value::Object(entry.diff.clone()),
        theme,
    ));
    detail_frame(
        " Log entry · esc closes ".to_string(),
        lines,
        theme,
        frame,
        area,
    );
}

fn failure_detail(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let Some(op) = state.failures.selected_op() else {
        return;
    };
    let error = op.error.as_ref();
    let mut lines = vec![
        field(
            "operation",
            format!(
                "#{} {} {} {}",
                op.id,
                op.kind.as_str(),
                op.direction.as_str(),
                op.action.as_str()
            ),
            theme,
        ),
        field(
            "ids",
            format!("{} → {}", op.source_id, opt(op.target_id.as_deref())),
            theme,
        ),
        field(
            "state",
            format!("{} after {} attempt(s)", op.state.name(), op.attempts),
            theme,
        ),
        field(
            "updated",
            state.zone.format(&op.updated_at, TimeStyle::DateTime),
            theme,
        ),
        Line::from(vec![
            Span::styled(" error      ", theme.dim()),
            Span::styled(
                error.map_or(String::new(), |e| {
                    format!(
                        "{} {} {}",
                        e.class.as_str(),
                        e.status.map(|s| s.to_string()).unwrap_or_default(),
                        e.message
                    )
                }),
                theme.error(),
            ),
        ]),
        field(
            "traceId",
            opt(error.and_then(|e| e.trace_id.as_deref())).to_string(),
            theme,
        ),
    ];
    lines.extend(json_lines("original payload", &op.payload, theme));
    lines.extend(json_lines(
        "source record (mapped again on retry)",
        &op.source,
        theme,
    ));
    detail_frame(
        format!(" Failed operation #{} · esc closes ", op.id),
        lines,
        theme,
        frame,
        area,
    );
}
