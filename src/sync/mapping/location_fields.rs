//! The GHL custom fields a mapping names, checked against the location's fields.
//!
//! GHL silently drops a contact write's value for a custom field the location does not have, so
//! a mapping naming `customField:key:repsly_code` on a location without that field loses the
//! value on every write and never matches by external id. Before a run (and in `mapping check`)
//! every field the mapping names is looked up in one `GET /locations/{id}/customFields`: a key
//! found is resolved to its id (contact reads carry only ids, and writes then name the id), a
//! field missing is an error naming it and its place in the file. `--create-fields` creates the
//! missing ones (`create_missing_fields`, also what the demo and the test rigs use).

use std::collections::HashMap;

use super::Mapping;
use super::rules::{CustomFieldRef, GhlField};
use super::transforms::{CastType, Transform};
use crate::ghl::models::{CreateCustomFieldDto, CustomField};
use crate::ghl::{GhlClient, GhlError};

/// A custom field the mapping names, with where it names it first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedField {
    pub field: CustomFieldRef,
    /// Line and column in the mapping's text.
    pub at: (usize, usize),
    /// GHL's data type for a field created for it: `TEXT` unless the rule's transforms end in a
    /// phone number (`PHONE`) or a number (`NUMERICAL`).
    pub data_type: &'static str,
}

/// A named field the location does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingField {
    pub field: CustomFieldRef,
    /// `origin:line:column` of the reference.
    pub place: String,
    /// Line and column of the reference.
    pub at: (usize, usize),
}

#[derive(Debug, thiserror::Error)]
pub enum FieldsError {
    #[error("{}", missing_message(.0))]
    Missing(Vec<MissingField>),
    /// `--create-fields` cannot make a field GHL names by an id it has not given out.
    #[error(
        "{place}: no custom field of the GHL location has id {id:?}, and a field cannot be created with a chosen id; name it by key (customField:key:<key>), or use the id of an existing field (GHL: Settings → Custom Fields)"
    )]
    UnknownId { id: String, place: String },
    /// GHL created a field, but under another key than the mapping names.
    #[error(
        "GHL created the custom field {name:?} under the key {created:?}, not {wanted:?}; put customField:key:{created} in the mapping"
    )]
    KeyMismatch {
        name: String,
        wanted: String,
        created: String,
    },
    #[error("{context}: {source}")]
    Ghl {
        context: &'static str,
        #[source]
        source: Box<GhlError>,
    },
}

impl FieldsError {
    /// The GHL error behind this one, if a request failed (its class decides the exit code).
    pub fn ghl(&self) -> Option<&GhlError> {
        match self {
            FieldsError::Ghl { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn missing_message(missing: &[MissingField]) -> String {
    let list: Vec<String> = missing
        .iter()
        .map(|m| format!("{} ({})", m.field, m.place))
        .collect();
    format!(
        "the GHL location has no custom field {}: GHL drops the values written to a field it does not have, so nothing runs until {}. Create {} with `ghlsync mapping check --create-fields`, or name existing fields in the mapping",
        list.join(", "),
        if missing.len() == 1 {
            "it exists"
        } else {
            "they exist"
        },
        if missing.len() == 1 { "it" } else { "them" }
    )
}

impl Mapping {
    /// Every custom field the mapping names (rules' `ghl` and `external_id`), once each, in the
    /// order of the file.
    pub fn named_custom_fields(&self) -> Vec<NamedField> {
        let mut out: Vec<NamedField> = Vec::new();
        for entity in self.entities() {
            if let (Some(field), Some(at)) = (entity.external_id_field(), entity.external_id_at) {
                out.push(NamedField {
                    field: field.clone(),
                    at,
                    data_type: "TEXT",
                });
            }
            for rule in entity.rules() {
                for ghl in &rule.ghl {
                    if let GhlField::Custom(field) = ghl {
                        out.push(NamedField {
                            field: field.clone(),
                            at: rule.ghl_at,
                            data_type: data_type(&rule.transforms),
                        });
                    }
                }
            }
        }
        out.sort_by_key(|named| named.at);
        let mut seen = Vec::new();
        out.retain(|named| {
            let new = !seen.contains(&named.field);
            seen.push(named.field.clone());
            new
        });
        out
    }

    /// Resolves every named field against the location's `fields`: keys learn their ids; a
    /// field the location lacks is an error naming each one.
    pub fn resolve_location_fields(&mut self, fields: &[CustomField]) -> Result<(), FieldsError> {
        let mut ids = HashMap::new();
        let mut missing = Vec::new();
        for named in self.named_custom_fields() {
            let found = match &named.field {
                CustomFieldRef::Key(key) => fields.iter().find(|f| f.key() == key),
                CustomFieldRef::Id(id) => fields.iter().find(|f| &f.id == id),
            };
            match (found, &named.field) {
                (Some(field), CustomFieldRef::Key(key)) => {
                    ids.insert(key.clone(), field.id.clone());
                }
                (Some(_), CustomFieldRef::Id(_)) => {}
                (None, _) => missing.push(MissingField {
                    place: self.place(named.at),
                    at: named.at,
                    field: named.field,
                }),
            }
        }
        self.resolve_custom_field_ids(&ids);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(FieldsError::Missing(missing))
        }
    }

    fn place(&self, (line, column): (usize, usize)) -> String {
        format!("{}:{line}:{column}", self.origin)
    }
}

fn data_type(chain: &[Transform]) -> &'static str {
    match chain.last() {
        Some(Transform::PhoneE164 { .. }) => "PHONE",
        Some(Transform::Cast(CastType::Number)) => "NUMERICAL",
        _ => "TEXT",
    }
}

async fn list(ghl: &GhlClient) -> Result<Vec<CustomField>, FieldsError> {
    ghl.list_custom_fields()
        .await
        .map(|list| list.custom_fields)
        .map_err(|err| FieldsError::Ghl {
            context: "listing the GHL location's custom fields",
            source: Box::new(err),
        })
}

/// One list call, then `Mapping::resolve_location_fields`. Returns the location's fields.
pub async fn resolve_against_location(
    mapping: &mut Mapping,
    ghl: &GhlClient,
) -> Result<Vec<CustomField>, FieldsError> {
    let fields = list(ghl).await?;
    mapping.resolve_location_fields(&fields)?;
    Ok(fields)
}

/// Creates each field the mapping names by key that the location lacks (name from the key,
/// `repsly_code` → "Repsly Code", GHL's key for it is then `contact.repsly_code`), and returns
/// the fields created, in the file's order. A field named by an id that does not exist cannot
/// be created: that is an error, before anything is created.
pub async fn create_missing_fields(
    mapping: &Mapping,
    ghl: &GhlClient,
) -> Result<Vec<CustomField>, FieldsError> {
    let existing = list(ghl).await?;
    let mut wanted = Vec::new();
    for named in mapping.named_custom_fields() {
        match &named.field {
            CustomFieldRef::Key(key) if !existing.iter().any(|f| f.key() == key) => {
                wanted.push((key.clone(), named.data_type));
            }
            CustomFieldRef::Id(id) if !existing.iter().any(|f| &f.id == id) => {
                return Err(FieldsError::UnknownId {
                    id: id.clone(),
                    place: mapping.place(named.at),
                });
            }
            _ => {}
        }
    }
    let mut created = Vec::new();
    for (key, data_type) in wanted {
        let name = display_name(&key);
        let dto = CreateCustomFieldDto::contact(name.clone(), data_type.to_string());
        let field = match ghl.create_custom_field(&dto).await {
            Ok(answer) => answer.custom_field,
            // An unknown outcome (a 422 or timeout on a create): GHL may hold the field now.
            Err(err) if err.class() == crate::net::ErrorClass::Ambiguous => list(ghl)
                .await?
                .into_iter()
                .find(|f| f.key() == key)
                .ok_or_else(|| FieldsError::Ghl {
                    context: "creating a custom field",
                    source: Box::new(err),
                })?,
            Err(err) => {
                return Err(FieldsError::Ghl {
                    context: "creating a custom field",
                    source: Box::new(err),
                });
            }
        };
        if field.key() != key {
            return Err(FieldsError::KeyMismatch {
                name,
                wanted: key,
                created: field.key().to_string(),
            });
        }
        created.push(field);
    }
    Ok(created)
}

/// `repsly_code` → "Repsly Code": GHL derives the key back from the name.
fn display_name(key: &str) -> String {
    key.split(['_', '-', ' '])
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn names_read_back_to_their_key() {
        assert_eq!(display_name("repsly_code"), "Repsly Code");
        assert_eq!(display_name("a__b-c"), "A B C");
    }
}
