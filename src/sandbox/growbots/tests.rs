#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::sandbox::{SandboxOptions, start};

/// The exports overlap GHL's people, need the token, and meet a queued HTML fault once.
#[tokio::test]
async fn exports_are_seeded_guarded_and_faultable() {
    let sandbox = start(SandboxOptions {
        contacts: 30,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/exports/prospects.csv", sandbox.growbots.base_url);
    let denied = http.get(&url).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    let get = || {
        http.get(&url)
            .bearer_auth(sandbox.growbots.token.expose())
            .send()
    };
    let text = get().await.unwrap().text().await.unwrap();
    assert!(
        text.starts_with("First Name,Last Name,Email,Company"),
        "{text}"
    );
    assert_eq!(text, sandbox.growbots.prospects_csv);
    let dump: serde_json::Value = http
        .get(format!("{}/_sandbox/dump", sandbox.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ghl_emails: Vec<String> = dump["ghl"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["email"].as_str().map(str::to_lowercase))
        .collect();
    let overlap = dump["growbots"]["prospects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| ghl_emails.contains(&p["Email"].as_str().unwrap().to_lowercase()))
        .count();
    assert!(overlap >= 5, "{overlap}");
    http.post(format!("{}/_sandbox/growbots/faults", sandbox.base_url))
        .json(&serde_json::json!({"next": ["html"]}))
        .send()
        .await
        .unwrap();
    let html = get().await.unwrap();
    assert_eq!(html.status(), 502);
    assert!(html.text().await.unwrap().contains("<html>"));
    assert_eq!(get().await.unwrap().status(), 200);
}
