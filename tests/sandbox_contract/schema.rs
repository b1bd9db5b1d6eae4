//! Answers judged by the `jsonschema` crate, its violations named the way waivers name them.
//!
//! Draft 4: OpenAPI 3.0's schema object is JSON Schema Wright-00, whose keywords (a boolean
//! `exclusiveMinimum`, no `const`) are Draft 4's; the peers' schemas use only keywords every
//! draft shares. `format` is checked (`date-time` is what the files use it for), and a schema the
//! Draft 4 meta-schema refuses fails the test rather than passing everything.
//!
//! Each violation names a path in which array indices are `*`, so a waiver can name a field of
//! every element (`/contacts/*/dateOfBirth`). A missing required property and each unexpected
//! one is named by its own path (`/contact/id`), not by the object's.

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::{Location, LocationSegment};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

pub fn validate(schema: &Value, value: &Value) -> Vec<Violation> {
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("not a valid Draft 4 schema ({e}): {}", short(schema)));
    validator.iter_errors(value).flat_map(violations).collect()
}

fn violations(error: ValidationError<'_>) -> Vec<Violation> {
    let path = star_path(error.instance_path());
    match error.kind() {
        ValidationErrorKind::Required { property } => vec![Violation {
            path: format!("{path}/{}", property.as_str().unwrap_or_default()),
            message: "required but missing".into(),
        }],
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| Violation {
                path: format!("{path}/{name}"),
                message: "property is not allowed".into(),
            })
            .collect(),
        // The crate's own wording, with the value cut short: an `anyOf` failure would otherwise
        // print a whole object.
        _ => vec![Violation {
            message: error.masked_with(short(error.instance())).to_string(),
            path,
        }],
    }
}

/// `/contacts/0/dateOfBirth` as `/contacts/*/dateOfBirth`.
fn star_path(location: &Location) -> String {
    location
        .iter()
        .map(|segment| match segment {
            LocationSegment::Property(name) => format!("/{name}"),
            LocationSegment::Index(_) => "/*".to_string(),
        })
        .collect()
}

pub fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// The paths waivers match on: indices as `*`, a missing or unexpected property by its own path.
#[test]
fn violations_are_named_by_waiver_paths() {
    let schema = serde_json::json!({"type": "object", "properties": {"events": {"type": "array",
        "items": {"type": "object", "required": ["id"], "additionalProperties": false,
            "properties": {"id": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}}}}});
    let answer = serde_json::json!({"events": [{"id": "a"}, {"at": "tomorrow", "extra": 1}]});
    let found: Vec<String> = validate(&schema, &answer)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            r#"/events/*/at: "tomorrow" is not a "date-time""#,
            "/events/*/extra: property is not allowed",
            "/events/*/id: required but missing",
        ],
        "{found:#?}"
    );
}
