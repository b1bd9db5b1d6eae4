//! The failed queue grouped by error class: a header row per class, then its operations.

use super::util::{block, clip, opt, scroll_offset};
use crate::console::clock::TimeStyle;
use crate::console::state::AppState;
use crate::console::state::failures::class_of;
use crate::sync::RetryMode;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let failures = &state.failures;
    let groups: Vec<String> = failures
        .groups()
        .iter()
        .map(|(class, count)| format!("{class} {count}"))
        .collect();
    let mode = match failures.retry_mode {
        RetryMode::CurrentMapping => "current mapping",
        RetryMode::OriginalPayload => "original payload",
    };
    let title = format!(
        " Failures {} · {} · retry with {}{} ",
        failures.operations.len(),
        if groups.is_empty() {
            "none".to_string()
        } else {
            groups.join(", ")
        },
        mode,
        if failures.marked.is_empty() {
            String::new()
        } else {
            format!(" · {} marked", failures.marked.len())
        }
    );
    let outer = block(title, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    if failures.operations.is_empty() {
        let text = if failures.loaded {
            " the failed queue is empty"
        } else {
            " loading…"
        };
        frame.render_widget(Paragraph::new(text).style(theme.ok()), inner);
        return;
    }
    let wide = inner.width >= 100;
    // Rows interleave class headers with operations; keep the selected operation in view. The
    // layout is cheap; cells are built only for the rows on screen, however long the queue.
    let mut layout: Vec<Item> = Vec::with_capacity(failures.operations.len() + 8);
    let mut selected_row = 0;
    let mut previous_class = "";
    for (index, op) in failures.operations.iter().enumerate() {
        let class = class_of(op);
        if class != previous_class {
            layout.push(Item::Class(class));
            previous_class = class;
        }
        if index == failures.selected {
            selected_row = layout.len();
        }
        layout.push(Item::Operation(index));
    }
    let height = usize::from(inner.height.saturating_sub(1));
    let offset = scroll_offset(selected_row, height);
    let rows: Vec<Row> = layout
        .iter()
        .skip(offset)
        .take(height)
        .map(|item| match *item {
            // No column spans in ratatui 0.29: the class sits in the WHAT column.
            Item::Class(class) => Row::new([
                Line::from(""),
                Line::from(Span::styled("▸", theme.title())),
                Line::from(Span::styled(class, theme.title())),
            ]),
            Item::Operation(index) => operation_row(state, index, wide),
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Length(14),
        Constraint::Length(12),
        Constraint::Length(15),
        Constraint::Fill(1),
    ];
    let mut header = vec!["", "ID", "WHAT", "SOURCE", "STATE", "ERROR"];
    if wide {
        widths.extend([
            Constraint::Length(3),
            Constraint::Length(16),
            Constraint::Length(14),
        ]);
        header.extend(["TRY", "UPDATED", "TRACE"]);
    }
    let table = Table::new(rows, widths).header(Row::new(header).style(theme.dim()));
    frame.render_widget(table, inner);
}

/// One line of the failures table: a class header or an operation (by index).
enum Item {
    Class(&'static str),
    Operation(usize),
}

fn operation_row(state: &AppState, index: usize, wide: bool) -> Row<'static> {
    let theme = &state.theme;
    let failures = &state.failures;
    let op = &failures.operations[index];
    let marked = failures.marked.contains(&op.id);
    let error = op.error.as_ref();
    let message = error.map_or(String::new(), |e| {
        let status = e.status.map(|s| format!("{s} ")).unwrap_or_default();
        format!("{status}{}", e.message)
    });
    let mut cells = vec![
        Line::from(if marked { "●" } else { " " }),
        Line::from(op.id.to_string()),
        Line::from(format!("{} {}", op.kind.as_str(), op.action.as_str())),
        Line::from(clip(&op.source_id, 12)),
        Line::from(op.state.name()),
        Line::from(clip(&message, 60)),
    ];
    if wide {
        cells.push(Line::from(op.attempts.to_string()));
        cells.push(Line::from(
            state.zone.format(&op.updated_at, TimeStyle::DateTime),
        ));
        cells.push(Line::from(clip(
            opt(error.and_then(|e| e.trace_id.as_deref())),
            14,
        )));
    }
    let style = if index == failures.selected {
        theme.selected()
    } else if marked {
        theme.marked()
    } else {
        Style::default()
    };
    Row::new(cells).style(style)
}
