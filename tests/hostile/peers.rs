//! Each peer's answers: the sandbox's rehearsal config for every connector that speaks HTTP
//! (Repsly, Robly, Rezora, a `rest` connector file), pointed at a loopback server that answers
//! each corpus body. Every read — a change page of each kind the peer reads, a lookup by id —
//! is an error naming the peer and the request, with a next step; or, for the few bodies a
//! peer reads as "nothing there", an empty page (named in `graceful`).

use crate::serve::Server;
use crate::{Failures, corpus, generated_json};
use ghlsync::config::rehearsal_peers;
use ghlsync::peers::registry::rehearsals;
use ghlsync::peers::{EntityKind, Peer, PeerError};
use ghlsync::sandbox::{self, SandboxOptions};
use std::sync::Arc;

/// The HTTP peers of the sandbox's rehearsal, against `server` instead.
async fn peers(server: &Server, folder: &std::path::Path) -> Vec<(String, Arc<dyn Peer>)> {
    let sandbox = sandbox::start(SandboxOptions {
        contacts: 1,
        rate_limit: None,
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let mut moved = rehearsals(&sandbox);
    moved.retain(|r| r.config.contains(&sandbox.base_url));
    for rehearsal in &mut moved {
        rehearsal.config = rehearsal
            .config
            .replace(&sandbox.base_url, &server.base_url);
        for (_, text) in &mut rehearsal.files {
            *text = text.replace(&sandbox.base_url, &server.base_url);
        }
    }
    let configured = rehearsal_peers(&moved, folder).unwrap();
    let built: Vec<(String, Arc<dyn Peer>)> = configured
        .iter()
        .map(|peer| {
            let rehearsal = moved.iter().find(|r| r.peer == peer.name).unwrap();
            let built = peer.setup.build(&peer.name, &rehearsal.secrets).unwrap();
            (peer.connector.name().to_string(), built)
        })
        .collect();
    let names: Vec<&str> = built.iter().map(|(name, _)| name.as_str()).collect();
    for wanted in ["repsly", "robly", "rezora", "rest"] {
        assert!(names.contains(&wanted), "{wanted} is not among {names:?}");
    }
    built
}

/// An answer a peer reads as "nothing there", on purpose (RELIABILITY.md, "Hostile input"): a
/// lookup (`get`) of any JSON holding no record (read as lossy UTF-8, as `PeerHttp` reads every
/// body) is "not found", and its callers skip the record (nothing is deleted on an absence); a
/// change page of no rows (empty, `null`, `[]`, a records key that is `null`) is empty, and rows
/// without a usable id are skipped with a warning.
fn graceful(read: &str, name: &str, body: &[u8]) -> bool {
    let json = body.iter().all(u8::is_ascii_whitespace)
        || serde_json::from_str::<serde_json::Value>(&String::from_utf8_lossy(body)).is_ok();
    let no_rows = matches!(
        name,
        "empty.json"
            | "whitespace_only.json"
            | "top_level_null.json"
            | "top_level_array.json"
            | "null_records.json"
            | "records_not_objects.json"
            | "duplicate_keys.json"
            | "wrong_types_nested.json"
            | "generated: a 10 MB field"
    );
    (read.ends_with(" get") && json) || no_rows
}

/// Every read of `peer`: (what, result).
async fn reads(peer: &dyn Peer) -> Vec<(String, Result<usize, PeerError>)> {
    let mut out = Vec::new();
    for capability in peer.capabilities() {
        if !capability.read {
            continue;
        }
        let kind = capability.kind;
        let page = peer.fetch_changes(kind, None).await;
        out.push((format!("{kind:?} changes"), page.map(|p| p.records.len())));
        if peer.can_get(kind) && kind == EntityKind::Contact {
            let one = peer.get(kind, "1001").await;
            out.push((
                format!("{kind:?} get"),
                one.map(|r| usize::from(r.is_some())),
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_peer_answer_is_an_error_naming_the_peer_and_request() {
    let server = Server::start().await;
    let folder = tempfile::tempdir().unwrap();
    let peers = peers(&server, folder.path()).await;
    let (mut checked, mut failures) = (0, Failures::default());
    for (name, body) in corpus("peer_answers").into_iter().chain(generated_json()) {
        for status in [200, 400] {
            server.answer(status, &name, &body);
            for (connector, peer) in &peers {
                for (read, result) in reads(peer.as_ref()).await {
                    let what = format!("{name} as HTTP {status} to {connector} {read}");
                    match result {
                        Ok(records) => failures
                            .check(graceful(&read, &name, &body) && records == 0, || {
                                format!("{what}: accepted, {records} records")
                            }),
                        Err(err) => {
                            let message = err.to_string();
                            failures.check(!err.operation.is_empty(), || {
                                format!("{what}: no request named: {message}")
                            });
                            failures.names_place(&what, &message, &err.operation);
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(
        server.hits() > 0 && checked >= 300,
        "{checked} reads checked"
    );
    failures.finish(checked);
}
