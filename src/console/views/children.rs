//! The selected contact's tasks, notes and appointments (as GHL has them).

use super::util::{block, clip, opt, scroll_offset, value_text};
use crate::console::engine_api::ContactDetail;
use crate::console::state::AppState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table};

/// Draws the frame; returns the inner area and the contact's detail when it is loaded.
fn frame_for<'a>(
    state: &'a AppState,
    frame: &mut Frame,
    area: Rect,
    what: &str,
    count: fn(&ContactDetail) -> usize,
) -> Option<(Rect, &'a ContactDetail)> {
    let theme = &state.theme;
    let detail = state.detail.detail.as_deref();
    let who = detail.map_or_else(
        || opt(state.detail.peer_id.as_deref()).to_string(),
        |d| d.peer_id.clone(),
    );
    let title = match detail {
        Some(d) => format!(" {what} of {who} · {} ", count(d)),
        None => format!(" {what} of {who} "),
    };
    let outer = block(title, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    match detail {
        Some(d) if count(d) > 0 => Some((inner, d)),
        Some(_) => {
            let text = format!(" no {} for this contact", what.to_lowercase());
            frame.render_widget(Paragraph::new(text).style(theme.dim()), inner);
            None
        }
        None => {
            frame.render_widget(Paragraph::new(" loading…").style(theme.dim()), inner);
            None
        }
    }
}

fn table<'a>(
    state: &AppState,
    inner: Rect,
    rows: Vec<Vec<String>>,
    header: Vec<&'a str>,
    widths: Vec<Constraint>,
) -> Table<'a> {
    let theme = &state.theme;
    let height = usize::from(inner.height.saturating_sub(1));
    let selected = state.detail.child_selected;
    let offset = scroll_offset(selected, height);
    let rows: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(index, cells)| {
            let style = if index == selected {
                theme.selected()
            } else {
                Style::default()
            };
            Row::new(cells.into_iter().map(Line::from)).style(style)
        })
        .collect();
    Table::new(rows, widths).header(Row::new(header).style(theme.dim()))
}

pub fn tasks(state: &AppState, frame: &mut Frame, area: Rect) {
    let Some((inner, detail)) = frame_for(state, frame, area, "Tasks", |d| d.tasks.len()) else {
        return;
    };
    let rows = detail
        .tasks
        .iter()
        .map(|task| {
            vec![
                if task.completed {
                    "✓ done"
                } else {
                    "· open"
                }
                .to_string(),
                clip(task.due_date.as_deref().unwrap_or("—"), 20),
                clip(&task.title, 40),
                clip(task.body.as_deref().unwrap_or(""), 60),
            ]
        })
        .collect();
    let widths = vec![
        Constraint::Length(7),
        Constraint::Length(20),
        Constraint::Length(30),
        Constraint::Fill(1),
    ];
    let t = table(state, inner, rows, vec!["", "DUE", "TITLE", "BODY"], widths);
    frame.render_widget(t, inner);
}

pub fn notes(state: &AppState, frame: &mut Frame, area: Rect) {
    let Some((inner, detail)) = frame_for(state, frame, area, "Notes", |d| d.notes.len()) else {
        return;
    };
    let rows = detail
        .notes
        .iter()
        .map(|note| {
            vec![
                clip(note.date_added.as_deref().unwrap_or("—"), 20),
                clip(&note.body.replace('\n', " "), 200),
            ]
        })
        .collect();
    let widths = vec![Constraint::Length(20), Constraint::Fill(1)];
    let t = table(state, inner, rows, vec!["ADDED", "BODY"], widths);
    frame.render_widget(t, inner);
}

pub fn appointments(state: &AppState, frame: &mut Frame, area: Rect) {
    let Some((inner, detail)) =
        frame_for(state, frame, area, "Appointments", |d| d.appointments.len())
    else {
        return;
    };
    let rows = detail
        .appointments
        .iter()
        .map(|appointment| {
            let when = |v: &Option<serde_json::Value>| v.as_ref().map(value_text);
            vec![
                clip(&when(&appointment.start_time).unwrap_or_default(), 25),
                clip(&when(&appointment.end_time).unwrap_or_default(), 25),
                clip(appointment.appointment_status.as_deref().unwrap_or("—"), 10),
                clip(appointment.title.as_deref().unwrap_or(""), 60),
            ]
        })
        .collect();
    let widths = vec![
        Constraint::Length(25),
        Constraint::Length(25),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    let t = table(
        state,
        inner,
        rows,
        vec!["START", "END", "STATUS", "TITLE"],
        widths,
    );
    frame.render_widget(t, inner);
}
