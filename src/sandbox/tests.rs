//! Over-the-socket checks of the sandbox itself (the client's integration tests live in tests/).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

const HEADERS: [&str; 5] = [
    "x-ratelimit-limit-daily",
    "x-ratelimit-daily-remaining",
    "x-ratelimit-interval-milliseconds",
    "x-ratelimit-max",
    "x-ratelimit-remaining",
];

async fn small(contacts: usize) -> RunningSandbox {
    let opts = SandboxOptions {
        contacts,
        ..SandboxOptions::default()
    };
    match start(opts).await {
        Ok(sandbox) => sandbox,
        Err(e) => panic!("sandbox did not start: {e}"),
    }
}

fn get(sb: &RunningSandbox, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .get(format!("{}{path}", sb.base_url))
        .bearer_auth(sb.token.expose())
        .header("Version", "2021-07-28")
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[test]
fn parses_latency() {
    let ms = Duration::from_millis;
    assert_eq!(parse_latency("5ms..50ms"), Ok((ms(5), ms(50))));
    assert_eq!(parse_latency("20ms"), Ok((ms(20), ms(20))));
    assert!(parse_latency("50ms..5ms").is_err());
    assert!(parse_latency("fast..slow").is_err());
}

#[tokio::test]
async fn serves_contacts_with_headers_and_wrapping_key() {
    let started = Instant::now();
    let sb = small(10_000).await;
    println!("started with 10k contacts in {:?}", started.elapsed());
    let response = get(
        &sb,
        &format!("/contacts/?locationId={}&limit=5", sb.location_id),
    )
    .send()
    .await
    .expect("request");
    for name in HEADERS {
        assert!(response.headers().contains_key(name), "missing {name}");
    }
    assert_eq!(response.headers()["x-ratelimit-max"], "100");
    assert_eq!(response.headers()["x-ratelimit-remaining"], "99");
    let (status, body) = json_of(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["contacts"].as_array().map(Vec::len), Some(5));
    assert_eq!(body["meta"]["total"], 10_000);
    assert!(body["traceId"].is_string());
    let id = body["contacts"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, one) = json_of(
        get(&sb, &format!("/contacts/{id}"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(
        (status, one["contact"]["id"].as_str()),
        (200, Some(id.as_str()))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn walks_every_contact_once_across_tied_timestamps() {
    let sb = small(1_100).await;
    let mut seen = std::collections::HashSet::new();
    let mut cursor = String::new();
    for _ in 0..20 {
        let path = format!("/contacts/?locationId={}&limit=100{cursor}", sb.location_id);
        let (status, body) = json_of(get(&sb, &path).send().await.expect("page")).await;
        assert_eq!(status, 200, "{body}");
        let page = body["contacts"].as_array().cloned().unwrap_or_default();
        for contact in &page {
            assert!(
                seen.insert(contact["id"].as_str().unwrap_or_default().to_string()),
                "repeat"
            );
        }
        if page.len() < 100 {
            break;
        }
        let meta = &body["meta"];
        cursor = format!(
            "&startAfter={}&startAfterId={}",
            meta["startAfter"],
            meta["startAfterId"].as_str().unwrap_or_default()
        );
    }
    assert_eq!(seen.len(), 1_100);
    sb.shutdown().await;
}

#[tokio::test]
async fn refuses_like_ghl() {
    let sb = small(20).await;
    let client = reqwest::Client::new();
    let url = format!("{}/contacts/?locationId={}", sb.base_url, sb.location_id);
    let (status, body) = json_of(
        client
            .get(&url)
            .header("Version", "2021-07-28")
            .send()
            .await
            .expect("x"),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Invalid token: access token is invalid"))
    );
    let (status, body) = json_of(
        client
            .get(&url)
            .bearer_auth(sb.token.expose())
            .send()
            .await
            .expect("x"),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Version header is missing"))
    );
    let over = format!("/contacts/?locationId={}&limit=101", sb.location_id);
    let (status, body) = json_of(get(&sb, &over).send().await.expect("x")).await;
    assert_eq!(
        (status, body["message"].clone()),
        (422, json!(["limit must not be greater than 100"]))
    );
    let other = "/contacts/?locationId=someOtherLocation000";
    let (status, _) = json_of(get(&sb, other).send().await.expect("x")).await;
    assert_eq!(status, 403);
    let create = format!("{}/contacts/", sb.base_url);
    let body = json!({"locationId": sb.location_id, "firstName": "Ada", "additionalEmails": []});
    let response = client
        .post(&create)
        .bearer_auth(sb.token.expose())
        .header("Version", "2021-07-28")
        .json(&body)
        .send()
        .await
        .expect("x");
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body["message"].clone()),
        (422, json!(["property additionalEmails should not exist"]))
    );
    let post_raw = |bytes: Vec<u8>| {
        client
            .post(&create)
            .bearer_auth(sb.token.expose())
            .header("Version", "2021-07-28")
            .header("Content-Type", "application/json")
            .body(bytes)
            .send()
    };
    let (status, body) = json_of(post_raw(b"{\"locationId\": ".to_vec()).await.expect("x")).await;
    assert_eq!((status, body["statusCode"].as_u64()), (400, Some(400)));
    let huge = format!("{{\"firstName\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let (status, body) = json_of(post_raw(huge.into_bytes()).await.expect("x")).await;
    assert_eq!((status, body["statusCode"].as_u64()), (413, Some(413)));
    let minted: Value = client
        .post(format!("{}/_sandbox/tokens", sb.base_url))
        .json(&json!({"scopes": ["contacts.readonly"]}))
        .send()
        .await
        .expect("x")
        .json()
        .await
        .expect("json");
    let response = client
        .post(&create)
        .bearer_auth(minted["access_token"].as_str().unwrap_or_default())
        .header("Version", "2021-07-28")
        .json(&json!({"locationId": sb.location_id}))
        .send()
        .await
        .expect("x");
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("The token is not authorized for this scope."))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn dropped_connection_and_create_422_faults() {
    let sb = small(20).await;
    let client = reqwest::Client::new();
    let faults = json!({"next": [
        {"route": "GET /contacts/:contactId", "kind": "drop"},
        {"route": "POST /contacts/", "kind": "create422"},
    ]});
    let set = client
        .post(format!("{}/_sandbox/faults", sb.base_url))
        .json(&faults)
        .send()
        .await
        .expect("x");
    assert_eq!(set.status().as_u16(), 200);
    let outcome = match get(&sb, "/contacts/anything").send().await {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(
        outcome.is_err(),
        "a dropped connection must surface as a transport error"
    );
    let body = json!({"locationId": sb.location_id, "email": "late@example.com"});
    let send = || {
        client
            .post(format!("{}/contacts/", sb.base_url))
            .bearer_auth(sb.token.expose())
            .header("Version", "2021-07-28")
            .json(&body)
            .send()
    };
    assert_eq!(send().await.expect("x").status().as_u16(), 422);
    let (status, dup) = json_of(send().await.expect("x")).await;
    assert_eq!(
        (status, dup["meta"]["matchingField"].as_str()),
        (400, Some("email")),
        "{dup}"
    );
    let stats: Value = client
        .get(format!("{}/_sandbox/stats", sb.base_url))
        .send()
        .await
        .expect("x")
        .json()
        .await
        .expect("j");
    let dropped = stats["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["status"] == 0);
    assert!(dropped, "{stats}");
    sb.shutdown().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_over_http() {
    let sb = small(5).await;
    let client = reqwest::Client::new();
    let refresh = |token: String| {
        client
            .post(format!("{}/oauth/token", sb.base_url))
            .form(&[
                ("client_id", sb.oauth_client_id.clone()),
                ("client_secret", sb.oauth_client_secret.expose().to_string()),
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", token),
            ])
            .send()
    };
    let (status, first) = json_of(
        refresh(sb.refresh_token.expose().to_string())
            .await
            .expect("x"),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["expires_in"], 86_399);
    assert_eq!(first["locationId"].as_str(), Some(sb.location_id.as_str()));
    let (status, again) = json_of(
        refresh(sb.refresh_token.expose().to_string())
            .await
            .expect("x"),
    )
    .await;
    assert_eq!(
        (status, again["error"].as_str()),
        (401, Some("invalid_grant"))
    );
    let next = first["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(refresh(next).await.expect("x").status().as_u16(), 200);
    let code: Value = client
        .post(format!("{}/_sandbox/auth-codes", sb.base_url))
        .json(&json!({}))
        .send()
        .await
        .expect("x")
        .json()
        .await
        .expect("json");
    let exchange = client
        .post(format!("{}/oauth/token", sb.base_url))
        .form(&[
            ("client_id", sb.oauth_client_id.as_str()),
            ("client_secret", sb.oauth_client_secret.expose()),
            ("grant_type", "authorization_code"),
            ("code", code["code"].as_str().unwrap_or_default()),
        ])
        .send()
        .await
        .expect("x");
    let (status, pair) = json_of(exchange).await;
    assert_eq!(
        (status, pair["token_type"].as_str()),
        (200, Some("Bearer")),
        "{pair}"
    );
    let stats: Value = client
        .get(format!("{}/_sandbox/stats", sb.base_url))
        .send()
        .await
        .expect("x")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (
            stats["refreshes"].as_u64(),
            stats["refreshesRejected"].as_u64()
        ),
        (Some(2), Some(1))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn search_pages_by_search_after_and_filters() {
    let sb = small(120).await;
    let client = reqwest::Client::new();
    let search = |body: Value| {
        client
            .post(format!("{}/contacts/search", sb.base_url))
            .bearer_auth(sb.token.expose())
            .header("Version", "2021-07-28")
            .json(&body)
            .send()
    };
    let (status, body) = json_of(
        search(json!({"locationId": sb.location_id}))
            .await
            .expect("x"),
    )
    .await;
    assert_eq!(
        (status, body["message"].clone()),
        (
            422,
            json!(["pageLimit must be a number conforming to the specified constraints"])
        )
    );
    let mut seen = std::collections::HashSet::new();
    let mut after: Option<Value> = None;
    let mut email = String::new();
    loop {
        let mut body = json!({"locationId": sb.location_id, "pageLimit": 50});
        if let Some(after) = &after {
            body["searchAfter"] = after.clone();
        }
        let (status, page) = json_of(search(body).await.expect("x")).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], 120);
        let contacts = page["contacts"].as_array().cloned().unwrap_or_default();
        let Some(last) = contacts.last() else { break };
        after = Some(last["searchAfter"].clone());
        for c in &contacts {
            assert!(seen.insert(c["id"].as_str().unwrap_or_default().to_string()));
            if email.is_empty() && c["email"].as_str().is_some_and(|e| e.contains(".com")) {
                email = c["email"].as_str().unwrap_or_default().to_uppercase();
            }
        }
    }
    assert_eq!(seen.len(), 120);
    let filter = json!({"locationId": sb.location_id, "pageLimit": 10,
        "filters": [{"field": "email", "operator": "eq", "value": email}]});
    let (status, page) = json_of(search(filter).await.expect("x")).await;
    assert_eq!(status, 200);
    assert!(page["total"].as_u64().is_some_and(|n| n >= 1), "{page}");
    sb.shutdown().await;
}
