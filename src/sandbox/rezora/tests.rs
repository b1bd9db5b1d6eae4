//! The Rezora emulation over a real socket, started with the whole sandbox: formats by
//! extension, the `data` wrapper, credential levels, locks and the seed's special records.

use serde_json::{Value, json};

use crate::sandbox::{RunningSandbox, SandboxOptions, start};

async fn sandbox() -> RunningSandbox {
    match start(SandboxOptions {
        contacts: 40,
        ..SandboxOptions::default()
    })
    .await
    {
        Ok(sb) => sb,
        Err(e) => panic!("sandbox did not start: {e}"),
    }
}

fn call(sb: &RunningSandbox, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    let access = &sb.rezora;
    reqwest::Client::new()
        .request(method, format!("{}{path}", access.base_url))
        .basic_auth(&access.username, Some(access.password.expose()))
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn info(sb: &RunningSandbox) -> Value {
    reqwest::get(format!("{}/_sandbox/rezora/info", sb.base_url))
        .await
        .expect("info")
        .json()
        .await
        .expect("info json")
}

#[tokio::test]
async fn the_extension_chooses_the_format_and_bodies_are_wrapped() {
    let sb = sandbox().await;
    let (status, rows) = answer(call(&sb, reqwest::Method::GET, "/contacts.json")).await;
    assert_eq!(status, 200);
    let rows = rows.as_array().expect("an array");
    let figures = info(&sb).await["seed"].clone();
    let seeded = figures["fromGhl"].as_u64().unwrap() + figures["rezoraOnly"].as_u64().unwrap() + 1;
    assert_eq!(rows.len() as u64, seeded, "{figures}");
    assert!(rows.iter().all(|r| r["contact_id"].is_string()));
    let plain = call(&sb, reqwest::Method::GET, "/contacts")
        .send()
        .await
        .expect("plain");
    assert!(
        plain.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(plain.text().await.unwrap().contains("contact_email="));
    let (status, body) =
        answer(call(&sb, reqwest::Method::POST, "/lists.json").json(&json!({"list_name": "Bare"})))
            .await;
    assert_eq!(status, 400, "{body}");
    assert!(body[0]["message"].as_str().unwrap().contains("data"));
    let (status, body) = answer(
        call(&sb, reqwest::Method::POST, "/lists.json")
            .json(&json!({"data": {"list_name": "Wrapped"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body[0]["list_id"].as_str().is_some(), "{body}");
    let (status, body) = answer(
        call(&sb, reqwest::Method::POST, "/contacts.json")
            .json(&json!({"data": {"contact_email": "new@x.example", "contact_name": "N X"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body[0]["contact_id"]
        .as_str()
        .expect("the new id")
        .to_string();
    let (status, body) = answer(
        call(&sb, reqwest::Method::PUT, &format!("/contacts/{id}.json"))
            .json(&json!({"data": {"contact_type": "Hot"}})),
    )
    .await;
    assert_eq!((status, body), (200, json!([{"status": "200"}])));
}

#[tokio::test]
async fn levels_locks_and_the_primary_sphere() {
    let sb = sandbox().await;
    let access = &sb.rezora;
    let client = reqwest::Client::new();
    let (status, _) = answer(
        client
            .get(format!("{}/contacts.json", access.base_url))
            .basic_auth(
                &access.company_username,
                Some(access.company_password.expose()),
            ),
    )
    .await;
    assert_eq!(status, 403, "company credentials do not reach contacts");
    let (status, agents) = answer(
        client
            .get(format!("{}/agents.json", access.base_url))
            .basic_auth(
                &access.company_username,
                Some(access.company_password.expose()),
            ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(agents.as_array().map(Vec::len), Some(2));
    let (status, _) = answer(client.get(format!("{}/contacts.json", access.base_url))).await;
    assert_eq!(status, 401);

    let info = info(&sb).await;
    let locked = info["locked"][0].as_str().unwrap().to_string();
    let (status, body) = answer(
        call(
            &sb,
            reqwest::Method::PUT,
            &format!("/contacts/{locked}.json"),
        )
        .json(&json!({"data": {"contact_type": "Hot"}})),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body[0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be edited")
    );
    let sphere = info["primarySphereId"].as_str().unwrap();
    let (status, _) = answer(call(
        &sb,
        reqwest::Method::DELETE,
        &format!("/lists/{sphere}.json"),
    ))
    .await;
    assert_eq!(status, 403);

    // Query auth, switched live.
    reqwest::Client::new()
        .post(format!("{}/_sandbox/rezora/settings", sb.base_url))
        .json(&json!({"auth": "query"}))
        .send()
        .await
        .expect("settings");
    let (status, _) = answer(call(&sb, reqwest::Method::GET, "/lists.json")).await;
    assert_eq!(status, 401, "Basic no longer counts");
    let (status, _) = answer(
        client
            .get(format!("{}/lists.json", access.base_url))
            .query(&[
                ("username", access.username.as_str()),
                ("password", access.password.expose()),
            ]),
    )
    .await;
    assert_eq!(status, 200);
}
