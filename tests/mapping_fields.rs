//! The mapping against a real location: `first_non_empty` linking a Mobile-only Repsly client to
//! its GHL contact, and custom fields resolved before anything runs (missing ones refused and
//! named, created by `mapping check --create-fields`), which makes a lost store re-link instead
//! of rewriting every contact.

// Test code: a panic is how a test fails (Cargo.toml denies these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use common::binary::write_config;
use common::sync::{SyncHarness, context};
use ghlsync::engine::{Command, EngineOptions, Reply, start_in_process};
use ghlsync::ghl::models::CreateContactDto;
use ghlsync::peers::EntityKind;
use ghlsync::store::Store;
use ghlsync::sync::mapping::{FieldsError, Mapping};
use ghlsync::sync::{RunOptions, SyncError, SyncSettings, run_sync};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

/// GHL contact writes the sandbox answered: creates, updates and upserts.
async fn contact_writes(h: &Harness) -> u64 {
    h.count("POST", "/contacts/").await
        + h.count("PUT", "/contacts/:contactId").await
        + h.count("POST", "/contacts/upsert").await
}

async fn ghlsync(home: &Path, args: &[&str]) -> Output {
    common::binary::isolated(home, args).output().await.unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_repsly_client_with_only_a_mobile_links_to_the_ghl_contact_holding_that_number() {
    let s = SyncHarness::start(40).await;
    s.run().await;
    let ghl =
        s.h.client()
            .create_contact(&CreateContactDto {
                first_name: Some("Mona".into()),
                last_name: Some("Bile".into()),
                phone: Some("+15550177001".into()),
                ..CreateContactDto::default()
            })
            .await
            .unwrap()
            .contact;
    s.h.admin_post(
        "repsly/clients",
        json!({"Code": "MOB-1", "Name": "Mobile Only Deli", "Phone": "", "Mobile": "(555) 017-7001", "Active": true}),
    )
    .await;
    s.run().await;

    let link = s
        .ctx
        .store
        .link("repsly", EntityKind::Contact, "MOB-1")
        .unwrap()
        .expect("the Mobile-only client is linked");
    assert_eq!(
        link.ghl_id, ghl.id,
        "linked to the contact holding its number"
    );
    let dump = s.h.dump().await;
    let holders: Vec<&Value> = dump["ghl"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["phone"] == "+15550177001")
        .collect();
    assert_eq!(holders.len(), 1, "not created again: {holders:?}");
    // GHL → Repsly writes the number back to Phone only (the first field); Mobile keeps its own.
    let client = s.peer_contact("MOB-1").await;
    assert_eq!(client.fields["Mobile"], "(555) 017-7001");
}

#[tokio::test]
async fn a_run_refuses_to_start_while_the_location_lacks_the_mappings_custom_fields() {
    let h = Harness::start(20).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let ctx = context(&h, store, SyncSettings::default(), None);
    let err = run_sync(&ctx, &RunOptions::default()).await.unwrap_err();
    let SyncError::Fields(FieldsError::Missing(missing)) = &err else {
        panic!("expected missing fields, got {err:?}");
    };
    let named: Vec<String> = missing.iter().map(|m| m.field.to_string()).collect();
    assert_eq!(
        named,
        [
            "customField:key:repsly_code",
            "customField:key:repsly_mobile",
            "customField:key:repsly_active",
            "customField:key:repsly_note"
        ]
    );
    let message = err.to_string();
    assert!(
        message.contains("assets/mappings/repsly.toml (built-in):")
            && message.contains("ghlsync mapping check --create-fields"),
        "{message}"
    );
    assert_eq!(missing[0].at, (69, 15), "external_id's place: {message}");
    assert_eq!(
        common::total_in(&h.stats().await)
            - h.count("GET", "/locations/:locationId/customFields").await,
        0,
        "nothing but the field list was asked"
    );

    // The editor's check (the engine's mapping_check) says the same, at the first one's place.
    let engine = start_in_process(ctx, EngineOptions::default());
    let text = Mapping::builtin_text("repsly").unwrap().to_string();
    let check = |text: String| {
        let engine = engine.clone();
        async move {
            match engine.call(Command::MappingCheck { text }).await.unwrap() {
                Reply::MappingChecked { problem } => problem,
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    let problem = check(text.clone()).await.expect("a problem");
    assert_eq!((problem.line, problem.column), (Some(69), Some(15)));
    assert!(
        problem.message.contains("repsly_code"),
        "{}",
        problem.message
    );
    // Created meanwhile (as --create-fields does): the next check sees them.
    h.create_mapping_fields(None).await;
    assert_eq!(check(text).await, None);
}

#[tokio::test]
async fn mapping_check_names_a_missing_field_and_create_fields_creates_each_one() {
    let h = Harness::start(5).await;
    let home = tempfile::tempdir().unwrap();
    let config = write_config(&h, home.path(), "");
    let cfg = config.to_str().unwrap();

    let refused = ghlsync(home.path(), &["--config", cfg, "mapping", "check"]).await;
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    assert!(
        stderr
            .contains("customField:key:repsly_code (assets/mappings/repsly.toml (built-in):69:15)")
            && stderr.contains("--create-fields"),
        "{stderr}"
    );
    let sync = ghlsync(home.path(), &["--config", cfg, "sync"]).await;
    assert_eq!(sync.status.code(), Some(3), "{}", text(&sync.stderr));
    assert!(
        text(&sync.stderr).contains("repsly_code"),
        "{}",
        text(&sync.stderr)
    );
    assert_eq!(contact_writes(&h).await, 0, "a refused run writes nothing");

    let created = ghlsync(
        home.path(),
        &["--config", cfg, "mapping", "check", "--create-fields"],
    )
    .await;
    assert!(created.status.success(), "{}", text(&created.stderr));
    let stdout = text(&created.stdout);
    for (key, data_type) in [
        ("repsly_code", "TEXT"),
        ("repsly_mobile", "PHONE"),
        ("repsly_active", "TEXT"),
        ("repsly_note", "TEXT"),
    ] {
        assert!(
            stdout.contains(&format!("key contact.{key}, {data_type}")),
            "{key}: {stdout}"
        );
    }
    assert!(stdout.contains("mapping OK"), "{stdout}");
    let again = ghlsync(home.path(), &["--config", cfg, "mapping", "check"]).await;
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("4 custom field(s) exist"),
        "{}",
        text(&again.stdout)
    );
    assert!(
        !text(&again.stdout).contains("created"),
        "nothing created twice"
    );

    // No GHL credentials: --create-fields says what it needs.
    let bare = tempfile::tempdir().unwrap();
    let missing = bare.path().join("none.toml");
    let out = ghlsync(
        bare.path(),
        &[
            "--config",
            missing.to_str().unwrap(),
            "mapping",
            "check",
            "--create-fields",
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("needs a config with GHL credentials"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn a_lost_store_relinks_every_contact_with_almost_no_writes() {
    let s = SyncHarness::start(300).await;
    s.run().await;
    s.run().await;
    let linked = s
        .ctx
        .store
        .links("repsly", EntityKind::Contact)
        .unwrap()
        .len();
    assert!(linked > 250, "{linked} contacts linked");

    let lost = tempfile::tempdir().unwrap();
    let store = Store::open(&lost.path().join("store")).unwrap();
    let ctx = context(&s.h, store, s.ctx.settings.clone(), None);
    let before = contact_writes(&s.h).await;
    let repsly_before = s.h.count("POST", "/repsly/v3/import/client").await;
    run_sync(&ctx, &RunOptions::default()).await.unwrap();
    let writes = contact_writes(&s.h).await - before;
    let repsly_writes = s.h.count("POST", "/repsly/v3/import/client").await - repsly_before;
    eprintln!(
        "lost store: {writes} GHL contact writes, {repsly_writes} Repsly client imports for {linked} linked contacts"
    );
    let linked_by = |how: &str| {
        ctx.store
            .log_tail(10_000)
            .unwrap()
            .iter()
            .filter(|e| e.kind == EntityKind::Contact)
            .filter(|e| {
                e.diff
                    .get("linked_by")
                    .and_then(Value::as_str)
                    .is_some_and(|by| by.starts_with(how))
            })
            .count()
    };
    let (by_external_id, by_ghl_id) = (linked_by("external "), linked_by("id"));
    eprintln!("lost store: re-linked {by_external_id} by external id, {by_ghl_id} by GHL id");
    assert!(
        by_external_id + by_ghl_id >= linked - 5 && by_external_id > 100,
        "{by_external_id} by external id, {by_ghl_id} by GHL id of {linked}"
    );
    let relinked = ctx
        .store
        .links("repsly", EntityKind::Contact)
        .unwrap()
        .len();
    assert_eq!(relinked, linked, "every contact is linked again");
    // Before custom fields were resolved, 278 of 300 contacts were rewritten here.
    assert_eq!(writes, 0, "contacts rewritten after a lost store");
    assert_eq!(
        repsly_writes, 0,
        "Repsly clients rewritten after a lost store"
    );
}
