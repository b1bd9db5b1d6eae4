//! The running sandbox the GHL checks talk to: the ids valid requests need, raw HTTP, and
//! the records each case acts on, made fresh.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::common::Harness;
use super::ghl_ops::{Auth, Ctx, Setup};

impl Ctx {
    pub async fn start() -> Ctx {
        let h = Harness::start(5).await;
        let info = h.admin_get("info").await;
        let location = h.sandbox.location_id.clone();
        let calendar = info["calendars"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["locationId"] == json!(location))
            .expect("a calendar in the location")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let client = info["clientId"].as_str().unwrap();
        let app_id = client
            .split_once('-')
            .map_or(client, |(a, _)| a)
            .to_string();
        let agency = h.admin_post("tokens", json!({"userType": "Company"})).await;
        let mut cx = Ctx {
            location,
            company: info["companyId"].as_str().unwrap().to_string(),
            app_id,
            calendar,
            text_fields: Vec::new(),
            agency_token: agency["access_token"].as_str().unwrap().to_string(),
            seeded: Vec::new(),
            turn: Default::default(),
            h,
        };
        let path = format!("/contacts/?locationId={}&limit=100", cx.location);
        cx.seeded = cx.ids_listed(&path, "contacts", |_| true).await;
        let path = format!("/locations/{}/customFields", cx.location);
        cx.text_fields = cx
            .ids_listed(&path, "customFields", |f| f["dataType"] == "TEXT")
            .await;
        assert!(
            !cx.text_fields.is_empty(),
            "the seed has TEXT custom fields"
        );
        cx
    }

    /// The ids of the records under `key` in the location's answer to `GET path`, kept by `keep`.
    async fn ids_listed(
        &self,
        path: &str,
        key: &str,
        keep: impl Fn(&Value) -> bool,
    ) -> Vec<String> {
        let (status, answer) = self
            .send("GET", path, Some("2021-07-28"), Auth::Location, None)
            .await;
        assert_eq!(status, 200, "{answer}");
        answer[key]
            .as_array()
            .unwrap()
            .iter()
            .filter(|record| keep(record))
            .map(|record| record["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// `body`: `(is_form, raw text)`, sent as it is.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        version: Option<&str>,
        auth: Auth,
        body: Option<(bool, String)>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.h.http.request(method, self.h.url(path));
        match auth {
            Auth::Location => request = request.bearer_auth(self.h.sandbox.token.expose()),
            Auth::Agency => request = request.bearer_auth(&self.agency_token),
            Auth::Client => {}
        }
        if let Some(version) = version {
            request = request.header("Version", version);
        }
        if let Some((form, text)) = body {
            let kind = if form {
                "application/x-www-form-urlencoded"
            } else {
                "application/json"
            };
            request = request.header("Content-Type", kind).body(text);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, version: &str, body: Value) -> Value {
        let (status, answer) = self
            .send(
                "POST",
                path,
                Some(version),
                Auth::Location,
                Some((false, body.to_string())),
            )
            .await;
        assert!(
            (200..300).contains(&status),
            "setup {path}: {status} {answer}"
        );
        answer
    }

    /// The records an operation acts on, made fresh for each case, by path parameter name.
    pub async fn setup(&self, setup: Setup) -> BTreeMap<&'static str, String> {
        let mut ids = BTreeMap::from([
            ("locationId", self.location.clone()),
            ("businessId", "contract-business".to_string()),
        ]);
        if setup == Setup::Refresh {
            let t = self.h.admin_post("tokens", json!({})).await;
            ids.insert("refresh", t["refresh_token"].as_str().unwrap().to_string());
        }
        if setup == Setup::Seeded {
            let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ids.insert("contactId", self.seeded[turn % self.seeded.len()].clone());
        }
        if matches!(setup, Setup::Nothing | Setup::Refresh | Setup::Seeded) {
            return ids;
        }
        let body = json!({"locationId": self.location, "firstName": "Contract"});
        let contact = self.post("/contacts/", "2021-07-28", body).await;
        let contact = contact["contact"]["id"].as_str().unwrap().to_string();
        let on = |what: &str| format!("/contacts/{contact}/{what}");
        match setup {
            Setup::Task => {
                let body =
                    json!({"title": "t", "dueDate": "2026-01-01T10:00:00Z", "completed": false});
                let task = self.post(&on("tasks"), "2021-07-28", body).await;
                ids.insert("taskId", task["task"]["id"].as_str().unwrap().to_string());
            }
            Setup::Note => {
                let note = self
                    .post(&on("notes"), "2021-07-28", json!({"body": "n"}))
                    .await;
                ids.insert("id", note["note"]["id"].as_str().unwrap().to_string());
            }
            Setup::Appointment => {
                let body = json!({"calendarId": self.calendar, "locationId": self.location,
                    "contactId": contact, "startTime": "2026-03-02T10:00:00Z"});
                let event = self
                    .post("/calendars/events/appointments", "2021-04-15", body)
                    .await;
                ids.insert("eventId", event["id"].as_str().unwrap().to_string());
            }
            _ => {}
        }
        ids.insert("contactId", contact);
        ids
    }
}
