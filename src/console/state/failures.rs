//! The failed queue, grouped by error class and, under each class, by reason code; a `/`
//! filter over ids, names, reasons and error text; marks for batch retries.

use crate::console::engine_api::ContactRef;
use crate::peers::EntityKind;
use crate::store::{Direction, Operation};
use crate::sync::{RetryMode, reason_code};
use serde_json::Value;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub struct FailuresState {
    /// Sorted by error class, reason code, then id: the order rows are shown in.
    pub operations: Vec<Operation>,
    /// The `/` filter as typed (case-insensitive; every word must match).
    pub filter: String,
    /// Indices into `operations` the filter lets through, in order.
    visible: Vec<usize>,
    /// Index into the visible rows.
    pub selected: usize,
    pub marked: BTreeSet<u64>,
    /// What a retry sends: the record mapped again (after a fix) or the original payload.
    pub retry_mode: RetryMode,
    pub loaded: bool,
    /// A reload is in flight (failed log entries ask for at most one at a time).
    pub refreshing: bool,
}

impl Default for FailuresState {
    fn default() -> Self {
        FailuresState {
            operations: Vec::new(),
            filter: String::new(),
            visible: Vec::new(),
            selected: 0,
            marked: BTreeSet::new(),
            retry_mode: RetryMode::CurrentMapping,
            loaded: false,
            refreshing: false,
        }
    }
}

/// The class a failure is grouped under ("unknown" when no error was recorded).
pub fn class_of(op: &Operation) -> &'static str {
    op.error.as_ref().map_or("unknown", |e| e.class.as_str())
}

/// Where the failed write was going, as the screens say it.
pub fn direction_label(direction: Direction) -> &'static str {
    match direction {
        Direction::ToGhl => "→ GHL",
        Direction::ToPeer => "→ peer",
    }
}

/// The record's name as its source side holds it (a peer record's fields, or a GHL record),
/// when it has one.
pub fn record_name(op: &Operation) -> Option<String> {
    let fields = op.source.get("fields").unwrap_or(&op.source);
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
    };
    let person = [text("firstName"), text("lastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !person.is_empty() {
        return Some(person);
    }
    [
        "ContactName",
        "Name",
        "name",
        "contactName",
        "companyName",
        "title",
        "Title",
        "Email",
        "email",
    ]
    .into_iter()
    .find_map(text)
    .map(str::to_string)
}

/// The contact a failure belongs to, as the engine can find it: a contact's own id on its
/// source side (a GHL id for a GHL → peer write, whether or not it is linked yet), or a task,
/// note or appointment's contact.
pub fn contact_of(op: &Operation) -> Option<ContactRef> {
    if op.kind == EntityKind::Contact {
        return Some(match op.direction {
            Direction::ToGhl => ContactRef::Peer(op.source_id.clone()),
            Direction::ToPeer => ContactRef::Ghl(op.source_id.clone()),
        });
    }
    let parent_in_source = op
        .source
        .get("parent_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(peer_id) = op.parent_id.clone().or(parent_in_source) {
        return Some(ContactRef::Peer(peer_id));
    }
    let parent = op.target_parent_id.clone()?;
    Some(match op.direction {
        Direction::ToGhl => ContactRef::Ghl(parent),
        Direction::ToPeer => ContactRef::Peer(parent),
    })
}

/// One line of the grouped list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row<'a> {
    /// An error class and how many visible failures it holds.
    Class(&'a str, usize),
    /// A reason code under its class (left out when it is just the class's name).
    Reason(&'a str, usize),
    /// A failure, by its position among the visible rows.
    Failure(usize),
}

impl FailuresState {
    pub fn replace(&mut self, mut operations: Vec<Operation>) {
        let keep = self.selected_op().map(|op| op.id);
        // Under a class, the failures with no reason of their own (their code is the class's
        // name) come first, straight under the class's header; then each reason's group.
        let key = |op: &Operation| {
            let (class, reason) = (class_of(op), reason_code(op).as_str());
            (class, reason != class, reason.to_string(), op.id)
        };
        operations.sort_by_cached_key(key);
        self.operations = operations;
        self.loaded = true;
        self.refreshing = false;
        let ids: BTreeSet<u64> = self.operations.iter().map(|op| op.id).collect();
        self.marked.retain(|id| ids.contains(id));
        self.refilter(keep);
    }

    /// Filters as typed: the cursor stays on its failure while that is still shown.
    pub fn set_filter(&mut self, filter: &str) {
        let keep = self.selected_op().map(|op| op.id);
        self.filter = filter.to_string();
        self.refilter(keep);
    }

    fn refilter(&mut self, keep: Option<u64>) {
        let needle = self.filter.to_lowercase();
        let words: Vec<&str> = needle.split_whitespace().collect();
        self.visible = self
            .operations
            .iter()
            .enumerate()
            .filter(|(_, op)| {
                if words.is_empty() {
                    return true;
                }
                let text = search_text(op);
                words.iter().all(|word| text.contains(word))
            })
            .map(|(index, _)| index)
            .collect();
        self.selected = keep
            .and_then(|id| self.visible_ops().position(|op| op.id == id))
            .unwrap_or(self.selected)
            .min(self.visible.len().saturating_sub(1));
    }

    /// The failures the filter lets through, in display order.
    pub fn visible_ops(&self) -> impl Iterator<Item = &Operation> + '_ {
        self.visible
            .iter()
            .filter_map(|&index| self.operations.get(index))
    }

    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    pub fn selected_op(&self) -> Option<&Operation> {
        self.visible
            .get(self.selected)
            .and_then(|&index| self.operations.get(index))
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.visible.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected_op().map(|op| op.id)
            && !self.marked.remove(&id)
        {
            self.marked.insert(id);
        }
    }

    /// The visible failures with a header line for each class and, under it, each reason.
    pub fn rows(&self) -> Vec<Row<'_>> {
        let ops: Vec<&Operation> = self.visible_ops().collect();
        let mut rows = Vec::with_capacity(ops.len() + 16);
        let mut position = 0;
        while position < ops.len() {
            let class = class_of(ops[position]);
            let in_class = ops[position..]
                .iter()
                .take_while(|op| class_of(op) == class)
                .count();
            rows.push(Row::Class(class, in_class));
            let end = position + in_class;
            while position < end {
                let reason = reason_code(ops[position]).as_str();
                let in_reason = ops[position..end]
                    .iter()
                    .take_while(|op| reason_code(op) == reason)
                    .count();
                if reason != class {
                    rows.push(Row::Reason(reason, in_reason));
                }
                rows.extend((position..position + in_reason).map(Row::Failure));
                position += in_reason;
            }
        }
        rows
    }

    /// How many failures in the whole queue (filtered or not) carry this reason code: what a
    /// retry of the reason sends again.
    pub fn reason_count(&self, code: &str) -> usize {
        self.operations
            .iter()
            .filter(|op| reason_code(op) == code)
            .count()
    }

    /// The ids an action on "the selection" means: the marked ones, else the one under the cursor.
    pub fn target_ids(&self) -> Vec<u64> {
        if self.marked.is_empty() {
            self.selected_op().map(|op| vec![op.id]).unwrap_or_default()
        } else {
            self.marked.iter().copied().collect()
        }
    }
}

/// What the filter searches, lowercased: the operation's id, the record's ids on both sides
/// and name, the class, the reason code and the error text.
fn search_text(op: &Operation) -> String {
    let error = op.error.as_ref();
    [
        op.id.to_string(),
        op.source_id.clone(),
        op.target_id.clone().unwrap_or_default(),
        record_name(op).unwrap_or_default(),
        class_of(op).to_string(),
        reason_code(op).to_string(),
        error.map(|e| e.message.clone()).unwrap_or_default(),
        op.kind.as_str().to_string(),
    ]
    .join("\n")
    .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::tests::fixtures::operations;

    #[test]
    fn grouped_by_class_then_reason_with_counts() {
        let mut state = FailuresState::default();
        state.replace(operations());
        let rows = state.rows();
        let headers: Vec<String> = rows
            .iter()
            .filter_map(|row| match row {
                Row::Class(class, n) => Some(format!("{class} {n}")),
                Row::Reason(code, n) => Some(format!("  {code} {n}")),
                Row::Failure(_) => None,
            })
            .collect();
        assert_eq!(
            headers,
            [
                "auth 1",
                "  auth_expired 1",
                "transient 1",
                "validation 5",
                "  ghl_rejected 1",
                "  no_match_key 2",
                "  parent_not_synced 1",
                "  peer_rejected 1"
            ]
        );
        let failures = rows
            .iter()
            .filter(|row| matches!(row, Row::Failure(_)))
            .count();
        assert_eq!(failures, state.visible_len());
    }

    #[test]
    fn the_filter_matches_ids_names_reasons_and_text_and_keeps_the_cursor() {
        let mut state = FailuresState::default();
        state.replace(operations());
        let ids = |state: &FailuresState| state.visible_ops().map(|op| op.id).collect::<Vec<_>>();
        assert_eq!(ids(&state), [3, 9, 12, 7, 8, 20, 14], "class, then reason");
        state.move_by(5);
        state.set_filter("NO_MATCH");
        assert_eq!(ids(&state), [7, 8], "by reason, in any case");
        assert_eq!(
            state.selected_op().map(|op| op.id),
            Some(8),
            "the cursor stays"
        );
        state.set_filter("c1021");
        assert_eq!(ids(&state), [3], "by the record's id");
        state.set_filter("bakery");
        assert_eq!(ids(&state), [14], "by the GHL record's name");
        state.set_filter("required name");
        assert_eq!(
            ids(&state),
            [3, 9, 12, 14],
            "every word, anywhere in the text"
        );
        state.set_filter("nothing-like-this");
        assert!(ids(&state).is_empty());
        assert_eq!(state.selected_op(), None);
        state.set_filter("");
        assert_eq!(state.visible_len(), state.operations.len());
    }

    #[test]
    fn the_contact_of_a_failure_in_either_direction() {
        let ops = operations();
        let by_id = |id: u64| ops.iter().find(|op| op.id == id).expect("fixture op");
        assert_eq!(
            contact_of(by_id(7)),
            Some(ContactRef::Peer("C1000".into())),
            "peer → GHL: the peer id"
        );
        assert_eq!(
            contact_of(by_id(14)),
            Some(ContactRef::Ghl("ghlnew0001".into())),
            "GHL → peer: the GHL id, linked or not"
        );
        assert_eq!(
            contact_of(by_id(20)),
            Some(ContactRef::Peer("C1007".into())),
            "a note: its contact"
        );
    }
}
