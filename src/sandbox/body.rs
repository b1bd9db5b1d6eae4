//! Request bodies the way GHL's NestJS pipes judge them: invalid JSON is 400, unknown properties
//! and wrong types are 422 with class-validator's message strings, in one array.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::ghl::models::unknown_properties;

use super::errors::ApiError;
use super::store::{parse_iso, utc};

/// GHL's gateway limit is undocumented; 2 MB is far above any contact body.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A JSON body read with the sandbox's own limit and error bodies. An empty body reads as `{}`
/// so that required fields are reported as 422, as GHL does.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_limited(req).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Object(Map::new())));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request(format!(
                "Unexpected token in JSON at line {} column {}",
                e.line(),
                e.column()
            ))
        })
    }
}

pub async fn read_limited(req: Request) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|e| {
            if e.to_string().contains("length limit") {
                ApiError::payload_too_large()
            } else {
                ApiError::bad_request("Bad Request")
            }
        })
}

#[derive(Clone, Copy)]
pub enum Kind {
    Str,
    Bool,
    Num,
    StrArray,
    Array,
    Object,
    Iso,
    OneOf(&'static [&'static str]),
    Any,
}

pub struct Rule {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

pub const fn opt(name: &'static str, kind: Kind) -> Rule {
    Rule {
        name,
        kind,
        required: false,
    }
}

pub const fn req(name: &'static str, kind: Kind) -> Rule {
    Rule {
        name,
        kind,
        required: true,
    }
}

fn type_message(name: &str, kind: Kind) -> String {
    match kind {
        Kind::Str | Kind::Any => format!("{name} must be a string"),
        Kind::Bool => format!("{name} must be a boolean value"),
        Kind::Num => format!("{name} must be a number conforming to the specified constraints"),
        Kind::StrArray | Kind::Array => format!("{name} must be an array"),
        Kind::Object => format!("{name} must be an object"),
        Kind::Iso => format!("{name} must be a valid ISO 8601 date string"),
        Kind::OneOf(values) => {
            format!(
                "{name} must be one of the following values: {}",
                values.join(", ")
            )
        }
    }
}

fn check(name: &str, kind: Kind, value: &Value, out: &mut Vec<String>) {
    let ok = match kind {
        Kind::Any => true,
        Kind::Str => value.is_string(),
        Kind::Bool => value.is_boolean(),
        Kind::Num => value.is_number(),
        Kind::Array => value.is_array(),
        Kind::Object => value.is_object(),
        Kind::Iso => value
            .as_str()
            .is_some_and(|s| parse_iso(s, utc()).is_some()),
        Kind::OneOf(values) => value.as_str().is_some_and(|s| values.contains(&s)),
        Kind::StrArray => match value.as_array() {
            Some(items) if items.iter().all(Value::is_string) => true,
            Some(_) => {
                out.push(format!("each value in {name} must be a string"));
                return;
            }
            None => false,
        },
    };
    if !ok {
        out.push(type_message(name, kind));
    }
}

/// Judges `body` against the DTO `T` and its rules, then deserialises it. Rules for fields `T`
/// does not declare are skipped (one rule list serves create, update and upsert).
pub fn validate<T: DeserializeOwned>(body: &Value, rules: &[Rule]) -> Result<T, ApiError> {
    judge::<T>(body, rules, |_| Vec::new())?;
    deserialize(body)
}

/// [`validate`]'s checks without reading the body, with `nested` adding the messages of checks
/// the flat rules cannot express (nested objects, formats); all messages are answered together,
/// as class-validator does.
pub fn judge<T: DeserializeOwned>(
    body: &Value,
    rules: &[Rule],
    nested: impl Fn(&Map<String, Value>) -> Vec<String>,
) -> Result<(), ApiError> {
    let object = require_object(body)?;
    let known = serde_aux::serde_introspection::serde_introspect::<T>();
    let mut messages: Vec<String> = unknown_properties::<T>(body)
        .into_iter()
        .map(|p| format!("property {p} should not exist"))
        .collect();
    for rule in rules.iter().filter(|r| known.contains(&r.name)) {
        match object.get(rule.name) {
            None | Some(Value::Null) if rule.required => {
                messages.push(type_message(rule.name, rule.kind))
            }
            None | Some(Value::Null) => {}
            Some(value) => check(rule.name, rule.kind, value, &mut messages),
        }
    }
    messages.extend(nested(object));
    if messages.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable(messages))
    }
}

/// A DTO body must be a JSON object. GHL's body parser is strict: a top-level scalar or `null`
/// is a JSON syntax error (400) before any pipe runs; an array passes the parser and is
/// refused by class-validator (422), which knows no rules for it.
pub fn require_object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    match body {
        Value::Object(map) => Ok(map),
        Value::Array(_) => Err(ApiError::unprocessable(vec![
            "an unknown value was passed to the validate function".into(),
        ])),
        other => {
            let first = other.to_string().chars().next().unwrap_or('?');
            Err(ApiError::bad_request(format!(
                "Unexpected token {first} in JSON at position 0"
            )))
        }
    }
}

/// Reads an already judged body as `T`. The rules catch what GHL refuses before this runs, so a
/// failure here is a gap in them; it is still answered in class-validator's words, never
/// serde's, since a client may show GHL's messages to a person.
pub fn deserialize<T: DeserializeOwned>(body: &Value) -> Result<T, ApiError> {
    serde_json::from_value(body.clone()).map_err(|e| ApiError::unprocessable(vec![nest_words(&e)]))
}

/// serde's message for a body that does not fit a DTO, in the words a NestJS pipe would use.
fn nest_words(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let quoted = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(field) = quoted("missing field `") {
        format!("{field} should not be empty")
    } else if let Some(field) = quoted("unknown field `") {
        format!("property {field} should not exist")
    } else if let Some(value) = quoted("unknown variant `") {
        format!("{value} is not one of the allowed values")
    } else {
        "each property must be of the type the API declares for it".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ghl::models::{CreateTaskParams, UpdateContactDto};
    use serde_json::json;

    #[test]
    fn unknown_properties_are_422_in_ghl_words() {
        let body = json!({"firstName": "Ada", "additionalEmails": [], "zzz": 1});
        let err = validate::<UpdateContactDto>(&body, &[opt("firstName", Kind::Str)]).err();
        let err = err.map(|e| (e.status.as_u16(), e.message));
        assert_eq!(
            err,
            Some((
                422,
                json!([
                    "property additionalEmails should not exist",
                    "property zzz should not exist"
                ])
            ))
        );
    }

    #[test]
    fn missing_and_mistyped_fields_are_listed() {
        let rules = [
            req("title", Kind::Str),
            req("dueDate", Kind::Iso),
            req("completed", Kind::Bool),
        ];
        let err =
            validate::<CreateTaskParams>(&json!({"dueDate": "soon", "completed": true}), &rules)
                .err()
                .map(|e| e.message);
        assert_eq!(
            err,
            Some(json!([
                "title must be a string",
                "dueDate must be a valid ISO 8601 date string"
            ]))
        );
        let ok = validate::<CreateTaskParams>(
            &json!({"title": "t", "dueDate": "2021-07-08T02:30:00.000Z", "completed": false}),
            &rules,
        );
        assert!(ok.is_ok());
    }
}
