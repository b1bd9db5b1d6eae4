//! Location custom fields (`apps/locations.json`: `CustomFieldSchema`, `CreateCustomFieldsDTO`,
//! `CustomFieldsListSuccessfulResponseDto`, `CustomFieldSuccessfulResponseDto`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One custom field of a location. `fieldKey` is `contact.<key>`: a contact write may name the
/// field by that key (without `contact.`) or by `id`; contact reads carry only the id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomField {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub field_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    #[serde(default)]
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CustomField {
    /// The key a mapping names it by: `fieldKey` without the `contact.` prefix.
    pub fn key(&self) -> &str {
        self.field_key
            .strip_prefix("contact.")
            .unwrap_or(&self.field_key)
    }
}

/// `GET /locations/{locationId}/customFields`: `{customFields}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldList {
    #[serde(default)]
    pub custom_fields: Vec<CustomField>,
}

/// `POST /locations/{locationId}/customFields` (201): `{customField}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldEnvelope {
    pub custom_field: CustomField,
}

/// `CreateCustomFieldsDTO`: `name` and `dataType` are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCustomFieldDto {
    pub name: String,
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_format: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_multiple_file: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_number_of_files: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_box_list_options: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<f64>,
    /// `contact` or `opportunity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl CreateCustomFieldDto {
    /// A contact field of `data_type` named `name`, nothing else set.
    pub fn contact(name: impl Into<String>, data_type: impl Into<String>) -> CreateCustomFieldDto {
        CreateCustomFieldDto {
            name: name.into(),
            data_type: data_type.into(),
            placeholder: None,
            accepted_format: None,
            is_multiple_file: None,
            max_number_of_files: None,
            text_box_list_options: None,
            position: None,
            model: Some("contact".into()),
        }
    }
}

/// GHL's custom field data types (the UI's field kinds), as the create call takes them.
pub const CUSTOM_FIELD_DATA_TYPES: &[&str] = &[
    "TEXT",
    "LARGE_TEXT",
    "NUMERICAL",
    "PHONE",
    "MONETORY",
    "CHECKBOX",
    "SINGLE_OPTIONS",
    "MULTIPLE_OPTIONS",
    "FLOAT",
    "TIME",
    "DATE",
    "TEXTBOX_LIST",
    "FILE_UPLOAD",
    "SIGNATURE",
    "RADIO",
    "EMAIL",
];
