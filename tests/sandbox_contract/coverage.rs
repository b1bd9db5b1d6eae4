//! The list of checked operations (`ghl_ops::ops`) is every operation of the four spec files
//! the sandbox serves: each other one must meet the router's fallback (404 "Cannot METHOD
//! path") or 405, so a newly emulated endpoint cannot go unchecked.

use serde_json::Value;

use super::ghl::version;
use super::ghl_ops::{Auth, Ctx, ops};
use super::report;
use super::spec::Spec;

#[test]
fn every_emulated_operation_is_checked() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let spec = Spec::load();
    let checked: Vec<String> = ops().iter().map(|o| o.name()).collect();
    let cx = rt.block_on(Ctx::start());
    let mut problems = Vec::new();
    let mut probed = 0;
    for op in &spec.ops {
        let name = format!("{} {}", op.method, op.path);
        if checked.contains(&name) {
            continue;
        }
        probed += 1;
        // Every path parameter filled with a word no route treats as special.
        let mut path = String::new();
        for part in op.path.split_inclusive('/') {
            path.push_str(if part.starts_with('{') {
                "probe/"
            } else {
                part
            });
        }
        let path = if op.path.ends_with('}') {
            path.trim_end_matches('/').to_string()
        } else {
            path
        };
        let body = (op.method != "GET").then(|| (false, "{}".to_string()));
        let (status, answer) = rt.block_on(cx.send(
            &op.method,
            &path,
            version(op).as_deref(),
            Auth::Location,
            body,
        ));
        let fallback = status == 404
            && answer["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Cannot "));
        if !(fallback || status == 405) {
            problems.push(format!(
                "{name} ({path}) answered {status}, not the fallback: the sandbox serves it, so \
                 ghl_ops::ops must check it: {}",
                answer.get("message").unwrap_or(&Value::Null)
            ));
        }
    }
    eprintln!(
        "{} operations checked, {probed} of the spec's others probed as not served",
        checked.len()
    );
    assert!(probed > 50, "the spec files lost operations? {probed}");
    report("operations served but not checked", &problems);
}
