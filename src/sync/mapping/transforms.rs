//! What each transform does to a value. Values are JSON: a peer field may be text, a number, a
//! bool or a list, and a transform that works on text applies to each item of a list, so
//! `[{ split = "," }, "trim", "lowercase"]` cleans every tag.
//!
//! A transform either returns the new value (maybe with a note, e.g. a truncation) or a problem
//! message, in which case the field is dropped and the rest of the record still maps.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;

use super::text::{self, NamePart};
use super::{dates, phone};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    Trim,
    Lowercase,
    Uppercase,
    TitleCase,
    NamePart(NamePart),
    /// A list to text, empty items skipped.
    Join(String),
    /// Text to a list, blank items dropped.
    Split(String),
    /// `region` overrides the entity's `default_region`.
    PhoneE164 {
        region: Option<String>,
    },
    /// Any peer date form to ISO UTC. A list is read as `[date, time, minutes to add]`.
    Date {
        timezone: Option<String>,
        default_minutes: Option<i64>,
    },
    /// ISO to the peer's local `[date, time]`: the inverse of `date` over two peer fields.
    DateSplit {
        timezone: Option<String>,
    },
    Cast(CastType),
    /// Value map on the text form of the value; `default` for unmatched and empty values
    /// (without one, unmatched values pass unchanged).
    Map {
        map: BTreeMap<String, Value>,
        default: Option<Value>,
    },
    /// Used when the value is empty.
    Default(Value),
    /// Always this value.
    Constant(Value),
    /// Drops invalid addresses with a problem.
    Email,
    /// Truncates longer text, with a problem note (the value is kept).
    MaxLen(usize),
    /// A list (several source fields) to its first item that is not empty: `Phone`, else
    /// `Mobile`. Written `"first_non_empty"` or `"coalesce"`.
    FirstNonEmpty,
    /// The way back of `first_non_empty` over `n` peer fields: the value goes to the first
    /// field, the others are left as they are (`[value, null, …]`, and empty values are never
    /// written). Not written in files; `inverse_chain` makes it.
    IntoFirst(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CastType {
    String,
    Number,
    Bool,
}

/// The entity-wide settings transforms fall back on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub region: Option<&'a str>,
    pub tz: Tz,
}

/// A value that made it through, with a note when it was changed in a way worth reporting.
pub(crate) type Step = (Value, Option<String>);

impl Transform {
    pub(crate) fn apply(&self, value: Value, cx: &Context<'_>) -> Result<Step, String> {
        let plain = |v: Value| Ok((v, None));
        match self {
            Transform::Trim => plain(each(value, |s| Ok(s.trim().into()))?),
            Transform::Lowercase => plain(each(value, |s| Ok(s.to_lowercase().into()))?),
            Transform::Uppercase => plain(each(value, |s| Ok(s.to_uppercase().into()))?),
            Transform::TitleCase => plain(each(value, |s| Ok(text::title_case(s).into()))?),
            Transform::NamePart(part) => match join_text(&value, " ") {
                Some(full) => plain(text::name_part(&full, *part).into()),
                None => plain(value),
            },
            Transform::Join(sep) => match &value {
                Value::Array(_) => plain(join_text(&value, sep).map_or(Value::Null, Value::from)),
                _ => plain(value),
            },
            Transform::Split(sep) => plain(split(value, sep)),
            Transform::PhoneE164 { region } => {
                let region = region.as_deref().or(cx.region);
                plain(each(value, |s| {
                    if s.trim().is_empty() {
                        return Ok(Value::Null);
                    }
                    phone::to_e164(s, region).map(Value::from)
                })?)
            }
            Transform::Date {
                timezone,
                default_minutes,
            } => {
                let tz = zone(timezone.as_deref(), cx);
                let at = match &value {
                    _ if is_empty(&value) => return plain(Value::Null),
                    Value::Array(parts) => dates::parse_parts(parts, tz, *default_minutes)?,
                    single => dates::parse_value(single, tz)?,
                };
                plain(dates::to_iso(at).into())
            }
            Transform::DateSplit { timezone } => {
                if is_empty(&value) {
                    return plain(Value::Null);
                }
                let tz = zone(timezone.as_deref(), cx);
                plain(dates::split_local(dates::parse_value(&value, tz)?, tz))
            }
            Transform::Cast(to) => plain(each_value(value, &|v| cast(v, *to))?),
            Transform::Map { map, default } => plain(each_value(value, &|v| {
                if is_empty(&v) {
                    return Ok(default.clone().unwrap_or(Value::Null));
                }
                let key = text_form(&v);
                Ok(map.get(&key).or(default.as_ref()).cloned().unwrap_or(v))
            })?),
            Transform::Default(fallback) if is_empty(&value) => plain(fallback.clone()),
            Transform::Default(_) => plain(value),
            Transform::Constant(fixed) => plain(fixed.clone()),
            Transform::Email => plain(each(value, |s| {
                if s.is_empty() {
                    Ok(Value::Null)
                } else if text::is_valid_email(s) {
                    Ok(s.into())
                } else {
                    Err(format!(
                        "{s:?} is not a valid email address; expected name@example.com"
                    ))
                }
            })?),
            Transform::MaxLen(max) => {
                let mut note = None;
                let value = each(value, |s| match text::truncate_chars(s, *max) {
                    Some(cut) => {
                        note = Some(format!(
                            "truncated from {} to {max} characters",
                            s.chars().count()
                        ));
                        Ok(cut.into())
                    }
                    None => Ok(s.into()),
                })?;
                Ok((value, note))
            }
            Transform::FirstNonEmpty => match value {
                Value::Array(items) => plain(
                    items
                        .into_iter()
                        .find(|item| !is_empty(item))
                        .unwrap_or(Value::Null),
                ),
                single => plain(single),
            },
            Transform::IntoFirst(fields) => {
                let mut spread = vec![Value::Null; (*fields).max(1)];
                spread[0] = value;
                plain(Value::Array(spread))
            }
        }
    }
}

fn zone(name: Option<&str>, cx: &Context<'_>) -> Tz {
    // Names were checked when the mapping was compiled; the fallback only guards that invariant.
    name.and_then(|n| Tz::from_str(n).ok()).unwrap_or(cx.tz)
}

/// Applies `f` to text, and to each text item of a list; other values pass unchanged.
fn each(value: Value, mut f: impl FnMut(&str) -> Result<Value, String>) -> Result<Value, String> {
    match value {
        Value::String(s) => f(&s),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => f(&s),
                other => Ok(other),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other),
    }
}

/// Applies `f` to a scalar, or to each item of a list.
fn each_value(value: Value, f: &dyn Fn(Value) -> Result<Value, String>) -> Result<Value, String> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(f)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => f(other),
    }
}

fn split(value: Value, sep: &str) -> Value {
    let pieces = |s: &str| -> Vec<Value> {
        s.split(sep)
            .filter(|piece| !piece.trim().is_empty())
            .map(Value::from)
            .collect()
    };
    match value {
        Value::String(s) => Value::Array(pieces(&s)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .flat_map(|item| match item {
                    Value::String(s) => pieces(&s),
                    other => vec![other],
                })
                .collect(),
        ),
        other => other,
    }
}

/// The items of a list (or a single scalar) as one text, empties skipped; `None` for null.
pub(crate) fn join_text(value: &Value, sep: &str) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter(|item| !is_empty(item))
                .map(text_form)
                .collect();
            Some(parts.join(sep))
        }
        other => Some(text_form(other)),
    }
}

/// Text of a scalar as a value map sees it: `true`, `12`, `yes` (strings unquoted).
pub(crate) fn text_form(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Null, blank text, or a list of nothing but empties.
pub(crate) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.iter().all(is_empty),
        _ => false,
    }
}

pub(crate) fn cast(value: Value, to: CastType) -> Result<Value, String> {
    if value.is_null() {
        return Ok(value);
    }
    match to {
        CastType::String => match value {
            Value::String(_) => Ok(value),
            Value::Bool(_) | Value::Number(_) => Ok(Value::String(value.to_string())),
            other => Err(format!("cannot cast {other} to text")),
        },
        CastType::Number => match &value {
            Value::Number(_) => Ok(value),
            Value::Bool(b) => Ok(Value::from(u8::from(*b))),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            Value::String(s) => number(s.trim()).ok_or_else(|| {
                format!("cannot cast {s:?} to a number; expected digits such as 42 or 3.5")
            }),
            other => Err(format!("cannot cast {other} to a number")),
        },
        CastType::Bool => match &value {
            Value::Bool(_) => Ok(value),
            Value::Number(n) if n.as_f64() == Some(0.0) => Ok(Value::Bool(false)),
            Value::Number(n) if n.as_f64() == Some(1.0) => Ok(Value::Bool(true)),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "on" => Ok(Value::Bool(true)),
                "false" | "no" | "n" | "0" | "off" => Ok(Value::Bool(false)),
                _ => Err(format!(
                    "cannot cast {s:?} to true/false; expected true, false, yes, no, 1 or 0"
                )),
            },
            other => Err(format!("cannot cast {other} to true/false")),
        },
    }
}

/// Whole numbers stay integers, so `"42"` becomes `42`, not `42.0`.
fn number(text: &str) -> Option<Value> {
    if let Ok(int) = text.parse::<i64>() {
        return Some(Value::from(int));
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transform::Trim => f.write_str("trim"),
            Transform::Lowercase => f.write_str("lowercase"),
            Transform::Uppercase => f.write_str("uppercase"),
            Transform::TitleCase => f.write_str("title_case"),
            Transform::NamePart(NamePart::First) => f.write_str("name_part = first"),
            Transform::NamePart(NamePart::Last) => f.write_str("name_part = last"),
            Transform::Join(sep) => write!(f, "join = {sep:?}"),
            Transform::Split(sep) => write!(f, "split = {sep:?}"),
            Transform::PhoneE164 { region: Some(r) } => write!(f, "phone_e164 ({r})"),
            Transform::PhoneE164 { region: None } => f.write_str("phone_e164"),
            Transform::Date {
                timezone,
                default_minutes,
            } => {
                f.write_str("date")?;
                if let Some(tz) = timezone {
                    write!(f, " ({tz})")?;
                }
                match default_minutes {
                    Some(m) => write!(f, " default {m} min"),
                    None => Ok(()),
                }
            }
            Transform::DateSplit { timezone: Some(tz) } => write!(f, "date_split ({tz})"),
            Transform::DateSplit { timezone: None } => f.write_str("date_split"),
            Transform::Cast(CastType::String) => f.write_str("cast = string"),
            Transform::Cast(CastType::Number) => f.write_str("cast = number"),
            Transform::Cast(CastType::Bool) => f.write_str("cast = bool"),
            Transform::Map { map, default } => {
                let pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}→{v}")).collect();
                write!(f, "map {{{}}}", pairs.join(", "))?;
                match default {
                    Some(d) => write!(f, " default {d}"),
                    None => Ok(()),
                }
            }
            Transform::Default(v) => write!(f, "default = {v}"),
            Transform::Constant(v) => write!(f, "constant = {v}"),
            Transform::Email => f.write_str("email"),
            Transform::MaxLen(n) => write!(f, "max_len = {n}"),
            Transform::FirstNonEmpty => f.write_str("first_non_empty"),
            Transform::IntoFirst(_) => f.write_str("into the first field"),
        }
    }
}
