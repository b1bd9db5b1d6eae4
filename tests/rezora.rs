//! The Rezora connector in real syncs against the sandbox's GHL API and its Rezora emulation
//! (real sockets, a real sled store): the initial import, a second run that only reads, an
//! update each way (name, company, lists ↔ tags, contact type, DND), the quirks (locked and
//! self contacts, a lost create answer, query auth), and the convergence oracle with faults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::Harness;
use common::oracle::{EndState, assert_converged};
use common::scenario::{ghl_client, settings, until_quiet};
use ghlsync::net::RetryPolicy;
use ghlsync::peers::rezora::{AuthMode, RezoraPeer, RezoraSettings};
use ghlsync::store::Store;
use ghlsync::sync::mapping::Mapping;
use ghlsync::sync::{RunOptions, SyncContext, run_sync};
use serde_json::{Value, json};

struct Rig {
    h: Harness,
    _dir: tempfile::TempDir,
    ctx: SyncContext,
}

fn peer(h: &Harness, auth: AuthMode) -> RezoraPeer {
    let access = &h.sandbox.rezora;
    RezoraPeer::new(RezoraSettings {
        base_url: access.base_url.clone(),
        username: access.username.clone(),
        password: access.password.clone(),
        auth,
        min_request_interval_ms: 0,
        ..RezoraSettings::default()
    })
    .expect("the peer builds")
    .with_retry(
        RetryPolicy {
            base: Duration::from_millis(2),
            cap: Duration::from_millis(20),
            ..RetryPolicy::default()
        },
        Duration::from_millis(400),
    )
}

async fn rig(contacts: usize) -> Rig {
    let h = Harness::start(contacts).await;
    let mapping = Mapping::builtin("rezora").expect("the built-in mapping");
    h.create_mapping_fields(Some(&mapping)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = SyncContext {
        store: Store::open(&dir.path().join("store")).unwrap(),
        ghl: ghl_client(&h, None),
        peer: Arc::new(peer(&h, AuthMode::Basic)),
        mapping,
        settings: settings(),
        events: None,
    };
    ghlsync::sync::mapping::resolve_against_location(&mut ctx.mapping, &ctx.ghl)
        .await
        .expect("the mapping's custom fields resolve");
    Rig { h, _dir: dir, ctx }
}

impl Rig {
    async fn run(&self) {
        run_sync(&self.ctx, &RunOptions::default())
            .await
            .expect("the run completes");
    }

    async fn info(&self) -> Value {
        self.h
            .http
            .get(self.h.url("/_sandbox/rezora/info"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn rezora_contacts(&self) -> Vec<Value> {
        self.h.dump().await["rezora"]["contacts"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn rezora_by_email(&self, email: &str) -> Value {
        self.rezora_contacts()
            .await
            .into_iter()
            .find(|c| {
                c["contact_email"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(email)
            })
            .unwrap_or_else(|| panic!("Rezora has no {email}"))
    }

    async fn ghl_by_email(&self, email: &str) -> Option<Value> {
        self.h.dump().await["ghl"]["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["email"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .cloned()
    }

    /// Requests counted so far by (GHL writes, Rezora writes, Rezora reads).
    async fn traffic(&self) -> (u64, u64, u64) {
        let stats = self.h.stats().await;
        let mut out = (0, 0, 0);
        for row in stats["requests"].as_array().unwrap() {
            let count = row["count"].as_u64().unwrap();
            let rezora = row["route"].as_str().unwrap().starts_with("/rezora");
            match (rezora, row["method"] == "GET") {
                (false, false) => out.0 += count,
                (true, false) => out.1 += count,
                (true, true) => out.2 += count,
                (false, true) => {}
            }
        }
        out
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        self.h.admin_post(&format!("rezora/{path}"), body).await
    }

    async fn reasons(&self) -> Vec<String> {
        self.ctx
            .store
            .failed_queue()
            .unwrap()
            .iter()
            .map(|op| ghlsync::sync::failed::reason_code(op).to_string())
            .collect()
    }
}

fn emails(contacts: &[Value], key: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in contacts {
        if let Some(email) = c[key].as_str().filter(|e| !e.is_empty()) {
            *out.entry(email.trim().to_ascii_lowercase()).or_default() += 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_import_then_a_second_run_only_reads() {
    let rig = rig(40).await;
    let info = rig.info().await;
    let rezora_before = emails(&rig.rezora_contacts().await, "contact_email");
    let ghl_before = emails(
        rig.h.dump().await["ghl"]["contacts"].as_array().unwrap(),
        "email",
    );
    rig.run().await;

    // Rezora's own people reached GHL, once each; the self contact did not.
    let ghl_after = emails(
        rig.h.dump().await["ghl"]["contacts"].as_array().unwrap(),
        "email",
    );
    for email in rezora_before.keys() {
        let expected = usize::from(email != ghlsync::sandbox::rezora::AGENT_EMAIL);
        assert_eq!(
            ghl_after.get(email).copied().unwrap_or(0),
            ghl_before.get(email).copied().unwrap_or(0).max(expected),
            "{email}"
        );
    }
    // GHL's people went to Rezora, and nobody is there twice.
    let rezora_after = emails(&rig.rezora_contacts().await, "contact_email");
    for email in ghl_before.keys() {
        assert!(rezora_after.contains_key(email), "{email} is not in Rezora");
    }
    for (email, count) in &rezora_after {
        assert_eq!(*count, 1, "{email} is in Rezora {count} times");
    }
    assert!(rig.reasons().await.is_empty(), "{:?}", rig.reasons().await);
    assert!(info["seed"]["conflicting"].as_u64().unwrap() > 0);

    let before = rig.traffic().await;
    rig.run().await;
    let after = rig.traffic().await;
    assert_eq!(after.0 - before.0, 0, "GHL writes on the second run");
    assert_eq!(after.1 - before.1, 0, "Rezora writes on the second run");
    assert!(
        after.2 - before.2 >= 2,
        "the full listing is read every run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_flow_each_way_with_lists_type_and_dnd() {
    let rig = rig(40).await;
    rig.run().await;
    let contacts = rig.rezora_contacts().await;
    let target = contacts
        .iter()
        .find(|c| {
            c["locked"].is_null()
                && c["contact_self"] == "0"
                && c["contact_name"].as_str().unwrap().contains(' ')
        })
        .unwrap()
        .clone();
    let id = target["contact_id"].as_str().unwrap();
    let email = target["contact_email"].as_str().unwrap().to_string();

    // Rezora → GHL.
    rig.admin(
        "contacts",
        json!({"contact_id": id, "contact_company": "Summit Homes", "contact_type": "Hot", "contact_unsubscribe": "1"}),
    )
    .await;
    rig.admin(
        "memberships",
        json!({"list_name": "Open House", "contact_id": id, "member": true}),
    )
    .await;
    rig.run().await;
    let ghl = rig.ghl_by_email(&email).await.unwrap();
    assert_eq!(ghl["companyName"], "Summit Homes");
    assert_eq!(ghl["dnd"], true);
    assert!(
        ghl["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "open house"),
        "{ghl}"
    );
    assert!(
        ghl["customFields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == "Hot"),
        "{ghl}"
    );

    // GHL → Rezora: the name (joined into contact_name), a tag (a list made and joined), DND off.
    let ghl_id = ghl["id"].as_str().unwrap();
    let mut tags: Vec<Value> = ghl["tags"].as_array().unwrap().clone();
    tags.push(json!("vip buyers"));
    let dto = serde_json::from_value(json!({"firstName": "Renamed", "tags": tags, "dnd": false}))
        .unwrap();
    rig.ctx.ghl.update_contact(ghl_id, &dto).await.unwrap();
    rig.run().await;
    let rezora = rig.rezora_by_email(&email).await;
    assert!(
        rezora["contact_name"]
            .as_str()
            .unwrap()
            .starts_with("Renamed "),
        "{rezora}"
    );
    assert_eq!(rezora["contact_unsubscribe"], "0");
    let lists: Vec<&str> = rezora["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(lists.contains(&"vip buyers"), "{lists:?}");
    assert!(
        lists.contains(&"Open House"),
        "the list keeps its name: {lists:?}"
    );
    assert!(lists.contains(&"Primary Sphere"), "{lists:?}");

    // Quiet again: nothing left to write either way.
    let before = rig.traffic().await;
    rig.run().await;
    let after = rig.traffic().await;
    assert_eq!((after.0 - before.0, after.1 - before.1), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_and_self_contacts_are_never_written() {
    let rig = rig(30).await;
    rig.run().await;
    let info = rig.info().await;
    // A locked contact (imported into GHL) changed in GHL: Rezora refuses, once.
    let locked_id = info["locked"][0].as_str().unwrap();
    let locked = rig
        .rezora_contacts()
        .await
        .into_iter()
        .find(|c| c["contact_id"] == locked_id)
        .unwrap();
    let email = locked["contact_email"].as_str().unwrap();
    let ghl = rig.ghl_by_email(email).await.expect("imported into GHL");
    let dto = serde_json::from_value(json!({"city": "Edited City"})).unwrap();
    rig.ctx
        .ghl
        .update_contact(ghl["id"].as_str().unwrap(), &dto)
        .await
        .unwrap();
    // The agent's own address in GHL: a create that would land on the self contact.
    let dto = serde_json::from_value(
        json!({"firstName": "Me", "email": ghlsync::sandbox::rezora::AGENT_EMAIL}),
    )
    .unwrap();
    rig.ctx.ghl.create_contact(&dto).await.unwrap();
    rig.run().await;
    let reasons = rig.reasons().await;
    assert_eq!(
        reasons
            .iter()
            .filter(|r| *r == "peer_record_locked")
            .count(),
        2,
        "{reasons:?}"
    );
    let route_put = "/rezora/v1/contacts/:id";
    let puts = rig.h.count("PUT", route_put).await;
    assert_eq!(
        rig.rezora_by_email(email).await["contact_business_city"],
        locked["contact_business_city"],
        "the locked contact is unchanged"
    );
    let me = rig
        .rezora_by_email(ghlsync::sandbox::rezora::AGENT_EMAIL)
        .await;
    assert_eq!(
        me["contact_name"], "Agent Owner",
        "the self contact is unchanged"
    );
    // Known now: the next run refuses locally, with no request.
    rig.run().await;
    assert_eq!(rig.h.count("PUT", route_put).await, puts);
    assert_eq!(
        emails(&rig.rezora_contacts().await, "contact_email")
            [ghlsync::sandbox::rezora::AGENT_EMAIL],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_was_lost_is_found_by_email_and_query_auth_works() {
    let rig = rig(30).await;
    // Every create of the first run lands, and its answer is lost for the first one.
    rig.h
        .queue_faults(&[("POST /rezora/v1/contacts.json", "dropAfter")])
        .await;
    let _ = run_sync(&rig.ctx, &RunOptions::default()).await;
    until_quiet(&rig.h, &rig.ctx).await;
    for (email, count) in emails(&rig.rezora_contacts().await, "contact_email") {
        assert_eq!(count, 1, "{email} is in Rezora {count} times");
    }
    let stats = rig.h.stats().await;
    assert_eq!(
        common::count_in(&stats, "POST", "/rezora/v1/contacts.json", Some(0)),
        1,
        "the lost answer happened"
    );

    // The credentials as query parameters, both sides switched.
    rig.admin("settings", json!({"auth": "query"})).await;
    let basic = peer(&rig.h, AuthMode::Basic);
    let refused =
        ghlsync::peers::Peer::fetch_changes(&basic, ghlsync::peers::EntityKind::Contact, None)
            .await
            .unwrap_err();
    assert_eq!(refused.class(), ghlsync::net::ErrorClass::Auth);
    let query = peer(&rig.h, AuthMode::Query);
    let page =
        ghlsync::peers::Peer::fetch_changes(&query, ghlsync::peers::EntityKind::Contact, None)
            .await
            .expect("query auth reads");
    assert!(page.done && !page.records.is_empty());
    assert!(!format!("{refused}").contains(rig.h.sandbox.rezora.password.expose()));
}

/// The same scenario fault-free and with faults on both sides ends in the same state, with no
/// duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_under_faults() {
    async fn scenario(rig: &Rig, faults: bool) {
        if faults {
            rig.h
                .admin_post("faults", json!({"rate": 0.15, "slowMs": 600}))
                .await;
            rig.h
                .queue_faults(&[
                    ("POST /rezora/v1/contacts.json", "dropAfter"),
                    ("PUT /rezora/v1/contacts/:id", "status503"),
                    ("GET /rezora/v1/contacts.json", "html502"),
                ])
                .await;
            rig.h.admin_post("faults", json!({"rate": 0.15})).await;
        }
        let _ = run_sync(&rig.ctx, &RunOptions::default()).await;
        let contacts = rig.rezora_contacts().await;
        let plain: Vec<&Value> = contacts
            .iter()
            .filter(|c| c["locked"].is_null() && c["contact_self"] == "0")
            .collect();
        rig.admin(
            "contacts",
            json!({"contact_id": plain[0]["contact_id"], "contact_title": "Broker", "contact_company": "Peak Realty"}),
        )
        .await;
        let _ = run_sync(&rig.ctx, &RunOptions::default()).await;
        rig.h
            .admin_post("faults", json!({"rate": 0.0, "next": []}))
            .await;
        until_quiet(&rig.h, &rig.ctx).await;
    }
    let reference = {
        let rig = rig(30).await;
        scenario(&rig, false).await;
        EndState::capture(&rig.h).await
    };
    let rig = rig(30).await;
    let baseline = EndState::capture(&rig.h).await;
    scenario(&rig, true).await;
    assert_converged(&reference, &EndState::capture(&rig.h).await, &baseline);
    for (email, count) in emails(&rig.rezora_contacts().await, "contact_email") {
        assert_eq!(count, 1, "{email} is in Rezora {count} times");
    }
}
