//! The one scroll state of every popup and detail: an offset into content of a known length,
//! moved by the same motions as a list (j/k, PgUp/PgDn, g/G) and kept inside its bounds. The
//! reducer learns the length and the viewport from `views::scroll_extent`, so the bounds are
//! those of what is drawn at the current size.

use crate::console::action::Motion;

/// How much content there is and how much of it fits, in rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extent {
    pub total: usize,
    pub viewport: usize,
}

impl Extent {
    /// The largest offset that still fills the viewport.
    pub fn max_offset(self) -> usize {
        self.total.saturating_sub(self.viewport)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scroll {
    /// The first row shown.
    pub offset: usize,
}

impl Scroll {
    pub fn apply(&mut self, motion: Motion, extent: Extent) {
        let page = extent.viewport.saturating_sub(1).max(1);
        let offset = self.offset.min(extent.max_offset());
        self.offset = match motion {
            Motion::Up => offset.saturating_sub(1),
            Motion::Down => offset + 1,
            Motion::PageUp => offset.saturating_sub(page),
            Motion::PageDown => offset + page,
            Motion::Top => 0,
            Motion::Bottom => extent.max_offset(),
        }
        .min(extent.max_offset());
    }

    /// The offset drawn: never past the end, even if the content shrank since the last move.
    pub fn clamped(self, extent: Extent) -> usize {
        self.offset.min(extent.max_offset())
    }

    /// "12–30 of 84" when the content is longer than the viewport, else nothing.
    pub fn position(self, extent: Extent) -> Option<String> {
        if extent.total <= extent.viewport || extent.viewport == 0 {
            return None;
        }
        let first = self.clamped(extent) + 1;
        let last = (first + extent.viewport - 1).min(extent.total);
        Some(format!("{first}–{last} of {}", extent.total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_stay_inside_the_content_and_the_position_says_where() {
        let extent = Extent {
            total: 84,
            viewport: 19,
        };
        let mut scroll = Scroll::default();
        assert_eq!(scroll.position(extent).as_deref(), Some("1–19 of 84"));
        scroll.apply(Motion::Up, extent);
        assert_eq!(scroll.offset, 0, "nothing above the top");
        scroll.apply(Motion::Down, extent);
        scroll.apply(Motion::PageDown, extent);
        assert_eq!(scroll.offset, 1 + 18);
        assert_eq!(scroll.position(extent).as_deref(), Some("20–38 of 84"));
        scroll.apply(Motion::Bottom, extent);
        assert_eq!(scroll.offset, 65);
        assert_eq!(scroll.position(extent).as_deref(), Some("66–84 of 84"));
        scroll.apply(Motion::Down, extent);
        assert_eq!(scroll.offset, 65, "nothing below the bottom");
        scroll.apply(Motion::PageUp, extent);
        assert_eq!(scroll.offset, 47);
        scroll.apply(Motion::Top, extent);
        assert_eq!(scroll.offset, 0);
        let short = Extent {
            total: 5,
            viewport: 19,
        };
        scroll.apply(Motion::PageDown, short);
        assert_eq!((scroll.offset, scroll.position(short)), (0, None));
        // Content that shrank under an old offset is drawn from its last full page.
        let stale = Scroll { offset: 80 };
        assert_eq!(stale.clamped(extent), 65);
    }
}
