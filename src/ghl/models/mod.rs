//! GHL API v2 data shapes with GHL's exact JSON names (`apps/contacts.json`, `apps/calendars.json`,
//! `apps/oauth.json`, and the custom fields of `apps/locations.json`).
//!
//! Two rules shape every type here:
//! - Read models tolerate and keep unknown fields (`extra`), because real responses carry more than
//!   the spec (e.g. `additionalEmails`) and a round-trip must not lose them.
//! - Write DTOs carry only the spec's fields, because GHL answers 422 "property X should not exist"
//!   to anything else. [`unknown_properties`] finds such properties before a request is sent (the
//!   client) or to produce that 422 (the sandbox): one check, used by both sides.

mod appointment;
mod calendar;
mod contact;
mod custom_field;
mod error_body;
mod note;
mod oauth;
mod task;

pub use appointment::*;
pub use calendar::*;
pub use contact::*;
pub use custom_field::*;
pub use error_body::*;
pub use note::*;
pub use oauth::*;
pub use task::*;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// `Version` header value for the Contacts API (contacts, tasks, notes, tags, oauth).
pub const CONTACTS_API_VERSION: &str = "2021-07-28";
/// `Version` header value for the Calendars API (calendars and appointments).
pub const CALENDARS_API_VERSION: &str = "2021-04-15";

/// Top-level properties of `body` that the DTO `T` does not declare, in body order.
///
/// `T` must be a plain struct (no `flatten`), which every write DTO here is. A body that is not a
/// JSON object has no properties to judge; deserialising it will report the real problem.
pub fn unknown_properties<T: DeserializeOwned>(body: &Value) -> Vec<String> {
    let known = serde_aux::serde_introspection::serde_introspect::<T>();
    match body.as_object() {
        Some(map) => map
            .keys()
            .filter(|key| !known.contains(&key.as_str()))
            .cloned()
            .collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_properties_names_each_extra_field_in_order() {
        let body = json!({"firstName": "Ada", "additionalEmails": [], "zzz": 1, "email": "a@b.co"});
        assert_eq!(
            unknown_properties::<UpdateContactDto>(&body),
            vec!["additionalEmails".to_string(), "zzz".to_string()]
        );
    }

    #[test]
    fn unknown_properties_accepts_every_declared_field() {
        let body =
            json!({"locationId": "x", "createNewIfDuplicateAllowed": true, "companyName": "A"});
        assert!(unknown_properties::<UpsertContactDto>(&body).is_empty());
        // companyName is a create/upsert field, not an update field.
        assert_eq!(
            unknown_properties::<UpdateContactDto>(&body),
            vec!["locationId", "createNewIfDuplicateAllowed", "companyName"]
        );
    }
}
