//! Reading one transform as written in TOML (`"trim"`, `{ split = "," }`,
//! `{ map = { … }, default = "no" }`), and working out the inverse chain of a two-way rule.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono_tz::Tz;
use serde_json::Value;
use toml::Value as Toml;

use super::phone;
use super::text::NamePart;
use super::transforms::{CastType, Transform};

pub(crate) const TRANSFORM_NAMES: &str = "trim, lowercase, uppercase, title_case, name_part, join, \
     split, phone_e164, date, date_split, cast, map, default, constant, email, max_len, \
     first_non_empty (alias coalesce)";

/// Reads one transform; the error is the message for the transform's span.
pub(crate) fn parse_transform(value: &Toml) -> Result<Transform, String> {
    match value {
        Toml::String(name) => bare(name),
        Toml::Table(table) => {
            // `map` is the one transform with an option beside it: `{ map = {…}, default = … }`.
            if let Some(map) = table.get("map") {
                if let Some(extra) = table.keys().find(|k| *k != "map" && *k != "default") {
                    return Err(format!(
                        "unknown option `{extra}` for transform `map`; expected {{ map = {{ \"from\" = \"to\" }}, default = \"…\" }}"
                    ));
                }
                return value_map(map, table.get("default"));
            }
            let mut entries = table.iter();
            match (entries.next(), entries.next()) {
                (Some((name, arg)), None) => with_argument(name, arg),
                _ => Err(format!(
                    "a transform table has exactly one key, the transform's name, e.g. {{ split = \",\" }}; valid transforms: {TRANSFORM_NAMES}"
                )),
            }
        }
        other => Err(format!(
            "a transform is a name such as \"trim\" or a table such as {{ split = \",\" }}, not {}",
            other.type_str()
        )),
    }
}

fn bare(name: &str) -> Result<Transform, String> {
    Ok(match name {
        "trim" => Transform::Trim,
        "lowercase" => Transform::Lowercase,
        "uppercase" => Transform::Uppercase,
        "title_case" => Transform::TitleCase,
        "phone_e164" => Transform::PhoneE164 { region: None },
        "date" => Transform::Date {
            timezone: None,
            default_minutes: None,
        },
        "date_split" => Transform::DateSplit { timezone: None },
        "email" => Transform::Email,
        "split" => Transform::Split(",".into()),
        "join" => Transform::Join(" ".into()),
        "first_non_empty" | "coalesce" => Transform::FirstNonEmpty,
        "name_part" | "cast" | "map" | "default" | "constant" | "max_len" => {
            return Err(format!("transform `{name}` needs a value: {}", form(name)));
        }
        _ => {
            return Err(format!(
                "unknown transform `{name}`; valid transforms: {TRANSFORM_NAMES}"
            ));
        }
    })
}

fn with_argument(name: &str, arg: &Toml) -> Result<Transform, String> {
    let wrong = || format!("bad value for `{name}`; expected {}", form(name));
    Ok(match name {
        "trim" | "lowercase" | "uppercase" | "title_case" | "email" | "first_non_empty"
        | "coalesce" => {
            return Err(format!(
                "transform `{name}` takes no value; write it as \"{name}\""
            ));
        }
        "name_part" => match arg.as_str() {
            Some("first") => Transform::NamePart(NamePart::First),
            Some("last") => Transform::NamePart(NamePart::Last),
            _ => return Err(wrong()),
        },
        "join" => Transform::Join(arg.as_str().ok_or_else(wrong)?.to_string()),
        "split" => match arg.as_str() {
            Some(sep) if !sep.is_empty() => Transform::Split(sep.to_string()),
            _ => return Err(wrong()),
        },
        "phone_e164" => {
            let region = match arg {
                Toml::String(r) => r.clone(),
                Toml::Table(t) if t.len() == 1 => t
                    .get("region")
                    .and_then(Toml::as_str)
                    .ok_or_else(wrong)?
                    .to_string(),
                _ => return Err(wrong()),
            };
            check_region(&region)?;
            Transform::PhoneE164 {
                region: Some(region),
            }
        }
        "date" | "date_split" => {
            let (timezone, default_minutes) = date_options(name, arg)?;
            if name == "date" {
                Transform::Date {
                    timezone,
                    default_minutes,
                }
            } else if default_minutes.is_some() {
                return Err(wrong());
            } else {
                Transform::DateSplit { timezone }
            }
        }
        "cast" => Transform::Cast(match arg.as_str() {
            Some("string") => CastType::String,
            Some("number") => CastType::Number,
            Some("bool") => CastType::Bool,
            _ => return Err(wrong()),
        }),
        "map" => value_map(arg, None)?,
        "default" => Transform::Default(to_json(arg)),
        "constant" => Transform::Constant(to_json(arg)),
        "max_len" => match arg.as_integer() {
            Some(n) if n > 0 => Transform::MaxLen(usize::try_from(n).map_err(|_| wrong())?),
            _ => return Err(wrong()),
        },
        _ => {
            return Err(format!(
                "unknown transform `{name}`; valid transforms: {TRANSFORM_NAMES}"
            ));
        }
    })
}

/// The expected form of each transform that takes a value, for error messages.
fn form(name: &str) -> &'static str {
    match name {
        "name_part" => "{ name_part = \"first\" } or { name_part = \"last\" }",
        "join" => "{ join = \" \" }",
        "split" => "{ split = \",\" } (a non-empty separator)",
        "phone_e164" => "\"phone_e164\" or { phone_e164 = \"GB\" } (an ISO 3166 region)",
        "date" => "\"date\" or { date = { timezone = \"America/Chicago\", default_minutes = 30 } }",
        "date_split" => "\"date_split\" or { date_split = { timezone = \"America/Chicago\" } }",
        "cast" => "{ cast = \"string\" }, { cast = \"number\" } or { cast = \"bool\" }",
        "map" => "{ map = { \"true\" = \"yes\", \"false\" = \"no\" }, default = \"no\" }",
        "default" => "{ default = \"value used when empty\" }",
        "constant" => "{ constant = \"fixed value\" }",
        "max_len" => "{ max_len = 255 } (a positive whole number)",
        _ => "",
    }
}

fn date_options(name: &str, arg: &Toml) -> Result<(Option<String>, Option<i64>), String> {
    let wrong = || format!("bad value for `{name}`; expected {}", form(name));
    match arg {
        Toml::String(tz) => {
            check_timezone(tz)?;
            Ok((Some(tz.clone()), None))
        }
        Toml::Table(table) => {
            let mut timezone = None;
            let mut minutes = None;
            for (key, value) in table {
                match (key.as_str(), value) {
                    ("timezone", Toml::String(tz)) => {
                        check_timezone(tz)?;
                        timezone = Some(tz.clone());
                    }
                    ("default_minutes", Toml::Integer(m)) => minutes = Some(*m),
                    _ => return Err(wrong()),
                }
            }
            Ok((timezone, minutes))
        }
        _ => Err(wrong()),
    }
}

fn value_map(map: &Toml, default: Option<&Toml>) -> Result<Transform, String> {
    let table = map
        .as_table()
        .ok_or_else(|| format!("bad value for `map`; expected {}", form("map")))?;
    let map: BTreeMap<String, Value> = table.iter().map(|(k, v)| (k.clone(), to_json(v))).collect();
    Ok(Transform::Map {
        map,
        default: default.map(to_json),
    })
}

pub(crate) fn check_region(region: &str) -> Result<(), String> {
    if phone::is_known_region(region) {
        Ok(())
    } else {
        Err(format!(
            "unknown region {region:?}; expected an ISO 3166 two-letter code such as \"US\" or \"GB\""
        ))
    }
}

pub(crate) fn check_timezone(name: &str) -> Result<Tz, String> {
    Tz::from_str(name).map_err(|_| {
        format!("unknown time zone {name:?}; expected an IANA name such as \"America/New_York\" or \"UTC\"")
    })
}

/// TOML to JSON; dates become their text, which the `date` transform reads.
pub(crate) fn to_json(value: &Toml) -> Value {
    match value {
        Toml::String(s) => Value::String(s.clone()),
        Toml::Integer(i) => Value::from(*i),
        Toml::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Toml::Boolean(b) => Value::Bool(*b),
        Toml::Datetime(d) => Value::String(d.to_string()),
        Toml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Toml::Table(t) => Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

/// The GHL → peer chain of a two-way rule: each transform's inverse, in reverse order.
/// `peer_fields` is how many peer fields the rule has (a date over two fields comes back split).
/// The error names the transform that cannot be undone.
pub(crate) fn inverse_chain(
    chain: &[Transform],
    peer_fields: usize,
) -> Result<Vec<Transform>, String> {
    let mut inverse = Vec::new();
    for step in chain.iter().rev() {
        let back = match step {
            // Normalisers: applying them on the way back is what the peer wants too.
            Transform::Trim
            | Transform::Lowercase
            | Transform::Uppercase
            | Transform::TitleCase
            | Transform::PhoneE164 { .. }
            | Transform::Email
            | Transform::MaxLen(_) => Some(step.clone()),
            Transform::Default(_) => None,
            Transform::Join(sep) => Some(Transform::Split(sep.clone())),
            Transform::Split(sep) => Some(Transform::Join(sep.clone())),
            Transform::Date { timezone, .. } if peer_fields == 2 => Some(Transform::DateSplit {
                timezone: timezone.clone(),
            }),
            Transform::Date { timezone, .. } if peer_fields == 1 => Some(Transform::Date {
                timezone: timezone.clone(),
                default_minutes: None,
            }),
            Transform::DateSplit { timezone } => Some(Transform::Date {
                timezone: timezone.clone(),
                default_minutes: None,
            }),
            Transform::Map { map, .. } => Some(reverse_map(map)?),
            // One value back over several fields: the first field gets it (Phone, not Mobile).
            Transform::FirstNonEmpty => Some(Transform::IntoFirst(peer_fields)),
            Transform::IntoFirst(_) => Some(Transform::FirstNonEmpty),
            Transform::NamePart(_)
            | Transform::Cast(_)
            | Transform::Constant(_)
            | Transform::Date { .. } => {
                return Err(format!(
                    "transform `{step}` cannot be undone for GHL → peer"
                ));
            }
        };
        inverse.extend(back);
    }
    Ok(inverse)
}

fn reverse_map(map: &BTreeMap<String, Value>) -> Result<Transform, String> {
    let mut back = BTreeMap::new();
    for (from, to) in map {
        let key = super::transforms::text_form(to);
        if let Some(other) = back.insert(key.clone(), Value::String(from.clone())) {
            return Err(format!(
                "map sends both {other} and {from:?} to {key:?}, so it cannot be reversed"
            ));
        }
    }
    Ok(Transform::Map {
        map: back,
        default: None,
    })
}
