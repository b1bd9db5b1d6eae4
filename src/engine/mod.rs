//! The running engine: owns the store, the GHL client and the peers of one location; takes `Command`s and answers
//! with `Reply`s, and streams record outcomes as `Event::Log`. Front ends (CLI, console, later the
//! service socket) hold an `EngineHandle` and never touch sled or HTTP themselves.

pub mod board;
mod inbox;
mod mapping_ops;
pub mod protocol;
mod queries;
#[cfg(unix)]
pub mod socket;

pub use protocol::{
    ChildPage, ChildRow, Command, ContactDetail, ContactList, ContactRef, ContactRow, Envelope,
    Event, MappingProblem, PeerState, RateLimitReport, RateLimitState, Reply, RowState, Status,
};
pub use protocol::{Delivery, InboxSettings};

use crate::sync::{SyncContext, SyncError, failed, run_sync_until};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::{Mutex, RwLock, broadcast, mpsc, oneshot};

/// How many live events a slow subscriber may fall behind before it skips ahead. The channel
/// keeps the last this-many events (log entries with their diffs) alive, idle or not.
const EVENT_BUFFER: usize = 1024;

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
    board: Arc<board::Board>,
    /// `--read-only`: this door refuses every writing command, whatever the front end sends.
    read_only: bool,
}

impl EngineHandle {
    /// This handle, refusing every command that writes (sync, retry, skip, resolve, mapping
    /// save/undo) with `Reply::Error { class: "read_only" }`; reads pass. Clones keep it.
    pub fn read_only(mut self) -> EngineHandle {
        self.read_only = true;
        self
    }

    /// Sends a command about every peer (a sync, a retry, the failed queue) or, for a command
    /// about one peer's records, the first peer; waits for its reply.
    pub async fn call(&self, command: Command) -> Result<Reply, EngineError> {
        self.call_on(None, command).await
    }

    /// Sends a command about peer `peer` (`None`: as `call`) and waits for its reply.
    pub async fn call_on(
        &self,
        peer: Option<&str>,
        command: Command,
    ) -> Result<Reply, EngineError> {
        if self.read_only && refused_read_only(&command) {
            return Ok(Reply::Error {
                class: "read_only".into(),
                message: "read-only (--read-only): nothing is written; start ghlsync without --read-only to sync, retry, skip, resolve or save the mapping".into(),
            });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply_to, reply) = oneshot::channel();
        let envelope = Envelope {
            id,
            peer: peer.map(str::to_string),
            command,
        };
        self.commands
            .send((envelope, reply_to))
            .await
            .map_err(|_| EngineError::Stopped)?;
        reply.await.map_err(|_| EngineError::Stopped)
    }

    /// Live events from now on (bounded; a lagging reader loses the oldest).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The service board of the engine in this process (alerts, schedules, figures); the
    /// service writes it, the engine answers from it.
    pub fn board(&self) -> Arc<board::Board> {
        self.board.clone()
    }
}

/// One peer of the engine: its context (swapped when its mapping is saved) and what the engine
/// learns about its records.
struct PeerSlot {
    name: String,
    ctx: RwLock<Arc<SyncContext>>,
    /// Which contact each child belongs to, learned from the peer once and kept (queries.rs).
    parents: Mutex<queries::ParentIndex>,
}

/// What every command handler shares.
struct Shared {
    /// In the order the config lists them (name order); the first answers `call`'s one-peer
    /// commands.
    peers: Vec<PeerSlot>,
    /// Writers (runs, retries, closes, mapping saves) go one at a time, across peers: two peers
    /// creating the same person at once would both find no GHL contact and both create one.
    writer: Mutex<()>,
    /// The location's custom fields, for the editor's mapping checks (mapping_ops.rs).
    fields: mapping_ops::LocationFields,
    options: EngineOptions,
    board: Arc<board::Board>,
    /// Set by `Command::Drain`: runs stop starting records, new writers are refused.
    stopping: Arc<AtomicBool>,
    reloader: Option<Reloader>,
    /// Webhook deliveries and their worker (inbox.rs).
    inbox: inbox::Inbox,
}

/// Builds every peer's context again from the files (`Command::Reload`); an `Err` names what
/// failed to load. Given by the service, which knows where the files are.
pub type Reloader = Arc<dyn Fn() -> Result<Vec<SyncContext>, String> + Send + Sync>;

/// Starts the engine in this process with one peer (tests, benches, demo rigs).
pub fn start_in_process(ctx: SyncContext, options: EngineOptions) -> EngineHandle {
    start_engine(vec![ctx], options)
}

/// Starts the engine in this process for every peer of one GHL location. The contexts share the
/// store and the GHL client (one limiter per location: the ceiling is the location's). Their
/// log events go to subscribers. A context that already has an `events` sender keeps it, so
/// whoever holds a clone of it announces through the same path as a sync (`benches/console.rs`
/// streams a steady log this way); the others get the engine's own.
pub fn start_engine(ctxs: Vec<SyncContext>, options: EngineOptions) -> EngineHandle {
    start_engine_with(ctxs, options, None)
}

/// `start_engine` whose `Command::Reload` rebuilds the contexts with `reloader` (the service).
pub fn start_engine_with(
    ctxs: Vec<SyncContext>,
    options: EngineOptions,
    reloader: Option<Reloader>,
) -> EngineHandle {
    let (events, _) = broadcast::channel(EVENT_BUFFER);
    let own_log = ctxs
        .iter()
        .find_map(|ctx| ctx.events.clone())
        .unwrap_or_else(|| broadcast::channel(EVENT_BUFFER).0);
    let mut log_rx = own_log.subscribe();
    let forward = events.clone();
    let board = Arc::new(board::Board::new(events.clone()));
    let figures = board.clone();
    tokio::spawn(async move {
        loop {
            match log_rx.recv().await {
                Ok(entry) => {
                    figures.record_outcome(&entry.peer, wrote(&entry), failed(&entry));
                    let _ = forward.send(Event::Log { entry });
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let peers = ctxs
        .into_iter()
        .map(|mut ctx| {
            ctx.events.get_or_insert_with(|| own_log.clone());
            PeerSlot {
                name: ctx.peer_name().to_string(),
                ctx: RwLock::new(Arc::new(ctx)),
                parents: Mutex::new(queries::ParentIndex::default()),
            }
        })
        .collect();
    let shared = Arc::new(Shared {
        peers,
        writer: Mutex::new(()),
        fields: mapping_ops::LocationFields::default(),
        options,
        board: board.clone(),
        stopping: Arc::new(AtomicBool::new(false)),
        reloader,
        inbox: inbox::Inbox::default(),
    });
    let (commands, mut inbox) = mpsc::channel::<(Envelope, oneshot::Sender<Reply>)>(64);
    tokio::spawn(async move {
        while let Some((envelope, reply_to)) = inbox.recv().await {
            if matches!(envelope.command, Command::Shutdown) {
                let _ = reply_to.send(Reply::Done);
                break;
            }
            let shared = shared.clone();
            tokio::spawn(async move {
                let reply = match inbox::route(&shared, &envelope.command).await {
                    Some(reply) => reply,
                    None => dispatch(&shared, envelope.peer.as_deref(), envelope.command).await,
                };
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
        board,
        read_only: false,
    }
}

/// Whether a log entry is a request that changed a record (for the writes/s figures).
fn wrote(entry: &crate::store::LogEntry) -> bool {
    use crate::store::{Action, Outcome};
    entry.outcome == Outcome::Ok
        && matches!(
            entry.action,
            Action::Create | Action::Update | Action::Delete | Action::Tag
        )
}

fn failed(entry: &crate::store::LogEntry) -> bool {
    entry.outcome == crate::store::Outcome::Failed
}

/// Sends a command to the peer it is about, or to each peer in turn for a sync, a retry or a
/// close that names none.
async fn dispatch(shared: &Shared, peer: Option<&str>, command: Command) -> Reply {
    match command {
        Command::Drain => return drain(shared).await,
        Command::Reload => return reload(shared).await,
        _ => {}
    }
    if shared.stopping.load(Ordering::Relaxed) && writes(&command) {
        return Reply::Error {
            class: "stopping".into(),
            message: "the service is stopping (SIGTERM); nothing new is written. Run it again after it restarts".into(),
        };
    }
    let slots: Vec<&PeerSlot> = match peer {
        Some(name) => match shared.peers.iter().find(|slot| slot.name == name) {
            Some(slot) => vec![slot],
            None => {
                return Reply::Error {
                    class: "config".into(),
                    message: format!(
                        "no peer {name:?} in this engine; its peers are: {}",
                        peer_names(shared).join(", ")
                    ),
                };
            }
        },
        None => shared.peers.iter().collect(),
    };
    let Some(first) = slots.first() else {
        return Reply::Error {
            class: "config".into(),
            message: "no peer is configured; add a [peers.<name>] section (README, \"Peers and the sync\")".into(),
        };
    };
    let every_peer = matches!(
        command,
        Command::Sync { .. } | Command::Retry { .. } | Command::Close { .. }
    );
    if !every_peer || slots.len() == 1 {
        return handle(shared, first, command).await;
    }
    let mut replies = Vec::with_capacity(slots.len());
    for slot in slots {
        let reply = handle(shared, slot, command.clone()).await;
        if matches!(reply, Reply::Error { .. }) {
            return reply;
        }
        replies.push(reply);
    }
    combine(replies)
}

/// Whether a command writes (and so waits for the writer's turn).
fn writes(command: &Command) -> bool {
    matches!(
        command,
        Command::Sync { .. }
            | Command::Retry { .. }
            | Command::Close { .. }
            | Command::SaveMapping { .. }
            | Command::UndoMapping
    )
}

/// What a read-only handle refuses: every writer, a contact synced now, webhook deliveries,
/// and stopping or reloading a service. `Shutdown` passes: over the socket it only hangs up.
fn refused_read_only(command: &Command) -> bool {
    writes(command)
        || matches!(
            command,
            Command::SyncContact { .. }
                | Command::Deliver { .. }
                | Command::ServeInbox { .. }
                | Command::Drain
                | Command::Reload
        )
}

async fn drain(shared: &Shared) -> Reply {
    shared.stopping.store(true, Ordering::Relaxed);
    // The writer's turn is free once the run in progress has stopped starting records and
    // its last ones committed.
    let _turn = shared.writer.lock().await;
    for slot in &shared.peers {
        let ctx = slot.ctx.read().await.clone();
        if let Err(err) = ctx.store.flush() {
            return Reply::Error {
                class: "store".into(),
                message: format!("draining: the store did not flush: {err}"),
            };
        }
    }
    Reply::Done
}

async fn reload(shared: &Shared) -> Reply {
    let Some(reloader) = &shared.reloader else {
        return Reply::Error {
            class: "config".into(),
            message: "this engine runs for one command; only `ghlsync run` reloads its files"
                .into(),
        };
    };
    let fresh = match reloader() {
        Ok(fresh) => fresh,
        Err(problem) => {
            return Reply::Reloaded {
                reloaded: Vec::new(),
                problems: vec![format!("{problem}; the files in force stay")],
            };
        }
    };
    // Between runs: a run keeps the context it started with anyway, but one swap for all.
    let _turn = shared.writer.lock().await;
    let mut reloaded = Vec::new();
    let mut problems = Vec::new();
    let mut fresh: Vec<SyncContext> = fresh;
    for slot in &shared.peers {
        match fresh.iter().position(|ctx| ctx.peer_name() == slot.name) {
            Some(index) => {
                let mut ctx = fresh.swap_remove(index);
                let current = slot.ctx.read().await.clone();
                ctx.events = current.events.clone();
                *slot.ctx.write().await = Arc::new(ctx);
                reloaded.push(slot.name.clone());
            }
            None => problems.push(format!(
                "peer {:?} is no longer in the config; it keeps running until the service restarts",
                slot.name
            )),
        }
    }
    for added in fresh {
        problems.push(format!(
            "peer {:?} is new in the config; restart the service to start it",
            added.peer_name()
        ));
    }
    Reply::Reloaded { reloaded, problems }
}

/// One answer from each peer's answer to the same command.
fn combine(replies: Vec<Reply>) -> Reply {
    let mut reports = Vec::new();
    let mut retried = crate::sync::RetryReport::default();
    let mut closed = Vec::new();
    for reply in replies {
        match reply {
            Reply::Run { report } => reports.push(report),
            Reply::Runs { reports: more } => reports.extend(more),
            Reply::Retried { report } => {
                retried.succeeded.extend(report.succeeded);
                retried.failed.extend(report.failed);
                retried.not_claimed.extend(report.not_claimed);
            }
            Reply::Closed { ids } => closed.extend(ids),
            _ => {}
        }
    }
    if !reports.is_empty() {
        Reply::Runs { reports }
    } else if !closed.is_empty() {
        Reply::Closed { ids: closed }
    } else {
        Reply::Retried { report: retried }
    }
}

fn peer_names(shared: &Shared) -> Vec<String> {
    shared.peers.iter().map(|slot| slot.name.clone()).collect()
}

async fn handle(shared: &Shared, slot: &PeerSlot, command: Command) -> Reply {
    let (writer, fields, options) = (&shared.writer, &shared.fields, shared.options);
    let stopping = shared.stopping.clone();
    let ctx_now = slot.ctx.read().await.clone();
    let ctx = ctx_now.as_ref();
    let result: Result<Reply, SyncError> = async {
        Ok(match command {
            Command::Sync { options: run } => {
                let _turn = writer.lock().await;
                let report = run_sync_until(ctx, &run, Some(stopping)).await?;
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
                crate::allocator::release_after_run();
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
                status: Box::new(status(shared, ctx).await?),
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
                page: queries::children(ctx, &slot.parents, kind, offset, limit).await?,
            },
            Command::Mapping => mapping_ops::current(ctx)?,
            Command::MappingCheck { text } => mapping_ops::check(ctx, fields, &text).await,
            Command::MappingPreview { text, record } => {
                mapping_ops::preview_on(ctx, &text, &record).await?
            }
            Command::SaveMapping { text } => {
                let _turn = writer.lock().await;
                save_and_swap(&slot.ctx, &text).await?
            }
            Command::UndoMapping => {
                let _turn = writer.lock().await;
                match mapping_ops::previous_text(ctx)? {
                    Some(text) => save_and_swap(&slot.ctx, &text).await?,
                    None => Reply::Error {
                        class: "config".into(),
                        message: "no earlier mapping version to go back to".into(),
                    },
                }
            }
            Command::Alerts => {
                let (open, history) = shared.board.alerts();
                Reply::Alerts { open, history }
            }
            Command::Health => Reply::Health {
                health: health(shared, ctx).await?,
            },
            // Engine-wide: `dispatch` answers them.
            Command::Drain | Command::Reload | Command::Shutdown => Reply::Done,
            // Answered by inbox.rs before dispatch.
            Command::Deliver { .. } | Command::ServeInbox { .. } | Command::SyncContact { .. } => {
                Reply::Error {
                    class: "internal".into(),
                    message: "a webhook command reached the per-peer handler".into(),
                }
            }
        })
    }
    .await;
    result.unwrap_or_else(error_reply)
}

/// A failed command's reply: its class and message.
fn error_reply(err: SyncError) -> Reply {
    Reply::Error {
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
    }
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

async fn peer_states(shared: &Shared) -> Vec<PeerState> {
    let mut peers = Vec::with_capacity(shared.peers.len());
    for slot in &shared.peers {
        let peer = slot.ctx.read().await.peer.clone();
        peers.push(PeerState {
            name: slot.name.clone(),
            health: peer.health(),
        });
    }
    peers
}

async fn health(shared: &Shared, ctx: &SyncContext) -> Result<protocol::Health, SyncError> {
    let limiter = ctx.ghl.limiter_state();
    Ok(protocol::Health {
        dead: ctx.store.operations_in("dead")?.len(),
        peers: peer_states(shared).await,
        rate_limited_seen: limiter.rate_limited_seen,
        daily_limit: limiter.daily_limit,
        daily_remaining: limiter.daily_remaining,
    })
}

async fn status(shared: &Shared, ctx: &SyncContext) -> Result<Status, SyncError> {
    let peers = peer_states(shared).await;
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
        peers,
        service: shared.board.service_status(),
    })
}
