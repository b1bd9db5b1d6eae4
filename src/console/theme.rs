//! Colours. Only the 16 named ANSI colours: they are short on the wire and right on every
//! terminal, with or without truecolor (tui-notes §3). `NO_COLOR` gives a monochrome theme that
//! marks state with modifiers instead, so nothing depends on colour alone.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub mono: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::colour()
    }
}

impl Theme {
    pub fn colour() -> Theme {
        Theme { mono: false }
    }

    pub fn monochrome() -> Theme {
        Theme { mono: true }
    }

    /// Monochrome when `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Theme {
        match std::env::var_os("NO_COLOR") {
            Some(value) if !value.is_empty() => Theme::monochrome(),
            _ => Theme::colour(),
        }
    }

    fn fg(&self, colour: Color) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(colour)
        }
    }

    pub fn text(&self) -> Style {
        Style::default()
    }

    pub fn dim(&self) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(Color::DarkGray)
        }
    }

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> Style {
        self.dim()
    }

    /// The selected row: reversed in both themes so it shows on any background.
    pub fn selected(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        }
    }

    /// Rows marked for a batch action.
    pub fn marked(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Info flashes: cyan, not blue, which is hard to read on a black background.
    pub fn info(&self) -> Style {
        self.fg(Color::Cyan)
    }

    /// The status line's words (key hints, header labels): light grey, readable on black where
    /// dark grey is not.
    pub fn hint(&self) -> Style {
        self.fg(Color::Gray)
    }

    /// A tab in the header's tab bar.
    pub fn tab(&self) -> Style {
        self.fg(Color::Gray)
    }

    /// The current tab: the selection's colours, so it reads as "here".
    pub fn tab_selected(&self) -> Style {
        self.selected()
    }

    /// A cell's own style inside a row that may be selected: in the selected row the row's
    /// colours win (black on cyan), so no green or red text lands on cyan.
    pub fn in_row(&self, style: Style, selected: bool) -> Style {
        if selected { Style::default() } else { style }
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// The SANDBOX / LIVE / READ-ONLY badges.
    pub fn badge(&self, kind: Badge) -> Style {
        if self.mono {
            return Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        }
        let bg = match kind {
            Badge::Sandbox => Color::Yellow,
            Badge::Live => Color::Red,
            Badge::ReadOnly => Color::Blue,
            Badge::Alert => Color::Red,
        };
        Style::default()
            .fg(Color::Black)
            .bg(bg)
            .add_modifier(Modifier::BOLD)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    Sandbox,
    Live,
    ReadOnly,
    /// Open alerts of the service (the header's count).
    Alert,
}
