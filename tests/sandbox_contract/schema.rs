//! A JSON Schema validator for the keywords GHL's OpenAPI files and the peers' hand-written
//! schemas use (type, properties, required, additionalProperties, items, enum, allOf, anyOf,
//! oneOf, minimum, maximum, maxLength, maxItems, minItems, pattern, format date-time). A keyword it does not know
//! fails the test, so nothing passes by being ignored.
//!
//! Each violation names a path in which array indices are `*`, so a waiver can name a field of
//! every element (`/contacts/*/dateOfBirth`).

use serde_json::Value;

use super::spec::types;

#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            if self.path.is_empty() {
                "/"
            } else {
                &self.path
            },
            self.message
        )
    }
}

const ANNOTATIONS: &[&str] = &[
    "description",
    "example",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "title",
    "$comment",
];

pub fn validate(schema: &Value, value: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    check(schema, value, "", &mut out);
    out
}

fn fail(out: &mut Vec<Violation>, path: &str, message: String) {
    out.push(Violation {
        path: path.to_string(),
        message,
    });
}

fn type_matches(t: &str, value: &Value) -> bool {
    match t {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        other => panic!("unknown type {other:?} in a schema"),
    }
}

fn check(schema: &Value, value: &Value, path: &str, out: &mut Vec<Violation>) {
    let Some(map) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            fail(out, path, "no value is allowed here".into());
        }
        return;
    };
    for key in map.keys() {
        let known = ANNOTATIONS.contains(&key.as_str())
            || [
                "type",
                "properties",
                "required",
                "additionalProperties",
                "items",
                "enum",
                "allOf",
                "anyOf",
                "oneOf",
                "minimum",
                "maximum",
                "maxLength",
                "maxItems",
                "minItems",
                "format",
                "pattern",
            ]
            .contains(&key.as_str());
        // GHL's files carry a few vendor keys beside the schema ones (`timeOffset`, `unit`…
        // inside examples); those are under `example`, so any other key is a gap here.
        assert!(
            known,
            "schema keyword {key:?} at {path} is not handled by the validator"
        );
    }
    let ts = types(schema);
    if !ts.is_empty() && !ts.iter().any(|t| type_matches(t, value)) {
        fail(
            out,
            path,
            format!("{} is not of type {}", short(value), ts.join(" or ")),
        );
        return;
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        fail(
            out,
            path,
            format!(
                "{} is not one of {}",
                short(value),
                Value::from(values.clone())
            ),
        );
    }
    if let Some(Value::String(format)) = map.get("format")
        && format == "date-time"
        && let Some(s) = value.as_str()
        && chrono::DateTime::parse_from_rfc3339(s).is_err()
    {
        fail(out, path, format!("{s:?} is not a date-time"));
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = map.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            fail(out, path, format!("{n} is less than {min}"));
        }
        if let Some(max) = map.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            fail(out, path, format!("{n} is greater than {max}"));
        }
    }
    if let (Some(s), Some(Value::String(pattern))) = (value.as_str(), map.get("pattern")) {
        let re = regex::Regex::new(pattern)
            .unwrap_or_else(|e| panic!("pattern {pattern:?} at {path}: {e}"));
        if !re.is_match(s) {
            fail(out, path, format!("{s:?} does not match {pattern:?}"));
        }
    }
    if let (Some(s), Some(max)) = (value.as_str(), map.get("maxLength").and_then(Value::as_u64))
        && s.chars().count() as u64 > max
    {
        fail(out, path, format!("longer than {max} characters"));
    }
    for sub in map
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(sub, value, path, out);
    }
    // oneOf is judged as anyOf: GHL's `oneOf`s have overlapping branches and no discriminator.
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = map.get(key).and_then(Value::as_array)
            && !branches.iter().any(|b| validate(b, value).is_empty())
        {
            fail(
                out,
                path,
                format!("{} matches none of the {key} branches", short(value)),
            );
        }
    }
    if let Some(object) = value.as_object() {
        let props = map.get("properties").and_then(Value::as_object);
        for name in map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                fail(
                    out,
                    &format!("{path}/{name}"),
                    "required but missing".into(),
                );
            }
        }
        for (name, v) in object {
            let sub = format!("{path}/{name}");
            match props.and_then(|p| p.get(name)) {
                Some(s) => check(s, v, &sub, out),
                None => match map.get("additionalProperties") {
                    Some(Value::Bool(false)) => fail(out, &sub, "property is not allowed".into()),
                    Some(s @ Value::Object(_)) => check(s, v, &sub, out),
                    _ => {}
                },
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(max) = map.get("maxItems").and_then(Value::as_u64)
            && items.len() as u64 > max
        {
            fail(out, path, format!("more than {max} items"));
        }
        if let Some(min) = map.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            fail(out, path, format!("fewer than {min} items"));
        }
        if let Some(item) = map.get("items") {
            for v in items {
                check(item, v, &format!("{path}/*"), out);
            }
        }
    }
}

pub fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}
