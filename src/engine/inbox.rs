//! Webhook deliveries in the engine: `Deliver` queues each durably (`store/inbox.rs`) before the
//! receiver answers 200; the inbox worker drains the queue through the one planner — GHL events
//! as targeted runs of the contacts they are about, a peer's pushes as that peer's incremental
//! run — and removes a delivery only once its run has committed. `SyncContact` is the same
//! targeted run, asked for by a person.

use super::Shared;
use super::protocol::{Command, ContactRef, Delivery, InboxSettings, Reply};
use worker::{start_worker, targeted_run};
mod worker;

use crate::ghl::webhook::{EventKind, WebhookEvent};
use crate::peers::EntityKind;
use crate::store::Store;
use crate::sync::SyncContext;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, PoisonError};

/// The inbox's state in the engine.
#[derive(Default)]
pub(super) struct Inbox {
    settings: std::sync::Mutex<InboxSettings>,
    started: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Inbox {
    fn settings(&self) -> InboxSettings {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The commands this file answers; `None` for every other.
pub(super) async fn route(shared: &Arc<Shared>, command: &Command) -> Option<Reply> {
    Some(match command {
        Command::Deliver { delivery } => deliver(shared, delivery).await,
        Command::ServeInbox { settings } => {
            *shared
                .inbox
                .settings
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = *settings;
            start_worker(shared);
            Reply::Done
        }
        Command::SyncContact { contact } => sync_contact(shared, contact).await,
        _ => return None,
    })
}

fn busy(message: impl Into<String>) -> Reply {
    Reply::Error {
        class: "busy".into(),
        message: message.into(),
    }
}

async fn first_ctx(shared: &Shared) -> Option<Arc<SyncContext>> {
    Some(shared.peers.first()?.ctx.read().await.clone())
}

async fn deliver(shared: &Arc<Shared>, delivery: &Delivery) -> Reply {
    let Some(ctx) = first_ctx(shared).await else {
        return Reply::Error {
            class: "config".into(),
            message: "no peer is configured; add a [peers.<name>] section".into(),
        };
    };
    let store = &ctx.store;
    let limit = shared.inbox.settings().queue_limit;
    let full = store.inbox_len() >= limit;
    // After the check: a worker started by this delivery cannot make room before it is judged.
    start_worker(shared);
    if full {
        shared.inbox.wake.notify_one();
        return busy(format!(
            "{} events wait (queue_limit {limit}); deliver again later",
            store.inbox_len()
        ));
    }
    let (replay_key, reply) = if delivery.source == "ghl" {
        match ghl_event(shared, &ctx, delivery) {
            Ok(key) => (key, None),
            Err(reply) => (None, Some(*reply)),
        }
    } else if let Some(name) = delivery.source.strip_prefix("peer:") {
        match peer_push(shared, name, delivery).await {
            Ok(key) => (key, None),
            Err(reply) => (None, Some(*reply)),
        }
    } else {
        (
            None,
            Some(Reply::Error {
                class: "config".into(),
                message: format!(
                    "unknown delivery source {:?}: `ghl` or `peer:<name>`",
                    delivery.source
                ),
            }),
        )
    };
    if let Some(reply) = reply {
        return reply;
    }
    match store
        .inbox_push(&delivery.source, replay_key.as_deref(), &delivery.body)
        .await
    {
        Ok(pushed) => {
            if delivery.source == "ghl" {
                shared.board.record_webhook();
            }
            if !pushed.duplicate {
                shared.inbox.wake.notify_one();
            }
            show_inbox(shared, store);
            Reply::Accepted {
                duplicate: pushed.duplicate,
                ignored: None,
            }
        }
        Err(err) => {
            tracing::error!(source = %delivery.source, "webhook delivery not stored: {err}");
            busy(format!(
                "the event could not be stored ({err}); deliver again later"
            ))
        }
    }
}

/// A GHL event's replay key, or the answer for one that needs no sync.
fn ghl_event(
    shared: &Shared,
    ctx: &SyncContext,
    delivery: &Delivery,
) -> Result<Option<String>, Box<Reply>> {
    let event = WebhookEvent::parse(delivery.body.as_bytes()).map_err(|why| {
        Box::new(Reply::Refused {
            status: 422,
            message: why,
        })
    })?;
    let ignored = |why: String| {
        tracing::info!(
            event = %event.type_name,
            webhook_id = event.webhook_id.as_deref().unwrap_or("-"),
            "webhook ignored: {why}"
        );
        shared.board.record_webhook();
        Box::new(Reply::Accepted {
            duplicate: false,
            ignored: Some(why),
        })
    };
    let location = ctx.ghl.location_id();
    if let Some(other) = event.location_id.as_deref().filter(|id| *id != location) {
        return Err(ignored(format!(
            "for location {other}, not this instance's {location}"
        )));
    }
    if event.kind == EventKind::Other {
        return Err(ignored(format!(
            "type {} is not one ghlsync syncs",
            event.type_name
        )));
    }
    if event.contact_id.is_none() {
        return Err(ignored(format!("{} names no contact", event.type_name)));
    }
    Ok(event.webhook_id)
}

/// Hands a pushed event to its peer (on a blocking thread: a peer may write files).
async fn peer_push(
    shared: &Shared,
    name: &str,
    delivery: &Delivery,
) -> Result<Option<String>, Box<Reply>> {
    let Some(slot) = shared.peers.iter().find(|slot| slot.name == name) else {
        return Err(Box::new(Reply::Refused {
            status: 404,
            message: format!(
                "no peer {name:?}; this service's peers are: {}",
                super::peer_names(shared).join(", ")
            ),
        }));
    };
    let peer = slot.ctx.read().await.peer.clone();
    let mut headers = axum::http::HeaderMap::new();
    for (key, value) in &delivery.headers {
        if let (Ok(key), Ok(value)) = (
            axum::http::HeaderName::from_bytes(key.as_bytes()),
            axum::http::HeaderValue::from_str(value),
        ) {
            headers.append(key, value);
        }
    }
    let body = delivery.body.clone().into_bytes();
    let judged = tokio::task::spawn_blocking(move || peer.accept_push(&headers, &body))
        .await
        .map_err(|err| {
            busy(format!(
                "the peer's receiver stopped ({err}); deliver again"
            ))
        })?;
    match judged {
        None => Err(Box::new(Reply::Refused {
            status: 404,
            message: format!(
                "peer {name:?} takes no pushed events (a rest peer needs push = true and its webhook_secret)"
            ),
        })),
        Some(Err(refused)) => Err(Box::new(Reply::Refused {
            status: refused.status,
            message: refused.message,
        })),
        Some(Ok(accepted)) => Ok(accepted.replay_key.map(|key| format!("{name}:{key}"))),
    }
}

fn show_inbox(shared: &Shared, store: &Store) {
    let oldest = store.inbox_oldest().ok().flatten().map(|e| e.received_at);
    shared.board.set_inbox(store.inbox_len(), oldest);
}

/// "One contact now": by GHL id, or by a peer id through the first peer that links it.
async fn sync_contact(shared: &Shared, contact: &ContactRef) -> Reply {
    let ghl_id = match contact {
        ContactRef::Ghl(id) => id.clone(),
        ContactRef::Peer(id) => {
            let mut found = None;
            for slot in &shared.peers {
                let ctx = slot.ctx.read().await.clone();
                match ctx.store.link(&slot.name, EntityKind::Contact, id) {
                    Ok(Some(link)) => {
                        found = Some(link.ghl_id);
                        break;
                    }
                    Ok(None) => {}
                    Err(err) => {
                        return Reply::Error {
                            class: "store".into(),
                            message: err.to_string(),
                        };
                    }
                }
            }
            match found {
                Some(ghl_id) => ghl_id,
                None => {
                    return Reply::Error {
                        class: "not_found".into(),
                        message: format!(
                            "peer id {id} is linked to no GHL contact; run `ghlsync sync` (a peer record goes to GHL there), or name the contact by its GHL id"
                        ),
                    };
                }
            }
        }
    };
    let mut reports = Vec::new();
    for slot in &shared.peers {
        match targeted_run(shared, slot, std::slice::from_ref(&ghl_id), "contact").await {
            Ok(report) => reports.extend(report),
            Err(err) => return super::error_reply(err),
        }
    }
    if reports.is_empty() {
        return Reply::Error {
            class: "config".into(),
            message: "no peer syncs GHL's contacts to it (contacts.to_peer is off, or its mapping has no contacts)".into(),
        };
    }
    Reply::Runs { reports }
}
