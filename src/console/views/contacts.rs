//! The contacts list: one row per contact with its sync-state badge. Columns drop, right to
//! left, as the terminal narrows.

use super::util::{block, clip, opt, scroll_offset};
use crate::console::clock::TimeStyle;
use crate::console::engine_api::RowState;
use crate::console::state::AppState;
use crate::console::state::contacts::state_label;
use crate::console::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

pub fn state_style(state: RowState, theme: &Theme) -> Style {
    match state {
        RowState::Synced => theme.ok(),
        RowState::Failed => theme.error(),
        RowState::Queued => theme.warn(),
        RowState::Conflict => theme.warn(),
        RowState::Unlinked => theme.dim(),
    }
}

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let contacts = &state.contacts;
    let mut title = format!(
        " Contacts {}/{}{} · sort {}{} ",
        contacts.visible.len(),
        contacts.rows.len(),
        if contacts.loaded && !contacts.complete {
            "+ loading"
        } else {
            ""
        },
        contacts.sort.label(),
        if contacts.reverse { " ↑" } else { "" }
    );
    if !contacts.filter.is_empty() {
        title.push_str(&format!("· /{} ", contacts.filter));
    }
    let outer = block(title, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    if !contacts.loaded {
        frame.render_widget(
            Paragraph::new(" loading contacts…").style(theme.dim()),
            inner,
        );
        return;
    }
    if contacts.visible.is_empty() {
        let text = if contacts.rows.is_empty() && state.read_only {
            " no contacts yet, and --read-only syncs nothing: start without it to sync"
        } else if contacts.rows.is_empty() {
            " no contacts yet: run a sync (:sync now)"
        } else {
            " nothing matches the filter (esc clears it)"
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim()), inner);
        return;
    }
    let wide = inner.width >= 110;
    let medium = inner.width >= 76;
    let height = usize::from(inner.height.saturating_sub(1));
    let offset = scroll_offset(contacts.selected, height);
    let rows = contacts
        .visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .filter_map(|(position, &index)| {
            let row = contacts.rows.get(index)?;
            let selected = position == contacts.selected;
            // The row's time is its last activity; a contact that is not in sync has no
            // "last synced" to show (its failure's time is on the Failures screen).
            let last_sync = match row.state {
                RowState::Synced | RowState::Conflict => row.last_at.as_ref(),
                RowState::Queued | RowState::Failed | RowState::Unlinked => None,
            }
            .map_or("—".into(), |at| {
                state.zone.format(at, TimeStyle::DateTime)
            });
            let mut cells = vec![
                // In the selected row the row's colours win: no green or red on cyan.
                Line::from(Span::styled(
                    state_label(row.state),
                    theme.in_row(state_style(row.state, theme), selected),
                )),
                Line::from(clip(&row.name, 22)),
                Line::from(clip(super::util::opt(row.peer_id.as_deref()), 10)),
                Line::from(clip(opt(row.email.as_deref()), 28)),
            ];
            if wide {
                cells.push(Line::from(clip(opt(row.ghl_id.as_deref()), 14)));
                cells.push(Line::from(clip(opt(row.phone.as_deref()), 16)));
            }
            if medium {
                cells.push(Line::from(last_sync));
            }
            let style = if selected {
                theme.selected()
            } else {
                Style::default()
            };
            Some(Row::new(cells).style(style))
        });
    // Narrow terminals keep what tells contacts apart and when each last synced; the GHL id
    // and phone come back when there is room (the filter finds them either way).
    let mut widths = vec![
        Constraint::Length(8),
        Constraint::Length(22),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    let mut header = vec!["STATE", "NAME", "PEER ID", "EMAIL"];
    if wide {
        widths.extend([Constraint::Length(14), Constraint::Length(16)]);
        header.extend(["GHL ID", "PHONE"]);
    }
    if medium {
        widths.push(Constraint::Length(16));
        header.push("LAST SYNCED");
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .column_spacing(1);
    frame.render_widget(table, inner);
}
