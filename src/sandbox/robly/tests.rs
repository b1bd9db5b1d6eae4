//! The emulation's own rules, over a real socket: credentials, newest-first offset paging
//! without a total, `updated_since` in the format of the moment, "already exists", and the 500
//! for an unknown field parameter.

use serde_json::Value;

use crate::sandbox::{SandboxOptions, start};

async fn sandbox() -> crate::sandbox::RunningSandbox {
    start(SandboxOptions {
        contacts: 60,
        rate_limit: None,
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn credentials_paging_and_quirks() {
    let s = sandbox().await;
    let access = &s.robly;
    let http = reqwest::Client::new();
    let auth = format!(
        "api_id={}&api_key={}",
        access.api_id.expose(),
        access.api_key.expose()
    );
    let get = |path: &str| {
        let url = format!("{}/{path}", access.base_url);
        http.get(url).send()
    };
    assert_eq!(get("fields/show").await.unwrap().status(), 401);
    let wrong = format!("fields/show?api_id={}&api_key=nope", access.api_id.expose());
    assert_eq!(get(&wrong).await.unwrap().status(), 403);

    let page = |offset: usize| format!("contacts/show?{auth}&limit=5&offset={offset}");
    let first: Value = get(&page(0)).await.unwrap().json().await.unwrap();
    let rows = first.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let ids: Vec<u64> = rows
        .iter()
        .map(|r| r["member"]["id"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let far: Value = get(&page(10_000)).await.unwrap().json().await.unwrap();
    assert_eq!(far, Value::Array(vec![]), "no total, just an empty page");
    let iso = get(&format!(
        "contacts/show?{auth}&updated_since=2020-01-01T00:00:00Z"
    ))
    .await
    .unwrap();
    assert_eq!(iso.status(), 400, "epoch by default");
    let epoch: Value = get(&format!(
        "contacts/show?{auth}&updated_since=9999999999&limit=100"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(epoch, Value::Array(vec![]));

    let email = rows[0]["member"]["email"].as_str().unwrap().to_string();
    let post = |query: String| http.post(format!("{}/{query}", access.base_url)).send();
    let encoded: String = url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
    let again: Value = post(format!(
        "sign_up/generate?{auth}&email={encoded}&welcome_email=false&double_opt_in=false&include_autoresponder=false&include_automations=false"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(again["successful"], true);
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    let unknown = post(format!(
        "sign_up/generate?{auth}&email=new%40x.io&favourite_colour=red"
    ))
    .await
    .unwrap();
    assert_eq!(unknown.status(), 500, "an unknown field parameter");
    s.shutdown().await;
}
