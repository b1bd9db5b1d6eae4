//! proptest strategies drawn from a schema: valid values (every required property, a random
//! subset of the optional ones, each of its declared type, enum or format) and the list of
//! invalid variations of a valid body (wrong types, bad enum values, bad dates, missing
//! required properties, unknown properties, non-object bodies).
//!
//! Some values must mean something to the server (the token's location, an existing calendar);
//! an override per JSON path gives those, or leaves a property out.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::spec::types;

pub type Gen = BoxedStrategy<Value>;

/// Per JSON path (`/dndSettings/Call/status`): `Some(strategy)` replaces the schema's values,
/// `None` leaves the property out.
pub type Overrides = BTreeMap<String, Option<Gen>>;

pub fn fixed(value: Value) -> Option<Gen> {
    Some(Just(value).boxed())
}

/// An ISO 8601 instant in 2020..2030 with a `Z` or an offset, as GHL's date fields take.
pub fn iso_instant() -> Gen {
    (1_577_836_800i64..1_893_456_000, prop::bool::ANY)
        .prop_map(|(secs, z)| {
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap();
            if z {
                json!(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            } else {
                json!(t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
            }
        })
        .boxed()
}

fn word() -> Gen {
    "[A-Za-z][A-Za-z0-9 ]{0,11}".prop_map(Value::String).boxed()
}

/// All of an `allOf`'s object branches as one object schema.
fn merged(schema: &Value) -> Value {
    let Some(parts) = schema["allOf"].as_array() else {
        return schema.clone();
    };
    let mut props = Map::new();
    let mut required = Vec::new();
    for part in parts.iter().map(merged) {
        props.extend(part["properties"].as_object().cloned().unwrap_or_default());
        required.extend(part["required"].as_array().cloned().unwrap_or_default());
    }
    json!({"type": "object", "properties": props, "required": required})
}

pub fn valid(schema: &Value, path: &str, ov: &Overrides) -> Gen {
    if let Some(o) = ov.get(path) {
        return o.clone().unwrap_or_else(|| Just(Value::Null).boxed());
    }
    let schema = merged(schema);
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema[key].as_array() {
            let gens: Vec<Gen> = branches.iter().map(|b| valid(b, path, ov)).collect();
            return proptest::strategy::Union::new(gens).boxed();
        }
    }
    let ts = types(&schema);
    let nullable = ts.contains(&"null");
    let inner = match schema["enum"].as_array() {
        Some(values) => {
            let values: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
            prop::sample::select(values).boxed()
        }
        None => match ts.iter().find(|t| **t != "null").copied().unwrap_or("") {
            "string" if schema["format"] == "date-time" => iso_instant(),
            "string" | "" if schema["properties"].is_null() => word(),
            "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
            "integer" | "number" => (0i64..1000).prop_map(Value::from).boxed(),
            "array" => {
                let item = valid(&schema["items"], &format!("{path}/*"), ov);
                prop::collection::vec(item, 0..3)
                    .prop_map(Value::Array)
                    .boxed()
            }
            _ => object(&schema, path, ov),
        },
    };
    if nullable {
        prop_oneof![4 => inner, 1 => Just(Value::Null)].boxed()
    } else {
        inner
    }
}

fn object(schema: &Value, path: &str, ov: &Overrides) -> Gen {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (name, sub) in schema["properties"].as_object().into_iter().flatten() {
        let sub_path = format!("{path}/{name}");
        if matches!(ov.get(&sub_path), Some(None)) {
            continue;
        }
        let name = name.clone();
        let g = valid(sub, &sub_path, ov);
        let forced = required.contains(&name.as_str()) || ov.contains_key(&sub_path);
        fields.push(if forced {
            g.prop_map(move |v| Some((name.clone(), v))).boxed()
        } else {
            prop::option::of(g.prop_map(move |v| (name.clone(), v))).boxed()
        });
    }
    // Overrides may name properties the spec leaves out (its search body declares none).
    let declared = schema["properties"].as_object();
    for (key, g) in ov {
        let Some(name) = key.strip_prefix(&format!("{path}/")) else {
            continue;
        };
        if name.contains('/') || declared.is_some_and(|d| d.contains_key(name)) {
            continue;
        }
        if let Some(g) = g.clone() {
            let name = name.to_string();
            fields.push(g.prop_map(move |v| Some((name.clone(), v))).boxed());
        }
    }
    fields
        .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
        .boxed()
}

/// One way to make a valid body invalid.
#[derive(Clone, Debug)]
pub struct Mutation {
    /// JSON path of the property changed; empty for the whole body.
    pub path: String,
    /// `None` removes the property.
    pub value: Option<Value>,
    pub why: String,
}

impl Mutation {
    pub fn apply(&self, body: &Value) -> Value {
        if self.path.is_empty() {
            return self.value.clone().unwrap_or(Value::Null);
        }
        let mut body = body.clone();
        let parts: Vec<&str> = self.path.trim_start_matches('/').split('/').collect();
        let mut at = &mut body;
        for part in &parts[..parts.len() - 1] {
            if !at[*part].is_object() {
                at[*part] = json!({});
            }
            at = &mut at[*part];
        }
        let last = parts[parts.len() - 1];
        match &self.value {
            Some(v) => at[last] = v.clone(),
            None => {
                at.as_object_mut().map(|m| m.remove(last));
            }
        }
        body
    }
}

fn wrong_values(schema: &Value) -> Vec<(Value, &'static str)> {
    let ts = types(schema);
    let mut out = Vec::new();
    for (value, t, why) in [
        (json!(5), "number", "a number"),
        (json!(true), "boolean", "a boolean"),
        (json!("text"), "string", "a string"),
        (json!({"a": 1}), "object", "an object"),
        (json!(["x"]), "array", "an array"),
    ] {
        let integer_ok = t == "number" && ts.contains(&"integer");
        if !ts.contains(&t) && !integer_ok {
            out.push((value, why));
        }
    }
    out
}

/// The invalid variations of bodies of `schema`: for every typed property (down through
/// nested objects, not arrays), each wrong type, a value outside its enum, a non-date where a
/// date-time is declared; each required property removed; the body as each non-object.
pub fn mutations(schema: &Value, skip: &dyn Fn(&str) -> bool) -> Vec<Mutation> {
    let mut out = Vec::new();
    for (value, why) in [
        (json!([null, null]), "an array body"),
        (json!(5), "a number body"),
        (Value::Null, "a null body"),
        (json!(true), "a boolean body"),
        (json!("text"), "a string body"),
    ] {
        out.push(Mutation {
            path: String::new(),
            value: Some(value),
            why: why.into(),
        });
    }
    properties(&merged(schema), "", skip, &mut out);
    out.push(Mutation {
        path: "/notAPropertyOfTheDto".into(),
        value: Some(json!(1)),
        why: "an unknown property".into(),
    });
    out
}

fn properties(schema: &Value, path: &str, skip: &dyn Fn(&str) -> bool, out: &mut Vec<Mutation>) {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, sub) in schema["properties"].as_object().into_iter().flatten() {
        let sub_path = format!("{path}/{name}");
        if skip(&sub_path) {
            continue;
        }
        let sub = merged(sub);
        if required.contains(&name.as_str()) {
            out.push(Mutation {
                path: sub_path.clone(),
                value: None,
                why: format!("required {sub_path} missing"),
            });
        }
        if sub.get("anyOf").is_some() || sub.get("oneOf").is_some() {
            continue;
        }
        for (value, why) in wrong_values(&sub) {
            if types(&sub).is_empty() {
                break;
            }
            out.push(Mutation {
                path: sub_path.clone(),
                value: Some(value),
                why: format!("{sub_path} given {why}"),
            });
        }
        if sub["enum"].is_array() {
            out.push(Mutation {
                path: sub_path.clone(),
                value: Some(json!("not-in-the-enum")),
                why: format!("{sub_path} outside its enum"),
            });
        }
        if sub["format"] == "date-time" {
            out.push(Mutation {
                path: sub_path.clone(),
                value: Some(json!("not a date")),
                why: format!("{sub_path} not a date-time"),
            });
        }
        if types(&sub).contains(&"object") {
            properties(&sub, &sub_path, skip, out);
        }
    }
}
