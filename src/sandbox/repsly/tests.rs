//! The Repsly emulation over a real socket, started with the whole sandbox.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::sandbox::{RunningSandbox, SandboxOptions, start};

async fn sandbox(contacts: usize) -> RunningSandbox {
    let opts = SandboxOptions {
        contacts,
        ..SandboxOptions::default()
    };
    match start(opts).await {
        Ok(sb) => sb,
        Err(e) => panic!("sandbox did not start: {e}"),
    }
}

fn get(sb: &RunningSandbox, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .get(format!("{}{path}", sb.repsly_base_url))
        .basic_auth(&sb.repsly_username, Some(sb.repsly_password.expose()))
}

fn post(sb: &RunningSandbox, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}{path}", sb.repsly_base_url))
        .basic_auth(&sb.repsly_username, Some(sb.repsly_password.expose()))
}

async fn admin(sb: &RunningSandbox, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sb.base_url))
        .json(&body)
        .send()
        .await
        .expect("admin request");
    response.json().await.unwrap_or(Value::Null)
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let response = req.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Walks `export/clients` from 0; returns (code → TimeStamp) in walk order and the last cursor.
async fn walk(sb: &RunningSandbox) -> (Vec<(String, i64)>, i64) {
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let (status, body) = send(get(sb, &format!("/export/clients/{cursor}"))).await;
        assert_eq!(status, 200, "{body}");
        let meta = &body["MetaCollectionResult"];
        let rows = body["Clients"].as_array().cloned().unwrap_or_default();
        assert_eq!(meta["TotalCount"], rows.len());
        assert!(rows.len() <= 50);
        if rows.is_empty() {
            assert_eq!(meta["LastTimeStamp"], cursor);
            return (seen, cursor);
        }
        let last = meta["LastTimeStamp"].as_i64().unwrap_or_default();
        assert!(last > cursor);
        for row in &rows {
            let ts = row["TimeStamp"].as_i64().unwrap_or_default();
            assert!(ts > cursor && ts <= last);
            seen.push((row["Code"].as_str().unwrap_or_default().to_string(), ts));
        }
        cursor = last;
    }
}

async fn job_status(sb: &RunningSandbox, message: &Value) -> (u64, Value) {
    let text = message["Message"].as_str().unwrap_or_default();
    let id: u64 = text
        .rsplit(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("job id in the message");
    let (status, body) = send(get(sb, &format!("/export/importStatus/{id}"))).await;
    assert_eq!(status, 200);
    (id, body)
}

#[tokio::test]
async fn exports_pages_imports_and_errors_like_repsly() {
    let sb = sandbox(300).await;
    assert_eq!(sb.repsly_base_url, format!("{}/repsly/v3", sb.base_url));

    let (status, first) = send(get(&sb, "/export/clients/0")).await;
    assert_eq!(status, 200);
    assert_eq!(first["Clients"].as_array().map(Vec::len), Some(50));
    assert_eq!(first["MetaCollectionResult"]["TotalCount"], 50);
    assert_eq!(
        first["MetaCollectionResult"]["LastTimeStamp"],
        first["Clients"][49]["TimeStamp"]
    );
    let (seen, end) = walk(&sb).await;
    let codes: HashSet<&String> = seen.iter().map(|(c, _)| c).collect();
    assert_eq!(codes.len(), seen.len(), "each client once");
    assert!(seen.len() > 150, "{} clients", seen.len());

    // Wrong password, no auth.
    let (status, body) = send(
        reqwest::Client::new()
            .get(format!("{}/export/clients/0", sb.repsly_base_url))
            .basic_auth(&sb.repsly_username, Some("wrong")),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body["Message"],
        "Authorization has been denied for this request."
    );
    let (status, _) =
        send(reqwest::Client::new().get(format!("{}/export/clients/0", sb.repsly_base_url))).await;
    assert_eq!(status, 401);

    // Malformed JSON: IIS's HTML page. Wrong shape: {"Code":1}.
    let response = post(&sb, "/import/client")
        .header("Content-Type", "application/json")
        .body("{\"Code\": \"C-1\", ")
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 400);
    let ct = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(
        response
            .text()
            .await
            .unwrap_or_default()
            .contains("Bad Request")
    );
    let (status, body) = send(post(&sb, "/import/client").json(&json!([{"Code": "x"}]))).await;
    assert_eq!((status, body["Code"].clone()), (400, json!(1)));

    // Async import: Pending, then Completed, then visible after the old cursor.
    admin(
        &sb,
        "/_sandbox/repsly/settings",
        json!({"importDelayMs": 300}),
    )
    .await;
    let (code, old_ts) = seen[0].clone();
    let (status, started) = send(post(&sb, "/import/clientList").json(&json!([
        {"Code": code, "Name": "Renamed by import", "City": "Denver"},
        {"Code": "NEW-1", "Name": "Brand new", "Email": "new@example.com"},
        {"Name": "no code"},
    ])))
    .await;
    assert_eq!((status, started["Code"].clone()), (200, json!(0)));
    assert!(
        started["Message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Client import job started asynchronously under ID: ")
    );
    let (id, pending) = job_status(&sb, &started).await;
    assert_eq!(pending["ImportStatus"], "Pending");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, done) = job_status(&sb, &started).await;
    assert_eq!(done["ImportStatus"], "Completed", "{done}");
    assert_eq!(
        (
            &done["RowsInserted"],
            &done["RowsUpdated"],
            &done["RowsInvalid"],
            &done["RowsTotal"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(3))
    );
    assert_eq!(done["Errors"].as_array().map(Vec::len), Some(1));
    let (status, page) = send(get(&sb, &format!("/export/clients/{end}"))).await;
    assert_eq!(status, 200);
    let rows = page["Clients"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2, "{page}");
    let renamed = rows
        .iter()
        .find(|r| r["Code"] == code.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(renamed["Name"], "Renamed by import");
    assert!(renamed["TimeStamp"].as_i64().unwrap_or_default() > old_ts);
    let (status, one) = send(get(&sb, "/export/internal/client/NEW-1")).await;
    assert_eq!(
        (status, one["Email"].clone()),
        (200, json!("new@example.com"))
    );
    let (status, _) = send(get(&sb, "/export/importStatus/1")).await;
    assert_eq!(status, 404);
    let (status, _) = send(get(&sb, &format!("/export/importStatus/{id}"))).await;
    assert_eq!(status, 200);

    // Notes, schedules, visits.
    let (_, notes) = send(get(&sb, "/export/clientnotes/0")).await;
    assert!(
        notes["MetaCollectionResult"]["LastID"]
            .as_i64()
            .unwrap_or_default()
            > 0
    );
    assert!(
        notes["ClientNotes"][0]["DateAndTime"]
            .as_str()
            .unwrap_or_default()
            .starts_with("/Date(")
    );
    let today = chrono::Utc::now().date_naive();
    let window = format!(
        "{}/{}",
        today - chrono::Days::new(7),
        today + chrono::Days::new(30)
    );
    let (_, extended) = send(get(&sb, &format!("/export/schedules/{window}"))).await;
    assert!(
        extended["VisitSchedules"][0]["ScheduleCode"].is_string(),
        "{extended}"
    );
    let (_, legacy) = send(get(&sb, &format!("/export/visitschedules/{window}"))).await;
    assert!(legacy["VisitSchedules"][0]["ScheduleDateAndTime"].is_string());
    assert!(legacy["VisitSchedules"][0].get("ScheduleCode").is_none());
    let (status, _) = send(get(&sb, "/export/visits/0")).await;
    assert_eq!(status, 200);

    // Shared faults and stats.
    admin(
        &sb,
        "/_sandbox/faults",
        json!({"next": [
        {"route": "GET /repsly/v3/export/clients/:lastTimeStamp", "kind": "status503"}]}),
    )
    .await;
    let (status, _) = send(get(&sb, "/export/clients/0")).await;
    assert_eq!(status, 503);
    let stats: Value = reqwest::get(format!("{}/_sandbox/stats", sb.base_url))
        .await
        .expect("stats")
        .json()
        .await
        .unwrap_or(Value::Null);
    let rows = stats["requests"].as_array().cloned().unwrap_or_default();
    let count = |route: &str, status: u16| {
        rows.iter()
            .find(|r| r["route"] == route && r["status"] == status)
            .map_or(0, |r| r["count"].as_u64().unwrap_or_default())
    };
    assert!(
        count("/repsly/v3/export/clients/:lastTimeStamp", 200) > 5,
        "{stats}"
    );
    assert_eq!(count("/repsly/v3/export/clients/:lastTimeStamp", 503), 1);
    assert_eq!(count("/repsly/v3/export/clients/:lastTimeStamp", 401), 2);
    assert_eq!(stats["repsly"]["importJobs"], 1);

    // Reset reseeds Repsly too.
    admin(&sb, "/_sandbox/reset", json!({})).await;
    let (status, _) = send(get(&sb, "/export/internal/client/NEW-1")).await;
    assert_eq!(status, 404);
    sb.shutdown().await;
}

#[tokio::test]
async fn admin_edits_bump_timestamps_and_schedules_import() {
    let sb = sandbox(100).await;
    admin(
        &sb,
        "/_sandbox/repsly/settings",
        json!({"importDelayMs": 0}),
    )
    .await;
    let (_, end) = walk(&sb).await;
    let edited = admin(
        &sb,
        "/_sandbox/repsly/clients",
        json!({"Code": "C-000100", "Phone": "n/a"}),
    )
    .await;
    assert_eq!(edited["outcome"], "updated", "{edited}");
    let again = admin(
        &sb,
        "/_sandbox/repsly/clients",
        json!({"Code": "C-000100", "Phone": "n/a"}),
    )
    .await;
    assert_eq!(again["outcome"], "unchanged");
    let (_, page) = send(get(&sb, &format!("/export/clients/{end}"))).await;
    assert_eq!(page["MetaCollectionResult"]["TotalCount"], 1);
    let note = admin(
        &sb,
        "/_sandbox/repsly/notes",
        json!({"ClientCode": "C-000100", "Note": "hi"}),
    )
    .await;
    let id = note["ClientNoteID"].as_i64().unwrap_or_default();
    let (_, notes) = send(get(&sb, &format!("/export/clientnotes/{}", id - 1))).await;
    assert_eq!(notes["ClientNotes"][0]["Note"], "hi");

    let (status, started) = send(post(&sb, "/import/schedule").json(&json!({
        "ScheduleCode": "", "ClientCode": "C-000100", "UserID": "REP02",
        "ScheduledDate": "2031-01-06", "ScheduledTime": "09:30",
        "Tasks": [{"TaskType": "Note", "TaskDescription": "Say hi"}]
    })))
    .await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, done) = job_status(&sb, &started).await;
    assert_eq!(
        (&done["ImportStatus"], &done["RowsInserted"]),
        (&json!("Completed"), &json!(1))
    );
    let (_, s) = send(get(&sb, "/export/schedules/2031-01-06/2031-01-06")).await;
    assert_eq!(s["VisitSchedules"][0]["ScheduledDuration"], 30);
    let (status, body) = send(get(&sb, "/export/clients/abc")).await;
    assert_eq!(
        (status, body["Message"].clone()),
        (400, json!("The request is invalid."))
    );
    let (status, _) = send(get(&sb, "/export/nothing")).await;
    assert_eq!(status, 404);
    sb.shutdown().await;
}
