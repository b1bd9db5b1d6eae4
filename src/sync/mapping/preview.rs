//! Preview: a mapping applied to one real record, one row per rule with the value before and
//! after, so a mapping change can be checked before it touches any data.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::EntityMapping;
use super::apply::{RuleOutcome, Target};
use super::rules::FieldRule;
use crate::peers::PeerRecord;

/// One rule on one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldPreview {
    /// Where the value comes from: peer field(s) for [`preview`], GHL field(s) for
    /// [`preview_to_peer`], or `= value` for a constant.
    pub source: String,
    /// Where it goes.
    pub target: String,
    /// The raw source value (a list when the rule reads several fields).
    pub before: Value,
    /// The mapped value; `None` when nothing is written (empty, or dropped for a problem). A rule
    /// with several targets shows a list in target order.
    pub after: Option<Value>,
    pub problem: Option<String>,
}

/// Peer → GHL preview of every rule that writes to GHL, plus the implicit external id.
pub fn preview(entity: &EntityMapping, record: &PeerRecord) -> Vec<FieldPreview> {
    let mut rows: Vec<FieldPreview> = entity
        .rules()
        .iter()
        .filter(|rule| rule.direction.to_ghl())
        .map(|rule| {
            row(
                rule,
                rule.peer_label(),
                rule.ghl_label(),
                entity.rule_to_ghl(rule, record),
            )
        })
        .collect();
    if let Some(field) = entity.external_id_field() {
        let named = rows.iter().any(|r| r.target == field.to_string());
        if !named {
            let id = Value::String(record.id.clone());
            rows.push(FieldPreview {
                source: "(record id)".into(),
                target: field.to_string(),
                after: (!record.id.trim().is_empty()).then(|| id.clone()),
                before: id,
                problem: None,
            });
        }
    }
    rows
}

/// GHL → peer preview of every rule that writes to the peer.
pub fn preview_to_peer(entity: &EntityMapping, ghl_record: &Value) -> Vec<FieldPreview> {
    entity
        .rules()
        .iter()
        .filter(|rule| rule.direction.to_peer())
        .map(|rule| {
            row(
                rule,
                rule.ghl_label(),
                rule.peer_label(),
                entity.rule_to_peer(rule, ghl_record),
            )
        })
        .collect()
}

fn row(rule: &FieldRule, source: String, target: String, outcome: RuleOutcome) -> FieldPreview {
    let targets = match &outcome.outputs.first() {
        Some((Target::Peer(_), _)) => rule.peer.len(),
        _ => rule.ghl.len().max(1),
    };
    let after = match outcome.outputs.len() {
        0 => None,
        _ if targets <= 1 => outcome.outputs.into_iter().next().map(|(_, value)| value),
        _ => Some(Value::Array(
            outcome
                .outputs
                .into_iter()
                .map(|(_, value)| value)
                .collect(),
        )),
    };
    let problem = (!outcome.problems.is_empty()).then(|| {
        let messages: Vec<&str> = outcome
            .problems
            .iter()
            .map(|p| p.message.as_str())
            .collect();
        messages.join("; ")
    });
    FieldPreview {
        source,
        target,
        before: outcome.before,
        after,
        problem,
    }
}

/// Widest a value is shown in the text table; longer values end in `…`.
const CELL: usize = 40;

/// The preview as a plain-text table for the terminal: source, target, before, after, problem.
pub fn render_preview(rows: &[FieldPreview]) -> String {
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.source.clone(),
                r.target.clone(),
                shown(Some(&r.before)),
                shown(r.after.as_ref()),
                r.problem.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["SOURCE", "TARGET", "BEFORE", "AFTER", "PROBLEM"].map(String::from);
    let mut widths = [0usize; 5];
    for line in std::iter::once(&header).chain(&cells) {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in std::iter::once(&header).chain(&cells) {
        let padded: Vec<String> = line
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn shown(value: Option<&Value>) -> String {
    let text = match value {
        None => "—".to_string(),
        Some(Value::Null) => "(empty)".to_string(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    };
    match text.char_indices().nth(CELL) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
