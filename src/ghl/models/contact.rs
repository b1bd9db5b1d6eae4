//! Contacts: the read model (`GetContectByIdSchema`, spelling theirs), the write DTOs and the
//! response envelopes of every contact endpoint.

use crate::ghl::error::{DecodeError, GhlError, RequestContext};
use crate::net::{excerpt, scrub_token_like};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A contact as GHL returns it. Unknown fields are kept in `extra` so nothing is lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name_lower_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name_lower_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name_lower_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_lower_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnd: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnd_settings: Option<Value>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_added: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_id: Option<String>,
    /// Everything else GHL sent (attributionSource, additionalEmails, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A custom field value as GHL reads it back: `{id, value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldValue {
    pub id: String,
    #[serde(default)]
    pub value: Value,
}

/// A custom field value as GHL accepts it on writes: `{id | key, field_value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub field_value: Value,
}

/// One do-not-disturb channel setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DndChannel {
    pub status: DndStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DndStatus {
    Active,
    Inactive,
    Permanent,
}

/// `DndSettingsSchema`: per-channel DND on writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DndSettings {
    #[serde(rename = "Call", default, skip_serializing_if = "Option::is_none")]
    pub call: Option<DndChannel>,
    #[serde(rename = "Email", default, skip_serializing_if = "Option::is_none")]
    pub email: Option<DndChannel>,
    #[serde(rename = "SMS", default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<DndChannel>,
    #[serde(rename = "WhatsApp", default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<DndChannel>,
    #[serde(rename = "GMB", default, skip_serializing_if = "Option::is_none")]
    pub gmb: Option<DndChannel>,
    #[serde(rename = "FB", default, skip_serializing_if = "Option::is_none")]
    pub fb: Option<DndChannel>,
}

/// Fields common to create, update and upsert. Expanded by macro so that each DTO stays a plain
/// struct: `unknown_properties` needs the full field list, which `flatten` would hide.
macro_rules! contact_write_dto {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* #[serde(default, skip_serializing_if = "Option::is_none")] pub $field: $ty,)*
            #[serde(default, skip_serializing_if = "Option::is_none")] pub first_name: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub last_name: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub name: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub email: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub phone: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub address1: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub city: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub state: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub postal_code: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub website: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub timezone: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub dnd: Option<bool>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub dnd_settings: Option<DndSettings>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub inbound_dnd_settings: Option<Value>,
            /// Overwrites all tags on update and upsert; prefer the tag endpoints for edits.
            #[serde(default, skip_serializing_if = "Option::is_none")] pub tags: Option<Vec<String>>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub custom_fields: Option<Vec<CustomFieldInput>>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub source: Option<String>,
            /// A string in one of GHL's accepted date forms, or an object.
            #[serde(default, skip_serializing_if = "Option::is_none")] pub date_of_birth: Option<Value>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub country: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")] pub assigned_to: Option<String>,
        }
    };
}

contact_write_dto!(
    /// `CreateContactDto` (`POST /contacts/`).
    CreateContactDto {
        location_id: Option<String>,
        gender: Option<String>,
        company_name: Option<String>,
    }
);

contact_write_dto!(
    /// `UpdateContactDto` (`PUT /contacts/:id`): no `locationId`, no `companyName`.
    UpdateContactDto {}
);

contact_write_dto!(
    /// `UpsertContactDto` (`POST /contacts/upsert`).
    UpsertContactDto {
        location_id: Option<String>,
        gender: Option<String>,
        company_name: Option<String>,
        create_new_if_duplicate_allowed: Option<bool>,
    }
);

/// `{contact}`: get, create (201), update (with `succeded`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactEnvelope {
    pub contact: Contact,
    /// Present on update. GHL's spelling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeded: Option<bool>,
    #[serde(rename = "traceId", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// `GET /contacts/search/duplicate`: `{contact}` or `{contact: null}` when none matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateContactResponse {
    #[serde(default)]
    pub contact: Option<Contact>,
    #[serde(rename = "traceId", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// `POST /contacts/upsert` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpsertContactResponse {
    #[serde(rename = "new")]
    pub is_new: bool,
    pub contact: Contact,
    #[serde(rename = "traceId", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// Paging cursor of the deprecated `GET /contacts/` (read by every real client).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactsMeta {
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub next_page_url: Option<String>,
    #[serde(default)]
    pub start_after_id: Option<String>,
    #[serde(default)]
    pub start_after: Option<i64>,
    #[serde(default)]
    pub current_page: Option<u64>,
    #[serde(default)]
    pub next_page: Option<u64>,
    #[serde(default)]
    pub prev_page: Option<u64>,
}

/// `GET /contacts/` and `GET /contacts/business/:id`: `{contacts, count, meta?}`. Contacts are
/// read in full, or kept as sent (`ListedContact`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactList<C = Contact> {
    pub contacts: Vec<C>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<ContactsMeta>,
    #[serde(rename = "traceId", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// A listed contact kept as GHL sent it, read into a [`Contact`] only when asked for: a one-way
/// run compares only the contacts it has linked. The id and `dateAdded` are read at once (the
/// walk's cursor needs them).
#[derive(Debug, Clone)]
pub struct ListedContact {
    pub id: String,
    pub date_added: Option<String>,
    json: Box<RawValue>,
}

impl ListedContact {
    /// The contact in full. GHL's JSON is kept, so what does not fit is named with an excerpt,
    /// as a listing that failed to decode would have been.
    pub fn read(&self) -> Result<Contact, GhlError> {
        serde_json::from_str(self.json.get()).map_err(|err| {
            GhlError::Decode(Box::new(DecodeError {
                ctx: RequestContext {
                    method: "GET".into(),
                    path: "/contacts/".into(),
                },
                status: 200,
                content_type: "application/json".into(),
                excerpt: excerpt(self.json.get().as_bytes(), &[]),
                detail: format!(
                    "listed contact {}: {}",
                    self.id,
                    scrub_token_like(&err.to_string())
                ),
                trace_id: None,
            }))
        })
    }
}

impl ListedContact {
    /// A contact read on its own (`GET /contacts/:id`), kept the way a listing keeps one.
    pub fn from_contact(contact: &Contact) -> Result<ListedContact, serde_json::Error> {
        Ok(ListedContact {
            id: contact.id.clone(),
            date_added: contact.date_added.clone(),
            json: serde_json::value::to_raw_value(contact)?,
        })
    }

    /// Only what a contact is recognised by (`email`, `phone`, and `customFields`, where a
    /// mapping's external id lives), read without building the rest. A contact whose JSON does
    /// not hold them as text (a list) has none.
    pub fn match_fields(&self) -> Map<String, Value> {
        #[derive(Deserialize)]
        struct Keys {
            #[serde(default)]
            email: Option<Value>,
            #[serde(default)]
            phone: Option<Value>,
            #[serde(default, rename = "customFields")]
            custom_fields: Option<Value>,
        }
        let mut out = Map::new();
        if let Ok(keys) = serde_json::from_str::<Keys>(self.json.get()) {
            for (name, value) in [("email", keys.email), ("phone", keys.phone)] {
                if let Some(value @ Value::String(_)) = value {
                    out.insert(name.to_string(), value);
                }
            }
            // The external id a mapping matches by lives in a custom field.
            if let Some(custom @ Value::Array(_)) = keys.custom_fields {
                out.insert("customFields".to_string(), custom);
            }
        }
        out
    }
}

impl<'de> Deserialize<'de> for ListedContact {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// What the walk needs now; every other field is skipped, not built.
        #[derive(Deserialize)]
        struct Head {
            #[serde(default)]
            id: String,
            #[serde(default, rename = "dateAdded")]
            date_added: Option<String>,
        }
        let json = Box::<RawValue>::deserialize(deserializer)?;
        let head: Head = serde_json::from_str(json.get()).map_err(serde::de::Error::custom)?;
        Ok(ListedContact {
            id: head.id,
            date_added: head.date_added,
            json,
        })
    }
}

/// What walking a contact list reads of each contact, read in full or not.
pub trait Listed {
    fn id(&self) -> &str;
    fn date_added(&self) -> Option<&str>;
}

impl Listed for Contact {
    fn id(&self) -> &str {
        &self.id
    }
    fn date_added(&self) -> Option<&str> {
        self.date_added.as_deref()
    }
}

impl Listed for ListedContact {
    fn id(&self) -> &str {
        &self.id
    }
    fn date_added(&self) -> Option<&str> {
        self.date_added.as_deref()
    }
}

/// `POST /contacts/search`: `{contacts, total, traceId}`; each contact carries `searchAfter`
/// (kept in its `extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactSearchResponse {
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub total: u64,
    #[serde(rename = "traceId", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// The search body. The spec's `SearchBodyV2DTO` is empty; these are the documented fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactSearchBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_after: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// `{succeded}` from deletes. GHL's spelling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Succeded {
    pub succeded: bool,
    #[serde(rename = "traceId", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// `TagsDTO`: body of tag add/remove, and their answer `{tags}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsDto {
    pub tags: Vec<String>,
}

/// Answer of the tag endpoints: the contact's tags after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagsResponse {
    pub tags: Vec<String>,
    #[serde(rename = "traceId", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every field set (the literal names them all, so a new field must be added here): what is
    /// written is read back into the same fields, nothing spills into `extra`, and unknown keys
    /// keep their values and order.
    #[test]
    fn a_contact_reads_back_every_field_it_writes() {
        let text = |s: &str| Some(s.to_string());
        let contact = Contact {
            id: "c1".into(),
            location_id: text("loc"),
            name: text("Ada Lovelace"),
            first_name: text("Ada"),
            last_name: text("Lovelace"),
            first_name_lower_case: text("ada"),
            last_name_lower_case: text("lovelace"),
            full_name_lower_case: text("ada lovelace"),
            email: text("ada@example.com"),
            email_lower_case: text("ada@example.com"),
            phone: text("+14155550123"),
            company_name: text("Engines"),
            website: text("https://example.com"),
            timezone: text("Europe/London"),
            address1: text("1 Street"),
            city: text("London"),
            state: text("LDN"),
            country: text("GB"),
            postal_code: text("N1"),
            dnd: Some(true),
            dnd_settings: Some(json!({"SMS": {"status": "active"}})),
            contact_type: text("lead"),
            source: text("repsly"),
            assigned_to: text("u1"),
            tags: vec!["vip".into()],
            date_of_birth: Some(json!("1815-12-10")),
            date_added: text("2026-01-01T00:00:00.000Z"),
            date_updated: text("2026-01-02T00:00:00.000Z"),
            custom_fields: vec![CustomFieldValue {
                id: "f1".into(),
                value: json!("x"),
            }],
            business_id: text("b1"),
            extra: serde_json::from_value(json!({"zeta": 1, "additionalEmails": ["a@b.co"]}))
                .unwrap(),
        };
        let written = serde_json::to_string(&contact).unwrap();
        let read: Contact = serde_json::from_str(&written).unwrap();
        assert_eq!(read, contact);
        assert_eq!(
            read.extra.keys().collect::<Vec<_>>(),
            ["zeta", "additionalEmails"]
        );
        // Through `Value` too (keys arrive owned there).
        let read: Contact =
            serde_json::from_value(serde_json::to_value(&contact).unwrap()).unwrap();
        assert_eq!(read, contact);
    }

    #[test]
    fn nulls_escapes_and_wrong_types_read_as_the_derive_would() {
        let read: Contact =
            serde_json::from_str(r#"{"id":"c1","email":null,"first\u004eame":"Ada","x":null}"#)
                .unwrap();
        assert_eq!(read.email, None);
        assert_eq!(read.first_name.as_deref(), Some("Ada"));
        assert_eq!(read.extra.get("x"), Some(&Value::Null));
        for (body, expected) in [
            (r#"{"id":"c1","tags":"vip"}"#, "expected a sequence"),
            (r#"{"id":7}"#, "expected a string"),
            (r#"{"dnd":"yes"}"#, "expected a boolean"),
            (r#"["c1"]"#, "expected struct Contact"),
        ] {
            let err = serde_json::from_str::<Contact>(body)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    /// A listed contact is read only when asked: the walk's id and cursor come at once, a
    /// contact that does not fit fails its own read (naming it), and a good one reads as the
    /// whole list would have.
    #[test]
    fn a_listed_contact_is_read_when_asked() {
        let page = r#"{"contacts": [
            {"id": "c1", "dateAdded": "2026-01-01T00:00:00.000Z", "email": "a@b.co", "zz": 1},
            {"id": "c2", "dnd": "yes"}
        ], "count": 2}"#;
        let listed: ContactList<ListedContact> = serde_json::from_str(page).unwrap();
        assert_eq!(listed.contacts[0].id, "c1");
        assert_eq!(
            listed.contacts[0].date_added.as_deref(),
            Some("2026-01-01T00:00:00.000Z")
        );
        let eager: serde_json::Value = serde_json::from_str(page).unwrap();
        let first: Contact = serde_json::from_value(eager["contacts"][0].clone()).unwrap();
        assert_eq!(listed.contacts[0].read().unwrap(), first);
        let err = listed.contacts[1].read().unwrap_err().to_string();
        assert!(
            err.contains("listed contact c2") && err.contains("GET /contacts/"),
            "{err}"
        );
        // What the walk reads at once still has to fit.
        let bad_id = r#"{"contacts": [{"id": 7}]}"#;
        assert!(serde_json::from_str::<ContactList<ListedContact>>(bad_id).is_err());
    }
}
