//! GHL's operations: valid requests drawn from the spec answer a 2xx the spec lists with a body
//! its schema accepts; invalid ones get 400/422 with a NestJS-style body.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{Map, Value, json};

use super::common::Harness;
use super::generate::{self, Gen, Mutation, Overrides};
use super::ghl_ops::{Auth, Ctx, Op, Setup, fill, ops};
use super::schema::{short, validate};
use super::spec::{Operation, Spec, types};
use super::waivers::{Check, Waivers};
use super::{CASES, messages, report, runner, serde_words};

impl Ctx {
    pub async fn start() -> Ctx {
        let h = Harness::start(5).await;
        let info: Value = h
            .http
            .get(h.url("/_sandbox/info"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let location = h.sandbox.location_id.clone();
        let calendar = info["calendars"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["locationId"] == json!(location))
            .expect("a calendar in the location")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let client = info["clientId"].as_str().unwrap();
        let app_id = client
            .split_once('-')
            .map_or(client, |(a, _)| a)
            .to_string();
        let agency: Value = h
            .http
            .post(h.url("/_sandbox/tokens"))
            .json(&json!({"userType": "Company"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut cx = Ctx {
            location,
            company: info["companyId"].as_str().unwrap().to_string(),
            app_id,
            calendar,
            text_fields: Vec::new(),
            agency_token: agency["access_token"].as_str().unwrap().to_string(),
            seeded: Vec::new(),
            turn: Default::default(),
            h,
        };
        let path = format!("/contacts/?locationId={}&limit=100", cx.location);
        let (status, seeded) = cx
            .send("GET", &path, Some("2021-07-28"), Auth::Location, None)
            .await;
        assert_eq!(status, 200, "{seeded}");
        cx.seeded = seeded["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        let path = format!("/locations/{}/customFields", cx.location);
        let (status, fields) = cx
            .send("GET", &path, Some("2021-07-28"), Auth::Location, None)
            .await;
        assert_eq!(status, 200, "{fields}");
        cx.text_fields = fields["customFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["dataType"] == "TEXT")
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        assert!(
            !cx.text_fields.is_empty(),
            "the seed has TEXT custom fields"
        );
        cx
    }

    /// `body`: `(is_form, raw text)`, sent as it is.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        version: Option<&str>,
        auth: Auth,
        body: Option<(bool, String)>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.h.http.request(method, self.h.url(path));
        match auth {
            Auth::Location => request = request.bearer_auth(self.h.sandbox.token.expose()),
            Auth::Agency => request = request.bearer_auth(&self.agency_token),
            Auth::Client => {}
        }
        if let Some(version) = version {
            request = request.header("Version", version);
        }
        if let Some((form, text)) = body {
            let kind = if form {
                "application/x-www-form-urlencoded"
            } else {
                "application/json"
            };
            request = request.header("Content-Type", kind).body(text);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, version: &str, body: Value) -> Value {
        let (status, answer) = self
            .send(
                "POST",
                path,
                Some(version),
                Auth::Location,
                Some((false, body.to_string())),
            )
            .await;
        assert!(
            (200..300).contains(&status),
            "setup {path}: {status} {answer}"
        );
        answer
    }

    /// The records an operation acts on, made fresh for each case, by path parameter name.
    async fn setup(&self, setup: Setup) -> BTreeMap<&'static str, String> {
        let mut ids = BTreeMap::from([
            ("locationId", self.location.clone()),
            ("businessId", "contract-business".to_string()),
        ]);
        if setup == Setup::Refresh {
            let t: Value = self
                .h
                .http
                .post(self.h.url("/_sandbox/tokens"))
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            ids.insert("refresh", t["refresh_token"].as_str().unwrap().to_string());
        }
        if setup == Setup::Seeded {
            let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ids.insert("contactId", self.seeded[turn % self.seeded.len()].clone());
        }
        if matches!(setup, Setup::Nothing | Setup::Refresh | Setup::Seeded) {
            return ids;
        }
        let body = json!({"locationId": self.location, "firstName": "Contract"});
        let contact = self.post("/contacts/", "2021-07-28", body).await;
        let contact = contact["contact"]["id"].as_str().unwrap().to_string();
        let on = |what: &str| format!("/contacts/{contact}/{what}");
        match setup {
            Setup::Task => {
                let body =
                    json!({"title": "t", "dueDate": "2026-01-01T10:00:00Z", "completed": false});
                let task = self.post(&on("tasks"), "2021-07-28", body).await;
                ids.insert("taskId", task["task"]["id"].as_str().unwrap().to_string());
            }
            Setup::Note => {
                let note = self
                    .post(&on("notes"), "2021-07-28", json!({"body": "n"}))
                    .await;
                ids.insert("id", note["note"]["id"].as_str().unwrap().to_string());
            }
            Setup::Appointment => {
                let body = json!({"calendarId": self.calendar, "locationId": self.location,
                    "contactId": contact, "startTime": "2026-03-02T10:00:00Z"});
                let event = self
                    .post("/calendars/events/appointments", "2021-04-15", body)
                    .await;
                ids.insert("eventId", event["id"].as_str().unwrap().to_string());
            }
            _ => {}
        }
        ids.insert("contactId", contact);
        ids
    }
}

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

fn version(op: &Operation) -> Option<String> {
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
            Err(e) => vec![format!("{}: {e}", case.op.name())],
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
                found.push(format!("{}: {p}", case.op.name()));
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
