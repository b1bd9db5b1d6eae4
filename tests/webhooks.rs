//! The webhook receiver over a real socket, an in-process engine over the GHL and Repsly
//! sandboxes and a temp sled store: GHL's two signature schemes with keys made here, refusals
//! (forged, unsigned, expired, replayed, unreadable), the queue limit's 429 with nothing lost,
//! 0 writes for a contact already in sync, and deliveries left in the inbox processed by the
//! next engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use common::sync::SyncHarness;
use ed25519_dalek::Signer as _;
use ghlsync::config::service::WebhooksSection;
use ghlsync::engine::{
    Command, ContactRef, EngineHandle, EngineOptions, InboxSettings, Reply, start_in_process,
};
use ghlsync::peers::EntityKind;
use ghlsync::service::receiver;
use rsa::signature::SignatureEncoding as _;
use serde_json::{Value, json};
use std::time::Duration;

struct Keys {
    ed: ed25519_dalek::SigningKey,
    rsa: rsa::RsaPrivateKey,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            ed: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
            rsa: rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap(),
        }
    }

    /// `[service.webhooks]` naming these keys inline, as PEM.
    fn section(&self, queue_limit: usize) -> WebhooksSection {
        use ed25519_dalek::pkcs8::EncodePublicKey as _;
        let pem = rsa::pkcs8::LineEnding::LF;
        WebhooksSection {
            ed25519_keys: vec![self.ed.verifying_key().to_public_key_pem(pem).unwrap()],
            rsa_keys: vec![self.rsa.to_public_key().to_public_key_pem(pem).unwrap()],
            queue_limit,
            ..WebhooksSection::default()
        }
    }

    fn ed25519(&self, body: &str) -> String {
        b64(&self.ed.sign(body.as_bytes()).to_bytes())
    }

    fn rsa(&self, body: &str) -> String {
        use rsa::signature::Signer as _;
        let key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.rsa.clone());
        b64(&key.sign(body.as_bytes()).to_bytes())
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn event(kind: &str, location: &str, contact: &str, webhook_id: &str) -> String {
    let at = chrono::Utc::now().to_rfc3339();
    let body = match kind {
        "AppointmentCreate" => {
            json!({"type": kind, "locationId": location, "webhookId": webhook_id,
            "timestamp": at, "appointment": {"id": "apt-1", "contactId": contact}})
        }
        "TaskCreate" | "NoteCreate" => json!({"type": kind, "locationId": location,
            "webhookId": webhook_id, "timestamp": at, "id": "child-1", "contactId": contact}),
        _ => json!({"type": kind, "locationId": location, "id": contact,
            "webhookId": webhook_id, "timestamp": at}),
    };
    body.to_string()
}

struct Rig {
    s: SyncHarness,
    engine: EngineHandle,
    url: String,
    http: reqwest::Client,
    keys: Keys,
}

fn engine_over(s: &SyncHarness) -> EngineHandle {
    start_in_process(
        ghlsync::sync::SyncContext {
            store: s.ctx.store.clone(),
            ghl: s.ctx.ghl.clone(),
            peer: s.ctx.peer.clone(),
            mapping: s.ctx.mapping.clone(),
            settings: s.ctx.settings.clone(),
            events: None,
        },
        EngineOptions::default(),
    )
}

/// The receiver for `engine` on 127.0.0.1 (ephemeral port); its base URL.
async fn serve(engine: &EngineHandle, section: &WebhooksSection) -> String {
    let settings = receiver::settings_from(section, None).unwrap();
    let app = receiver::router(
        engine.clone(),
        std::sync::Arc::new(std::sync::RwLock::new(settings)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

impl Rig {
    /// A synced sandbox of `contacts`, an engine over it, its receiver.
    async fn start(contacts: usize, queue_limit: usize) -> Rig {
        let s = SyncHarness::start(contacts).await;
        s.run().await;
        let keys = Keys::new();
        let engine = engine_over(&s);
        let url = serve(&engine, &keys.section(queue_limit)).await;
        Rig {
            s,
            engine,
            url,
            http: reqwest::Client::new(),
            keys,
        }
    }

    fn location(&self) -> String {
        self.s.h.sandbox.location_id.clone()
    }

    async fn post(&self, path: &str, headers: &[(&str, String)], body: &str) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.url))
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").cloned();
        let mut value: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(after) = retry_after {
            value["retry_after"] = json!(after.to_str().unwrap());
        }
        (status, value)
    }

    async fn ghl_ed25519(&self, body: &str) -> (u16, Value) {
        let signature = self.keys.ed25519(body);
        self.post("/webhooks/ghl", &[("X-GHL-Signature", signature)], body)
            .await
    }

    async fn ghl_rsa(&self, body: &str) -> (u16, Value) {
        let signature = self.keys.rsa(body);
        self.post("/webhooks/ghl", &[("x-wh-signature", signature)], body)
            .await
    }

    /// Waits until the engine's worker has emptied the inbox.
    async fn drained(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.s.ctx.store.inbox_len() > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the inbox still holds {} events",
                self.s.ctx.store.inbox_len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Linked Repsly-born contacts: (Repsly code, GHL id).
    fn linked(&self, n: usize) -> Vec<(String, String)> {
        self.s
            .ctx
            .store
            .links(self.s.ctx.peer_name(), EntityKind::Contact)
            .unwrap()
            .into_iter()
            .filter(|(code, _)| code.starts_with("C-"))
            .take(n)
            .map(|(code, link)| (code, link.ghl_id))
            .collect()
    }

    async fn set_website(&self, ghl_id: &str, website: &str) {
        let update = ghlsync::ghl::models::UpdateContactDto {
            website: Some(website.into()),
            ..Default::default()
        };
        self.s
            .ctx
            .ghl
            .update_contact(ghl_id, &update)
            .await
            .unwrap();
    }

    async fn website(&self, code: &str) -> Value {
        self.s.peer_contact(code).await.fields["Website"].clone()
    }

    fn runs(&self, trigger: &str) -> usize {
        self.s
            .ctx
            .store
            .runs(1000)
            .unwrap()
            .iter()
            .filter(|run| run.trigger == trigger)
            .count()
    }
}

#[tokio::test]
async fn signed_deliveries_of_both_schemes_reach_the_peer_through_the_planner() {
    let rig = Rig::start(60, 100).await;
    let people = rig.linked(3);
    let location = rig.location();
    for (i, (_, ghl_id)) in people.iter().enumerate() {
        rig.set_website(ghl_id, &format!("https://hook{i}.example"))
            .await;
    }
    let (status, answer) = rig
        .ghl_ed25519(&event("ContactUpdate", &location, &people[0].1, "w-ed"))
        .await;
    assert_eq!(
        (status, &answer["duplicate"]),
        (200, &json!(false)),
        "{answer}"
    );
    let (status, answer) = rig
        .ghl_rsa(&event("ContactUpdate", &location, &people[1].1, "w-rsa"))
        .await;
    assert_eq!(status, 200, "{answer}");
    rig.drained().await;
    assert_eq!(rig.website(&people[0].0).await, "https://hook0.example");
    assert_eq!(rig.website(&people[1].0).await, "https://hook1.example");
    assert_ne!(
        rig.website(&people[2].0).await,
        "https://hook2.example",
        "a contact no event named is left to the scheduled runs"
    );
    // "One contact now", by the peer's id: the same targeted run.
    let reply = rig
        .engine
        .call(Command::SyncContact {
            contact: ContactRef::Peer(people[2].0.clone()),
        })
        .await
        .unwrap();
    assert!(matches!(reply, Reply::Runs { .. }), "{reply:?}");
    assert_eq!(rig.website(&people[2].0).await, "https://hook2.example");
    assert!(rig.runs("webhook") >= 1 && rig.runs("contact") == 1);
}

#[tokio::test]
async fn forged_unsigned_expired_replayed_and_unreadable_deliveries_are_refused() {
    let rig = Rig::start(30, 100).await;
    let location = rig.location();
    let (_, ghl_id) = rig.linked(1).remove(0);
    let body = event("ContactUpdate", &location, &ghl_id, "w-1");

    let (status, answer) = rig.post("/webhooks/ghl", &[], &body).await;
    assert_eq!(status, 401);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("X-GHL-Signature"),
        "{answer}"
    );
    let forged = b64(&ed25519_dalek::SigningKey::from_bytes(&[9; 32])
        .sign(body.as_bytes())
        .to_bytes());
    let (status, answer) = rig
        .post("/webhooks/ghl", &[("X-GHL-Signature", forged)], &body)
        .await;
    assert_eq!(status, 401);
    assert!(
        answer["error"].as_str().unwrap().contains("ed25519_keys"),
        "{answer}"
    );
    // A good legacy signature does not rescue a bad X-GHL-Signature.
    let (status, _) = rig
        .post(
            "/webhooks/ghl",
            &[
                ("X-GHL-Signature", b64(&[1; 64])),
                ("x-wh-signature", rig.keys.rsa(&body)),
            ],
            &body,
        )
        .await;
    assert_eq!(status, 401);
    // Signed over other bytes than those sent.
    let altered = body.replace("w-1", "w-2");
    let (status, _) = rig
        .post(
            "/webhooks/ghl",
            &[("x-wh-signature", rig.keys.rsa(&body))],
            &altered,
        )
        .await;
    assert_eq!(status, 401);

    let old = json!({"type": "ContactUpdate", "locationId": location, "id": ghl_id,
        "webhookId": "w-old", "timestamp": (chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339()})
    .to_string();
    let (status, answer) = rig.ghl_ed25519(&old).await;
    assert_eq!(status, 409, "{answer}");
    let (status, _) = rig.ghl_ed25519("{not json").await;
    assert_eq!(status, 422);
    let (status, _) = rig.ghl_ed25519(&"x".repeat(2 * 1024 * 1024)).await;
    assert_eq!(status, 413);
    assert_eq!(rig.s.ctx.store.inbox_len(), 0, "nothing refused was queued");

    let (first, _) = rig.ghl_ed25519(&body).await;
    let (again, answer) = rig.ghl_ed25519(&body).await;
    assert_eq!((first, again), (200, 200));
    assert_eq!(answer["duplicate"], true, "{answer}");
    rig.drained().await;
    assert_eq!(
        rig.runs("webhook"),
        1,
        "the replayed webhookId is not processed twice"
    );

    // Accepted and ignored: another location, a type ghlsync does not sync.
    let elsewhere = event("ContactUpdate", "another-location", &ghl_id, "w-3");
    let (status, answer) = rig.ghl_ed25519(&elsewhere).await;
    assert_eq!(status, 200);
    assert!(
        answer["ignored"]
            .as_str()
            .unwrap()
            .contains("another-location"),
        "{answer}"
    );
    let (status, answer) = rig
        .ghl_ed25519(&event("OpportunityCreate", &location, &ghl_id, "w-4"))
        .await;
    assert_eq!((status, answer["ignored"].is_string()), (200, true));
    assert_eq!(rig.s.ctx.store.inbox_len(), 0);

    // The peer endpoint: an unknown name lists the peers; Repsly takes no pushes.
    let (status, answer) = rig.post("/webhooks/peer/nosuch", &[], "{}").await;
    assert_eq!(status, 404);
    let peer = rig.s.ctx.peer_name().to_string();
    assert!(
        answer["error"].as_str().unwrap().contains(&peer),
        "{answer}"
    );
    let (status, _) = rig.post(&format!("/webhooks/peer/{peer}"), &[], "{}").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_event_about_a_contact_in_sync_costs_no_write() {
    let rig = Rig::start(30, 100).await;
    let location = rig.location();
    let people = rig.linked(2);
    let before = rig.s.writes().await;
    for (i, kind) in [
        "ContactUpdate",
        "ContactTagUpdate",
        "TaskCreate",
        "NoteCreate",
        "AppointmentCreate",
    ]
    .into_iter()
    .enumerate()
    {
        let body = event(kind, &location, &people[i % 2].1, &format!("w-{i}"));
        let (status, answer) = rig.ghl_ed25519(&body).await;
        assert_eq!(status, 200, "{kind}: {answer}");
    }
    rig.drained().await;
    assert!(rig.runs("webhook") >= 1);
    assert_eq!(
        rig.s.writes().await,
        before,
        "no write for records already in sync"
    );

    // ContactDelete: no delete policy applies GHL's deletions to a peer; the record is kept.
    let (code, gone) = rig.linked(3).remove(2);
    rig.s.ctx.ghl.delete_contact(&gone).await.unwrap();
    let before = rig.s.writes().await;
    let (status, _) = rig
        .ghl_ed25519(&event("ContactDelete", &location, &gone, "w-delete"))
        .await;
    assert_eq!(status, 200);
    rig.drained().await;
    assert_eq!(rig.s.writes().await, before);
    assert_eq!(rig.s.peer_contact(&code).await.id, code, "kept in the peer");
}

#[tokio::test]
async fn past_the_queue_limit_deliveries_get_429_and_every_accepted_one_is_processed() {
    let rig = Rig::start(60, 3).await;
    let location = rig.location();
    let people = rig.linked(4);
    for (i, (_, ghl_id)) in people.iter().enumerate() {
        rig.set_website(ghl_id, &format!("https://queued{i}.example"))
            .await;
    }
    let reply = rig
        .engine
        .call(Command::ServeInbox {
            settings: InboxSettings {
                queue_limit: 3,
                replay_window_secs: 300,
            },
        })
        .await
        .unwrap();
    assert!(matches!(reply, Reply::Done), "{reply:?}");
    // GHL (and Repsly) down: the worker's runs fail, so nothing leaves the inbox meanwhile.
    rig.s
        .h
        .admin_post("faults", json!({"rate": 1.0, "kinds": ["status503"]}))
        .await;
    let bodies: Vec<String> = people
        .iter()
        .enumerate()
        .map(|(i, (_, ghl_id))| event("ContactUpdate", &location, ghl_id, &format!("q-{i}")))
        .collect();
    for body in &bodies[..3] {
        let (status, answer) = rig.ghl_ed25519(body).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = rig.ghl_ed25519(&bodies[3]).await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["retry_after"], "60");
    assert_eq!(rig.s.ctx.store.inbox_len(), 3);
    rig.s.h.admin_post("faults", json!({"rate": 0.0})).await;
    // GHL delivers again after a 429 (the same body and webhookId); it gets in once the
    // worker's next try has made room.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (status, answer) = rig.ghl_ed25519(&bodies[3]).await;
        if status == 200 {
            assert_eq!(answer["duplicate"], false);
            break;
        }
        assert_eq!(status, 429, "{answer}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue never made room"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rig.drained().await;
    for (i, (code, _)) in people.iter().enumerate() {
        assert_eq!(
            rig.website(code).await,
            format!("https://queued{i}.example")
        );
    }
}

#[tokio::test]
async fn deliveries_left_in_the_inbox_are_processed_by_the_next_engine() {
    let s = SyncHarness::start(30).await;
    s.run().await;
    let location = s.h.sandbox.location_id.clone();
    let (code, ghl_id) = s
        .ctx
        .store
        .links(s.ctx.peer_name(), EntityKind::Contact)
        .unwrap()
        .into_iter()
        .find(|(code, _)| code.starts_with("C-"))
        .map(|(code, link)| (code, link.ghl_id))
        .unwrap();
    let update = ghlsync::ghl::models::UpdateContactDto {
        website: Some("https://restart.example".into()),
        ..Default::default()
    };
    s.ctx.ghl.update_contact(&ghl_id, &update).await.unwrap();
    // What a service killed after its 200 leaves: the delivery on disk, not processed.
    let body = event("ContactUpdate", &location, &ghl_id, "before-restart");
    s.ctx
        .store
        .inbox_push("ghl", Some("before-restart"), &body)
        .await
        .unwrap();
    let engine = engine_over(&s);
    let reply = engine
        .call(Command::ServeInbox {
            settings: InboxSettings::default(),
        })
        .await
        .unwrap();
    assert!(matches!(reply, Reply::Done), "{reply:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while s.ctx.store.inbox_len() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "not processed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        s.peer_contact(&code).await.fields["Website"],
        "https://restart.example"
    );
}

/// A `rest` peer (the example connector over the sandbox's generic app) whose app pushes:
/// signed pushes start its incremental run; unsigned, forged and replayed ones do not.
#[tokio::test]
async fn an_app_that_pushes_is_verified_and_its_change_reaches_ghl() {
    use ghlsync::peers::rest::{ConnectorFile, RestPeer};
    let h = common::Harness::with_options(ghlsync::sandbox::SandboxOptions {
        contacts: 30,
        rate_limit: None,
        daily_limit: None,
        ..ghlsync::sandbox::SandboxOptions::default()
    })
    .await;
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/connectors");
    let mapping =
        ghlsync::sync::mapping::Mapping::load(&example.join("crm-offset.mapping.toml")).unwrap();
    h.create_mapping_fields(Some(&mapping)).await;
    let file = ConnectorFile::load(&example.join("crm-offset.toml")).unwrap();
    let secret = "push-secret-for-the-test";
    let secrets = std::collections::BTreeMap::from([
        ("api_token".to_string(), h.sandbox.generic_token.clone()),
        (
            "webhook_secret".to_string(),
            ghlsync::config::Secret::new(secret.to_string()),
        ),
    ]);
    let name = file.name().to_string();
    let peer = RestPeer::new(&name, file, Some(&h.sandbox.generic_base_url), &secrets).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = ghlsync::sync::SyncContext {
        store: ghlsync::store::Store::open(&dir.path().join("store")).unwrap(),
        ghl: h.client(),
        peer: std::sync::Arc::new(peer),
        mapping,
        settings: ghlsync::sync::SyncSettings::default(),
        events: None,
    };
    ghlsync::sync::mapping::resolve_against_location(&mut ctx.mapping, &ctx.ghl)
        .await
        .unwrap();
    ghlsync::sync::run_sync(&ctx, &ghlsync::sync::RunOptions::default())
        .await
        .unwrap();
    let store = ctx.store.clone();
    let engine = start_in_process(ctx, EngineOptions::default());
    let url = serve(&engine, &Keys::new().section(100)).await;
    let http = reqwest::Client::new();
    let push = |headers: Vec<(&'static str, String)>, body: &'static str| {
        let mut request = http.post(format!("{url}/webhooks/peer/{name}")).body(body);
        for (header, value) in headers {
            request = request.header(header, value);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let contact = h.dump().await["generic"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["email"].is_string() && c["city"].is_string())
        .unwrap()
        .clone();
    h.admin_post(
        "generic/contacts",
        json!({"id": contact["id"], "city": "Ushuaia"}),
    )
    .await;
    let body = r#"{"changed":"contacts"}"#;
    let ts = chrono::Utc::now().timestamp().to_string();
    let signed = vec![
        ("X-Ghlsync-Timestamp", ts.clone()),
        (
            "X-Ghlsync-Signature",
            ghlsync::peers::push::signature(secret.as_bytes(), &ts, body.as_bytes()),
        ),
    ];
    assert_eq!(push(Vec::new(), body).await, 401, "unsigned");
    let forged = vec![
        ("X-Ghlsync-Timestamp", ts.clone()),
        (
            "X-Ghlsync-Signature",
            ghlsync::peers::push::signature(b"another secret", &ts, body.as_bytes()),
        ),
    ];
    assert_eq!(push(forged, body).await, 401, "forged");
    assert_eq!(store.inbox_len(), 0);
    assert_eq!(push(signed.clone(), body).await, 200);
    assert_eq!(push(signed, body).await, 200, "a replay is acknowledged");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while store.inbox_len() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "not processed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let runs = store.runs(100).unwrap();
    assert_eq!(
        runs.iter().filter(|run| run.trigger == "push").count(),
        1,
        "the replayed push is not run twice"
    );
    let email = contact["email"].as_str().unwrap().to_ascii_lowercase();
    let dump = h.dump().await;
    assert!(
        dump["ghl"]["contacts"].as_array().unwrap().iter().any(|c| {
            c["email"].as_str().map(str::to_ascii_lowercase).as_deref() == Some(email.as_str())
                && c["city"] == "Ushuaia"
        }),
        "the app's change reached GHL"
    );
}
