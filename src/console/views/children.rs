//! Tasks, notes and appointments: the selected contact's (as GHL has them now) or every
//! contact's (as last synced, each row naming its contact). The title says which scope is
//! shown and how to switch; times are in the display zone.

use super::util::{block, clip, opt, scroll_offset, value_text};
use crate::console::clock::{DisplayZone, TimeStyle};
use crate::console::engine_api::ContactRef;
use crate::console::engine_api::{ChildRow, ContactDetail, RowState};
use crate::console::state::children::{AllChildren, kind_of};
use crate::console::state::{AppState, ChildScope, Screen};
use crate::peers::EntityKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table};
use serde_json::Value;

/// A list's columns: header, width, and one cell per row.
type Columns<'a> = Vec<(&'a str, Constraint)>;

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let screen = state.screen();
    let Some(kind) = kind_of(screen) else {
        return;
    };
    match state.children.scope {
        ChildScope::Contact => contact_scope(state, screen, kind, frame, area),
        ChildScope::All => all_scope(state, screen, kind, frame, area),
    }
}

/// The hint in every title: which scope the key switches to.
fn switch_hint(scope: ChildScope) -> String {
    format!("a: {}", scope.toggled().label())
}

fn contact_scope(
    state: &AppState,
    screen: Screen,
    kind: EntityKind,
    frame: &mut Frame,
    area: Rect,
) {
    let theme = &state.theme;
    let detail = state.detail.detail.as_deref();
    // The contact by the name the list shows it under, its id when the list has not got it.
    let who = state
        .detail
        .contact
        .as_ref()
        .map(|contact| {
            let id = contact.id();
            let listed = match contact {
                ContactRef::Peer(peer_id) => state.contacts.name_of(peer_id),
                ContactRef::Ghl(_) => None,
            };
            listed.unwrap_or(id).to_string()
        })
        .unwrap_or_else(|| opt(None).to_string());
    let count = detail.map(|d| contact_rows(d, kind, &state.zone).len());
    let title = format!(
        " {} of {} · {} · {} ",
        screen.title(),
        clip(&who, 24),
        count.map_or("…".to_string(), |n| n.to_string()),
        switch_hint(ChildScope::Contact)
    );
    let outer = block(title, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let Some(detail) = detail else {
        frame.render_widget(Paragraph::new(" loading…").style(theme.dim()), inner);
        return;
    };
    let rows = contact_rows(detail, kind, &state.zone);
    if rows.is_empty() {
        let text = format!(
            " no {} for this contact (a: all contacts)",
            screen.title().to_lowercase()
        );
        frame.render_widget(Paragraph::new(text).style(theme.dim()), inner);
        return;
    }
    let columns: Columns = match kind {
        EntityKind::Task => vec![
            ("", Constraint::Length(6)),
            ("DUE", Constraint::Length(16)),
            ("TITLE", Constraint::Length(30)),
            ("BODY", Constraint::Fill(1)),
        ],
        EntityKind::Note => vec![
            ("ADDED", Constraint::Length(16)),
            ("BODY", Constraint::Fill(1)),
        ],
        _ => vec![
            ("START", Constraint::Length(16)),
            ("END", Constraint::Length(16)),
            ("STATUS", Constraint::Length(10)),
            ("TITLE", Constraint::Fill(1)),
        ],
    };
    draw_table(state, inner, rows, columns, frame);
}

/// The contact's children as GHL has them, one cell list per row.
fn contact_rows(detail: &ContactDetail, kind: EntityKind, zone: &DisplayZone) -> Vec<Vec<String>> {
    let text_time = |text: Option<&str>| {
        text.map_or("—".to_string(), |t| {
            zone.format_text(t, TimeStyle::DateTime)
        })
    };
    match kind {
        EntityKind::Task => detail
            .tasks
            .iter()
            .map(|task| {
                vec![
                    done(Some(task.completed)).to_string(),
                    text_time(task.due_date.as_deref()),
                    clip(&task.title, 40),
                    clip(task.body.as_deref().unwrap_or(""), 60),
                ]
            })
            .collect(),
        EntityKind::Note => detail
            .notes
            .iter()
            .map(|note| {
                vec![
                    text_time(note.date_added.as_deref()),
                    clip(&note.body.replace('\n', " "), 200),
                ]
            })
            .collect(),
        _ => detail
            .appointments
            .iter()
            .map(|appointment| {
                vec![
                    value_time(appointment.start_time.as_ref(), zone),
                    value_time(appointment.end_time.as_ref(), zone),
                    clip(appointment.appointment_status.as_deref().unwrap_or("—"), 10),
                    clip(appointment.title.as_deref().unwrap_or(""), 60),
                ]
            })
            .collect(),
    }
}

fn all_scope(state: &AppState, screen: Screen, kind: EntityKind, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let all = state.children.all(kind);
    let shown = if all.loaded {
        let more = if all.loading { " · loading…" } else { "" };
        format!("{} of {}{more}", all.rows.len(), all.total)
    } else {
        "…".to_string()
    };
    let title = format!(
        " {} · all contacts · {shown} · {} ",
        screen.title(),
        switch_hint(ChildScope::All)
    );
    let outer = block(title, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    if let Some(text) = empty_text(all, screen) {
        frame.render_widget(Paragraph::new(text).style(theme.dim()), inner);
        return;
    }
    let wide = inner.width >= 100;
    let contact_width = if wide { 24 } else { 18 };
    let contact = ("CONTACT", Constraint::Length(contact_width));
    let mut columns: Columns = match kind {
        EntityKind::Task => vec![
            ("", Constraint::Length(6)),
            ("DUE", Constraint::Length(16)),
            contact,
            ("TITLE", Constraint::Fill(1)),
        ],
        EntityKind::Note => vec![
            ("SYNCED", Constraint::Length(16)),
            contact,
            ("BODY", Constraint::Fill(1)),
        ],
        _ => vec![
            ("START", Constraint::Length(16)),
            ("STATUS", Constraint::Length(10)),
            contact,
            ("TITLE", Constraint::Fill(1)),
        ],
    };
    if wide && kind != EntityKind::Note {
        columns.push(("BODY", Constraint::Fill(1)));
    }
    let rows = all
        .rows
        .iter()
        .map(|row| all_cells(row, kind, wide, contact_width.into(), &state.zone))
        .collect();
    draw_table(state, inner, rows, columns, frame);
}

fn empty_text(all: &AllChildren, screen: Screen) -> Option<String> {
    if !all.loaded {
        return Some(" loading…".to_string());
    }
    if !all.rows.is_empty() {
        return None;
    }
    let mut text = format!(
        " no {} synced yet for any contact",
        screen.title().to_lowercase()
    );
    for problem in &all.problems {
        text.push_str(&format!(" ({problem})"));
    }
    Some(text)
}

fn all_cells(
    row: &ChildRow,
    kind: EntityKind,
    wide: bool,
    contact_width: usize,
    zone: &DisplayZone,
) -> Vec<String> {
    let when = |at: Option<&chrono::DateTime<chrono::Utc>>| {
        at.map_or("—".to_string(), |at| zone.format(at, TimeStyle::DateTime))
    };
    let contact = row
        .contact_name
        .clone()
        .or_else(|| row.contact_peer_id.clone())
        .unwrap_or_else(|| "?".to_string());
    let title = row.title.clone().unwrap_or_default();
    let mut cells = match kind {
        EntityKind::Task => vec![
            match row.state {
                RowState::Failed | RowState::Queued => "! fail".to_string(),
                _ => done(row.completed).to_string(),
            },
            when(row.at.as_ref()),
            clip(&contact, contact_width),
            clip(&title, 60),
        ],
        EntityKind::Note => vec![
            when(row.synced_at.as_ref()),
            clip(&contact, contact_width),
            clip(
                &row.body.clone().unwrap_or_default().replace('\n', " "),
                200,
            ),
        ],
        _ => vec![
            when(row.at.as_ref()),
            clip(row.status.as_deref().unwrap_or("—"), 10),
            clip(&contact, contact_width),
            clip(&title, 60),
        ],
    };
    if wide && kind != EntityKind::Note {
        cells.push(clip(row.body.as_deref().unwrap_or(""), 60));
    }
    cells
}

fn done(completed: Option<bool>) -> &'static str {
    match completed {
        Some(true) => "✓ done",
        Some(false) => "· open",
        None => "",
    }
}

/// An appointment time GHL sent as text or as milliseconds.
fn value_time(value: Option<&Value>, zone: &DisplayZone) -> String {
    match value {
        Some(Value::String(text)) => zone.format_text(text, TimeStyle::DateTime),
        Some(Value::Number(ms)) => ms
            .as_i64()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map_or_else(
                || ms.to_string(),
                |at| zone.format(&at, TimeStyle::DateTime),
            ),
        Some(other) => value_text(other),
        None => "—".to_string(),
    }
}

fn draw_table(
    state: &AppState,
    inner: Rect,
    rows: Vec<Vec<String>>,
    columns: Columns,
    frame: &mut Frame,
) {
    let theme = &state.theme;
    let height = usize::from(inner.height.saturating_sub(1));
    let selected = state.children.selected.min(rows.len().saturating_sub(1));
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
    let (header, widths): (Vec<&str>, Vec<Constraint>) = columns.into_iter().unzip();
    let table = Table::new(rows, widths).header(Row::new(header).style(theme.dim()));
    frame.render_widget(table, inner);
}
