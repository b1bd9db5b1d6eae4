//! A `rest` peer in a real sync: the example connector files and their mappings against the
//! sandbox's GHL API and generic app, contacts both ways, then a second run that writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::Harness;
use common::sync::{Routes, sandbox_writes};
use ghlsync::net::RetryPolicy;
use ghlsync::peers::rest::{ConnectorFile, RestPeer};
use ghlsync::sandbox::SandboxOptions;
use ghlsync::sandbox::generic::{GenericAuth, GenericOptions, GenericPaging};
use ghlsync::store::Store;
use ghlsync::sync::mapping::Mapping;
use ghlsync::sync::{RunOptions, SyncContext, SyncSettings, run_sync};
use serde_json::{Value, json};

fn example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/connectors")
        .join(name)
}

async fn ghl_emails(h: &Harness) -> Vec<String> {
    h.dump().await["ghl"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["email"].as_str().map(str::to_ascii_lowercase))
        .collect()
}

/// A sandbox with the generic app shaped by `options`, and a sync context for the example
/// `connector` file with its mapping (its custom fields created and resolved).
async fn rest_context(
    connector: &str,
    options: GenericOptions,
) -> (Harness, SyncContext, tempfile::TempDir) {
    let h = Harness::with_options(SandboxOptions {
        contacts: 40,
        rate_limit: None,
        daily_limit: None,
        generic: options,
        ..SandboxOptions::default()
    })
    .await;
    let mapping = Mapping::load(&example(&connector.replace(".toml", ".mapping.toml")))
        .expect("the example mapping loads");
    h.create_mapping_fields(Some(&mapping)).await;
    let file = ConnectorFile::load(&example(connector)).expect("the example loads");
    let secrets = BTreeMap::from([
        ("api_token".to_string(), h.sandbox.generic_token.clone()),
        ("api_key".to_string(), h.sandbox.generic_token.clone()),
    ]);
    let peer_name = file.name().to_string();
    let peer = RestPeer::new(
        &peer_name,
        file,
        Some(&h.sandbox.generic_base_url),
        &secrets,
    )
    .expect("the peer builds")
    .with_retry(
        RetryPolicy {
            base: Duration::from_millis(2),
            cap: Duration::from_millis(20),
            ..RetryPolicy::default()
        },
        Duration::from_secs(5),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = SyncContext {
        store: Store::open(&dir.path().join("store")).unwrap(),
        ghl: h.client(),
        peer: Arc::new(peer),
        mapping,
        settings: SyncSettings::default(),
        events: None,
    };
    ghlsync::sync::mapping::resolve_against_location(&mut ctx.mapping, &ctx.ghl)
        .await
        .expect("the mapping's custom fields resolve");
    (h, ctx, dir)
}

async fn both_ways_then_nothing(connector: &str, options: GenericOptions) {
    let (h, ctx, _dir) = rest_context(connector, options).await;
    let info = h.admin_get_generic_info().await;
    let app_before = info["counts"]["contacts"].as_u64().unwrap();
    let new_people = info["seed"]["fromRepslyOnly"].as_u64().unwrap()
        + info["seed"]["genericOnly"].as_u64().unwrap();
    let ghl_before = ghl_emails(&h).await;

    let first = run_sync(&ctx, &RunOptions::default()).await.expect("run 1");
    // People only the app knew are now in GHL, once each; people both knew are not doubled.
    let ghl_after = ghl_emails(&h).await;
    assert_eq!(
        ghl_after.len() as u64,
        ghl_before.len() as u64 + new_people,
        "{connector}: {:?}",
        first.run.counts
    );
    // 0 new duplicates: no email is held by more GHL contacts than before (at most one if new).
    let count = |emails: &[String], email: &str| emails.iter().filter(|e| *e == email).count();
    let generic = h.dump().await["generic"]["contacts"].clone();
    for email in &ghl_after {
        assert!(
            count(&ghl_after, email) <= count(&ghl_before, email).max(1),
            "{connector}: {email} is in GHL more often than before"
        );
    }
    // GHL's people the app lacked went the other way.
    let app_after = h.admin_get_generic_info().await["counts"]["contacts"]
        .as_u64()
        .unwrap();
    assert!(
        app_after > app_before,
        "{connector}: {app_before} -> {app_after}"
    );

    let writes = sandbox_writes(&h, Routes::All).await;
    let second = run_sync(&ctx, &RunOptions::default()).await.expect("run 2");
    assert_eq!(
        sandbox_writes(&h, Routes::All).await - writes,
        0,
        "{connector}: a second run with nothing changed writes nothing: {:?}",
        second.run.counts
    );

    // A change in the app reaches GHL.
    let changed = generic
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["email"].is_string() && c["city"].is_string())
        .expect("a contact with an email and a city")
        .clone();
    h.admin_post(
        "generic/contacts",
        json!({"id": changed["id"], "city": "Ushuaia"}),
    )
    .await;
    run_sync(&ctx, &RunOptions::default()).await.expect("run 3");
    let email = changed["email"].as_str().unwrap().to_ascii_lowercase();
    let dump = h.dump().await;
    let in_ghl: Vec<&Value> = dump["ghl"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["email"].as_str().map(str::to_ascii_lowercase).as_deref() == Some(email.as_str())
        })
        .collect();
    assert!(
        in_ghl.iter().any(|c| c["city"] == "Ushuaia"),
        "{connector}: {in_ghl:?}"
    );
}

#[tokio::test]
async fn crm_offset_incremental_syncs_both_ways_and_a_second_run_writes_nothing() {
    both_ways_then_nothing("crm-offset.toml", GenericOptions::default()).await;
}

#[tokio::test]
async fn crm_cursor_full_listing_syncs_both_ways_and_a_second_run_writes_nothing() {
    both_ways_then_nothing(
        "crm-cursor.toml",
        GenericOptions {
            paging: GenericPaging::Cursor,
            auth: GenericAuth::Header,
            incremental: false,
            string_ids: true,
            ..GenericOptions::default()
        },
    )
    .await;
}

/// GHL holds one person twice (one email, two contacts) and the app, which has no upsert, holds
/// them not at all: the first contact is created in the app, and the second, which the app's
/// lookup finds as that same record, is held as a duplicate rather than linked to it too (two
/// GHL contacts writing one app record in turn, each overwriting the other's values).
#[tokio::test]
async fn a_person_ghl_holds_twice_becomes_one_app_record_and_the_second_is_held() {
    let (h, ctx, _dir) = rest_context("crm-offset.toml", GenericOptions::default()).await;
    h.admin_post("settings", json!({"allowDuplicateContacts": true}))
        .await;
    let email = "twice.over@example.test";
    for (first, phone) in [("Ada", "+14155550101"), ("Adeline", "+14155550199")] {
        let dto = serde_json::from_value(json!({
            "firstName": first, "lastName": "Twice", "email": email, "phone": phone
        }))
        .unwrap();
        ctx.ghl.create_contact(&dto).await.expect("GHL contact");
    }

    let in_app = |dump: &Value| -> Vec<Value> {
        dump["generic"]["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["email"] == email)
            .cloned()
            .collect()
    };
    run_sync(&ctx, &RunOptions::default()).await.expect("run 1");
    let once = in_app(&h.dump().await);
    assert_eq!(once.len(), 1, "one app record for one person: {once:?}");
    let held: Vec<_> = ctx
        .failed_queue()
        .unwrap()
        .into_iter()
        .filter(|op| {
            op.error
                .as_ref()
                .is_some_and(|e| e.message.contains("GHL holds this person twice"))
        })
        .collect();
    assert_eq!(held.len(), 1, "the second contact is held: {held:?}");
    assert_eq!(
        held[0].error.as_ref().unwrap().reason.as_deref(),
        Some("duplicate")
    );

    // Runs again change nothing: the app record keeps the first contact's values.
    let writes = sandbox_writes(&h, Routes::All).await;
    run_sync(&ctx, &RunOptions::default()).await.expect("run 2");
    run_sync(&ctx, &RunOptions::default()).await.expect("run 3");
    assert_eq!(sandbox_writes(&h, Routes::All).await - writes, 0);
    assert_eq!(in_app(&h.dump().await), once);
}

trait GenericInfo {
    async fn admin_get_generic_info(&self) -> Value;
}

impl GenericInfo for Harness {
    async fn admin_get_generic_info(&self) -> Value {
        self.http
            .get(self.url("/_sandbox/generic/info"))
            .send()
            .await
            .expect("admin request")
            .json()
            .await
            .expect("admin json")
    }
}
