//! Section 2: requests per record. ghlsync's contact sync with Repsly — the first run, a run
//! with 1 % of GHL's contacts changed, one change arriving by webhook — next to the naive
//! poller: every run reads every peer record and writes each into GHL with one call.

use crate::Figure;
use crate::naive::NaiveClient;
use crate::repsly_engine;
use crate::stats::{Delta, Stats};
use ghlsync::peers::EntityKind;
use ghlsync::sandbox::{self, SandboxOptions};
use ghlsync::sync::{RunOptions, run_sync};
use serde_json::json;
use std::time::Duration;

pub async fn measure(contacts: usize) -> Vec<Figure> {
    // Counts do not depend on the limit: the sandbox runs without one.
    let sandbox = sandbox::start(SandboxOptions {
        contacts,
        rate_limit: None,
        daily_limit: None,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts");
    let engine = repsly_engine::start(&sandbox, 5).await;
    let ctx = engine.ctx.clone();
    let http = reqwest::Client::new();
    let token = sandbox.token.expose().to_string();
    let naive = NaiveClient::new(&sandbox.base_url, &token, Duration::from_millis(100));
    let contacts_only = RunOptions {
        entities: vec![EntityKind::Contact],
        ..RunOptions::default()
    };
    let sync = |options: RunOptions| {
        let ctx = ctx.clone();
        async move {
            tokio::spawn(async move { run_sync(&ctx, &options).await })
                .await
                .expect("the run's task ends")
                .expect("run completes")
        }
    };
    let measured = |label: &'static str, delta: &Delta, records: usize| {
        println!(
            "   {label:<32} {:>6} GHL + {:>6} Repsly requests = {:.3} GHL requests per contact",
            delta.ghl,
            delta.peer,
            delta.ghl as f64 / records.max(1) as f64
        );
    };

    let before = Stats::read(&http, &sandbox.base_url).await;
    let first = sync(contacts_only.clone()).await;
    let initial = Delta::between(&before, &Stats::read(&http, &sandbox.base_url).await);
    let ghl_ids: Vec<String> = ctx
        .ghl
        .list_all_contacts(None, 100, usize::MAX)
        .await
        .expect("GHL's contacts")
        .into_iter()
        .map(|c| c.id)
        .collect();
    let records = ghl_ids.len();
    println!(
        "   ghlsync, contacts only: {records} contacts in GHL after the first run; counts {:?}",
        first.run.counts
    );
    measured("ghlsync first run", &initial, records);

    let changed: Vec<&String> = ghl_ids.iter().step_by(100).collect();
    for (n, id) in changed.iter().enumerate() {
        let body = json!({"city": format!("Changed {n}")});
        let sent = naive
            .send(
                reqwest::Method::PUT,
                &format!("/contacts/{id}"),
                Some(&body),
            )
            .await;
        assert_eq!(sent.status, 200, "a GHL contact changes");
    }
    let before = Stats::read(&http, &sandbox.base_url).await;
    let second = sync(contacts_only.clone()).await;
    let incremental = Delta::between(&before, &Stats::read(&http, &sandbox.base_url).await);
    println!(
        "   {} GHL contacts changed (1 %); the next run's counts {:?}",
        changed.len(),
        second.run.counts
    );
    measured("ghlsync run, 1 % changed", &incremental, records);

    // A contact linked to a Repsly client (not one of the seed's dirty records that failed).
    let linked = ctx
        .store
        .links("repsly", EntityKind::Contact)
        .expect("the store's links");
    let id = &linked
        .iter()
        .map(|(_, link)| link.ghl_id.clone())
        .find(|id| !changed.contains(&id))
        .expect("a linked contact");
    let body = json!({"city": "Changed by a webhook"});
    assert_eq!(
        naive
            .send(
                reqwest::Method::PUT,
                &format!("/contacts/{id}"),
                Some(&body)
            )
            .await
            .status,
        200
    );
    let before = Stats::read(&http, &sandbox.base_url).await;
    // What the service's inbox worker runs for a `ContactUpdate` webhook.
    let targeted = sync(RunOptions {
        trigger: "webhook".into(),
        ghl_contacts: vec![id.clone()],
        ..RunOptions::default()
    })
    .await;
    let webhook = Delta::between(&before, &Stats::read(&http, &sandbox.base_url).await);
    println!(
        "   ghlsync, one GHL change by webhook: {} GHL + {} Repsly requests; counts {:?}",
        webhook.ghl, webhook.peer, targeted.run.counts
    );

    let before = Stats::read(&http, &sandbox.base_url).await;
    let written = naive_poll(&ctx, &naive).await;
    let poll = Delta::between(&before, &Stats::read(&http, &sandbox.base_url).await);
    println!(
        "   naive poller, one run: {written} peer records written to GHL, one call each ({} 429s)",
        poll.too_many
    );
    measured("naive poller, any run", &poll, records);
    sandbox.shutdown().await;

    let per = |d: &Delta| format!("{:.3}", d.ghl as f64 / records.max(1) as f64);
    vec![
        Figure::new(
            "GHL requests per contact: first sync",
            per(&initial),
            per(&poll),
            "—",
        ),
        Figure::new(
            "… a run with 1 % changed",
            per(&incremental),
            per(&poll),
            "—",
        ),
        Figure::new(
            "GHL requests per change by webhook",
            webhook.ghl.to_string(),
            format!("{} (a whole poll)", poll.ghl),
            "—",
        ),
    ]
}

/// One run of the naive poller: read every Repsly client, upsert each into GHL with one call.
async fn naive_poll(ctx: &ghlsync::sync::SyncContext, naive: &NaiveClient) -> usize {
    let mut cursor: Option<String> = None;
    let mut written = 0;
    loop {
        let page = ctx
            .peer
            .fetch_changes(EntityKind::Contact, cursor.as_deref())
            .await
            .expect("a page of Repsly clients");
        for record in &page.records {
            let field = |name: &str| record.fields.get(name).cloned().unwrap_or_default();
            let body = json!({
                "locationId": ctx.ghl.location_id(),
                "companyName": field("Name"),
                "email": field("Email"),
                "city": field("City"),
            });
            naive
                .send(reqwest::Method::POST, "/contacts/upsert", Some(&body))
                .await;
            written += 1;
        }
        if page.done || page.records.is_empty() {
            return written;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return written,
        }
    }
}
