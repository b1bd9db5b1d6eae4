//! Several peers, one location: two Repsly accounts that know the same people sync into one GHL
//! location through the real binary (config, secrets, registry, engine), and every person ends
//! as one GHL contact, with the location's ceiling kept for both together.

mod common;

use common::Harness;
use common::binary::isolated;
use common::oracle::EndState;
use ghlsync::config::secrets::Secrets;
use ghlsync::peers::EntityKind;
use ghlsync::sandbox::{BurstLimit, SandboxOptions};
use ghlsync::store::Store;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const CONTACTS: usize = 120;

/// A sandbox whose GHL half keeps GHL's limit shape, time-compressed (100 per second).
async fn limited(seed: u64) -> Harness {
    let h = Harness::with_options(SandboxOptions {
        contacts: CONTACTS,
        seed,
        rate_limit: Some(BurstLimit {
            max: 100,
            interval: Duration::from_secs(1),
        }),
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await;
    h.create_mapping_fields(None).await;
    h.admin_post("repsly/settings", serde_json::json!({"importDelayMs": 0}))
        .await;
    h
}

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A config with `repsly` on `ghl`'s own Repsly and, when given, `repsly_b` on another
/// sandbox's Repsly (a second account).
fn write_config(home: &Path, ghl: &Harness, second: Option<&Harness>) -> std::path::PathBuf {
    let peer = |name: &str, h: &Harness| {
        format!(
            "[peers.{name}]\nconnector = \"repsly\"\n[peers.{name}.connection]\nbase_url = {}\nusername = {}\n\
             min_request_interval_ms = 0\nimport_poll_interval_ms = 5\n\n",
            quote(&h.sandbox.repsly_base_url),
            quote(&h.sandbox.repsly_username)
        )
    };
    let mut text = format!(
        "[ghl]\nbase_url = {}\nlocation_id = {}\n\n[store]\npath = {}\n\n{}",
        quote(&ghl.sandbox.base_url),
        quote(&ghl.sandbox.location_id),
        quote(&home.join("store").display().to_string()),
        peer("repsly", ghl)
    );
    let mut secrets = Secrets {
        ghl_token: Some(ghl.sandbox.token.clone()),
        ..Secrets::default()
    };
    secrets.set_peer_secret("repsly", "password", ghl.sandbox.repsly_password.clone());
    if let Some(b) = second {
        text.push_str(&peer("repsly_b", b));
        secrets.set_peer_secret("repsly_b", "password", b.sandbox.repsly_password.clone());
    }
    let path = home.join("ghlsync.toml");
    std::fs::write(&path, text).unwrap();
    secrets.write(&home.join("secrets.toml")).unwrap();
    path
}

async fn sync(home: &Path, config: &Path) -> String {
    let out = isolated(home, &["--config"])
        .arg(config)
        .arg("sync")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "sync failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn status_count(stats: &serde_json::Value, status: u64) -> u64 {
    stats["requests"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|row| row["status"].as_u64() == Some(status))
                .filter_map(|row| row["count"].as_u64())
                .sum()
        })
        .unwrap_or(0)
}

/// Write requests a sandbox counted, GHL's and its Repsly's apart. A Repsly account's second
/// run is not 0 today even with one peer: GHL-born contacts whose country GHL holds as `US`
/// are written to Repsly again each run (the built-in mapping's country rule; a known leftover
/// of the mapping, not of having several peers), so the accounts are held to one account's
/// figure instead.
#[derive(Debug, PartialEq)]
struct Writes {
    ghl: u64,
    peer: u64,
}

fn writes(stats: &serde_json::Value) -> Writes {
    let mut counted = Writes { ghl: 0, peer: 0 };
    for row in stats["requests"].as_array().into_iter().flatten() {
        let route = row["route"].as_str().unwrap_or_default();
        if row["method"] == "GET" || route.starts_with("/_sandbox") {
            continue;
        }
        let count = row["count"].as_u64().unwrap_or(0);
        if route.starts_with("/repsly/") {
            counted.peer += count;
        } else {
            counted.ghl += count;
        }
    }
    counted
}

fn contact_links(store: &Store, peer: &str) -> BTreeMap<String, String> {
    store
        .links(peer, EntityKind::Contact)
        .unwrap()
        .into_iter()
        .map(|(code, link)| (code, link.ghl_id))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peers_that_know_the_same_people_make_one_ghl_contact_each() {
    // The reference: the same location synced with one account, and what a second run of it
    // writes when nothing changed.
    let (reference, steady_writes) = {
        let h = limited(42).await;
        let home = tempfile::tempdir().unwrap();
        let config = write_config(home.path(), &h, None);
        sync(home.path(), &config).await;
        let end = EndState::capture(&h).await;
        h.reset_counters().await;
        sync(home.path(), &config).await;
        (end, writes(&h.stats().await))
    };
    assert_eq!(
        steady_writes.ghl, 0,
        "one peer, nothing changed: no GHL write"
    );

    // Two accounts holding the same people (a second sandbox's Repsly, same seed).
    let h = limited(42).await;
    let other = Harness::start(CONTACTS).await;
    other
        .admin_post("repsly/settings", serde_json::json!({"importDelayMs": 0}))
        .await;
    let baseline = EndState::capture(&h).await;
    let other_baseline = EndState::capture(&other).await;
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), &h, Some(&other));
    let out = sync(home.path(), &config).await;
    assert!(
        out.contains("(repsly, cli)") && out.contains("(repsly_b, cli)"),
        "{out}"
    );

    let after = EndState::capture(&h).await;
    assert_eq!(
        after.ghl_contacts(),
        reference.ghl_contacts(),
        "the second account's people are the first's: no GHL contact more than with one"
    );
    let dups = after.duplicates(&baseline);
    assert!(
        dups.is_empty(),
        "new duplicates in GHL or Repsly: {dups:#?}"
    );
    let other_dups = EndState::capture(&other).await.duplicates(&other_baseline);
    assert!(
        other_dups.is_empty(),
        "new duplicates in the second Repsly: {other_dups:#?}"
    );

    // One person, one GHL contact: the two accounts' records of a person share it.
    let store = Store::open(&home.path().join("store")).unwrap();
    let (a, b) = (
        contact_links(&store, "repsly"),
        contact_links(&store, "repsly_b"),
    );
    let shared = a.iter().filter(|(code, _)| b.contains_key(*code)).count();
    assert!(
        shared >= CONTACTS / 2,
        "{shared} people linked in both accounts"
    );
    for (code, ghl) in &a {
        if let Some(other_ghl) = b.get(code) {
            assert_eq!(ghl, other_ghl, "client {code} links to two GHL contacts");
        }
    }
    drop(store);

    // Both peers through one limiter: the location's ceiling held, not one 429.
    let stats = h.stats().await;
    assert_eq!(status_count(&stats, 429), 0, "429s with two peers: {stats}");

    // Nothing changed: a second run of both writes nothing to GHL, and to each account only
    // what a second run of one account writes (see the note on `Writes`).
    h.reset_counters().await;
    other.reset_counters().await;
    sync(home.path(), &config).await;
    let (first, second) = (writes(&h.stats().await), writes(&other.stats().await));
    assert_eq!(first.ghl, 0, "GHL writes on a run with nothing changed");
    assert_eq!(first.peer, steady_writes.peer, "the first account");
    assert_eq!(second.peer, steady_writes.peer, "the second account");
}
