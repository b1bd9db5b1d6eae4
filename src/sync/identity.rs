//! How records are recognised without the store: a contact by its match keys, a child by what it
//! says and when. Both sides of every comparison are GHL-side fields (a peer record mapped to
//! GHL, or a GHL record as read), so the same function serves a planned create, a GHL listing and
//! a lookup after a crash.
//!
//! A child's identity is its contact (the caller compares within one contact), its kind, and:
//! - task: title and due instant;
//! - note: title and the first line of its body;
//! - appointment: calendar, start instant and title.
//!
//! No GHL field can carry the peer's id unseen by users (notes, tasks and appointments have no
//! hidden or custom fields in API v2), so identity is content: never the body of a note alone,
//! and a GHL child is adopted by at most one peer child (the caller checks its links), so two
//! children that look alike never collapse into one.

use crate::peers::EntityKind;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// A contact's match keys from GHL-side fields: `email:<lowercased>` and `phone:<digits>`, a
/// phone by its last ten digits, so one number written with its country code (`+1 415…`,
/// `+44 7…`) and without (`(415) …`, `07…`) is one key. Values that cannot identify anyone (no
/// `@`, fewer than seven digits) give no key.
pub fn contact_keys(fields: &Map<String, Value>) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(email) = fields.get("email").and_then(Value::as_str) {
        let email = email.trim().to_lowercase();
        if email.contains('@') {
            keys.push(format!("email:{email}"));
        }
    }
    if let Some(phone) = fields.get("phone").and_then(Value::as_str) {
        let national = national_digits(phone);
        if national.len() >= 7 {
            keys.push(format!("phone:{national}"));
        }
    }
    keys
}

/// A phone number as the digits that identify it: its last ten, so `+1 415 555 0100`,
/// `(415) 555-0100` and `415.555.0100` are one number. (The console's contact filter compares
/// typed numbers the same way.)
pub fn national_digits(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(10)..].to_string()
}

/// The match key `external:<value>` of GHL-side `fields` whose custom field `field_id` holds a
/// value: the peer's id, in the field the mapping's `external_id` names. Read entries carry
/// `value`, written ones `field_value`.
pub fn external_key(field_id: &str, fields: &Map<String, Value>) -> Option<String> {
    let entry = fields
        .get("customFields")?
        .as_array()?
        .iter()
        .find(|entry| entry.get("id").and_then(Value::as_str) == Some(field_id))?;
    let value = entry.get("value").or_else(|| entry.get("field_value"))?;
    let text = match value {
        Value::String(text) => text.trim().to_string(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then(|| format!("external:{text}"))
}

/// Whether two values of GHL contact field `field` say the same: equal, or, for `email` and
/// `phone`, one match key (an email differing only in case, a number in another format). A
/// merge or a change check that told them apart would write a reformat as a change.
pub fn same_contact_value(field: &str, a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    if !matches!(field, "email" | "phone") {
        return false;
    }
    let key = |value: &Value| {
        contact_keys(&Map::from_iter([(field.to_string(), value.clone())]))
            .into_iter()
            .next()
    };
    key(a).is_some_and(|key_a| Some(key_a) == key(b))
}

/// A child's identity within its contact, from GHL-side fields; `None` when the fields do not
/// say enough to recognise it again (no due date, no start, no body).
pub fn child_key(kind: EntityKind, fields: &Map<String, Value>) -> Option<String> {
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
            .to_string()
    };
    match kind {
        EntityKind::Task => {
            let due = instant_of(fields.get("dueDate"))?;
            Some(format!("task\u{1f}{}\u{1f}{due}", text("title")))
        }
        EntityKind::Note => {
            let body = text("body");
            let first = body.lines().map(str::trim).find(|line| !line.is_empty())?;
            Some(format!("note\u{1f}{}\u{1f}{first}", text("title")))
        }
        EntityKind::Appointment => {
            let start = instant_of(fields.get("startTime"))?;
            Some(format!(
                "appointment\u{1f}{}\u{1f}{start}\u{1f}{}",
                text("calendarId"),
                text("title")
            ))
        }
        EntityKind::Contact => None,
    }
}

/// A date GHL or a mapping wrote, as one canonical instant (milliseconds, UTC), so
/// `2024-11-25T20:00:00Z`, `…00.000Z` and `2024-11-25 20:00:00` compare equal.
fn instant_of(value: Option<&Value>) -> Option<String> {
    let at = instant(value?.as_str()?)?;
    Some(at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Parses the date forms GHL uses (ISO with zone, or "2021-07-16 11:00:00" in UTC).
pub fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|at| at.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|at| at.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn contact_keys_normalise_case_and_formatting_and_ignore_what_identifies_nobody() {
        let keys = contact_keys(&map(
            json!({"email": " Ann@Example.ORG ", "phone": "+1 (415) 555-0123"}),
        ));
        assert_eq!(keys, ["email:ann@example.org", "phone:4155550123"]);
        let without_code = contact_keys(&map(json!({"phone": "(415) 555-0123"})));
        assert_eq!(without_code, ["phone:4155550123"]);
        assert!(
            contact_keys(&map(json!({"email": "bob@", "phone": "12"})))[0].starts_with("email:")
        );
        assert!(contact_keys(&map(json!({"email": "nobody", "phone": "555"}))).is_empty());
    }

    #[test]
    fn a_child_is_recognised_by_content_and_time_in_any_date_form() {
        let planned = map(json!({"title": "Call back", "dueDate": "2024-11-25T20:00:00Z"}));
        let read = map(json!({"title": "Call back ", "dueDate": "2024-11-25 20:00:00", "id": "x"}));
        assert_eq!(
            child_key(EntityKind::Task, &planned),
            child_key(EntityKind::Task, &read)
        );
        let later = map(json!({"title": "Call back", "dueDate": "2024-11-26T20:00:00Z"}));
        assert_ne!(
            child_key(EntityKind::Task, &planned),
            child_key(EntityKind::Task, &later)
        );
    }

    #[test]
    fn a_note_is_never_recognised_by_its_body_alone() {
        let ours = map(json!({"title": "Ann Rep", "body": "Left voicemail.\nmore"}));
        let theirs = map(json!({"body": "Left voicemail."}));
        assert_ne!(
            child_key(EntityKind::Note, &ours),
            child_key(EntityKind::Note, &theirs)
        );
        let edited_below = map(json!({"title": "Ann Rep", "body": "Left voicemail.\nedited"}));
        assert_eq!(
            child_key(EntityKind::Note, &ours),
            child_key(EntityKind::Note, &edited_below)
        );
        assert_eq!(
            child_key(EntityKind::Note, &map(json!({"body": "  "}))),
            None
        );
    }
}
