//! One contact: the id mapping and last outcome, the mapped difference per field (peer value,
//! what the mapping makes of it, what GHL has now), the recent history, and what hangs off it.
//! Wide terminals also get the raw peer and GHL records side by side; narrow ones stack.

use super::util::{block, clip, opt, scrolled, value_text};
use crate::console::clock::{DisplayZone, TimeStyle};
use crate::console::engine_api::{ContactDetail, FieldPreview};
use crate::console::state::failures::direction_label;
use crate::console::state::{AppState, Extent, Scroll};
use crate::console::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use serde_json::Value;

/// Where the parts of the detail go in `area`.
struct Regions {
    summary: Rect,
    /// Wide terminals: the raw peer and GHL records side by side.
    records: Option<(Rect, Rect)>,
    /// The mapped fields (or, for a GHL contact not linked yet, GHL's record).
    middle: Rect,
    history: Rect,
}

fn regions(detail: &ContactDetail, area: Rect) -> Regions {
    let wide = area.width >= 100 && area.height >= 30 && detail.peer.is_some();
    let history_height = if area.height >= 30 { 8 } else { 5 };
    let summary_height = if detail.problems.is_empty() { 4 } else { 5 };
    let [summary, middle, history] = Layout::vertical([
        Constraint::Length(summary_height),
        Constraint::Fill(1),
        Constraint::Length(history_height),
    ])
    .areas(area);
    if !wide {
        return Regions {
            summary,
            records: None,
            middle,
            history,
        };
    }
    let [records, diff] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Fill(1)]).areas(middle);
    let [peer, ghl] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(records);
    Regions {
        summary,
        records: Some((peer, ghl)),
        middle: diff,
        history,
    }
}

/// The mapped fields' table scrolls: how many rows it has and shows (its header aside).
pub fn extent(state: &AppState, area: Rect) -> Option<Extent> {
    let detail = state.detail.detail.as_ref()?;
    let middle = regions(detail, area).middle;
    Some(middle_extent(detail, middle))
}

/// The middle part's rows: the mapped fields under their header, or GHL's record.
fn middle_extent(detail: &ContactDetail, middle: Rect) -> Extent {
    if is_ghl_only(detail) {
        return Extent {
            total: ghl_fields(detail).len(),
            viewport: usize::from(middle.height.saturating_sub(2)),
        };
    }
    Extent {
        total: detail.preview.len(),
        viewport: usize::from(middle.height.saturating_sub(3)),
    }
}

/// A contact known by its GHL id alone: its GHL → peer create failed, so the peer has no
/// record of it and nothing is mapped yet.
fn is_ghl_only(detail: &ContactDetail) -> bool {
    detail.peer_id.is_none()
}

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let Some(detail) = &state.detail.detail else {
        let asked = state.detail.contact.as_ref().map(|c| c.to_string());
        let title = format!(" Contact {} ", opt(asked.as_deref()));
        let outer = block(title, theme);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        frame.render_widget(Paragraph::new(" loading…").style(theme.dim()), inner);
        return;
    };
    let parts = regions(detail, area);
    let list_name = detail
        .peer_id
        .as_deref()
        .and_then(|peer_id| state.contacts.name_of(peer_id));
    render_summary(detail, list_name, &state.zone, theme, frame, parts.summary);
    if let Some((peer, ghl)) = parts.records {
        render_record(
            " Peer record ",
            peer_fields(detail),
            None,
            theme,
            frame,
            peer,
        );
        render_record(" GHL record ", ghl_fields(detail), None, theme, frame, ghl);
    }
    if is_ghl_only(detail) {
        let title = format!(" GHL record · no {} record yet ", state.peer);
        let scroll = Some(state.detail.scroll);
        render_record(
            &title,
            ghl_fields(detail),
            scroll,
            theme,
            frame,
            parts.middle,
        );
    } else {
        render_diff(state, detail, frame, parts.middle);
    }
    render_history(detail, &state.zone, theme, frame, parts.history);
}

fn render_summary(
    detail: &ContactDetail,
    list_name: Option<&str>,
    zone: &DisplayZone,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    // The name the contact list showed, so the detail is recognisably the row that was opened;
    // the mapped company name (or GHL's name) only for a contact the list does not have.
    let name = list_name
        .map(str::to_string)
        .or_else(|| {
            detail
                .preview
                .iter()
                .find(|row| row.target == "name" || row.target == "companyName")
                .and_then(|row| row.after.as_ref())
                .map(value_text)
        })
        .or_else(|| ghl_name(detail))
        .unwrap_or_default();
    let last = detail.history.last();
    let outcome = last.map_or("never synced".to_string(), |entry| {
        format!(
            "{} {} at {}",
            entry.action.as_str(),
            entry.outcome.as_str(),
            zone.format(&entry.at, TimeStyle::DateTime)
        )
    });
    let outcome_style = match last.map(|entry| entry.outcome.as_str()) {
        Some("failed" | "retrying") => theme.error(),
        Some("conflict" | "queued") => theme.warn(),
        Some(_) => theme.ok(),
        None => theme.dim(),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" peer id ", theme.dim()),
            match &detail.peer_id {
                Some(peer_id) => Span::raw(peer_id.clone()),
                None => Span::styled("— not linked yet", theme.warn()),
            },
            Span::styled("  ⇄  GHL id ", theme.dim()),
            Span::raw(opt(detail.ghl_id.as_deref()).to_string()),
        ]),
        Line::from(vec![
            Span::styled(" last    ", theme.dim()),
            Span::styled(outcome, outcome_style),
            Span::styled(
                format!(
                    "   tasks {}  notes {}  appointments {}",
                    detail.tasks.len(),
                    detail.notes.len(),
                    detail.appointments.len()
                ),
                theme.dim(),
            ),
        ]),
    ];
    if !detail.problems.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(" {}", detail.problems.join("; ")),
            theme.error(),
        )));
    }
    let outer = block(format!(" Contact {} ", clip(&name, 40)), theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    frame.render_widget(Paragraph::new(lines), inner);
}

fn peer_fields(detail: &ContactDetail) -> Vec<(String, String)> {
    detail.peer.as_ref().map_or_else(Vec::new, |record| {
        record
            .fields
            .iter()
            .map(|(key, value)| (key.clone(), value_text(value)))
            .collect()
    })
}

/// The name GHL's record gives (for a contact the peer has no record of).
fn ghl_name(detail: &ContactDetail) -> Option<String> {
    let ghl = detail.ghl.as_ref()?;
    let text = |key: &str| ghl.get(key).and_then(Value::as_str).map(str::to_string);
    let name =
        crate::store::display_name(text("firstName"), text("lastName"), text("companyName"), "");
    (!name.is_empty()).then_some(name)
}

fn ghl_fields(detail: &ContactDetail) -> Vec<(String, String)> {
    match &detail.ghl {
        Some(Value::Object(map)) => map
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| (key.clone(), value_text(value)))
            .collect(),
        _ => Vec::new(),
    }
}

/// A record's fields, one per row; with a scroll, the rows scroll and say where they are.
fn render_record(
    title: &str,
    fields: Vec<(String, String)>,
    scroll: Option<Scroll>,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let outer = block(title.to_string(), theme);
    let inner = outer.inner(area);
    if fields.is_empty() {
        frame.render_widget(outer, area);
        frame.render_widget(Paragraph::new(" (none)").style(theme.dim()), inner);
        return;
    }
    let key_width = 18;
    let value_width = usize::from(inner.width).saturating_sub(key_width + 2);
    let lines: Vec<Line> = fields
        .into_iter()
        .map(|(key, value)| {
            Line::from(vec![
                // One column always stays between a long key and its value.
                Span::styled(format!(" {:<17}", clip(&key, 16)), theme.dim()),
                Span::raw(clip(&value, value_width)),
            ])
        })
        .collect();
    match scroll {
        Some(scroll) => scrolled(frame, area, outer, lines, scroll, theme),
        None => {
            frame.render_widget(outer, area);
            frame.render_widget(Paragraph::new(lines), inner);
        }
    }
}

/// GHL's current value for a mapping target (`customFields.x` style paths are followed).
fn ghl_value(detail: &ContactDetail, target: &str) -> Option<String> {
    let mut value = detail.ghl.as_ref()?;
    for part in target.split('.') {
        value = value.get(part)?;
    }
    Some(value_text(value))
}

fn render_diff(state: &AppState, detail: &ContactDetail, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let mut outer = block(" Mapped fields: peer → GHL ".to_string(), theme);
    let extent = middle_extent(detail, area);
    let scroll = state.detail.scroll;
    if let Some(position) = scroll.position(extent) {
        outer = outer.title_bottom(
            Line::from(Span::styled(format!(" {position} "), theme.dim())).right_aligned(),
        );
    }
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let column = usize::from(inner.width.saturating_sub(20) / 3).max(6);
    let rows = detail
        .preview
        .iter()
        .skip(scroll.clamped(extent))
        .map(|row| diff_row(detail, row, column, theme));
    let table = Table::new(
        rows,
        [
            Constraint::Length(2),
            Constraint::Length(16),
            Constraint::Fill(1),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(["", "FIELD", "MAPPED (PEER)", "GHL NOW"]).style(theme.dim()));
    frame.render_widget(table, inner);
}

/// A target as a person knows it: a custom field by its key or id alone (`customField:key:`
/// would fill the column before the name that tells the fields apart).
fn field_label(target: &str) -> &str {
    target
        .strip_prefix("customField:key:")
        .or_else(|| target.strip_prefix("customField:"))
        .unwrap_or(target)
}

fn diff_row<'a>(
    detail: &ContactDetail,
    row: &FieldPreview,
    width: usize,
    theme: &Theme,
) -> Row<'a> {
    let mapped = row.after.as_ref().map(value_text).unwrap_or_default();
    let current = match detail.ghl_now.get(&row.target) {
        Some(value) => value_text(value),
        None => ghl_value(detail, &row.target).unwrap_or_default(),
    };
    let (mark, style) = if row.problem.is_some() {
        ("!", theme.error())
    } else if detail.differences.contains(&row.target) {
        // The engine's verdict (the planner's comparison), not a comparison of display text.
        ("≠", theme.warn())
    } else {
        ("=", theme.dim())
    };
    let mapped_text = match &row.problem {
        Some(problem) => format!("{} ({problem})", value_text(&row.before)),
        None => mapped,
    };
    Row::new([
        Line::from(Span::styled(mark, style)),
        Line::from(clip(field_label(&row.target), 16)),
        Line::from(Span::styled(clip(&mapped_text, width * 2), style)),
        Line::from(clip(&current, width * 2)),
    ])
}

fn render_history(
    detail: &ContactDetail,
    zone: &DisplayZone,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let outer = block(" History · H: in full ".to_string(), theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let height = usize::from(inner.height);
    let lines: Vec<Line> = detail
        .history
        .iter()
        .rev()
        .take(height)
        .map(|entry| {
            let style = super::log::outcome_style(entry.outcome, theme);
            Line::from(vec![
                Span::styled(
                    format!(" {} ", zone.format(&entry.at, TimeStyle::DateTime)),
                    theme.dim(),
                ),
                Span::styled(format!("{:<10}", entry.outcome.as_str()), style),
                Span::raw(format!(
                    "{} {} {}",
                    direction_label(entry.direction),
                    entry.action.as_str(),
                    entry.message.as_deref().unwrap_or("")
                )),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
