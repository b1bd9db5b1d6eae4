//! Over-the-socket checks of what convergence scenarios use: `GET /_sandbox/dump`, the 429
//! throttle, the Repsly outage, Repsly's own fault rate, and the after-the-write faults.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;

async fn small(contacts: usize) -> RunningSandbox {
    started(SandboxOptions {
        contacts,
        ..SandboxOptions::default()
    })
    .await
}

async fn started(opts: SandboxOptions) -> RunningSandbox {
    match start(opts).await {
        Ok(sandbox) => sandbox,
        Err(e) => panic!("sandbox did not start: {e}"),
    }
}

fn ghl(sb: &RunningSandbox, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", sb.base_url))
        .bearer_auth(sb.token.expose())
        .header("Version", "2021-07-28")
}

fn repsly(sb: &RunningSandbox, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", sb.repsly_base_url))
        .basic_auth(&sb.repsly_username, Some(sb.repsly_password.expose()))
}

/// The status, or 0 when the connection was dropped (before or during the body).
async fn status_of(req: reqwest::RequestBuilder) -> u16 {
    match req.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            response.bytes().await.map_or(0, |_| status)
        }
        Err(_) => 0,
    }
}

async fn admin(sb: &RunningSandbox, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/_sandbox/{path}", sb.base_url))
        .json(&body)
        .send()
        .await
        .expect("admin request");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

async fn admin_get(sb: &RunningSandbox, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/_sandbox/{path}", sb.base_url))
        .send()
        .await
        .expect("admin request")
        .json()
        .await
        .unwrap_or(Value::Null)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map_or(&[], Vec::as_slice)
}

fn ids_of(rows: &[Value], key: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r[key].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn dump_holds_every_record_of_both_sides_in_a_stable_order() {
    // No burst limit: the test reads every contact's tasks and notes.
    let sb = started(SandboxOptions {
        contacts: 60,
        rate_limit: None,
        ..SandboxOptions::default()
    })
    .await;
    let dump = admin_get(&sb, "dump").await;
    let (g, r) = (&dump["ghl"], &dump["repsly"]);
    assert_eq!(dump["seed"], 42);
    let anchor = dump["seedAnchorMs"].as_i64().unwrap_or(1);
    assert_eq!(anchor % 86_400_000, 0, "a UTC midnight");
    assert_eq!(g["locationId"].as_str(), Some(sb.location_id.as_str()));
    let contacts = list(g, "contacts");
    assert_eq!(contacts.len(), 60, "the primary location only");
    let ids = ids_of(contacts, "id");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "contacts by id");
    assert!(!list(g, "customFields").is_empty() && !list(g, "calendars").is_empty());

    // A contact is what GET /contacts/:id answers, and its children are all there.
    let id = &ids[7];
    let one: Value = ghl(&sb, reqwest::Method::GET, &format!("/contacts/{id}"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(contacts[7], one["contact"]);
    for (kind, key) in [("tasks", "tasks"), ("notes", "notes")] {
        let mut total = 0;
        for id in &ids {
            let path = format!("/contacts/{id}/{kind}");
            let answer: Value = ghl(&sb, reqwest::Method::GET, &path)
                .send()
                .await
                .expect("list")
                .json()
                .await
                .expect("json");
            let api: BTreeSet<String> = ids_of(list(&answer, key), "id").into_iter().collect();
            let dumped: BTreeSet<String> = list(g, key)
                .iter()
                .filter(|c| c["contactId"] == json!(id))
                .map(|c| c["id"].as_str().unwrap_or_default().to_string())
                .collect();
            assert_eq!(api, dumped, "{kind} of {id}");
            total += api.len();
        }
        assert_eq!(list(g, key).len(), total, "no {kind} of another location");
        assert!(total > 0, "the seed has {kind}");
    }
    let appointments = list(g, "appointments");
    assert!(!appointments.is_empty());
    assert!(appointments.iter().all(|a| a["contactId"].is_string()));

    // Repsly: every client (inactive ones too), note, schedule (with its tasks) and visit.
    let info = admin_get(&sb, "repsly/info").await;
    let counts = &info["counts"];
    assert_eq!(
        list(r, "clients").len() as u64,
        counts["clients"].as_u64().unwrap_or(0)
    );
    assert_eq!(
        list(r, "notes").len() as u64,
        counts["notes"].as_u64().unwrap_or(0)
    );
    let schedules = list(r, "schedules");
    assert_eq!(
        schedules.len() as u64,
        counts["schedules"].as_u64().unwrap_or(0)
    );
    assert!(schedules.iter().all(|s| s["Tasks"].is_array()));
    assert_eq!(
        list(r, "visits").len() as u64,
        counts["visits"].as_u64().unwrap_or(0)
    );
    let inactive = list(r, "clients")
        .iter()
        .filter(|c| c["Active"] == false)
        .count();
    assert_eq!(
        inactive as u64,
        info["seed"]["inactive"].as_u64().unwrap_or(0)
    );
    assert!(inactive > 0);
    assert_eq!(r["pendingImportJobs"], 0);

    // Stable, not counted, and current: a new note shows up, nothing else moves.
    assert_eq!(admin_get(&sb, "dump").await, dump);
    assert_eq!(admin_get(&sb, "stats").await["total"], 60 * 2 + 1);
    let path = format!("/contacts/{id}/notes");
    let created = ghl(&sb, reqwest::Method::POST, &path).json(&json!({"body": "Dumped note"}));
    assert_eq!(status_of(created).await, 201);
    let after = admin_get(&sb, "dump").await;
    assert_eq!(
        list(&after["ghl"], "notes").len(),
        list(g, "notes").len() + 1
    );
    assert_eq!(after["repsly"], dump["repsly"]);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_throttle_answers_every_ghl_request_429_then_lifts() {
    let sb = small(5).await;
    let contacts = format!("/contacts/?locationId={}", sb.location_id);
    assert_eq!(
        status_of(ghl(&sb, reqwest::Method::GET, &contacts)).await,
        200
    );
    let set = admin(&sb, "limits", json!({"throttleForMs": 400})).await;
    assert!(set["throttledForMs"].as_u64().unwrap_or(0) > 300, "{set}");
    assert_eq!(set["max"], 100, "a throttle leaves the limits as they are");
    let response = ghl(&sb, reqwest::Method::GET, &contacts)
        .send()
        .await
        .expect("x");
    assert_eq!(response.status().as_u16(), 429);
    let headers = response.headers();
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(headers["x-ratelimit-max"], "100");
    assert!(headers.contains_key("x-ratelimit-daily-remaining"));
    assert!(headers.contains_key("x-ratelimit-interval-milliseconds"));
    let create = ghl(&sb, reqwest::Method::POST, "/contacts/")
        .json(&json!({"locationId": sb.location_id, "email": "throttled@example.com"}));
    assert_eq!(status_of(create).await, 429, "writes too");
    let peer = repsly(&sb, reqwest::Method::GET, "/export/clients/0");
    assert_eq!(status_of(peer).await, 200, "GHL's limit, not Repsly's");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        status_of(ghl(&sb, reqwest::Method::GET, &contacts)).await,
        200
    );
    let stats = admin_get(&sb, "stats").await;
    assert_eq!(stats["rateLimited"], 2, "{stats}");
    // `throttleForMs: 0` ends one early.
    admin(&sb, "limits", json!({"throttleForMs": 60_000})).await;
    assert_eq!(
        status_of(ghl(&sb, reqwest::Method::GET, &contacts)).await,
        429
    );
    let ended = admin(&sb, "limits", json!({"throttleForMs": 0})).await;
    assert_eq!(ended["throttledForMs"], 0);
    assert_eq!(
        status_of(ghl(&sb, reqwest::Method::GET, &contacts)).await,
        200
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_repsly_outage_answers_503_or_drops_then_lifts() {
    let sb = small(20).await;
    let clients = || repsly(&sb, reqwest::Method::GET, "/export/clients/0");
    let contacts = format!("/contacts/?locationId={}", sb.location_id);
    let set = admin(&sb, "repsly/settings", json!({"downForMs": 400})).await;
    assert_eq!(set["downMode"], "503", "{set}");
    assert!(set["downForMs"].as_u64().unwrap_or(0) > 300);
    assert_eq!(status_of(clients()).await, 503);
    let import = repsly(&sb, reqwest::Method::POST, "/import/client")
        .json(&json!({"Code": "DOWN-1", "Name": "Down Co"}));
    assert_eq!(status_of(import).await, 503, "imports too");
    let wrong = reqwest::Client::new()
        .get(format!("{}/export/clients/0", sb.repsly_base_url))
        .basic_auth("nobody", Some("nothing"));
    assert_eq!(status_of(wrong).await, 503, "before authentication");
    assert_eq!(
        status_of(ghl(&sb, reqwest::Method::GET, &contacts)).await,
        200
    );

    admin(&sb, "repsly/settings", json!({"downMode": "drop"})).await;
    assert_eq!(status_of(clients()).await, 0, "dropped");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(status_of(clients()).await, 200);

    admin(&sb, "repsly/settings", json!({"downForMs": 60_000})).await;
    assert_eq!(status_of(clients()).await, 0);
    let up = admin(&sb, "repsly/settings", json!({"downForMs": 0})).await;
    assert_eq!(
        (up["downForMs"].as_u64(), up["downMode"].as_str()),
        (Some(0), Some("drop"))
    );
    assert_eq!(status_of(clients()).await, 200);
    let stats = admin_get(&sb, "stats").await;
    assert_eq!(stats["faultsInjected"]["repslyOutage"], 5, "{stats}");
    let bad = reqwest::Client::new()
        .post(format!("{}/_sandbox/repsly/settings", sb.base_url))
        .json(&json!({"downMode": "sideways"}))
        .send()
        .await
        .expect("x");
    assert_eq!(bad.status().as_u16(), 400);
    sb.shutdown().await;
}

#[tokio::test]
async fn repsly_faults_at_its_own_rate_and_an_import_is_accepted_then_dropped() {
    let sb = small(20).await;
    admin(&sb, "repsly/settings", json!({"importDelayMs": 0})).await;
    let set = admin(
        &sb,
        "faults",
        json!({"rate": 0.0, "repslyRate": 1.0, "kinds": ["dropAfter"]}),
    )
    .await;
    assert_eq!(set["repslyRate"], 1.0, "{set}");
    let import = repsly(&sb, reqwest::Method::POST, "/import/client")
        .json(&json!({"Code": "DROP-1", "Name": "Dropped Co"}));
    assert_eq!(status_of(import).await, 0, "the client hears nothing");
    let contacts = format!("/contacts/?locationId={}", sb.location_id);
    assert_eq!(
        status_of(ghl(&sb, reqwest::Method::GET, &contacts)).await,
        200
    );

    admin(&sb, "faults", json!({"repslyRate": 0.0})).await;
    let mut found = 0;
    for _ in 0..50 {
        found = status_of(repsly(
            &sb,
            reqwest::Method::GET,
            "/export/internal/client/DROP-1",
        ))
        .await;
        if found == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(found, 200, "the job was accepted and ran");

    // Every random kind reaches Repsly; `null` hands it back to the shared rate.
    admin(
        &sb,
        "faults",
        json!({"repslyRate": 1.0, "kinds": ["status503"]}),
    )
    .await;
    let clients = || repsly(&sb, reqwest::Method::GET, "/export/clients/0");
    assert_eq!(status_of(clients()).await, 503);
    admin(&sb, "faults", json!({"repslyRate": null})).await;
    assert_eq!(status_of(clients()).await, 200, "rate 0 again");
    sb.shutdown().await;
}

#[tokio::test]
async fn write422_and_slow_after_write_then_fail_the_client() {
    let sb = small(5).await;
    let faults = admin_get(&sb, "faults").await;
    let kinds = faults["kinds"].to_string();
    assert!(
        kinds.contains("slowAfter") && kinds.contains("write422"),
        "{kinds}"
    );
    let dump = admin_get(&sb, "dump").await;
    let id = dump["ghl"]["contacts"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let notes = format!("/contacts/{id}/notes");
    admin(
        &sb,
        "faults",
        json!({"next": [{"route": "POST /contacts/:contactId/notes", "kind": "write422"}]}),
    )
    .await;
    let create = ghl(&sb, reqwest::Method::POST, &notes).json(&json!({"body": "Twice told"}));
    assert_eq!(status_of(create).await, 422);
    let listed: Value = ghl(&sb, reqwest::Method::GET, &notes)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(
        listed.to_string().contains("Twice told"),
        "written despite the 422"
    );

    admin(
        &sb,
        "faults",
        json!({"slowMs": 1_500, "next": [{"route": "POST /contacts/:contactId/tasks", "kind": "slowAfter"}]}),
    )
    .await;
    let tasks = format!("/contacts/{id}/tasks");
    let body =
        json!({"title": "Late answer", "dueDate": "2030-01-01T10:00:00Z", "completed": false});
    let timed_out = ghl(&sb, reqwest::Method::POST, &tasks)
        .json(&body)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(timed_out.is_err_and(|e| e.is_timeout()));
    let listed: Value = ghl(&sb, reqwest::Method::GET, &tasks)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(
        listed.to_string().contains("Late answer"),
        "written before the wait"
    );
    sb.shutdown().await;
}
