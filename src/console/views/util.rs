//! Small helpers shared by the views.

use crate::console::state::{Extent, Scroll};
use crate::console::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn block<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(title)
        .title_style(theme.title())
}

/// A centred rect of at most `width`×`height`, always inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, center, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(width),
        Constraint::Fill(1),
    ])
    .areas(middle);
    center.intersection(area)
}

/// Cuts to `max` chars with an ellipsis, so a long value never shoves columns around.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

pub fn opt(value: Option<&str>) -> &str {
    value.unwrap_or("—")
}

/// The first row index shown so that `selected` stays visible in `height` rows.
pub fn scroll_offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        return selected;
    }
    selected.saturating_sub(height - 1)
}

/// A JSON value as one short line (strings without quotes).
pub fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Word-wraps `text` to rows of at most `width` chars; a word longer than a row is cut, and
/// a line's leading indent is kept on each of its rows (pretty JSON stays readable). Popups
/// wrap their text themselves (rather than `Paragraph::wrap`), so the reducer knows exactly
/// how many rows there are to scroll.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut rows = Vec::new();
    for paragraph in text.split('\n') {
        let body = paragraph.trim_start_matches(' ');
        let indent_len = (paragraph.len() - body.len()).min(width.saturating_sub(1) / 2);
        let indent = " ".repeat(indent_len);
        rows.extend(
            wrap_line(body, width.saturating_sub(indent_len))
                .into_iter()
                .map(|row| format!("{indent}{row}")),
        );
    }
    rows
}

fn wrap_line(paragraph: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut len = 0;
    for word in paragraph.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        if len > 0 && len + 1 + word.len() > width {
            rows.push(std::mem::take(&mut row));
            len = 0;
        }
        if len > 0 {
            row.push(' ');
            len += 1;
        }
        while len + word.len() > width {
            let rest = word.split_off(width - len);
            row.extend(word);
            rows.push(std::mem::take(&mut row));
            len = 0;
            word = rest;
        }
        len += word.len();
        row.extend(word);
    }
    rows.push(row);
    rows
}

/// A label and a value wrapped under it with a hanging indent: ` label      value…`.
pub fn labelled<'a>(
    label: &str,
    value: &str,
    style: Style,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'a>> {
    const INDENT: usize = 12;
    wrap(value, width.saturating_sub(INDENT + 1))
        .into_iter()
        .enumerate()
        .map(|(n, row)| {
            let head = if n == 0 {
                format!(" {label:<11}")
            } else {
                " ".repeat(INDENT)
            };
            Line::from(vec![
                Span::styled(head, theme.dim()),
                Span::styled(row, style),
            ])
        })
        .collect()
}

/// Draws `lines` in `block` over `area` from the scroll position on, with "12–30 of 84" on
/// the bottom border when they do not all fit: the one scrolling view of every popup and
/// detail. `lines` must already fit the width (see [`wrap`]).
pub fn scrolled(
    frame: &mut Frame,
    area: Rect,
    block: Block,
    lines: Vec<Line>,
    scroll: Scroll,
    theme: &Theme,
) {
    let inner = block.inner(area);
    let extent = Extent {
        total: lines.len(),
        viewport: usize::from(inner.height),
    };
    let block = match scroll.position(extent) {
        Some(position) => block.title_bottom(
            Line::from(Span::styled(format!(" {position} "), theme.dim())).right_aligned(),
        ),
        None => block,
    };
    let offset = scroll.clamped(extent);
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(offset)
        .take(extent.viewport)
        .collect();
    frame.render_widget(Paragraph::new(shown).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("Name is required", 8), ["Name is", "required"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(
            wrap("    \"key\": \"a b\"", 12),
            ["    \"key\":", "    \"a b\""]
        );
        for row in wrap(
            "waits for its contact C1007, which is not synced: its own sync",
            12,
        ) {
            assert!(row.chars().count() <= 12, "{row:?}");
        }
    }
}
