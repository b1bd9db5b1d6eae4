//! The peer emulations against hand-written schemas (`peers/<peer>.json`), one per answer the
//! emulation gives to a call our clients make (`src/peers/<peer>/`), written from the peers'
//! documented APIs (`../shared/research/peer-apis.md`), not from the emulation's code.
//!
//! A peer file lists `calls` (made in order; `capture` keeps a value of an answer, by JSON
//! pointer, for later paths and bodies as `{name}`) and `invalid` requests with the status the
//! peer documents for them. Answers read as JSON, or as CSV rows (`"format": "csv"`), one object
//! per row keyed by the header. `admin` posts set the emulation's knobs first (Repsly's import
//! delay to 0, so a job's outcome is read without waiting).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::common::Harness;
use super::schema::validate;
use super::{report, serde_words};

struct Peer {
    base: String,
    auth: Auth,
}

enum Auth {
    Basic(String, String),
    Bearer(String),
    /// Robly's `api_id` and `api_key` query parameters.
    Query(String),
}

fn peer(h: &Harness, name: &str) -> Peer {
    let sb = &h.sandbox;
    match name {
        "repsly" => Peer {
            base: sb.repsly_base_url.clone(),
            auth: Auth::Basic(
                sb.repsly_username.clone(),
                sb.repsly_password.expose().to_string(),
            ),
        },
        "rezora" => Peer {
            base: sb.rezora.base_url.clone(),
            auth: Auth::Basic(
                sb.rezora.username.clone(),
                sb.rezora.password.expose().to_string(),
            ),
        },
        "robly" => Peer {
            base: sb.robly.base_url.clone(),
            auth: Auth::Query(format!(
                "api_id={}&api_key={}",
                sb.robly.api_id.expose(),
                sb.robly.api_key.expose()
            )),
        },
        "growbots" => Peer {
            base: sb.growbots.base_url.clone(),
            auth: Auth::Bearer(sb.growbots.token.expose().to_string()),
        },
        other => panic!("no peer {other}"),
    }
}

fn fill(text: &str, captured: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in captured {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

async fn call(
    h: &Harness,
    p: &Peer,
    spec: &Value,
    captured: &BTreeMap<String, String>,
) -> (u16, String) {
    let path = fill(spec["path"].as_str().unwrap(), captured);
    let mut url = format!("{}/{}", p.base, path.trim_start_matches('/'));
    let method = reqwest::Method::from_bytes(spec["method"].as_str().unwrap().as_bytes()).unwrap();
    let noauth = spec["noauth"] == Value::Bool(true);
    if let Auth::Query(q) = &p.auth
        && !noauth
    {
        url = format!("{url}{}{q}", if url.contains('?') { "&" } else { "?" });
    }
    let mut request = h.http.request(method, url);
    request = match &p.auth {
        _ if noauth => request,
        Auth::Basic(user, pass) => request.basic_auth(user, Some(pass)),
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::Query(_) => request,
    };
    let body = match (&spec["body"], &spec["raw_body"]) {
        (Value::Null, Value::String(raw)) => Some(raw.clone()),
        (Value::Null, _) => None,
        (body, _) => Some(fill(&body.to_string(), captured)),
    };
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The file with every `{"$ref": "#/definitions/…"}` replaced by its target.
fn resolve(value: &Value, file: &Value) -> Value {
    match value {
        Value::Object(map) => match map.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let target = file
                    .pointer(r.trim_start_matches('#'))
                    .unwrap_or_else(|| panic!("dangling $ref {r}"));
                resolve(target, file)
            }
            None => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), resolve(v, file)))
                    .collect(),
            ),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, file)).collect()),
        other => other.clone(),
    }
}

fn csv_rows(text: &str) -> Value {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    Value::Array(
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                Value::Object(
                    headers
                        .iter()
                        .zip(r.iter())
                        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                        .collect::<Map<_, _>>(),
                )
            })
            .collect(),
    )
}

async fn check_peer(h: &Harness, name: &str) -> (Vec<String>, usize) {
    let path = format!(
        "{}/tests/sandbox_contract/peers/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let file = resolve(&file, &file);
    let p = peer(h, name);
    let mut problems = Vec::new();
    let mut captured = BTreeMap::new();
    let mut count = 0;
    // The emulation's own knobs (`/_sandbox/…`), set before the calls.
    for admin in file["admin"].as_array().into_iter().flatten() {
        let url = h.url(admin["path"].as_str().unwrap());
        let status = h
            .http
            .post(url)
            .json(&admin["body"])
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{name} admin {admin}: {status}");
    }
    for spec in file["calls"].as_array().unwrap() {
        count += 1;
        let label = format!(
            "{name} {} {}",
            spec["method"].as_str().unwrap(),
            spec["path"].as_str().unwrap()
        );
        let (mut status, mut text) = call(h, &p, spec, &captured).await;
        // `"repeat_while": ["/pointer", value]`: an asynchronous job, asked again (a bounded
        // number of times) while it still answers `value` there.
        if let Some([pointer, value]) = spec["repeat_while"].as_array().map(Vec::as_slice) {
            for _ in 0..200 {
                let answer: Value = serde_json::from_str(&text).unwrap_or_default();
                if answer.pointer(pointer.as_str().unwrap()) != Some(value) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                (status, text) = call(h, &p, spec, &captured).await;
            }
        }
        if std::env::var("CONTRACT_DEBUG").is_ok_and(|d| d == name) {
            eprintln!(
                "{label}\n  {status} {}",
                text.chars().take(1500).collect::<String>()
            );
        }
        if Some(u64::from(status)) != spec["status"].as_u64() {
            problems.push(format!(
                "{label}: answered {status}, documented {}: {text:.200}",
                spec["status"]
            ));
            continue;
        }
        let answer = if spec["format"] == "csv" {
            csv_rows(&text)
        } else {
            match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("{label}: answer is not JSON ({e}): {text:.200}"));
                    continue;
                }
            }
        };
        for v in validate(&spec["schema"], &answer).into_iter().take(5) {
            problems.push(format!("{label}: {v}"));
        }
        // `"name": "/pointer"`, or `"name": ["/pointer", "after"]` for the text after the last
        // `after` (Repsly's import job id is only in its message).
        for (key, how) in spec["capture"].as_object().into_iter().flatten() {
            let (pointer, after) = match how {
                Value::Array(parts) => (parts[0].as_str().unwrap(), parts[1].as_str()),
                other => (other.as_str().unwrap(), None),
            };
            let mut value = match answer.pointer(pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => panic!("{label}: nothing at {pointer} to capture as {key}"),
            };
            if let Some(after) = after {
                let tail = value.rsplit(after).next().unwrap_or_default();
                value = tail.trim().trim_end_matches('.').to_string();
            }
            captured.insert(key.clone(), value);
        }
    }
    for spec in file["invalid"].as_array().unwrap() {
        count += 1;
        let label = format!(
            "{name} {} {} ({})",
            spec["method"].as_str().unwrap(),
            spec["path"].as_str().unwrap(),
            spec["why"].as_str().unwrap()
        );
        let (status, text) = call(h, &p, spec, &captured).await;
        if std::env::var("CONTRACT_DEBUG").is_ok_and(|d| d == name) {
            eprintln!(
                "{label}\n  {status} {}",
                text.chars().take(500).collect::<String>()
            );
        }
        if Some(u64::from(status)) != spec["status"].as_u64() {
            problems.push(format!(
                "{label}: answered {status}, documented {}: {text:.200}",
                spec["status"]
            ));
        }
        if let Some(word) = serde_words(&text) {
            problems.push(format!("{label}: Rust wording {word:?} in {text:.200}"));
        }
    }
    (problems, count)
}

#[tokio::test]
async fn peer_emulations_match_their_documented_answers() {
    let h = Harness::start(20).await;
    let mut problems = Vec::new();
    let mut total = 0;
    for name in ["repsly", "robly", "rezora", "growbots"] {
        let (found, count) = check_peer(&h, name).await;
        problems.extend(found);
        total += count;
    }
    eprintln!("{total} peer calls checked");
    report("peer emulations", &problems);
}
