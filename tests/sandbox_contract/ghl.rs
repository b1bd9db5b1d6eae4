//! GHL's operations: valid requests drawn from the spec answer a 2xx the spec lists with a body
//! its schema accepts; invalid ones get 400/422 with a NestJS-style body.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{Map, Value, json};

use super::generate::{self, Gen, Mutation, Overrides};
use super::ghl_ops::{Ctx, Op, fill, ops};
use super::schema::{short, validate};
use super::spec::{Operation, Spec, types};
use super::waivers::{Check, Waivers};
use super::{CASES, messages, report, runner, serde_words};

/// The spec's query parameters as one object schema, so they are drawn like a body.
fn query_schema(op: &Operation) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for ((place, name), (req, schema)) in &op.params {
        if place == "query" {
            props.insert(name.clone(), schema.clone());
            if *req {
                required.push(json!(name));
            }
        }
    }
    json!({"type": "object", "properties": props, "required": required})
}

pub fn version(op: &Operation) -> Option<String> {
    op.params
        .get(&("header".to_string(), "Version".to_string()))
        .and_then(|(_, s)| s["enum"][0].as_str())
        .map(str::to_string)
}

fn query_string(query: &Value) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query.as_object().into_iter().flatten() {
        out.append_pair(k, &v.as_str().map_or_else(|| v.to_string(), str::to_string));
    }
    let out = out.finish();
    if out.is_empty() {
        out
    } else {
        format!("?{out}")
    }
}

/// Puts the per-case ids in the placeholders the overrides left (`""`).
fn fill_body(body: &mut Value, ids: &BTreeMap<&'static str, String>) {
    for (key, id) in [("contactId", "contactId"), ("refresh_token", "refresh")] {
        if body.get(key) == Some(&json!("")) {
            body[key] = json!(ids.get(id).cloned().unwrap_or_default());
        }
    }
}

fn form_body(body: &Value) -> String {
    query_string(body).trim_start_matches('?').to_string()
}

static CASES_RUN: AtomicUsize = AtomicUsize::new(0);
static INVALID_RUN: AtomicUsize = AtomicUsize::new(0);

struct Case<'a> {
    cx: &'a Ctx,
    op: &'a Op,
    spec: &'a Operation,
    waivers: &'a Waivers,
}

impl Case<'_> {
    /// The operation as problems name it: the waiver key, then where the spec defines it.
    fn label(&self) -> String {
        format!("{} [{} {}]", self.op.name(), self.spec.file, self.spec.id)
    }

    fn form(&self) -> bool {
        self.spec.path.starts_with("/oauth/") && self.spec.method == "POST"
    }

    async fn send(&self, query: &Value, body: Option<&Value>) -> (u16, Value, String) {
        let ids = self.cx.setup(self.op.setup).await;
        let path = format!(
            "{}{}",
            fill(self.spec.path.as_str(), &ids),
            query_string(query)
        );
        let body = body.map(|b| {
            let mut b = b.clone();
            fill_body(&mut b, &ids);
            let text = if self.form() {
                form_body(&b)
            } else {
                b.to_string()
            };
            (self.form(), text)
        });
        let shown = format!("{path} {}", body.as_ref().map_or("", |b| b.1.as_str()));
        let (status, answer) = self
            .cx
            .send(
                &self.spec.method,
                &path,
                version(self.spec).as_deref(),
                self.op.auth,
                body,
            )
            .await;
        (status, answer, shown)
    }

    /// A valid request's answer, judged; `Err` says what is wrong.
    async fn valid(&self, query: Value, body: Option<Value>) -> Result<(), String> {
        let (status, answer, shown) = self.send(&query, body.as_ref()).await;
        if std::env::var("CONTRACT_DEBUG").is_ok_and(|d| d == self.op.name()) {
            eprintln!(
                "{shown}\n  {status} {}",
                answer.to_string().chars().take(300).collect::<String>()
            );
        }
        let listed = self
            .spec
            .responses
            .keys()
            .copied()
            .filter(|s| (200..300).contains(s))
            .collect::<Vec<_>>();
        if !listed.contains(&status) {
            return Err(format!(
                "{shown}\n  answered {status} (spec: {listed:?}): {}",
                short(&answer)
            ));
        }
        let Some(Some(schema)) = self.spec.responses.get(&status) else {
            return Ok(());
        };
        let name = self.op.name();
        // One line per path: a list repeats the same fault in every element.
        let mut problems: Vec<String> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for v in validate(schema, &answer) {
            if seen.insert(v.path.clone()) && !self.waivers.covers(&name, Check::Answer, &v.path) {
                problems.push(v.to_string());
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{shown}\n  answer {status} breaks the spec: {}",
                problems.join("; ")
            ))
        }
    }

    async fn invalid(&self, m: &Mutation, query: &Value, body: Option<&Value>) -> Option<String> {
        let (query, body) = match m.path.strip_prefix('?') {
            Some(path) => (
                Mutation {
                    path: path.into(),
                    ..m.clone()
                }
                .apply(query),
                body.cloned(),
            ),
            None => (query.clone(), Some(m.apply(body.unwrap_or(&json!({}))))),
        };
        let (status, answer, shown) = self.send(&query, body.as_ref()).await;
        let name = self.op.name();
        if ![400, 422].contains(&status) {
            if self.waivers.covers(&name, Check::Refusal, &m.path) {
                return None;
            }
            return Some(format!(
                "{} ({shown})\n  answered {status}, not 400/422: {}",
                m.why,
                short(&answer)
            ));
        }
        let mut wrong = Vec::new();
        if !self.spec.responses.contains_key(&status)
            && !self.waivers.covers(&name, Check::Refusal, "#status")
        {
            wrong.push(format!("{status} is not a status the spec lists"));
        }
        if answer["statusCode"] != json!(status) {
            wrong.push("no statusCode equal to the status".into());
        }
        let text = messages(&answer);
        if text.is_empty() {
            wrong.push("no message".into());
        }
        if let Some(word) = serde_words(&text) {
            wrong.push(format!("Rust wording {word:?} in {text:?}"));
        }
        if let Some(Some(schema)) = self.spec.responses.get(&status) {
            wrong.extend(
                validate(schema, &answer)
                    .iter()
                    .map(|v| format!("error body: {v}")),
            );
        }
        (!wrong.is_empty()).then(|| {
            format!(
                "{} ({shown})\n  {status}: {}: {}",
                m.why,
                wrong.join("; "),
                short(&answer)
            )
        })
    }
}

fn strategies(case: &Case, ov: &Overrides) -> (Gen, Option<Gen>) {
    let query = generate::valid(&query_schema(case.spec), "?", ov);
    let body = case.spec.body.as_ref().map(|b| generate::valid(b, "", ov));
    (query, body)
}

/// The overrides with every `request` waiver of the operation applied: a waived path keeps
/// its override, or is left out.
fn waived_overrides(case: &Case, ov: Overrides) -> Overrides {
    let mut ov = ov;
    for w in case
        .waivers
        .list
        .iter()
        .filter(|w| w.check == Check::Request && w.operation == case.op.name())
    {
        assert!(
            request_path_exists(case.spec, &w.path),
            "request waiver {} {}: the spec has no such request field",
            w.operation,
            w.path
        );
        case.waivers.covers(&w.operation, Check::Request, &w.path);
        ov.entry(w.path.clone()).or_insert(None);
    }
    ov
}

fn request_path_exists(spec: &Operation, path: &str) -> bool {
    let (mut schema, rest) = match path.strip_prefix("?/") {
        Some(rest) => (query_schema(spec), rest),
        None => (
            spec.body.clone().unwrap_or(Value::Null),
            path.trim_start_matches('/'),
        ),
    };
    for part in rest.split('/').filter(|p| !p.is_empty()) {
        schema = schema["properties"][part].clone();
    }
    !schema.is_null() && (!types(&schema).is_empty() || schema.is_object())
}

fn with_ops(
    test: impl Fn(&tokio::runtime::Runtime, &Case, &Overrides) -> Vec<String>,
) -> (Vec<String>, Waivers) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let spec = Spec::load();
    let waivers = Waivers::load();
    let cx = rt.block_on(Ctx::start());
    let mut problems = Vec::new();
    for op in ops() {
        let case = Case {
            cx: &cx,
            op: &op,
            spec: spec.op(op.method, op.path),
            waivers: &waivers,
        };
        let ov = waived_overrides(&case, (op.overrides)(&cx));
        problems.extend(test(&rt, &case, &ov));
    }
    (problems, waivers)
}

#[test]
fn ghl_answers_match_the_spec() {
    let (mut problems, waivers) = with_ops(|rt, case, ov| {
        let (query, body) = strategies(case, ov);
        let body = body.unwrap_or_else(|| Just(Value::Null).boxed());
        let result = runner(CASES, &case.op.name()).run(&(query, body), |(q, b)| {
            let b = (!b.is_null()).then_some(b);
            rt.block_on(case.valid(q, b)).map_err(TestCaseError::fail)
        });
        CASES_RUN.fetch_add(CASES as usize, Ordering::Relaxed);
        match result {
            Ok(()) => Vec::new(),
            Err(e) => vec![format!("{}: {e}", case.label())],
        }
    });
    eprintln!(
        "{} valid cases over {} operations",
        CASES_RUN.load(Ordering::Relaxed),
        ops().len()
    );
    problems.extend(waivers.unused(&[Check::Answer, Check::Request]));
    report("answers to valid requests", &problems);
}

fn query_mutations(case: &Case, skip: &dyn Fn(&str) -> bool) -> Vec<Mutation> {
    let mut out = Vec::new();
    for ((place, name), (required, schema)) in &case.spec.params {
        let path = format!("?/{name}");
        if place != "query" || skip(&path) {
            continue;
        }
        let mut add = |value: Option<Value>, why: String| {
            out.push(Mutation {
                path: path.clone(),
                value,
                why,
            })
        };
        if *required {
            add(None, format!("required query {name} missing"));
        }
        let ts = types(schema);
        if ts.contains(&"number") || ts.contains(&"integer") {
            add(Some(json!("abc")), format!("query {name} not a number"));
        }
        if ts.contains(&"boolean") {
            add(Some(json!("maybe")), format!("query {name} not a boolean"));
        }
        if schema["enum"].is_array() {
            add(
                Some(json!("not-in-the-enum")),
                format!("query {name} outside its enum"),
            );
        }
    }
    out
}

#[test]
fn ghl_refuses_invalid_input() {
    let (mut problems, waivers) = with_ops(|rt, case, ov| {
        let name = case.op.name();
        // Left out, or the spec's own type is waived there: its mutations would test the spec's
        // mistake. `extra_invalid` gives the right ones.
        let skip = |path: &str| {
            matches!(ov.get(path), Some(None))
                || case
                    .waivers
                    .list
                    .iter()
                    .any(|w| w.check == Check::Request && w.operation == name && w.path == path)
        };
        let mut all = query_mutations(case, &skip);
        if let Some(body) = &case.spec.body {
            all.extend(generate::mutations(body, &skip));
            all.extend((case.op.extra_invalid)());
        }
        if case.form() {
            // A form carries only strings: a wrong JSON type or a non-object body cannot be
            // written in one. What is left: missing fields and values outside an enum.
            all.retain(|m| m.path.starts_with('?') || m.value.is_none() || m.why.contains("enum"));
        }
        let (query, body) = strategies(case, ov);
        let mut runner = runner(1, &case.op.name());
        let mut found = Vec::new();
        INVALID_RUN.fetch_add(all.len(), Ordering::Relaxed);
        for m in &all {
            let q = query.new_tree(&mut runner).unwrap().current();
            let b = body
                .as_ref()
                .map(|b| b.new_tree(&mut runner).unwrap().current());
            if let Some(p) = rt.block_on(case.invalid(m, &q, b.as_ref())) {
                found.push(format!("{}: {p}", case.label()));
            }
        }
        found
    });
    eprintln!(
        "{} invalid requests over {} operations",
        INVALID_RUN.load(Ordering::Relaxed),
        ops().len()
    );
    problems.extend(waivers.unused(&[Check::Refusal]));
    report("answers to invalid requests", &problems);
}
