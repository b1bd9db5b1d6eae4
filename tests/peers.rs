//! Several peers, one location: two Repsly accounts that know the same people, and Repsly with a
//! REST app from a connector file, sync into one GHL location through the real binary (config,
//! secrets, registry, engine), and every person ends as one GHL contact, with the location's
//! ceiling kept for all of them together.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

/// Where GHL's own API answers in the sandbox; every other counted route is a peer app's.
const GHL_ROUTES: [&str; 4] = ["/contacts", "/calendars", "/locations", "/oauth"];

/// Write requests a sandbox counted, GHL's and its peer apps' apart.
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
        if GHL_ROUTES.iter().any(|prefix| route.starts_with(prefix)) {
            counted.ghl += count;
        } else {
            counted.peer += count;
        }
    }
    counted
}

/// `METHOD route ×count` of every write request a sandbox counted.
fn written_routes(stats: &serde_json::Value) -> String {
    let mut out = Vec::new();
    for row in stats["requests"].as_array().into_iter().flatten() {
        let route = row["route"].as_str().unwrap_or_default();
        if row["method"] != "GET" && !route.starts_with("/_sandbox") {
            out.push(format!("{} {route} ×{}", row["method"], row["count"]));
        }
    }
    out.join(", ")
}

/// One `ghlsync sync` and what it wrote to each of `sandboxes`: the difference of their
/// counters before and after. (`Harness::reset_counters` re-seeds the data as well, so a run
/// after it finds every record the last run synced changed again, on both sides.)
async fn sync_writes(home: &Path, config: &Path, sandboxes: &[&Harness]) -> Vec<Writes> {
    let mut before = Vec::new();
    let mut routes_before = Vec::new();
    for h in sandboxes {
        let stats = h.stats().await;
        before.push(writes(&stats));
        routes_before.push(written_routes(&stats));
    }
    sync(home, config).await;
    let mut wrote = Vec::new();
    for ((h, before), routes_before) in sandboxes.iter().zip(before).zip(routes_before) {
        let stats = h.stats().await;
        let after = writes(&stats);
        if (after.ghl, after.peer) != (before.ghl, before.peer) {
            // Shown when an assertion on the counts fails: which routes were written so far.
            eprintln!(
                "writes before the run: {routes_before}\nafter: {}",
                written_routes(&stats)
            );
        }
        wrote.push(Writes {
            ghl: after.ghl - before.ghl,
            peer: after.peer - before.peer,
        });
    }
    wrote
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
        (end, sync_writes(home.path(), &config, &[&h]).await)
    };
    assert_eq!(
        steady_writes,
        [Writes { ghl: 0, peer: 0 }],
        "one peer, nothing changed: no write to GHL or Repsly"
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

    // Nothing changed: a second run of both writes nothing, to GHL or to either account.
    let wrote = sync_writes(home.path(), &config, &[&h, &other]).await;
    assert_eq!(
        wrote,
        [Writes { ghl: 0, peer: 0 }, Writes { ghl: 0, peer: 0 }],
        "writes on a run with nothing changed (the first sandbox's GHL and Repsly, then the second's)"
    );
}

/// One account synced until it settles: a run with nothing changed sends no request that
/// writes, to GHL or to Repsly, however many runs follow. Records a run could not write
/// (GHL-born contacts without a company, which Repsly refuses: no Name) wait in the failed
/// queue and are not sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_synced_again_and_again_writes_nothing() {
    let h = limited(42).await;
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), &h, None);
    let first = sync_writes(home.path(), &config, &[&h]).await;
    assert!(
        first[0].ghl > 0 && first[0].peer > 0,
        "the first run writes both ways: {first:?}"
    );
    let store = Store::open(&home.path().join("store")).unwrap();
    let failed = store.failed_queue().unwrap().len();
    drop(store);
    assert!(failed > 0, "the seed has contacts Repsly refuses");
    for run in 2..=4 {
        let wrote = sync_writes(home.path(), &config, &[&h]).await;
        assert_eq!(
            wrote,
            [Writes { ghl: 0, peer: 0 }],
            "run {run} writes with nothing changed"
        );
    }
    let store = Store::open(&home.path().join("store")).unwrap();
    assert_eq!(
        store.failed_queue().unwrap().len(),
        failed,
        "the refused writes wait, none added"
    );
}

/// The sandbox's own rehearsal config (`sandbox --write-config`): every app it emulates, all on
/// `h`.
fn write_rehearsal_config(home: &Path, h: &Harness) -> std::path::PathBuf {
    let rehearsals = ghlsync::peers::registry::rehearsals(&h.sandbox);
    ghlsync::config::write_rehearsal_files(&rehearsals, home).unwrap();
    let mut text = format!(
        "[ghl]\nbase_url = {}\nlocation_id = {}\n\n[store]\npath = {}\n",
        quote(&h.sandbox.base_url),
        quote(&h.sandbox.location_id),
        quote(&home.join("store").display().to_string()),
    );
    let mut secrets = Secrets {
        ghl_token: Some(h.sandbox.token.clone()),
        ..Secrets::default()
    };
    for rehearsal in &rehearsals {
        text.push('\n');
        text.push_str(&rehearsal.config);
        for (key, value) in &rehearsal.secrets {
            secrets.set_peer_secret(&rehearsal.peer, key, value.clone());
        }
    }
    let path = home.join("ghlsync.toml");
    std::fs::write(&path, text).unwrap();
    secrets.write(&home.join("secrets.toml")).unwrap();
    path
}

/// (lowercased email, body, times) of the notes the generic app holds more than once for one
/// contact.
fn repeated_notes(app: &serde_json::Value) -> Vec<(String, String, usize)> {
    let mut emails = BTreeMap::new();
    for contact in app["contacts"].as_array().into_iter().flatten() {
        if let Some(email) = contact["email"].as_str() {
            emails.insert(contact["id"].to_string(), email.trim().to_lowercase());
        }
    }
    let mut counted: BTreeMap<(String, String), usize> = BTreeMap::new();
    for note in app["notes"].as_array().into_iter().flatten() {
        let (Some(email), Some(body)) = (
            emails.get(&note["contact_id"].to_string()),
            note["body"].as_str(),
        ) else {
            continue;
        };
        *counted
            .entry((email.clone(), body.to_string()))
            .or_default() += 1;
    }
    counted
        .into_iter()
        .filter(|(_, times)| *times > 1)
        .map(|((email, body), times)| (email, body, times))
        .collect()
}

/// Every app the sandbox emulates, configured together into one location as
/// `sandbox --write-config` writes them: no new duplicate anywhere, and every person two apps
/// know by one email links to one GHL contact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_app_into_one_location_links_each_shared_person_to_one_ghl_contact() {
    let h = limited(42).await;
    let baseline = EndState::capture(&h).await;
    let seed = h.dump().await;
    let app_repeats = repeated_notes(&seed["generic"]);
    // Emails GHL's seed holds on two contacts: which twin an app adopts depends on what else it
    // knows of the person (a phone, a name), so apps may rightly pick different ones.
    let mut ghl_emails: BTreeMap<String, usize> = BTreeMap::new();
    for contact in seed["ghl"]["contacts"].as_array().unwrap() {
        if let Some(email) = contact["email"].as_str() {
            *ghl_emails.entry(email.trim().to_lowercase()).or_default() += 1;
        }
    }
    let home = tempfile::tempdir().unwrap();
    let config = write_rehearsal_config(home.path(), &h);
    let peers: Vec<String> = ghlsync::peers::registry::rehearsals(&h.sandbox)
        .into_iter()
        .map(|r| r.peer)
        .collect();
    // The mappings name custom fields (each app's id in GHL): created as a person would.
    let created = isolated(home.path(), &["--config"])
        .arg(&config)
        .args(["mapping", "check", "--create-fields"])
        .output()
        .await
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let out = sync(home.path(), &config).await;
    for peer in &peers {
        assert!(out.contains(&format!("({peer}, cli)")), "{peer} ran: {out}");
    }

    // The oracle knows Repsly's own repeats; the REST app's seed repeats a note too (two equal
    // notes of one contact), which GHL then holds twice as well: that is the app's, not ours.
    let dups: Vec<String> = EndState::capture(&h)
        .await
        .duplicates(&baseline)
        .into_iter()
        .filter(|dup| {
            !app_repeats.iter().any(|(email, body, times)| {
                dup.to_lowercase().contains(email.as_str())
                    && dup.contains(body.as_str())
                    && dup.contains(&format!("holds {times} × note"))
            })
        })
        .collect();
    assert!(
        dups.is_empty(),
        "new duplicates in GHL or a peer: {dups:#?} (the app's own repeats: {app_repeats:?})"
    );
    let stats = h.stats().await;
    assert_eq!(
        status_count(&stats, 429),
        0,
        "429s with {} peers: {stats}",
        peers.len()
    );

    // Every email an app holds once, with the GHL contact its record links to; people two or
    // more apps know must link to one contact.
    let store = Store::open(&home.path().join("store")).unwrap();
    let mut linked: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for peer in &peers {
        for (peer_id, ghl_id) in contact_links(&store, peer) {
            let Some(person) = store.person(peer, &peer_id).unwrap() else {
                continue;
            };
            for key in person.keys.iter().filter(|k| k.starts_with("email:")) {
                if store.people_with(peer, key).unwrap().len() == 1 {
                    linked
                        .entry(key.clone())
                        .or_default()
                        .insert(peer.clone(), ghl_id.clone());
                }
            }
        }
    }
    let mut shared = 0;
    for (email, by_peer) in &linked {
        let address = email.trim_start_matches("email:");
        if by_peer.len() < 2 || ghl_emails.get(address).is_some_and(|n| *n > 1) {
            continue;
        }
        shared += 1;
        let contacts: std::collections::BTreeSet<&String> = by_peer.values().collect();
        assert_eq!(
            contacts.len(),
            1,
            "{email}: the apps link it to {} GHL contacts: {by_peer:?}",
            contacts.len()
        );
    }
    assert!(
        shared >= 20,
        "only {shared} people linked in two apps or more"
    );
    drop(store);

    // Until quiet, then a run with nothing changed writes nothing anywhere.
    for _ in 0..3 {
        sync(home.path(), &config).await;
    }
    let quiet = sync_writes(home.path(), &config, &[&h]).await;
    assert_eq!(
        quiet,
        vec![Writes { ghl: 0, peer: 0 }],
        "a run with nothing changed"
    );
    // Nor to an app that is files (Growbots' export): the run reports no write of any kind.
    let report = sync(home.path(), &config).await;
    let wrote: Vec<&str> = report
        .lines()
        .filter(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            matches!(words.as_slice(), [_, "ok", _]) && words[0] != "skip"
        })
        .collect();
    assert!(wrote.is_empty(), "a quiet run wrote: {wrote:?}\n{report}");
}
