//! A location's custom fields (`apps/locations.json`): `GET /locations/:locationId/customFields`
//! (scope `locations/customFields.readonly`, `?model=contact|opportunity|all`) and
//! `POST /locations/:locationId/customFields` (scope `locations/customFields.write`, 201
//! `{customField}`). A created field gets `fieldKey` `<model>.<name in snake case>` as GHL
//! derives it, and contact writes then accept it by id or key like a seeded one.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use crate::ghl::models::{
    CUSTOM_FIELD_DATA_TYPES, CreateCustomFieldDto, CustomField, CustomFieldEnvelope,
    CustomFieldList,
};
use crate::sandbox::auth::{Caller, check_location};
use crate::sandbox::body::{JsonBody, Kind, Rule, opt, req, validate};
use crate::sandbox::errors::{ApiError, ApiResult, ok};
use crate::sandbox::ids;
use crate::sandbox::state::{AppState, lock};

const MODELS: &[&str] = &["contact", "opportunity"];
const LIST_MODELS: &[&str] = &["contact", "opportunity", "all"];

const RULES: &[Rule] = &[
    req("name", Kind::Str),
    req("dataType", Kind::OneOf(CUSTOM_FIELD_DATA_TYPES)),
    opt("placeholder", Kind::Str),
    opt("acceptedFormat", Kind::StrArray),
    opt("isMultipleFile", Kind::Bool),
    opt("maxNumberOfFiles", Kind::Num),
    opt("textBoxListOptions", Kind::Array),
    opt("position", Kind::Num),
    opt("model", Kind::OneOf(MODELS)),
];

pub async fn list(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(location): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    check_location(&caller, &location)?;
    let model = query.get("model").map(String::as_str).unwrap_or("all");
    if !LIST_MODELS.contains(&model) {
        return Err(ApiError::unprocessable(vec![format!(
            "model must be one of the following values: {}",
            LIST_MODELS.join(", ")
        )]));
    }
    let custom_fields = lock(&st.data)
        .custom_fields
        .iter()
        .filter(|field| field.location_id.as_deref() == Some(location.as_str()))
        .filter(|field| model == "all" || field.model.as_deref() == Some(model))
        .cloned()
        .collect();
    ok(StatusCode::OK, CustomFieldList { custom_fields })
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(location): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    check_location(&caller, &location)?;
    let dto: CreateCustomFieldDto = validate(&body, RULES)?;
    let name = dto.name.trim();
    let slug = field_key_of(name);
    if slug.is_empty() {
        return Err(ApiError::unprocessable(vec![
            "name must contain a letter or a digit".into(),
        ]));
    }
    let model = dto.model.clone().unwrap_or_else(|| "contact".into());
    let field_key = format!("{model}.{slug}");
    let mut store = lock(&st.data);
    let taken = store.custom_fields.iter().any(|field| {
        field.location_id.as_deref() == Some(location.as_str())
            && (field.field_key == field_key || field.name.eq_ignore_ascii_case(name))
    });
    if taken {
        return Err(ApiError::bad_request(format!(
            "Custom field with name {name:?} (key {field_key}) already exists"
        )));
    }
    let field = CustomField {
        id: ids::new_id(),
        name: name.to_string(),
        field_key,
        placeholder: dto.placeholder,
        data_type: dto.data_type,
        position: Some(dto.position.unwrap_or(0.0)),
        location_id: Some(location),
        model: Some(model),
        ..CustomField::default()
    };
    store.custom_fields.push(field.clone());
    ok(
        StatusCode::CREATED,
        CustomFieldEnvelope {
            custom_field: field,
        },
    )
}

/// GHL's key for a field name: lower case, every run of other characters one `_`
/// ("Repsly Code" → `repsly_code`).
fn field_key_of(name: &str) -> String {
    let mut key = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    key.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::field_key_of;

    #[test]
    fn keys_are_snake_case_of_the_name() {
        assert_eq!(field_key_of("Repsly Code"), "repsly_code");
        assert_eq!(field_key_of("repsly_code"), "repsly_code");
        assert_eq!(field_key_of("  Last-visit (date) "), "last_visit_date");
        assert_eq!(field_key_of("¿?"), "");
    }
}
