//! GHL's OpenAPI files, loaded at test time: every `$ref` inlined (local and
//! `../common/common-schemas.json`) and OpenAPI 3.0's `nullable: true` turned into JSON Schema's
//! `"type": [T, "null"]`, so the validator (the `jsonschema` crate, `schema.rs`) and the
//! generators speak plain JSON Schema.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

/// `../shared/ghl-api`, where every test that reads GHL's files finds them.
pub fn ghl_api_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/ghl-api")
}

fn load(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// One operation of the spec, schemas resolved.
#[derive(Debug)]
pub struct Operation {
    pub file: &'static str,
    pub method: String,
    pub path: String,
    pub id: String,
    /// `(in, name) -> (required, schema)`.
    pub params: BTreeMap<(String, String), (bool, Value)>,
    pub body: Option<Value>,
    /// Status -> JSON body schema (`None`: the spec names the status without a body).
    pub responses: BTreeMap<u16, Option<Value>>,
}

pub struct Spec {
    pub ops: Vec<Operation>,
}

impl Spec {
    pub fn load() -> Spec {
        let dir = ghl_api_dir();
        let common = load(&dir.join("common/common-schemas.json"));
        let mut ops = Vec::new();
        for file in [
            "contacts.json",
            "calendars.json",
            "locations.json",
            "oauth.json",
        ] {
            let doc = load(&dir.join("apps").join(file));
            let resolver = Resolver {
                doc: &doc,
                common: &common,
            };
            for (path, item) in doc["paths"].as_object().expect("paths") {
                for (method, op) in item.as_object().expect("path item") {
                    if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                        continue;
                    }
                    ops.push(resolver.operation(file, method, path, op));
                }
            }
        }
        Spec { ops }
    }

    pub fn op(&self, method: &str, path: &str) -> &Operation {
        self.ops
            .iter()
            .find(|o| o.method.eq_ignore_ascii_case(method) && o.path == path)
            .unwrap_or_else(|| panic!("the spec has no {method} {path}"))
    }
}

struct Resolver<'a> {
    doc: &'a Value,
    common: &'a Value,
}

impl Resolver<'_> {
    fn operation(&self, file: &'static str, method: &str, path: &str, op: &Value) -> Operation {
        let mut params = BTreeMap::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            let p = self.resolve(p, 0);
            params.insert(
                (
                    p["in"].as_str().unwrap_or_default().to_string(),
                    p["name"].as_str().unwrap_or_default().to_string(),
                ),
                (p["required"] == Value::Bool(true), p["schema"].clone()),
            );
        }
        let body = op["requestBody"]["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .map(|c| self.resolve(&c["schema"], 0));
        let mut responses = BTreeMap::new();
        for (status, r) in op["responses"].as_object().into_iter().flatten() {
            let Ok(status) = status.parse::<u16>() else {
                continue;
            };
            let schema = r["content"]["application/json"]
                .get("schema")
                .map(|s| self.resolve(s, 0));
            responses.insert(status, schema);
        }
        Operation {
            file,
            method: method.to_uppercase(),
            path: path.to_string(),
            id: op["operationId"].as_str().unwrap_or_default().to_string(),
            params,
            body,
            responses,
        }
    }

    fn target(&self, reference: &str) -> Value {
        let (doc, pointer) = match reference.split_once('#') {
            Some(("", pointer)) => (self.doc, pointer),
            Some((file, pointer)) if file.ends_with("common-schemas.json") => {
                (self.common, pointer)
            }
            _ => panic!("unsupported $ref {reference}"),
        };
        doc.pointer(pointer)
            .cloned()
            .unwrap_or_else(|| panic!("dangling $ref {reference}"))
    }

    /// The schema with every `$ref` inlined and `nullable` translated. The specs have no
    /// recursive schemas; the depth guard turns one into a clear failure, not a stack overflow.
    fn resolve(&self, schema: &Value, depth: usize) -> Value {
        assert!(depth < 40, "$ref chain too deep (a recursive schema?)");
        match schema {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    // Siblings of $ref are ignored in OpenAPI 3.0.
                    let target = self.target(r);
                    return self.resolve(&target, depth + 1);
                }
                let mut out = Map::new();
                for (k, v) in map {
                    let v = match k.as_str() {
                        // Data, not schemas: leave as written.
                        "example" | "examples" | "default" | "enum" | "description" => v.clone(),
                        "properties" => Value::Object(
                            v.as_object()
                                .into_iter()
                                .flatten()
                                .map(|(name, s)| (name.clone(), self.resolve(s, depth + 1)))
                                .collect(),
                        ),
                        _ => self.resolve(v, depth + 1),
                    };
                    out.insert(k.clone(), v);
                }
                // GHL's one `oneOf` (SMS or email templates) has overlapping branches and no
                // discriminator, so a value matching both is no fault: judged as `anyOf`.
                if let Some(branches) = out.remove("oneOf") {
                    out.insert("anyOf".into(), branches);
                }
                if out.remove("nullable") == Some(Value::Bool(true)) {
                    if let Some(Value::String(t)) = out.get("type").cloned() {
                        out.insert("type".into(), Value::from(vec![t, "null".to_string()]));
                    }
                    if let Some(Value::Array(values)) = out.get_mut("enum") {
                        values.push(Value::Null);
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|s| self.resolve(s, depth + 1)).collect())
            }
            other => other.clone(),
        }
    }
}

/// The schema's types (`"type": "string"` or `["string", "null"]`); empty when untyped.
pub fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}
