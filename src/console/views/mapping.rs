//! The mapping editor: the TOML text, the engine's verdict on it (line:column of the first
//! problem), and the mapping applied to the selected contact, before → after per field.

use super::util::{block, centered, clip, value_text};
use crate::console::action::{Action, FocusTarget};
use crate::console::msg::PreviewTarget;
use crate::console::state::AppState;
use crate::console::state::mapping::problem_message;
use crate::console::state::{UnsavedChoice, UnsavedQuestion};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Row, Table};

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

    // The saved version in force, when there is one (the title already says "built-in").
    let version = mapping
        .latest_version()
        .map_or(String::new(), |v| format!(" · v{v}"));
    // Where the cursor is, while editing: the Check pane names errors by line and column.
    let (row, col) = mapping.editor.cursor();
    let position = if mapping.editing {
        format!(" · ln {}, col {}", row + 1, col + 1)
    } else {
        String::new()
    };
    let title = format!(
        "{EDITOR_TITLE} · {}{version}{}{}{position} ",
        clip(&mapping.title_name(), 40),
        if mapping.is_dirty() {
            " · modified"
        } else {
            ""
        },
        if mapping.editing {
            " · EDITING"
        } else if state.read_only {
            " · read-only"
        } else {
            ""
        },
    );
    // The editor is drawn by reference: its viewport (rows and columns scrolled) lives on in
    // the state, so a long line scrolls sideways to the cursor and PageDown knows the height.
    let outer = block(title, theme);
    let text_area = outer.inner(editor_area);
    frame.render_widget(outer, editor_area);
    frame.render_widget(&mapping.editor, text_area);

    let verdict = match (&mapping.problem, &mapping.check_failed, mapping.checked) {
        (Some(problem), _, _) => Line::from(Span::styled(
            match (problem.line, problem.column) {
                (Some(line), Some(column)) => {
                    format!(" line {line}:{column}: {}", problem_message(problem))
                }
                (Some(line), None) => format!(" line {line}: {}", problem_message(problem)),
                _ => format!(" {}", problem_message(problem)),
            },
            theme.error(),
        )),
        (None, Some(failed), _) => Line::from(Span::styled(
            format!(" not checked ({failed}); edit or press p to try again"),
            theme.warn(),
        )),
        (None, None, true) => Line::from(Span::styled(" ✓ valid", theme.ok())),
        (None, None, false) => Line::from(Span::styled(" checking…", theme.dim())),
    };
    let outer = block(" Check ".to_string(), theme);
    let inner = outer.inner(verdict_area);
    frame.render_widget(outer, verdict_area);
    frame.render_widget(Paragraph::new(verdict), inner);

    if preview_area.height == 0 {
        return;
    }
    let (who, field_header) = match &mapping.preview_target {
        Some(PreviewTarget::Peer(id)) => (format!("peer {} → GHL", clip(id, 24)), "GHL FIELD"),
        Some(PreviewTarget::Ghl(id)) => (
            format!("GHL {} → {}", clip(id, 24), clip(&state.peer, 12)),
            "PEER FIELD",
        ),
        None => ("no record".to_string(), "FIELD"),
    };
    let outer = block(format!(" Preview · {who} · p: peer id or ghl:ID "), theme);
    let inner = outer.inner(preview_area);
    frame.render_widget(outer, preview_area);
    if let Some(note) = &mapping.preview_note {
        frame.render_widget(
            Paragraph::new(format!(" {note}")).style(theme.warn()),
            inner,
        );
        return;
    }
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
    .header(Row::new([field_header, "BEFORE", "AFTER"]).style(theme.dim()));
    frame.render_widget(table, inner);
}

/// The question before unsaved edits would be left: Save / Discard / Cancel, Cancel focused.
pub fn unsaved_popup(question: &UnsavedQuestion, state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let popup = centered(area, 60, 7);
    frame.render_widget(Clear, popup);
    let outer = block(" Unsaved mapping changes ".to_string(), theme);
    let inner = outer.inner(popup);
    frame.render_widget(outer, popup);
    let [text, _, buttons, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let then = match question.then {
        Action::Quit => "quitting".to_string(),
        Action::Back => "leaving the editor".to_string(),
        Action::Focus(FocusTarget::Screen(screen)) => format!("going to {}", screen.title()),
        _ => "leaving the editor".to_string(),
    };
    frame.render_widget(Paragraph::new(format!(" Save them before {then}?")), text);
    let mut line = vec![Span::raw("   ")];
    for choice in UnsavedChoice::ALL {
        let style = if choice == question.focus {
            theme.selected()
        } else {
            theme.text()
        };
        line.push(Span::styled(format!("[ {} ]", choice.label()), style));
        line.push(Span::raw("   "));
    }
    frame.render_widget(Paragraph::new(Line::from(line)), buttons);
    frame.render_widget(
        Paragraph::new(" s save · d discard · esc cancel · ←/→ enter: pick").style(theme.dim()),
        keys,
    );
}
