//! The parts of a contact write body that flat rules cannot judge, checked as contacts.json
//! describes them and answered in class-validator's words (nested messages carry their parent's
//! path, as NestJS's ValidationPipe prefixes them): `dateOfBirth`'s formats, `customFields`
//! entries, `dndSettings` and `inboundDndSettings`.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::ghl::models::CustomField;
use crate::sandbox::errors::ApiError;
use crate::sandbox::store::{parse_iso, utc};

/// The formats `dateOfBirth`'s description lists. A full ISO 8601 date-time is also taken:
/// it is how GHL answers the field, so a client writing back what it read must not be refused.
const BIRTH_FORMATS: &[&str] = &[
    "%Y/%m/%d", "%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%Y.%m.%d", "%m.%d.%Y", "%Y_%m_%d", "%m_%d_%Y",
];

const DND_CHANNELS: &[&str] = &["Call", "Email", "SMS", "WhatsApp", "GMB", "FB"];

/// Every message for `body`'s nested parts; empty when they are valid.
pub fn check(body: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(dob) = body.get("dateOfBirth") {
        birth_date(dob, &mut out);
    }
    if let Some(Value::Array(entries)) = body.get("customFields") {
        for (i, entry) in entries.iter().enumerate() {
            custom_field(i, entry, &mut out);
        }
    }
    if let Some(settings) = body.get("dndSettings").filter(|v| v.is_object()) {
        channels(
            "dndSettings",
            settings,
            DND_CHANNELS,
            DND_STATUSES,
            &mut out,
        );
    }
    if let Some(settings) = body.get("inboundDndSettings").filter(|v| v.is_object()) {
        channels(
            "inboundDndSettings",
            settings,
            &["all"],
            INBOUND_STATUSES,
            &mut out,
        );
    }
    out
}

/// `null` and `""` clear the date; anything else must be a date in a listed format.
fn birth_date(value: &Value, out: &mut Vec<String>) {
    let ok = match value {
        Value::Null => true,
        Value::String(s) if s.is_empty() => true,
        Value::String(s) => {
            BIRTH_FORMATS
                .iter()
                .any(|f| NaiveDate::parse_from_str(s, f).is_ok())
                || (s.contains('T') && parse_iso(s, utc()).is_some())
        }
        _ => false,
    };
    if !ok {
        out.push(format!(
            "dateOfBirth must be a valid date in one of the formats {}",
            "YYYY/MM/DD, MM/DD/YYYY, YYYY-MM-DD, MM-DD-YYYY, YYYY.MM.DD, MM.DD.YYYY, YYYY_MM_DD, MM_DD_YYYY"
        ));
    }
}

/// One `customFields` entry: `{id | key, field_value?}`. The spec's anyOf members require `id`
/// and leave `field_value` optional; `key` alone is GHL's documented alternative to `id`.
fn custom_field(i: usize, entry: &Value, out: &mut Vec<String>) {
    let path = format!("customFields.{i}");
    let Some(entry) = entry.as_object() else {
        out.push(format!(
            "nested property {path} must be either object or array"
        ));
        return;
    };
    for key in entry.keys() {
        if !["id", "key", "field_value"].contains(&key.as_str()) {
            out.push(format!("{path}.property {key} should not exist"));
        }
    }
    for name in ["id", "key"] {
        if entry.get(name).is_some_and(|v| !v.is_string()) {
            out.push(format!("{path}.{name} must be a string"));
        }
    }
    if !entry.contains_key("id") && !entry.contains_key("key") {
        out.push(format!("{path}.id must be a string"));
    }
    let value_ok = match entry.get("field_value") {
        None | Some(Value::Null | Value::String(_) | Value::Number(_) | Value::Object(_)) => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        Some(Value::Bool(_)) => false,
    };
    if !value_ok {
        out.push(format!(
            "{path}.field_value must be a string, a number, an array of strings or an object"
        ));
    }
}

const DND_STATUSES: &[&str] = &["active", "inactive", "permanent"];
const INBOUND_STATUSES: &[&str] = &["active", "inactive"];

/// `DndSettingsSchema` / `InboundDndSettingsSchema`: named channels, each `{status, message?}`
/// (`code?` too on outbound channels), `status` required.
fn channels(
    parent: &str,
    settings: &Value,
    names: &[&str],
    statuses: &[&str],
    out: &mut Vec<String>,
) {
    let Some(settings) = settings.as_object() else {
        return;
    };
    let allowed: &[&str] = if parent == "dndSettings" {
        &["status", "message", "code"]
    } else {
        &["status", "message"]
    };
    for (name, channel) in settings {
        if !names.contains(&name.as_str()) {
            out.push(format!("{parent}.property {name} should not exist"));
            continue;
        }
        let path = format!("{parent}.{name}");
        let Some(channel) = channel.as_object() else {
            out.push(format!(
                "{parent}.nested property {name} must be either object or array"
            ));
            continue;
        };
        for key in channel.keys() {
            if !allowed.contains(&key.as_str()) {
                out.push(format!("{path}.property {key} should not exist"));
            }
        }
        let status_ok = channel
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|s| statuses.contains(&s));
        if !status_ok {
            out.push(format!(
                "{path}.status must be one of the following values: {}",
                statuses.join(", ")
            ));
        }
        for key in ["message", "code"] {
            if channel.get(key).is_some_and(|v| !v.is_string()) {
                out.push(format!("{path}.{key} must be a string"));
            }
        }
    }
}

/// The body as [`crate::ghl::models::CustomFieldInput`] reads it: entries without
/// `field_value` name a field and set nothing, so they are left out.
pub fn without_valueless_fields(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(Value::Array(entries)) = body.get_mut("customFields") {
        entries.retain(|e| e.get("field_value").is_some());
    }
    body
}

/// The kind of `field_value` a field of `data_type` takes, per the spec's anyOf members
/// (`TextField` … `FileField`); `None` for types the spec gives no member (anything goes).
fn value_kind(data_type: &str) -> Option<&'static str> {
    match data_type {
        "TEXT" | "LARGE_TEXT" | "SINGLE_OPTIONS" | "RADIO" | "PHONE" | "EMAIL" | "DATE"
        | "TIME" => Some("a string"),
        "NUMERICAL" | "MONETORY" | "FLOAT" => Some("a number"),
        "CHECKBOX" | "MULTIPLE_OPTIONS" => Some("an array of strings"),
        "FILE_UPLOAD" | "SIGNATURE" => Some("an object"),
        _ => None,
    }
}

fn fits(kind: &str, value: &Value) -> bool {
    match (kind, value) {
        // Empty values clear a field of any type.
        (_, Value::Null) => true,
        (_, Value::String(s)) if s.is_empty() => true,
        ("a string", v) => v.is_string(),
        // GHL's forms post numbers as text; a numeric string is a number to it.
        ("a number", Value::String(s)) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
        ("a number", v) => v.is_number(),
        ("an array of strings", Value::Array(items)) => items.iter().all(Value::is_string),
        ("an object", v) => v.is_object(),
        _ => false,
    }
}

/// Each `customFields` entry's `field_value` against the type of the location field it names
/// (by id, or by key with or without the `contact.` prefix); entries naming no field are
/// ignored, as GHL ignores them.
pub fn field_types(body: &Value, fields: &[&CustomField]) -> Result<(), ApiError> {
    let entries = body
        .get("customFields")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(value) = entry.get("field_value") else {
            continue;
        };
        let id = entry.get("id").and_then(Value::as_str);
        let key = entry.get("key").and_then(Value::as_str);
        let field = fields.iter().find(|f| {
            id == Some(f.id.as_str())
                || key.is_some_and(|k| {
                    k == f.field_key || Some(k) == f.field_key.strip_prefix("contact.")
                })
        });
        let Some(field) = field else { continue };
        if let Some(kind) = value_kind(&field.data_type)
            && !fits(kind, value)
        {
            out.push(format!(
                "customFields.{i}.field_value must be {kind} ({} is a {} field)",
                field.field_key, field.data_type
            ));
        }
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable(out))
    }
}
