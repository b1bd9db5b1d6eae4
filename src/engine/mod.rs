//! The running engine: owns the store, the GHL client and the peer; takes `Command`s and answers
//! with `Reply`s, and streams record outcomes as `Event::Log`. Front ends (CLI, console, later the
//! service socket) hold an `EngineHandle` and never touch sled or HTTP themselves.

mod mapping_ops;
pub mod protocol;
mod queries;

pub use protocol::{
    ChildPage, ChildRow, Command, ContactDetail, ContactList, ContactRef, ContactRow, Envelope,
    Event, MappingProblem, RateLimitReport, RateLimitState, Reply, RowState, Status,
};

use crate::sync::{SyncContext, SyncError, failed, run_sync};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Mutex, RwLock, broadcast, mpsc, oneshot};

/// How many live events a slow subscriber may fall behind before it skips ahead.
const EVENT_BUFFER: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the engine has stopped")]
    Stopped,
}

/// How the engine looks after the store.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    pub log_max_age: chrono::Duration,
    pub log_max_entries: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            log_max_age: chrono::Duration::days(30),
            log_max_entries: 1_000_000,
        }
    }
}

/// The front ends' only door into the engine.
#[derive(Clone)]
pub struct EngineHandle {
    commands: mpsc::Sender<(Envelope, oneshot::Sender<Reply>)>,
    events: broadcast::Sender<Event>,
    next_id: Arc<AtomicU64>,
}

impl EngineHandle {
    /// Sends a command and waits for its reply.
    pub async fn call(&self, command: Command) -> Result<Reply, EngineError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply_to, reply) = oneshot::channel();
        self.commands
            .send((Envelope { id, command }, reply_to))
            .await
            .map_err(|_| EngineError::Stopped)?;
        reply.await.map_err(|_| EngineError::Stopped)
    }

    /// Live events from now on (bounded; a lagging reader loses the oldest).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}

/// Starts the engine in this process. The context's log events are forwarded to subscribers.
/// A context that already has an `events` sender keeps it, so whoever holds a clone of it
/// announces through the same path as a sync (`benches/console.rs` streams a steady log this
/// way); without one, the engine makes its own.
pub fn start_in_process(mut ctx: SyncContext, options: EngineOptions) -> EngineHandle {
    let (events, _) = broadcast::channel(EVENT_BUFFER);
    let mut log_rx = ctx
        .events
        .get_or_insert_with(|| broadcast::channel(EVENT_BUFFER).0)
        .subscribe();
    let forward = events.clone();
    tokio::spawn(async move {
        loop {
            match log_rx.recv().await {
                Ok(entry) => {
                    let _ = forward.send(Event::Log { entry });
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let (commands, mut inbox) = mpsc::channel::<(Envelope, oneshot::Sender<Reply>)>(64);
    // Swappable: saving a mapping puts a new context in force between writes.
    let ctx = Arc::new(RwLock::new(Arc::new(ctx)));
    // Writers (runs, retries, closes, mapping saves) go one at a time; reads answer at once.
    let writer = Arc::new(Mutex::new(()));
    // Which contact each child belongs to, learned from the peer once and kept (queries.rs).
    let parents = Arc::new(Mutex::new(queries::ParentIndex::default()));
    // The location's custom fields, for the editor's mapping checks (mapping_ops.rs).
    let fields = Arc::new(mapping_ops::LocationFields::default());
    tokio::spawn(async move {
        while let Some((envelope, reply_to)) = inbox.recv().await {
            if matches!(envelope.command, Command::Shutdown) {
                let _ = reply_to.send(Reply::Done);
                break;
            }
            let (ctx, writer) = (ctx.clone(), writer.clone());
            let (parents, fields) = (parents.clone(), fields.clone());
            tokio::spawn(async move {
                let reply =
                    handle(&ctx, &writer, &parents, &fields, envelope.command, options).await;
                // The caller alone gets the reply. It is not also broadcast as `Event::Reply`
                // (that framing is the socket transport's): every subscriber's `recv` would
                // clone it — a contact list is 100k rows — for a reader that ignores it.
                let _ = reply_to.send(reply);
            });
        }
    });
    EngineHandle {
        commands,
        events,
        next_id: Arc::new(AtomicU64::new(1)),
    }
}

async fn handle(
    shared: &RwLock<Arc<SyncContext>>,
    writer: &Mutex<()>,
    parents: &Mutex<queries::ParentIndex>,
    fields: &mapping_ops::LocationFields,
    command: Command,
    options: EngineOptions,
) -> Reply {
    let ctx_now = shared.read().await.clone();
    let ctx = ctx_now.as_ref();
    let result: Result<Reply, SyncError> = async {
        Ok(match command {
            Command::Sync { options: run } => {
                let _turn = writer.lock().await;
                let report = run_sync(ctx, &run).await?;
                if !run.dry_run {
                    remember_rate_limit(ctx)?;
                }
                // Retention after each run, while the writer's turn is still held.
                let pruned = ctx
                    .store
                    .prune_log(options.log_max_age, options.log_max_entries)?;
                if pruned > 0 {
                    tracing::info!(pruned, "sync log retention");
                }
                Reply::Run { report }
            }
            Command::Retry { selection, mode } => {
                let _turn = writer.lock().await;
                Reply::Retried {
                    report: failed::retry(ctx, &selection, mode, "manual").await?,
                }
            }
            Command::Close {
                selection,
                resolved,
            } => {
                let _turn = writer.lock().await;
                Reply::Closed {
                    ids: failed::close(ctx, &selection, resolved, "manual")?,
                }
            }
            Command::FailedQueue => Reply::FailedQueue {
                operations: ctx.store.failed_queue()?,
            },
            Command::Status => Reply::Status {
                status: Box::new(status(ctx)?),
            },
            Command::LogTail { limit } => Reply::Log {
                entries: ctx.store.log_tail(limit)?,
            },
            Command::Contacts { limit } => Reply::Contacts {
                list: queries::contacts(ctx, limit)?,
            },
            Command::ContactDetail { contact } => Reply::ContactDetail {
                detail: Box::new(queries::contact_detail(ctx, fields, &contact).await?),
            },
            Command::Children {
                kind,
                offset,
                limit,
            } => Reply::Children {
                page: queries::children(ctx, parents, kind, offset, limit).await?,
            },
            Command::Mapping => mapping_ops::current(ctx)?,
            Command::MappingCheck { text } => mapping_ops::check(ctx, fields, &text).await,
            Command::MappingPreview { text, record } => {
                mapping_ops::preview_on(ctx, &text, &record).await?
            }
            Command::SaveMapping { text } => {
                let _turn = writer.lock().await;
                save_and_swap(shared, &text).await?
            }
            Command::UndoMapping => {
                let _turn = writer.lock().await;
                match mapping_ops::previous_text(ctx)? {
                    Some(text) => save_and_swap(shared, &text).await?,
                    None => Reply::Error {
                        class: "config".into(),
                        message: "no earlier mapping version to go back to".into(),
                    },
                }
            }
            Command::Shutdown => Reply::Done,
        })
    }
    .await;
    result.unwrap_or_else(|err| Reply::Error {
        class: match &err {
            SyncError::Ghl(ghl) => ghl.class().as_str().to_string(),
            SyncError::Peer(peer) => peer.class().as_str().to_string(),
            SyncError::Fields(fields) => fields
                .ghl()
                .map_or("config", |ghl| ghl.class().as_str())
                .to_string(),
            SyncError::Mapping(_) | SyncError::NoMapping { .. } => "config".to_string(),
            // A value that does not decode is damage (exit 12, `store verify`), not I/O.
            SyncError::Store(crate::store::StoreError::Corrupt { .. }) => "damaged".to_string(),
            SyncError::Store(_) => "store".to_string(),
        },
        message: err.to_string(),
    })
}

/// Where the last run's `RateLimitReport` lives in the store's `meta` tree.
const RATE_LIMIT_KEY: &str = "rate_limit_report";

/// Keeps what GHL reported about its limits in this process, for `status` elsewhere.
fn remember_rate_limit(ctx: &SyncContext) -> Result<(), SyncError> {
    let limiter = ctx.ghl.limiter_state();
    if limiter.requests_sent == 0 {
        return Ok(());
    }
    let report = RateLimitReport {
        max: limiter.max,
        interval_ms: limiter.interval.as_millis() as u64,
        daily_limit: limiter.daily_limit,
        daily_remaining: limiter.daily_remaining,
        at_ms: chrono::Utc::now().timestamp_millis(),
    };
    Ok(ctx.store.put_meta_json(RATE_LIMIT_KEY, &report)?)
}

/// Saves mapping text as a new version and puts it in force (runs already going keep theirs).
async fn save_and_swap(shared: &RwLock<Arc<SyncContext>>, text: &str) -> Result<Reply, SyncError> {
    let current = shared.read().await.clone();
    Ok(match mapping_ops::save(&current, text)? {
        Ok((version, mapping)) => {
            *shared.write().await = Arc::new(mapping_ops::with_mapping(&current, mapping));
            Reply::MappingSaved { version }
        }
        Err(problem) => Reply::Error {
            class: "validation".into(),
            message: problem.message,
        },
    })
}

fn status(ctx: &SyncContext) -> Result<Status, SyncError> {
    let mut queue = std::collections::BTreeMap::new();
    for state in ["in_flight", "retry_scheduled", "failed", "dead"] {
        queue.insert(state.to_string(), ctx.store.operations_in(state)?.len());
    }
    let limiter = ctx.ghl.limiter_state();
    // This process's own answers from GHL, else what the last run heard (a `status` process
    // sends no request of its own).
    let stored = ctx.store.meta_json::<RateLimitReport>(RATE_LIMIT_KEY)?;
    let (max, interval, daily_limit, daily_remaining, reported_at_ms) = match stored {
        Some(report) if limiter.requests_sent == 0 => (
            report.max,
            report.interval_ms,
            report.daily_limit,
            report.daily_remaining,
            Some(report.at_ms),
        ),
        _ => (
            limiter.max,
            limiter.interval.as_millis() as u64,
            limiter.daily_limit,
            limiter.daily_remaining,
            (limiter.requests_sent > 0).then(|| chrono::Utc::now().timestamp_millis()),
        ),
    };
    Ok(Status {
        peer: ctx.peer_name().to_string(),
        location_id: ctx.ghl.location_id().to_string(),
        cursors: ctx.store.cursors()?,
        queue,
        last_runs: ctx.store.runs(10)?,
        rate_limit: RateLimitState {
            max,
            interval_ms: interval,
            tokens: limiter.tokens,
            daily_limit,
            daily_remaining,
            reported_at_ms,
            requests_sent: limiter.requests_sent,
            rate_limited_seen: limiter.rate_limited_seen,
            paused_until_ms: limiter.blocked_until.and_then(|until| {
                let left = until.checked_duration_since(tokio::time::Instant::now())?;
                Some(chrono::Utc::now().timestamp_millis() + left.as_millis() as i64)
            }),
        },
        store_path: ctx.store.path().display().to_string(),
        log_entries: ctx.store.log_len(),
        auth: ctx.ghl.auth_info(),
        peer_health: ctx.peer.health(),
    })
}
