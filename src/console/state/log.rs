//! The live sync log: a capped buffer of entries (k9s `logger.buffer`), follow/pause, wrap,
//! timestamps, a structured filter, and per-second counts for the status sparkline.

use crate::store::{LogEntry, Outcome};
use std::collections::{BTreeMap, VecDeque};

/// Entries kept in memory; older ones stay in the store (`ghlsync log`).
pub const LOG_CAPACITY: usize = 5_000;
/// Seconds of history the sparkline keeps.
pub const RATE_WINDOW_SECS: i64 = 120;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Free text, matched case-insensitively against ids, message, class, kind and trigger.
    pub text: String,
    pub outcome: Option<String>,
    pub entity: Option<String>,
    pub direction: Option<String>,
    pub class: Option<String>,
}

impl LogFilter {
    /// `outcome:failed entity:contact dir:to_ghl class:validation free words` — the same
    /// vocabulary `ghlsync log` prints, so what a person reads is what they can type.
    pub fn parse(input: &str) -> LogFilter {
        let mut filter = LogFilter::default();
        let mut words = Vec::new();
        for word in input.split_whitespace() {
            match word.split_once(':') {
                Some(("outcome", v)) => filter.outcome = Some(v.to_lowercase()),
                Some(("entity" | "kind", v)) => filter.entity = Some(v.to_lowercase()),
                Some(("dir" | "direction", v)) => filter.direction = Some(v.to_lowercase()),
                Some(("class" | "error", v)) => filter.class = Some(v.to_lowercase()),
                _ => words.push(word.to_lowercase()),
            }
        }
        filter.text = words.join(" ");
        filter
    }

    pub fn is_empty(&self) -> bool {
        *self == LogFilter::default()
    }

    pub fn matches(&self, entry: &LogEntry) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        if !eq(&self.outcome, entry.outcome.as_str())
            || !eq(&self.entity, entry.kind.as_str())
            || !eq(&self.direction, entry.direction.as_str())
        {
            return false;
        }
        if let Some(class) = &self.class
            && entry.error_class.map(|c| c.as_str()) != Some(class.as_str())
        {
            return false;
        }
        if self.text.is_empty() {
            return true;
        }
        let haystack = [
            entry.peer_id.as_deref().unwrap_or(""),
            entry.ghl_id.as_deref().unwrap_or(""),
            entry.message.as_deref().unwrap_or(""),
            entry.trace_id.as_deref().unwrap_or(""),
            entry.error_class.map_or("", |c| c.as_str()),
            entry.kind.as_str(),
            entry.action.as_str(),
            entry.trigger.as_str(),
        ]
        .join(" ")
        .to_lowercase();
        self.text.split(' ').all(|word| haystack.contains(word))
    }
}

/// Requests and errors seen in one second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateBucket {
    pub requests: u64,
    pub errors: u64,
}

#[derive(Debug, Clone)]
pub struct LogState {
    pub entries: VecDeque<LogEntry>,
    pub follow: bool,
    pub wrap: bool,
    pub timestamps: bool,
    pub filter: LogFilter,
    pub filter_text: String,
    /// Index into the *filtered* view.
    pub selected: usize,
    pub rates: BTreeMap<i64, RateBucket>,
}

impl Default for LogState {
    fn default() -> Self {
        LogState {
            entries: VecDeque::new(),
            follow: true,
            wrap: false,
            timestamps: true,
            filter: LogFilter::default(),
            filter_text: String::new(),
            selected: 0,
            rates: BTreeMap::new(),
        }
    }
}

impl LogState {
    /// Appends one live entry; keeps the view pinned to the end while following.
    pub fn push(&mut self, entry: LogEntry) {
        self.count_rate(&entry);
        if self.entries.len() >= LOG_CAPACITY {
            self.entries.pop_front();
            // The selection points at the same entry, one place earlier, while paused.
            self.selected = self.selected.saturating_sub(1);
        }
        self.entries.push_back(entry);
        if self.follow {
            self.select_last();
        }
    }

    /// Replaces the buffer with the store's tail (oldest first), e.g. at start-up.
    pub fn replace(&mut self, entries: Vec<LogEntry>) {
        self.entries = entries.into_iter().collect();
        while self.entries.len() > LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.select_last();
    }

    fn count_rate(&mut self, entry: &LogEntry) {
        // Unchanged and queued records cost no write; they are not traffic.
        if matches!(entry.outcome, Outcome::Unchanged | Outcome::Queued) {
            return;
        }
        let second = entry.at.timestamp();
        let bucket = self.rates.entry(second).or_default();
        bucket.requests += 1;
        if matches!(entry.outcome, Outcome::Failed | Outcome::Retrying) {
            bucket.errors += 1;
        }
        let oldest = second - RATE_WINDOW_SECS;
        while self
            .rates
            .first_key_value()
            .is_some_and(|(k, _)| *k < oldest)
        {
            self.rates.pop_first();
        }
    }

    /// The `width` seconds up to `now` (else up to the newest entry) of requests and errors,
    /// one slot per second, oldest first: with `now` the line moves on through quiet seconds.
    pub fn rate_series(&self, width: usize, now: Option<i64>) -> (Vec<u64>, Vec<u64>) {
        let newest = self.rates.last_key_value().map(|(&second, _)| second);
        let Some(last) = newest.max(now) else {
            return (vec![0; width], vec![0; width]);
        };
        let first = last - width as i64 + 1;
        (first..=last)
            .map(|second| {
                let bucket = self.rates.get(&second).copied().unwrap_or_default();
                (bucket.requests, bucket.errors)
            })
            .unzip()
    }

    /// Indices of entries passing the filter, oldest first.
    pub fn visible(&self) -> Vec<usize> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| self.filter.matches(entry))
            .map(|(index, _)| index)
            .collect()
    }

    /// How many entries pass the filter: without one, all of them, at no cost (a live entry
    /// arrives many times a second).
    pub fn visible_len(&self) -> usize {
        if self.filter.is_empty() {
            self.entries.len()
        } else {
            self.entries
                .iter()
                .filter(|entry| self.filter.matches(entry))
                .count()
        }
    }

    pub fn selected_entry(&self) -> Option<&LogEntry> {
        if self.filter.is_empty() {
            let last = self.entries.len().checked_sub(1)?;
            return self.entries.get(self.selected.min(last));
        }
        let visible = self.visible();
        visible
            .get(self.selected.min(visible.len().saturating_sub(1)))
            .and_then(|&index| self.entries.get(index))
    }

    pub fn select_last(&mut self) {
        self.selected = self.visible_len().saturating_sub(1);
    }

    pub fn set_filter(&mut self, text: &str) {
        self.filter_text = text.to_string();
        self.filter = LogFilter::parse(text);
        self.select_last();
    }

    /// Moves the selection; moving up pauses following, `follow` resumes it (k9s).
    pub fn move_by(&mut self, delta: isize) {
        let len = self.visible_len();
        if len == 0 {
            self.selected = 0;
            return;
        }
        self.selected = self.selected.saturating_add_signed(delta).min(len - 1);
        if delta < 0 {
            self.follow = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::tests::fixtures::log_entry;

    #[test]
    fn the_selection_counts_only_what_the_filter_shows() {
        let mut log = LogState::default();
        for i in 0..10 {
            let outcome = if i % 3 == 0 {
                Outcome::Failed
            } else {
                Outcome::Ok
            };
            log.push(log_entry(i, outcome));
        }
        assert_eq!((log.visible_len(), log.selected), (10, 9), "following");
        assert_eq!(log.selected_entry(), log.entries.back());
        log.set_filter("outcome:failed");
        assert_eq!(log.visible_len(), log.visible().len());
        assert_eq!((log.visible_len(), log.selected), (4, 3));
        assert_eq!(
            log.selected_entry().map(|e| e.outcome),
            Some(Outcome::Failed)
        );
        log.move_by(-10);
        assert_eq!(log.selected_entry(), log.entries.front());
        log.set_filter("");
        log.move_by(-100);
        assert_eq!((log.selected, log.follow), (0, false));
        assert_eq!(log.selected_entry(), log.entries.front());
    }
}
