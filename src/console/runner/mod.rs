//! The one place with side effects: the terminal, input, the engine, signals. It waits on
//! events, folds everything queued into the state through `update`, performs the effects, and
//! draws once per batch, at most ~60 times a second. The only timer is the status screen's
//! 1 Hz refresh, armed while that screen is visible: anywhere else, idle costs nothing.

pub mod effects;
pub mod keys;
pub mod terminal;

use crate::console::keymap::{Key, Keymap};
use crate::console::msg::{Effect, Msg};
use crate::console::state::AppState;
use crate::console::update::{init, update, wants_ticks};
use crate::console::views::render;
use crate::engine::{EngineHandle, Event};
use futures::StreamExt;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

/// The shortest gap between two frames: a log streaming 100 events/s costs ≤ 60 frames/s.
const FRAME_FLOOR: Duration = Duration::from_millis(16);
/// Messages folded into one frame at most, so a flood cannot starve the screen.
const BATCH_MAX: usize = 2_000;
/// How often the status screen refreshes while visible.
const STATUS_REFRESH: Duration = Duration::from_secs(1);

/// What ended the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// SIGHUP or SIGTERM: the terminal is restored and the process should end.
    Signal,
    /// The input stream closed (the terminal went away).
    InputClosed,
}

/// What the loop does with an effect, apart from engine calls.
enum Control {
    Continue,
    Quit,
    /// Attach to another service (`:ctx`): the loop swaps its engine.
    Switch {
        name: String,
        path: Option<std::path::PathBuf>,
    },
}

fn perform(
    effect: Effect,
    peer: &str,
    engine: &EngineHandle,
    answers: &mpsc::UnboundedSender<Msg>,
    terminal: &mut terminal::Term,
) -> std::io::Result<Control> {
    match effect {
        Effect::Call(request) => {
            // Until the engine's status names one, the engine's first peer answers.
            let peer = (!peer.is_empty()).then(|| peer.to_string());
            effects::spawn(engine, peer, request, answers)
        }
        Effect::Quit => return Ok(Control::Quit),
        Effect::Suspend => terminal::suspend(terminal)?,
        Effect::ClearScreen => terminal.clear()?,
        Effect::Copy(text) => terminal::copy(&text)?,
        Effect::ListInstances => {
            let answers = answers.clone();
            tokio::spawn(async move {
                let _ = answers.send(Msg::Instances(list_instances().await));
            });
        }
        Effect::SwitchInstance { name, path } => return Ok(Control::Switch { name, path }),
    }
    Ok(Control::Continue)
}

pub async fn run(
    engine: EngineHandle,
    mut state: AppState,
    keymap: Keymap,
    warnings: Vec<String>,
    sync_at_once: bool,
) -> std::io::Result<Exit> {
    let mut terminal = terminal::enter(state.mouse)?;
    let result = event_loop(
        &engine,
        &mut state,
        &keymap,
        warnings,
        sync_at_once,
        &mut terminal,
    )
    .await;
    terminal::restore();
    result
}

async fn event_loop(
    engine: &EngineHandle,
    state: &mut AppState,
    keymap: &Keymap,
    warnings: Vec<String>,
    sync_at_once: bool,
    terminal: &mut terminal::Term,
) -> std::io::Result<Exit> {
    let (answers, mut answer_rx) = mpsc::unbounded_channel::<Msg>();
    // Owned: `:ctx` swaps it for another service's.
    let mut engine = engine.clone();
    let mut engine_events = engine.subscribe();
    let mut input = crossterm::event::EventStream::new();
    let mut signals = Signals::new()?;
    let mut pending: Vec<Key> = Vec::new();
    let size = terminal.size()?;
    state.size = (size.width, size.height);

    let mut batch: Vec<Msg> = warnings.into_iter().map(Msg::Warning).collect();
    for effect in init(state, sync_at_once) {
        if let Control::Quit = perform(effect, &state.peer, &engine, &answers, terminal)? {
            return Ok(Exit::Quit);
        }
    }
    // The first frame goes out at once: time to first frame is what a person notices.
    terminal::draw(terminal, |frame| render(state, frame))?;
    let mut last_frame = Instant::now();
    // When the next status refresh is due; `None` (no timer at all) off the status screen.
    let mut next_tick: Option<tokio::time::Instant> = None;
    loop {
        next_tick = match (wants_ticks(state), next_tick) {
            (false, _) => None,
            (true, None) => Some(tokio::time::Instant::now() + STATUS_REFRESH),
            (true, due) => due,
        };
        if batch.is_empty() {
            let tick = async {
                match next_tick {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                event = input.next() => match event {
                    Some(Ok(event)) => batch.extend(keys::messages(keymap, state, &mut pending, event)),
                    Some(Err(err)) => return Err(err),
                    None => return Ok(Exit::InputClosed),
                },
                Some(msg) = answer_rx.recv() => batch.push(msg),
                event = engine_events.recv() => match event {
                    Ok(Event::Log { entry }) => batch.push(Msg::Log(entry)),
                    Ok(Event::Alert { alert }) => batch.push(Msg::Alert(alert)),
                    Ok(Event::Connection { connected, message }) => {
                        batch.push(Msg::Connection { connected, message })
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(skipped)) => batch.push(Msg::Warning(format!(
                        "the live log skipped {skipped} entries (the stored log has them all)"
                    ))),
                    Err(RecvError::Closed) => batch.push(Msg::Warning("the engine stopped".into())),
                },
                _ = signals.next() => return Ok(Exit::Signal),
                _ = tick => {
                    batch.push(Msg::Tick(chrono::Utc::now()));
                    next_tick = Some(tokio::time::Instant::now() + STATUS_REFRESH);
                }
            }
            // Coalesce: wait out the frame floor, then take everything that queued meanwhile.
            let since = last_frame.elapsed();
            if since < FRAME_FLOOR {
                tokio::time::sleep(FRAME_FLOOR - since).await;
            }
            while batch.len() < BATCH_MAX {
                match answer_rx.try_recv() {
                    Ok(msg) => batch.push(msg),
                    Err(_) => break,
                }
            }
            while batch.len() < BATCH_MAX {
                match engine_events.try_recv() {
                    Ok(Event::Log { entry }) => batch.push(Msg::Log(entry)),
                    Ok(Event::Alert { alert }) => batch.push(Msg::Alert(alert)),
                    Ok(Event::Connection { connected, message }) => {
                        batch.push(Msg::Connection { connected, message })
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
        for msg in batch.drain(..) {
            for effect in update(state, msg) {
                match perform(effect, &state.peer, &engine, &answers, terminal)? {
                    Control::Continue => {}
                    Control::Quit => return Ok(Exit::Quit),
                    Control::Switch { name, path } => {
                        let result = match attach(&name, path).await {
                            Ok((other, who)) => {
                                let old = std::mem::replace(&mut engine, other);
                                engine_events = engine.subscribe();
                                // This console's use of the old engine ends (a service runs on).
                                tokio::spawn(async move {
                                    let shutdown = old.call(crate::engine::Command::Shutdown);
                                    let _ = tokio::time::timeout(Duration::from_secs(2), shutdown)
                                        .await;
                                });
                                Ok((name, who))
                            }
                            Err(message) => Err(message),
                        };
                        let _ = answers.send(Msg::Switched(result));
                    }
                }
            }
        }
        terminal::draw(terminal, |frame| render(state, frame))?;
        last_frame = Instant::now();
    }
}

/// The services on this host, by their sockets.
async fn list_instances() -> Result<Vec<crate::console::instances::InstanceRow>, String> {
    #[cfg(unix)]
    {
        let found = crate::engine::socket::list_instances()
            .await
            .map_err(|err| err.to_string())?;
        Ok(found
            .into_iter()
            .map(|instance| crate::console::instances::InstanceRow {
                name: instance.name,
                path: instance.path,
                alive: instance.alive,
            })
            .collect())
    }
    #[cfg(not(unix))]
    Err("services are reached by Unix sockets, which this system does not have".into())
}

/// Attaches to service `name` (at `path`, else its default socket): the handle, and who it is.
async fn attach(
    name: &str,
    path: Option<std::path::PathBuf>,
) -> Result<(EngineHandle, String), String> {
    #[cfg(unix)]
    {
        use crate::engine::socket;
        let path = match path {
            Some(path) => path,
            None => socket::default_path(name).map_err(|err| err.to_string())?,
        };
        let (handle, info) = socket::attach(&path).await.map_err(|err| err.to_string())?;
        Ok((handle, info.to_string()))
    }
    #[cfg(not(unix))]
    {
        let _ = (name, path);
        Err("services are reached by Unix sockets, which this system does not have".into())
    }
}

/// SIGHUP (the SSH session dropped) and SIGTERM end the console cleanly.
struct Signals {
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                hangup: signal(SignalKind::hangup())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.hangup.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}
