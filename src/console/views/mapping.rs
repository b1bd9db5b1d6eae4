//! The mapping editor: the TOML text, the engine's verdict on it (line:column of the first
//! problem), and the mapping applied to the selected contact, before → after per field.

use super::util::{block, clip, value_text};
use crate::console::state::AppState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

/// The editor block's title prefix (the pty test looks for it).
pub const EDITOR_TITLE: &str = " Mapping";

pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let mapping = &state.mapping;
    if !mapping.loaded {
        let outer = block(format!("{EDITOR_TITLE} "), theme);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        frame.render_widget(Paragraph::new(" loading…").style(theme.dim()), inner);
        return;
    }
    let wide = area.width >= 110;
    let (editor_area, verdict_area, preview_area) = if wide {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]).areas(area);
        let [verdict, preview] =
            Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(right);
        (left, verdict, preview)
    } else {
        let preview_height = if area.height >= 18 { 7 } else { 0 };
        let [editor, verdict, preview] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(3),
            Constraint::Length(preview_height),
        ])
        .areas(area);
        (editor, verdict, preview)
    };

    let version = mapping
        .latest_version()
        .map_or("built-in".to_string(), |v| format!("v{v}"));
    let title = format!(
        "{EDITOR_TITLE} · {} · {version}{}{} ",
        clip(&mapping.origin, 40),
        if mapping.is_dirty() {
            " · modified"
        } else {
            ""
        },
        if mapping.editing { " · EDITING" } else { "" },
    );
    let mut editor = mapping.editor.clone();
    editor.set_block(block(title, theme));
    editor.set_line_number_style(theme.dim());
    editor.set_cursor_line_style(Style::default());
    // Without focus there is no cursor to show, so none is drawn.
    editor.set_cursor_style(if mapping.editing {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    });
    frame.render_widget(&editor, editor_area);

    let verdict = match (&mapping.problem, mapping.checked) {
        (Some(problem), _) => Line::from(Span::styled(
            match (problem.line, problem.column) {
                (Some(line), Some(column)) => {
                    format!(" line {line}:{column}: {}", problem.message)
                }
                (Some(line), None) => format!(" line {line}: {}", problem.message),
                _ => format!(" {}", problem.message),
            },
            theme.error(),
        )),
        (None, true) => Line::from(Span::styled(" ✓ valid", theme.ok())),
        (None, false) => Line::from(Span::styled(" checking…", theme.dim())),
    };
    let outer = block(" Check ".to_string(), theme);
    let inner = outer.inner(verdict_area);
    frame.render_widget(outer, verdict_area);
    frame.render_widget(Paragraph::new(verdict), inner);

    if preview_area.height == 0 {
        return;
    }
    let who = mapping
        .preview_peer_id
        .as_deref()
        .unwrap_or("no contact selected");
    let outer = block(format!(" Preview on {who} "), theme);
    let inner = outer.inner(preview_area);
    frame.render_widget(outer, preview_area);
    let rows: Vec<Row> = mapping
        .preview
        .iter()
        .map(|row| {
            let after = row.after.as_ref().map(value_text).unwrap_or_default();
            let (after, style) = match &row.problem {
                Some(problem) => (format!("! {problem}"), theme.error()),
                None => (after, theme.text()),
            };
            Row::new([
                Line::from(clip(&row.target, 18)),
                Line::from(Span::styled(
                    clip(&value_text(&row.before), 30),
                    theme.dim(),
                )),
                Line::from(Span::styled(clip(&after, 40), style)),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(18),
            Constraint::Fill(1),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(["FIELD", "BEFORE", "AFTER"]).style(theme.dim()));
    frame.render_widget(table, inner);
}
