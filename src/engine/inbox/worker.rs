//! The inbox worker: drains the webhook inbox for the engine's lifetime, a batch at a time,
//! through the one planner; a delivery leaves only once its run has committed.

use super::super::{PeerSlot, Shared};
use super::show_inbox;
use crate::ghl::webhook::{EventKind, WebhookEvent};
use crate::peers::EntityKind;
use crate::store::InboxEntry;
use crate::sync::{RunOptions, SyncError, run_sync_until};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Deliveries handled per pass of the worker: one targeted run per peer covers them all.
const BATCH: usize = 200;
/// The longest wait before a batch whose run failed is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub(super) fn start_worker(shared: &Arc<Shared>) {
    if shared.inbox.started.swap(true, Ordering::SeqCst) {
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move { worker(shared).await });
}

/// Drains the inbox for the engine's lifetime.
async fn worker(shared: Arc<Shared>) {
    let Some(ctx) = super::first_ctx(&shared).await else {
        return;
    };
    let store = ctx.store.clone();
    drop(ctx);
    let mut failures: u32 = 0;
    loop {
        // A draining service takes no more events; they wait on disk for the next start.
        if shared.stopping.load(Ordering::Relaxed) {
            return;
        }
        let batch = match store.inbox_batch(BATCH) {
            Ok(batch) => batch,
            Err(err) => {
                tracing::error!("the webhook inbox cannot be read: {err}");
                failures += 1;
                tokio::time::sleep(backoff(failures)).await;
                continue;
            }
        };
        if batch.is_empty() {
            show_inbox(&shared, &store);
            let window = shared.inbox.settings().replay_window_secs;
            let before = chrono::Utc::now() - chrono::Duration::seconds(2 * window as i64);
            if let Err(err) = store.prune_webhook_seen(before) {
                tracing::warn!("pruning webhook ids seen: {err}");
            }
            shared.inbox.wake.notified().await;
            continue;
        }
        match process(&shared, &batch).await {
            // A drain may have stopped the runs part-way: the batch stays for the next start
            // (a targeted run of contacts already in sync costs no write).
            Ok(()) if shared.stopping.load(Ordering::Relaxed) => return,
            Ok(()) => {
                failures = 0;
                let seqs: Vec<u64> = batch.iter().map(|entry| entry.seq).collect();
                // The runs' commits first, then the deliveries that asked for them.
                let removed = match store.durable().await {
                    Ok(()) => store.inbox_remove(&seqs),
                    Err(err) => Err(err),
                };
                if let Err(err) = removed {
                    tracing::error!("processed webhook events not removed: {err}");
                }
                show_inbox(&shared, &store);
            }
            Err(message) => {
                failures += 1;
                let wait = backoff(failures);
                tracing::warn!(
                    events = batch.len(),
                    "webhook events kept for another try in {}s: {message}",
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// 1 s, 2 s, 4 s … up to `MAX_BACKOFF`.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}

/// One batch: the GHL contacts it names, as one targeted run per peer that wants them, and
/// one incremental run per peer that pushed.
async fn process(shared: &Shared, batch: &[InboxEntry]) -> Result<(), String> {
    let mut contacts = BTreeSet::new();
    let mut pushed = BTreeSet::new();
    for entry in batch {
        if entry.source == "ghl" {
            match WebhookEvent::parse(entry.body.as_bytes()) {
                Ok(event) => {
                    if event.kind == EventKind::ContactDelete {
                        tracing::info!(
                            ghl_id = event.contact_id.as_deref().unwrap_or("-"),
                            "ContactDelete: the peer's record is kept (no delete policy applies GHL's deletions to a peer)"
                        );
                    }
                    contacts.extend(event.contact_id);
                }
                Err(why) => tracing::warn!(seq = entry.seq, "stored webhook unreadable: {why}"),
            }
        } else if let Some(name) = entry.source.strip_prefix("peer:") {
            pushed.insert(name.to_string());
        }
    }
    let contacts: Vec<String> = contacts.into_iter().collect();
    let failed = |err: SyncError, slot: &PeerSlot| format!("{}: {err}", slot.name);
    for slot in &shared.peers {
        if !contacts.is_empty() {
            targeted_run(shared, slot, &contacts, "webhook")
                .await
                .map_err(|err| failed(err, slot))?;
        }
        if pushed.contains(&slot.name) {
            let options = RunOptions {
                trigger: "push".into(),
                ..RunOptions::default()
            };
            run(shared, slot, &options)
                .await
                .map_err(|err| failed(err, slot))?;
        }
    }
    Ok(())
}

/// The targeted run of `contacts` in `slot`'s peer, if its flows want GHL's contacts.
pub(super) async fn targeted_run(
    shared: &Shared,
    slot: &PeerSlot,
    contacts: &[String],
    trigger: &str,
) -> Result<Option<crate::sync::RunReport>, SyncError> {
    let wanted = {
        let ctx = slot.ctx.read().await;
        ctx.settings.contacts.to_peer && ctx.mapping.entity(EntityKind::Contact).is_some()
    };
    if !wanted {
        return Ok(None);
    }
    let options = RunOptions {
        trigger: trigger.into(),
        ghl_contacts: contacts.to_vec(),
        ..RunOptions::default()
    };
    run(shared, slot, &options).await.map(Some)
}

/// One run under the engine's writer turn (every writer takes turns across peers).
async fn run(
    shared: &Shared,
    slot: &PeerSlot,
    options: &RunOptions,
) -> Result<crate::sync::RunReport, SyncError> {
    let _turn = shared.writer.lock().await;
    let ctx = slot.ctx.read().await.clone();
    let report = run_sync_until(&ctx, options, Some(shared.stopping.clone())).await?;
    shared.board.record_run(&slot.name, chrono::Utc::now());
    Ok(report)
}
