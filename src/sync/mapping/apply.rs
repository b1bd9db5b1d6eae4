//! Applying a mapping to records, both ways. Each rule is evaluated on its own, so a bad value in
//! one field becomes a [`FieldProblem`] and the rest of the record still maps.

use serde_json::{Map, Value};

use super::EntityMapping;
use super::ghl_fields::{self, GhlType};
use super::rules::{FieldProblem, FieldRule, GhlField, MappedRecord};
use super::text;
use super::transforms::{self, CastType, Transform, is_empty, text_form};
use crate::peers::{EntityKind, PeerRecord};

/// What one rule did to one record: the raw input, the values per target, and any problems.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleOutcome {
    pub before: Value,
    pub outputs: Vec<(Target, Value)>,
    pub problems: Vec<FieldProblem>,
}

/// Where a rule's value goes.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Ghl(GhlField),
    Peer(String),
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::Ghl(field) => field.to_string(),
            Target::Peer(name) => name.clone(),
        }
    }
}

impl EntityMapping {
    /// Peer → GHL: the GHL-side fields with DTO names (`tags` a list, `customFields` a list of
    /// `{id|key, field_value}`), from every rule whose direction includes peer → GHL. Empty values
    /// are left out: a mapping never blanks a GHL field.
    pub fn to_ghl(&self, record: &PeerRecord) -> MappedRecord {
        let mut out = MappedRecord::default();
        let mut custom = Vec::new();
        for rule in self.rules.iter().filter(|rule| rule.direction.to_ghl()) {
            let outcome = self.rule_to_ghl(rule, record);
            out.problems.extend(outcome.problems);
            for (target, value) in outcome.outputs {
                match target {
                    Target::Ghl(GhlField::Standard(name)) => {
                        out.fields.insert(name, value);
                    }
                    Target::Ghl(GhlField::Custom(field)) => {
                        custom.push(field.input(value, self.resolved_id(&field)));
                    }
                    Target::Peer(_) => {}
                }
            }
        }
        if let Some(field) = &self.external_id {
            // The peer id always travels in its custom field: it is how the next run finds the
            // contact again (match key `external_id`), even if no rule names it.
            let named = self
                .rules
                .iter()
                .any(|r| r.direction.to_ghl() && r.ghl.contains(&GhlField::Custom(field.clone())));
            if !named && !record.id.trim().is_empty() {
                custom.push(field.input(Value::String(record.id.clone()), self.resolved_id(field)));
            }
        }
        if !custom.is_empty() {
            out.fields
                .insert("customFields".into(), Value::Array(custom));
        }
        for name in ghl_fields::required(self.kind) {
            let reported = out.problems.iter().any(|p| p.field == *name);
            if !out.fields.contains_key(*name) && !reported {
                out.problems.push(problem(
                    name,
                    format!("GHL requires `{name}` and the record has no value for it"),
                    true,
                ));
            }
        }
        out
    }

    /// What GHL record `ghl_record` holds in the custom fields this mapping writes, in the
    /// write form `to_ghl` gives them (`[{id, field_value}]`), so a payload's custom values can
    /// be compared with GHL's. Only fields whose id is known (resolved against the location)
    /// can be found in a read.
    pub fn ghl_custom_values(&self, ghl_record: &Value) -> Value {
        let written = self
            .rules
            .iter()
            .filter(|rule| rule.direction.to_ghl())
            .flat_map(|rule| rule.ghl.iter())
            .filter_map(|field| match field {
                GhlField::Custom(custom) => Some(custom),
                GhlField::Standard(_) => None,
            })
            .chain(self.external_id.as_ref());
        let mut held = Vec::new();
        for field in written {
            let value = self.read_ghl(&GhlField::Custom(field.clone()), ghl_record);
            if !is_empty(&value) {
                held.push(field.input(value, self.resolved_id(field)));
            }
        }
        held.dedup();
        Value::Array(held)
    }

    /// What a peer record `id` holding `fields` (a peer-bound payload, once written) maps back to
    /// on GHL's side: the baseline's peer side of a write to the peer, or what the peer holds if
    /// that write landed.
    pub fn echo(&self, id: &str, fields: Map<String, Value>) -> MappedRecord {
        self.to_ghl(&PeerRecord {
            kind: self.kind,
            id: id.to_string(),
            parent_id: None,
            updated_at: None,
            active: true,
            fields,
            raw: Value::Null,
        })
    }

    /// GHL → peer: from a GHL record as JSON (camelCase, `customFields: [{id, value}]`), the
    /// peer-side fields of every rule whose direction includes GHL → peer.
    pub fn to_peer(&self, ghl_record: &Value) -> MappedRecord {
        let mut out = MappedRecord::default();
        for rule in self.rules.iter().filter(|rule| rule.direction.to_peer()) {
            let outcome = self.rule_to_peer(rule, ghl_record);
            out.problems.extend(outcome.problems);
            for (target, value) in outcome.outputs {
                out.fields.insert(target.label(), value);
            }
        }
        out
    }

    pub(crate) fn rule_to_ghl(&self, rule: &FieldRule, record: &PeerRecord) -> RuleOutcome {
        let before = match &rule.constant {
            Some(_) => Value::Null,
            None => read(&rule.peer, |name| record.fields.get(name).cloned()),
        };
        let targets = rule.ghl.iter().cloned().map(Target::Ghl).collect();
        let mut outcome = self.run(rule, before, &rule.transforms, targets);
        let mut kept = Vec::new();
        for (target, value) in std::mem::take(&mut outcome.outputs) {
            match coerce(self.kind, &target, value) {
                Ok(value) => kept.push((target, value)),
                Err(message) => outcome
                    .problems
                    .push(problem(&target.label(), message, true)),
            }
        }
        outcome.outputs = kept;
        outcome
    }

    pub(crate) fn rule_to_peer(&self, rule: &FieldRule, ghl_record: &Value) -> RuleOutcome {
        let before = match &rule.constant {
            Some(_) => Value::Null,
            None => {
                let values: Vec<Value> = rule
                    .ghl
                    .iter()
                    .map(|field| self.read_ghl(field, ghl_record))
                    .collect();
                match <[Value; 1]>::try_from(values) {
                    Ok([single]) => single,
                    Err(values) => Value::Array(values),
                }
            }
        };
        let targets = rule.peer.iter().cloned().map(Target::Peer).collect();
        self.run(rule, before, rule.chain_to_peer(), targets)
    }

    /// What GHL holds now for a preview row's `target` (a rule's `ghl_label`, or the external
    /// id's field): custom fields read by their resolved ids, as the planner reads them. A rule
    /// writing several fields gives a list in their order; `None` for a target no rule writes.
    pub fn ghl_now(&self, target: &str, ghl_record: &Value) -> Option<Value> {
        if let Some(field) = self.external_id.as_ref()
            && field.to_string() == target
        {
            return Some(self.read_ghl(&GhlField::Custom(field.clone()), ghl_record));
        }
        let rule = self
            .rules
            .iter()
            .find(|rule| rule.direction.to_ghl() && rule.ghl_label() == target)?;
        let mut values: Vec<Value> = rule
            .ghl
            .iter()
            .map(|field| self.read_ghl(field, ghl_record))
            .collect();
        Some(if values.len() == 1 {
            values.remove(0)
        } else {
            Value::Array(values)
        })
    }

    fn read_ghl(&self, field: &GhlField, record: &Value) -> Value {
        match field {
            GhlField::Standard(name) => record.get(name).cloned().unwrap_or(Value::Null),
            GhlField::Custom(custom) => record
                .get("customFields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|entry| custom.matches(entry, self.resolved_id(custom)))
                .and_then(|entry| {
                    ["value", "field_value", "fieldValue"]
                        .iter()
                        .find_map(|k| entry.get(*k))
                })
                .cloned()
                .unwrap_or(Value::Null),
        }
    }

    /// Runs a chain and spreads the result over the targets.
    fn run(
        &self,
        rule: &FieldRule,
        before: Value,
        chain: &[Transform],
        targets: Vec<Target>,
    ) -> RuleOutcome {
        let mut outcome = RuleOutcome {
            before: before.clone(),
            ..RuleOutcome::default()
        };
        let label = targets
            .iter()
            .map(Target::label)
            .collect::<Vec<_>>()
            .join(" + ");
        let cx = self.context();
        let mut value = rule.constant.clone().unwrap_or(before);
        for step in chain {
            match step.apply(value, &cx) {
                Ok((next, note)) => {
                    value = next;
                    if let Some(note) = note {
                        outcome.problems.push(problem(&label, note, false));
                    }
                }
                Err(message) => {
                    outcome.problems.push(problem(&label, message, true));
                    return outcome;
                }
            }
        }
        let values = match (targets.len(), value) {
            (1, value) => vec![value],
            (_, value) if is_empty(&value) => vec![Value::Null; targets.len()],
            (n, Value::Array(items)) if items.len() == n => items,
            (n, other) => {
                let message = format!(
                    "the transforms gave {other}, but {n} fields need a list of {n} values"
                );
                outcome.problems.push(problem(&label, message, true));
                return outcome;
            }
        };
        for (target, value) in targets.into_iter().zip(values) {
            if !is_empty(&value) {
                outcome.outputs.push((target, value));
            } else if rule.required {
                outcome.problems.push(problem(
                    &target.label(),
                    "required, but the value is empty".into(),
                    true,
                ));
            }
        }
        outcome
    }
}

/// Several source fields are read as a list, in the order the rule names them.
fn read(names: &[String], get: impl Fn(&str) -> Option<Value>) -> Value {
    match names {
        [single] => get(single).unwrap_or(Value::Null),
        many => Value::Array(
            many.iter()
                .map(|name| get(name).unwrap_or(Value::Null))
                .collect(),
        ),
    }
}

/// Gives a value the JSON type its GHL field takes, so the DTO always deserialises.
fn coerce(kind: EntityKind, target: &Target, value: Value) -> Result<Value, String> {
    let Target::Ghl(GhlField::Standard(name)) = target else {
        return Ok(value);
    };
    let coerced = match ghl_fields::ghl_type(name) {
        GhlType::Any => value,
        GhlType::Bool => transforms::cast(value, CastType::Bool)?,
        GhlType::TextList => {
            let items = match value {
                Value::String(s) => s.split(',').map(str::to_string).collect::<Vec<_>>(),
                Value::Array(items) => items.iter().map(text_form).collect(),
                other => vec![text_form(&other)],
            };
            let mut tags: Vec<Value> = Vec::new();
            for tag in items.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
                if !tags.iter().any(|seen| seen.as_str() == Some(tag)) {
                    tags.push(tag.into());
                }
            }
            Value::Array(tags)
        }
        GhlType::Text => match value {
            Value::String(_) => value,
            Value::Number(_) | Value::Bool(_) => Value::String(text_form(&value)),
            other => {
                return Err(format!(
                    "GHL `{name}` takes text, but the transforms gave {other}; add {{ join = \", \" }}"
                ));
            }
        },
    };
    // GHL answers 422 to a malformed email and refuses the whole contact; dropping just the field
    // keeps the rest of the record flowing.
    if kind == EntityKind::Contact
        && name == "email"
        && let Some(email) = coerced.as_str().filter(|e| !text::is_valid_email(e))
    {
        return Err(format!(
            "{email:?} is not a valid email address; expected name@example.com"
        ));
    }
    Ok(coerced)
}

fn problem(field: &str, message: String, dropped: bool) -> FieldProblem {
    FieldProblem {
        field: field.to_string(),
        message,
        dropped,
    }
}
