//! Local checks of a `--body` JSON before it is sent. GHL answers 422 "property X should not
//! exist" to any field its DTO lacks; saying so here, naming every such field at once, saves a
//! request and a round of guessing.

use serde::de::DeserializeOwned;

use super::error::GhlError;
use super::models::unknown_properties;

/// Parse `json_text` as the write DTO `T` (named `dto_name` in messages), refusing fields the
/// DTO does not declare.
pub fn parse_body<T: DeserializeOwned>(json_text: &str, dto_name: &str) -> Result<T, GhlError> {
    let invalid = |unknown_fields: Vec<String>, detail: String| GhlError::InvalidBody {
        dto: dto_name.to_string(),
        unknown_fields,
        detail,
    };
    let value: serde_json::Value = serde_json::from_str(json_text).map_err(|err| {
        invalid(
            Vec::new(),
            format!(
                "not valid JSON at line {} column {}: {}",
                err.line(),
                err.column(),
                strip_position(&err)
            ),
        )
    })?;
    if !value.is_object() {
        return Err(invalid(
            Vec::new(),
            "the body must be a JSON object".to_string(),
        ));
    }
    let unknown = unknown_properties::<T>(&value);
    if !unknown.is_empty() {
        let listed = unknown
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let allowed = serde_aux::serde_introspection::serde_introspect::<T>().join(", ");
        let noun = if unknown.len() == 1 {
            "field"
        } else {
            "fields"
        };
        return Err(invalid(
            unknown,
            format!(
                "unknown {noun} {listed}: {dto_name} does not have them and GHL would answer 422; allowed: {allowed}"
            ),
        ));
    }
    // Re-read from the text so type errors carry both the JSON path and the position.
    let mut deserializer = serde_json::Deserializer::from_str(json_text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        invalid(
            Vec::new(),
            format!(
                "at `{path}` (line {} column {}): {}",
                inner.line(),
                inner.column(),
                strip_position(&inner)
            ),
        )
    })
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(index) => text[..index].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ghl::models::{CreateTaskParams, UpdateContactDto};
    use crate::net::ErrorClass;

    #[test]
    fn names_every_unknown_field_and_the_dto() {
        let err = parse_body::<UpdateContactDto>(
            r#"{"firstName": "Ada", "additionalEmails": [], "locationId": "x"}"#,
            "UpdateContactDto",
        )
        .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Validation);
        let text = err.to_string();
        assert!(text.contains("invalid body for UpdateContactDto"), "{text}");
        assert!(
            text.contains("unknown fields `additionalEmails`, `locationId`"),
            "{text}"
        );
        match err {
            GhlError::InvalidBody { unknown_fields, .. } => {
                assert_eq!(unknown_fields, vec!["additionalEmails", "locationId"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let err =
            parse_body::<UpdateContactDto>("{\n  \"firstName\": \"Ada\",\n}", "UpdateContactDto")
                .unwrap_err();
        assert!(
            err.to_string()
                .contains("not valid JSON at line 3 column 1"),
            "{err}"
        );
    }

    #[test]
    fn type_errors_name_the_path() {
        let err = parse_body::<UpdateContactDto>(
            r#"{"dndSettings": {"SMS": {"status": "maybe"}}}"#,
            "UpdateContactDto",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("at `dndSettings.SMS.status`"), "{text}");
        assert!(text.contains("unknown variant `maybe`"), "{text}");
    }

    #[test]
    fn accepts_a_valid_body() {
        let task: CreateTaskParams = parse_body(
            r#"{"title": "Call", "dueDate": "2025-01-01T00:00:00Z", "completed": false}"#,
            "CreateTaskParams",
        )
        .unwrap();
        assert_eq!(task.title, "Call");
        let missing =
            parse_body::<CreateTaskParams>(r#"{"title": "Call"}"#, "CreateTaskParams").unwrap_err();
        assert!(
            missing.to_string().contains("missing field `dueDate`"),
            "{missing}"
        );
    }
}
