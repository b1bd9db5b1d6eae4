//! Echo suppression (issue 15, §3; sync-design.md §5.2, T6): a thousand edits, alternating
//! between Repsly and GHL, cost exactly a thousand writes — one per edit, on the other side —
//! and nothing comes back: our own write is never news, and quiet runs afterwards write
//! nothing.

mod common;

use common::Harness;
use common::scenario::{context, until_quiet};
use common::sync::{Routes, sandbox_writes};
use ghlsync::ghl::models::UpdateContactDto;
use ghlsync::peers::EntityKind;
use ghlsync::store::Store;
use ghlsync::sync::{RunOptions, run_sync};
use serde_json::json;

const CONTACTS: usize = 300;
const EDITS: usize = 1_000;
const BATCH: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_edits_alternating_sides_cost_a_thousand_writes_and_no_echo() {
    let h = Harness::start(CONTACTS).await;
    h.create_mapping_fields(None).await;
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(
        &h,
        Store::open(&dir.path().join("store")).unwrap(),
        h.client(),
    );
    until_quiet(&h, &ctx).await;

    // Linked pairs, split in two: one half is edited in Repsly, the other in GHL.
    let mut pairs: Vec<(String, String)> = ctx
        .store
        .links("repsly", EntityKind::Contact)
        .unwrap()
        .into_iter()
        .map(|(code, link)| (code, link.ghl_id))
        .filter(|(code, _)| {
            !ctx.store
                .failed_queue()
                .unwrap()
                .iter()
                .any(|op| &op.source_id == code)
        })
        .collect();
    pairs.sort();
    let (repsly_side, ghl_side): (Vec<_>, Vec<_>) =
        pairs.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let per_batch = BATCH / 2;
    assert!(
        repsly_side.len() >= per_batch && ghl_side.len() >= per_batch,
        "{} pairs",
        pairs.len()
    );

    let ghl = h.client();
    let before = sandbox_writes(&h, Routes::All).await;
    let mut own_edits = 0u64;
    for batch in 0..EDITS / BATCH {
        for i in 0..per_batch {
            let (code, _) = &repsly_side[(batch * per_batch + i) % repsly_side.len()].1;
            h.admin_post(
                "repsly/clients",
                json!({"Code": code, "City": format!("Echo City {batch}-{i}")}),
            )
            .await;
            let (_, ghl_id) = &ghl_side[(batch * per_batch + i) % ghl_side.len()].1;
            let edit = UpdateContactDto {
                website: Some(format!("https://echo-{batch}-{i}.example.com")),
                ..UpdateContactDto::default()
            };
            ghl.update_contact(ghl_id, &edit).await.unwrap();
            own_edits += 1;
        }
        let report = run_sync(&ctx, &RunOptions::default()).await.unwrap();
        let failed: u64 = report
            .run
            .counts
            .iter()
            .filter(|(key, _)| key.ends_with("/failed") || key.ends_with("/retrying"))
            .map(|(_, n)| n)
            .sum();
        let why: Vec<_> = ctx
            .store
            .log_tail(500)
            .unwrap()
            .into_iter()
            .filter(|e| e.run_id == Some(report.run.id) && e.error_class.is_some())
            .map(|e| (e.peer_id, e.message))
            .collect();
        assert_eq!(failed, 0, "batch {batch}: {:?} {why:?}", report.run.counts);
    }
    let synced = sandbox_writes(&h, Routes::All).await - before - own_edits;
    // Quiet runs afterwards: nothing we wrote comes back.
    let settled = sandbox_writes(&h, Routes::All).await;
    for _ in 0..3 {
        run_sync(&ctx, &RunOptions::default()).await.unwrap();
    }
    let echoes = sandbox_writes(&h, Routes::All).await - settled;
    println!(
        "echo test: {EDITS} edits ({} in Repsly, {} in GHL), {synced} writes by the sync, {echoes} echoes",
        EDITS / 2,
        EDITS / 2
    );
    assert_eq!(synced, EDITS as u64, "one write per edit, no more, no less");
    assert_eq!(echoes, 0, "our own writes came back as changes");
}
