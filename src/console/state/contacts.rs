//! The contacts list: rows from the engine, a text filter and a sort, with the visible order
//! cached so a keystroke in the filter costs one pass over the rows, not one per frame.

use crate::console::engine_api::{ContactRow, RowState, national_digits};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContactSort {
    #[default]
    Name,
    /// Failures and conflicts first: the rows that need a person.
    State,
    /// Most recently synced first.
    Recent,
}

impl ContactSort {
    pub fn next(self) -> ContactSort {
        match self {
            ContactSort::Name => ContactSort::State,
            ContactSort::State => ContactSort::Recent,
            ContactSort::Recent => ContactSort::Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ContactSort::Name => "name",
            ContactSort::State => "state",
            ContactSort::Recent => "recent",
        }
    }
}

pub fn state_rank(state: RowState) -> u8 {
    match state {
        RowState::Failed => 0,
        RowState::Conflict => 1,
        RowState::Queued => 2,
        RowState::Unlinked => 3,
        RowState::Synced => 4,
    }
}

pub fn state_label(state: RowState) -> &'static str {
    match state {
        RowState::Synced => "synced",
        RowState::Failed => "failed",
        RowState::Queued => "queued",
        RowState::Conflict => "conflict",
        RowState::Unlinked => "unlinked",
    }
}

#[derive(Debug, Clone, Default)]
pub struct ContactsState {
    pub rows: Vec<ContactRow>,
    pub filter: String,
    pub sort: ContactSort,
    pub reverse: bool,
    /// Indices into `rows`, filtered and sorted: `order` less the rows the filter hides.
    pub visible: Vec<usize>,
    /// Index into `visible`.
    pub selected: usize,
    pub loaded: bool,
    /// `rows` is the whole list, not its first page (the rest is on its way).
    pub complete: bool,
    /// A reload is in flight (live log entries for new contacts ask for at most one at a time).
    pub refreshing: bool,
    /// Every row in the current sort and direction, so a filter change never sorts.
    order: Vec<usize>,
    /// Rows by a hash of their peer id, sorted by hash: a live log entry finds its row without
    /// scanning the list.
    by_id: Vec<(u64, usize)>,
    /// What the filter searches: each row's name, peer id, GHL id, email, phone (and the
    /// phone's last ten digits) and company, lowercased and separated by newlines (a filter word never holds whitespace, so it never matches
    /// across two fields), in the order of `rows` (the engine's: by name), so a filter pass
    /// reads it front to back.
    search: String,
    /// Each row's text in `search`, by index in `rows`: its start, the end of the name (the
    /// name sort's key) and its end.
    spans: Vec<(u32, u32, u32)>,
    /// A row's state changed since `visible` was computed: the next filter change starts over
    /// from `order` rather than narrowing `visible` (the state is part of what a filter matches).
    stale: bool,
}

impl ContactsState {
    /// New rows from the engine; `complete` is false while they are only the list's first page.
    pub fn replace(&mut self, rows: Vec<ContactRow>, complete: bool) {
        // The selected contact stays selected through a reload, unless the cursor is on the
        // first row: then it stays on the first row, so a list filling up during a sync reads
        // from the top instead of following whichever contact arrived first.
        let keep = (self.selected > 0)
            .then(|| self.selected_row().and_then(|row| row.peer_id.clone()))
            .flatten();
        self.rows = rows;
        self.loaded = true;
        self.complete = complete;
        self.refreshing = false;
        self.index_rows();
        self.resort();
        self.refilter(false);
        let keep = keep.and_then(|id| self.index_of(&id));
        self.reselect(keep);
    }

    pub fn set_filter(&mut self, filter: &str) {
        let keep = self.selected_index();
        let narrows = !self.stale && refines(&self.filter, filter);
        self.filter = filter.to_string();
        self.refilter(narrows);
        self.reselect(keep);
    }

    pub fn cycle_sort(&mut self) {
        let keep = self.selected_index();
        self.sort = self.sort.next();
        self.resort();
        self.refilter(false);
        self.reselect(keep);
    }

    pub fn toggle_reverse(&mut self) {
        let keep = self.selected_index();
        self.reverse = !self.reverse;
        self.resort();
        self.refilter(false);
        self.reselect(keep);
    }

    /// One pass over new rows: the search text, each row's span in it, and the id index.
    fn index_rows(&mut self) {
        // Generous, then trimmed in place: growing by doubling would copy it and leave the
        // old buffer behind in the heap.
        let mut search = String::with_capacity(self.rows.len() * 128);
        let mut spans = Vec::with_capacity(self.rows.len());
        let mut by_id = Vec::with_capacity(self.rows.len());
        for (index, row) in self.rows.iter().enumerate() {
            spans.push(push_search_text(&mut search, row));
            if let Some(peer_id) = &row.peer_id {
                by_id.push((id_hash(peer_id), index));
            }
        }
        by_id.sort_unstable();
        search.shrink_to_fit();
        self.search = search;
        self.spans = spans;
        self.by_id = by_id;
    }

    /// `order`: every row, sorted. Runs when the rows or the sort change, never per keystroke.
    fn resort(&mut self) {
        let rows = &self.rows;
        let mut order: Vec<usize> = (0..rows.len()).collect();
        match self.sort {
            ContactSort::Name => {
                // The lowercase names are in the search text already: no string per row here.
                let (search, spans) = (&self.search, &self.spans);
                let key = |index: usize| {
                    let (start, name_end, _) = spans[index];
                    &search[start as usize..name_end as usize]
                };
                order.sort_by(|&a, &b| {
                    key(a)
                        .cmp(key(b))
                        .then_with(|| rows[a].peer_id.cmp(&rows[b].peer_id))
                });
            }
            ContactSort::State => order.sort_by(|&a, &b| {
                state_rank(rows[a].state)
                    .cmp(&state_rank(rows[b].state))
                    .then_with(|| rows[a].name.cmp(&rows[b].name))
            }),
            ContactSort::Recent => {
                order.sort_by(|&a, &b| rows[b].last_at.cmp(&rows[a].last_at));
            }
        }
        if self.reverse {
            order.reverse();
        }
        self.order = order;
    }

    /// `visible` for the current filter: from `order`, or (`narrow`: the filter only got more
    /// specific) from what is visible now, which is already in order.
    fn refilter(&mut self, narrow: bool) {
        let needle = self.filter.to_lowercase();
        let words: Vec<&str> = needle.split_whitespace().collect();
        let from = if narrow {
            std::mem::take(&mut self.visible)
        } else {
            self.order.clone()
        };
        // A whole filter that is a phone number in any format is that number's last ten digits
        // (as sync::identity compares numbers); a number-like word matches on its digits too.
        let phone = is_phone_like(&needle)
            .then(|| national_digits(&needle))
            .filter(|digits| digits.len() >= 7);
        let word_digits: Vec<Option<String>> = words
            .iter()
            .map(|word| {
                let digits: String = word.chars().filter(char::is_ascii_digit).collect();
                (is_phone_like(word) && digits.len() >= 3).then_some(digits)
            })
            .collect();
        self.visible = if words.is_empty() {
            from
        } else {
            let (rows, search, spans) = (&self.rows, &self.search, &self.spans);
            from.into_iter()
                .filter(|&index| {
                    let (start, _, end) = spans[index];
                    let text = &search[start as usize..end as usize];
                    if let Some(phone) = &phone {
                        return text.contains(phone.as_str());
                    }
                    let state = state_label(rows[index].state);
                    words.iter().zip(&word_digits).all(|(word, digits)| {
                        text.contains(word)
                            || state.contains(word)
                            || digits.as_ref().is_some_and(|d| text.contains(d.as_str()))
                    })
                })
                .collect()
        };
        self.stale = false;
    }

    /// Puts the cursor back on row `keep` if it is still visible, else keeps its position.
    fn reselect(&mut self, keep: Option<usize>) {
        self.selected = keep
            .and_then(|index| self.visible.iter().position(|&i| i == index))
            .unwrap_or(self.selected)
            .min(self.visible.len().saturating_sub(1));
    }

    fn selected_index(&self) -> Option<usize> {
        self.visible.get(self.selected).copied()
    }

    /// The index in `rows` of a peer id.
    fn index_of(&self, peer_id: &str) -> Option<usize> {
        let hash = id_hash(peer_id);
        let start = self.by_id.partition_point(|&(h, _)| h < hash);
        self.by_id[start..]
            .iter()
            .take_while(|&&(h, _)| h == hash)
            .map(|&(_, index)| index)
            .find(|&index| self.rows[index].peer_id.as_deref() == Some(peer_id))
    }

    /// Changes a row in place (a live log entry: its state, last sync, GHL id); false when no
    /// row has this peer id. Its state may change, so the next filter change filters every row
    /// again; a changed searchable field gets its text re-indexed.
    pub fn update_row(&mut self, peer_id: &str, change: impl FnOnce(&mut ContactRow)) -> bool {
        let Some(index) = self.index_of(peer_id) else {
            return false;
        };
        change(&mut self.rows[index]);
        self.stale = true;
        let mut text = String::new();
        let (_, name_end, _) = push_search_text(&mut text, &self.rows[index]);
        if let Some(&(start, _, end)) = self.spans.get(index)
            && self.search.get(start as usize..end as usize) != Some(text.as_str())
        {
            // The old text stays behind until the rows are replaced.
            let start = self.search.len() as u32;
            self.search.push_str(&text);
            self.spans[index] = (start, start + name_end, self.search.len() as u32);
        }
        true
    }

    /// The name the list shows for a contact.
    pub fn name_of(&self, peer_id: &str) -> Option<&str> {
        self.index_of(peer_id)
            .and_then(|index| self.rows.get(index))
            .map(|row| row.name.as_str())
    }

    pub fn selected_row(&self) -> Option<&ContactRow> {
        self.visible
            .get(self.selected)
            .and_then(|&index| self.rows.get(index))
    }

    /// Puts the cursor on a contact, clearing a filter that hides it; false when unknown.
    pub fn select_peer(&mut self, peer_id: &str) -> bool {
        let index = self.index_of(peer_id);
        self.select_index(index)
    }

    /// Puts the cursor on the contact with this GHL id (linked or not), as `select_peer` does.
    pub fn select_ghl(&mut self, ghl_id: &str) -> bool {
        let index = self
            .rows
            .iter()
            .position(|row| row.ghl_id.as_deref() == Some(ghl_id));
        self.select_index(index)
    }

    fn select_index(&mut self, index: Option<usize>) -> bool {
        let Some(index) = index else {
            return false;
        };
        if !self.visible.contains(&index) {
            self.set_filter("");
        }
        match self.visible.iter().position(|&i| i == index) {
            Some(position) => {
                self.selected = position;
                true
            }
            None => false,
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.visible.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn count(&self, state: RowState) -> usize {
        self.rows.iter().filter(|row| row.state == state).count()
    }
}

/// A fixed hash (no random keys: the reducer stays deterministic).
fn id_hash(peer_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    peer_id.hash(&mut hasher);
    hasher.finish()
}

/// Whether every row `new` matches also matches `old`: each of the old filter's words is
/// part of one of the new filter's (typing on, or adding a word).
fn refines(old: &str, new: &str) -> bool {
    if new.chars().any(|c| c.is_ascii_digit()) {
        // Numbers match on their digits and a whole number on its last ten: start over.
        return false;
    }
    let (old, new) = (old.to_lowercase(), new.to_lowercase());
    let new_words: Vec<&str> = new.split_whitespace().collect();
    old.split_whitespace()
        .all(|word| new_words.iter().any(|new_word| new_word.contains(word)))
}

/// Digits and the punctuation phone numbers are written with, and at least one digit.
fn is_phone_like(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | '.' | ' '))
}

/// Appends a row's searchable fields, each lowercased as a whole, separated by newlines (the
/// phone twice: as written, and as its last ten digits; the company last); returns where its text starts, where
/// its name ends and where it ends.
fn push_search_text(out: &mut String, row: &ContactRow) -> (u32, u32, u32) {
    let start = out.len() as u32;
    let mut name_end = start;
    let phone_digits = row.phone.as_deref().map(national_digits);
    let fields = [
        Some(row.name.as_str()),
        row.peer_id.as_deref(),
        row.ghl_id.as_deref(),
        row.email.as_deref(),
        row.phone.as_deref(),
        phone_digits.as_deref(),
        row.company.as_deref(),
    ];
    for (n, field) in fields.into_iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let field = field.unwrap_or("");
        if field.is_ascii() {
            let at = out.len();
            out.push_str(field);
            out[at..].make_ascii_lowercase();
        } else {
            out.push_str(&field.to_lowercase());
        }
        if n == 0 {
            name_end = out.len() as u32;
        }
    }
    (start, name_end, out.len() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize, name: &str, state: RowState) -> ContactRow {
        ContactRow {
            peer_id: Some(format!("C{i:03}")),
            ghl_id: (!i.is_multiple_of(5)).then(|| format!("G{i:03}x")),
            name: name.to_string(),
            email: Some(format!(
                "{}{i}@Example.com",
                name.split(' ').next().unwrap_or("")
            )),
            phone: (i.is_multiple_of(2)).then(|| format!("+1 555 01{i:02}")),
            company: (!i.is_multiple_of(3))
                .then(|| ["Acme Tools", "Zoë's Café", "SMITH & co"][i % 3].to_string()),
            state,
            last_at: chrono::DateTime::from_timestamp(1_780_000_000 + (i as i64 * 37) % 500, 0),
        }
    }

    fn rows() -> Vec<ContactRow> {
        let names = [
            "Ada Smith",
            "ÉMILE Zola",
            "bob smithers",
            "Ada Smith",
            "Zoë Ng",
            "carl",
        ];
        let states = [
            RowState::Synced,
            RowState::Failed,
            RowState::Queued,
            RowState::Conflict,
        ];
        (0..60)
            .map(|i| row(i, names[i % names.len()], states[i % states.len()]))
            .collect()
    }

    /// What the list showed before it kept an order and a search text: one joined haystack
    /// per row per filter change, then a sort of what matched.
    fn reference(state: &ContactsState) -> Vec<usize> {
        let needle = state.filter.to_lowercase();
        let words: Vec<&str> = needle.split_whitespace().collect();
        let rows = &state.rows;
        let digits_of =
            |text: &str| -> String { text.chars().filter(char::is_ascii_digit).collect() };
        let mut visible: Vec<usize> = (0..rows.len())
            .filter(|&i| {
                let row = &rows[i];
                let phone = row.phone.as_deref().unwrap_or("");
                let national = digits_of(phone);
                let national = &national[national.len().saturating_sub(10)..];
                let haystack = format!(
                    "{} {} {} {} {} {} {} {}",
                    row.name,
                    row.peer_id.as_deref().unwrap_or(""),
                    row.ghl_id.as_deref().unwrap_or(""),
                    row.email.as_deref().unwrap_or(""),
                    phone,
                    national,
                    row.company.as_deref().unwrap_or(""),
                    state_label(row.state)
                )
                .to_lowercase();
                let all_digits = digits_of(&needle);
                if is_phone_like(&needle) && all_digits.len() >= 7 {
                    let wanted = &all_digits[all_digits.len().saturating_sub(10)..];
                    return haystack.contains(wanted);
                }
                words.iter().all(|word| {
                    let digits = digits_of(word);
                    haystack.contains(word)
                        || (is_phone_like(word) && digits.len() >= 3 && haystack.contains(&digits))
                })
            })
            .collect();
        match state.sort {
            ContactSort::Name => visible.sort_by(|&a, &b| {
                rows[a]
                    .name
                    .to_lowercase()
                    .cmp(&rows[b].name.to_lowercase())
                    .then_with(|| rows[a].peer_id.cmp(&rows[b].peer_id))
            }),
            ContactSort::State => visible.sort_by(|&a, &b| {
                state_rank(rows[a].state)
                    .cmp(&state_rank(rows[b].state))
                    .then_with(|| rows[a].name.cmp(&rows[b].name))
            }),
            ContactSort::Recent => visible.sort_by(|&a, &b| rows[b].last_at.cmp(&rows[a].last_at)),
        }
        if state.reverse {
            visible.reverse();
        }
        visible
    }

    #[test]
    fn typing_narrows_and_every_filter_matches_a_full_recompute() {
        let mut state = ContactsState::default();
        state.replace(rows(), true);
        assert_eq!(state.visible, reference(&state));
        let steps = [
            "s",
            "sm",
            "smi",
            "smith",
            "smith ",
            "smith a",
            "smith ad",
            "smith",
            "smit",
            "",
            "É",
            "émile",
            "EMILE",
            "zoë",
            "ZOË",
            "example.com",
            "g01",
            "fail",
            "failed c0",
            "  ",
            "555 01",
            "x",
            "nothing-matches",
            "c00",
            "acme",
            "café",
            "ACME tools",
            "zoë's",
        ];
        for sort in [ContactSort::Name, ContactSort::State, ContactSort::Recent] {
            while state.sort != sort {
                state.cycle_sort();
            }
            for reverse in [false, true] {
                if state.reverse != reverse {
                    state.toggle_reverse();
                }
                for filter in steps {
                    state.set_filter(filter);
                    assert_eq!(
                        state.visible,
                        reference(&state),
                        "filter {filter:?}, sort {sort:?}, reverse {reverse}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_phone_number_matches_in_any_common_format() {
        let mut state = ContactsState::default();
        let mut all = rows();
        all[7].phone = Some("(555) 010-2233".into());
        all[8].phone = Some("+1 555 010 2233".into());
        all[9].phone = Some("555.010.2299".into());
        state.replace(all, true);
        for typed in [
            "(555) 010-2233",
            "555.010.2233",
            "+1 555 010 2233",
            "5550102233",
            "010-2233",
        ] {
            state.set_filter(typed);
            let ids = visible_ids(&state);
            assert_eq!(ids.len(), 2, "{typed:?} finds both forms: {ids:?}");
            assert!(
                ids.contains(&"C007") && ids.contains(&"C008"),
                "{typed:?}: {ids:?}"
            );
            assert_eq!(state.visible, reference(&state), "{typed:?}");
        }
        // A sync state is a word like any other.
        state.set_filter("failed");
        assert!(
            state
                .visible
                .iter()
                .all(|&i| state.rows[i].state == RowState::Failed)
        );
    }

    /// The peer ids of the rows the filter shows, in order.
    fn visible_ids(state: &ContactsState) -> Vec<&str> {
        state
            .visible
            .iter()
            .map(|&i| state.rows[i].peer_id.as_deref().unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_company_word_finds_a_contact_named_by_its_person() {
        let mut state = ContactsState::default();
        let mut all = rows();
        all[7].name = "Grace Hopper".into();
        all[7].company = Some("Harbor Deli & Sons".into());
        state.replace(all, true);
        for typed in ["harbor", "HARBOR DELI", "deli grace", "& sons"] {
            state.set_filter(typed);
            let ids = visible_ids(&state);
            assert_eq!(ids, ["C007"], "{typed:?}");
        }
    }

    #[test]
    fn a_live_change_of_state_or_id_is_seen_by_the_next_filter() {
        let mut state = ContactsState::default();
        state.replace(rows(), true);
        state.set_filter("fail");
        let before = state.visible.len();
        // C004 is synced: a live entry fails it while "fail" is on screen.
        assert!(state.update_row("C004", |row| row.state = RowState::Failed));
        state.set_filter("faile");
        assert_eq!(state.visible, reference(&state));
        assert_eq!(state.visible.len(), before + 1);
        // C005 has no GHL id yet; a live entry links it.
        assert!(state.update_row("C005", |row| row.ghl_id = Some("NEWGHL7".into())));
        state.set_filter("newghl");
        assert_eq!(state.visible, reference(&state));
        assert_eq!(
            state.selected_row().and_then(|r| r.peer_id.as_deref()),
            Some("C005")
        );
        assert!(!state.update_row("C999", |row| row.state = RowState::Failed));
    }

    #[test]
    fn the_cursor_follows_its_contact_through_filters_sorts_and_reloads() {
        let mut state = ContactsState::default();
        state.replace(rows(), true);
        assert!(state.select_peer("C013"));
        state.set_filter("zola");
        assert_eq!(
            state.selected_row().and_then(|r| r.peer_id.as_deref()),
            Some("C013")
        );
        state.cycle_sort();
        state.toggle_reverse();
        assert_eq!(
            state.selected_row().and_then(|r| r.peer_id.as_deref()),
            Some("C013")
        );
        // A filter that hides it: select_peer clears the filter.
        state.set_filter("carl");
        assert!(state.select_peer("C013"));
        assert_eq!(state.filter, "");
        let mut reloaded = rows();
        reloaded.reverse();
        state.replace(reloaded, true);
        assert_eq!(
            state.selected_row().and_then(|r| r.peer_id.as_deref()),
            Some("C013")
        );
        assert!(!state.select_peer("nobody"));
    }

    #[test]
    fn a_cursor_on_the_first_row_stays_on_the_first_row_as_the_list_fills() {
        let mut state = ContactsState::default();
        let all = rows();
        state.replace(all[all.len() - 1..].to_vec(), true);
        assert_eq!(state.selected, 0);
        state.replace(all.clone(), true);
        assert_eq!(state.selected, 0);
        assert_eq!(
            state.selected_row().and_then(|r| r.peer_id.as_deref()),
            all[state.visible[0]].peer_id.as_deref()
        );
    }
}
