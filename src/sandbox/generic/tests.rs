//! The generic app over a real socket, started with the whole sandbox: its refusals, its seed
//! and its live shape.

use serde_json::{Value, json};

use super::GenericOptions;
use crate::sandbox::{RunningSandbox, SandboxOptions, start};

async fn sandbox() -> RunningSandbox {
    match start(SandboxOptions {
        contacts: 30,
        ..SandboxOptions::default()
    })
    .await
    {
        Ok(sb) => sb,
        Err(e) => panic!("sandbox did not start: {e}"),
    }
}

fn call(sb: &RunningSandbox, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", sb.generic_base_url))
        .bearer_auth(sb.generic_token.expose())
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn admin(sb: &RunningSandbox, path: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{}/_sandbox/generic/{path}", sb.base_url))
        .json(&body)
        .send()
        .await
        .expect("admin request")
        .json()
        .await
        .expect("admin json")
}

#[tokio::test]
async fn lists_refuse_what_the_shape_does_not_take() {
    let sb = sandbox().await;
    let get = |path: &str| call(&sb, reqwest::Method::GET, path);
    let (status, body) = answer(get("/contacts?limit=5&offset=0")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().map(Vec::len), Some(5));
    assert!(body["meta"]["total"].as_u64().unwrap() > 5);
    let (status, body) = answer(get("/contacts?page=2")).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("limit, offset, updated_since"),
        "{body}"
    );
    admin(&sb, "settings", json!({"incremental": false})).await;
    let (status, _) = answer(get("/contacts?updated_since=2024-01-01T00:00:00Z")).await;
    assert_eq!(status, 400, "an app without the parameter refuses it");
    let (status, _) = answer(get("/contacts?limit=500")).await;
    assert_eq!(status, 400);
    let unauthenticated = reqwest::Client::new().get(format!("{}/contacts", sb.generic_base_url));
    assert_eq!(answer(unauthenticated).await.0, 401);
}

#[tokio::test]
async fn writes_are_checked_like_an_app_would() {
    let sb = sandbox().await;
    let post = || call(&sb, reqwest::Method::POST, "/contacts");
    let (status, body) = answer(post().json(&json!({"email": "bob@", "shoe_size": "9"}))).await;
    assert_eq!(status, 422);
    assert!(
        body["errors"]["email"].is_array() && body["errors"]["shoe_size"].is_array(),
        "{body}"
    );
    let (status, body) = answer(post().json(&json!({"email": "Zed@Example.test"}))).await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = answer(post().json(&json!({"email": "zed@example.test"}))).await;
    assert_eq!(status, 409, "the same email in another case is taken");
    let id = body["data"]["id"].clone();
    let (status, note) = answer(
        call(&sb, reqwest::Method::POST, "/notes").json(&json!({"contact_id": id, "body": "hi"})),
    )
    .await;
    assert_eq!((status, &note["data"]["contact_id"]), (201, &id));
    let (status, _) =
        answer(call(&sb, reqwest::Method::POST, "/notes").json(&json!({"body": "orphan"}))).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn the_seed_overlaps_ghl_and_repsly_and_the_shape_changes_live() {
    let sb = sandbox().await;
    let info: Value = reqwest::get(format!("{}/_sandbox/generic/info", sb.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seed = &info["seed"];
    assert!(seed["fromGhl"].as_u64().unwrap() > 5, "{info}");
    assert!(seed["alsoInRepsly"].as_u64().unwrap() > 0, "{info}");
    assert!(seed["genericOnly"].as_u64().unwrap() >= 2, "{info}");
    assert!(seed["notes"].as_u64().unwrap() > 0, "{info}");
    let shape = admin(
        &sb,
        "settings",
        json!({"stringIds": true, "paging": "cursor"}),
    )
    .await;
    let options: GenericOptions = serde_json::from_value(shape).unwrap();
    assert!(options.string_ids);
    let (_, body) = answer(call(&sb, reqwest::Method::GET, "/contacts?limit=2")).await;
    assert!(
        body["data"][0]["id"].as_str().unwrap().starts_with("ct_"),
        "{body}"
    );
    assert!(body["meta"]["next_cursor"].is_string(), "{body}");
    // The same seed gives the same data.
    let again = sandbox().await;
    let (_, other) = answer(call(&again, reqwest::Method::GET, "/contacts?limit=3")).await;
    let (_, first) = answer(call(&sb, reqwest::Method::GET, "/contacts?limit=3")).await;
    assert_eq!(other["data"][0]["email"], first["data"][0]["email"]);
}
