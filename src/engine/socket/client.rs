//! `connect`: an `EngineHandle` whose calls go over the control socket, so a front end attached
//! to the service runs the code it runs in process. When the service goes away, calls in flight
//! fail (a `transient` error that says so), subscribers get `Event::Connection {connected:
//! false}`, and the client reconnects with backoff, announcing `connected: true` when back.

use super::SocketError;
use super::frame::{self, ClientFrame, PROTOCOL, ServerFrame};
use crate::engine::protocol::{Command, Envelope, Event, Reply};
use crate::engine::{EVENT_BUFFER, EngineHandle, board::Board};
use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// How long the service has to welcome us.
const HANDSHAKE: Duration = Duration::from_secs(5);
/// Reconnection backoff: the first try soon (a restart takes a moment), then doubling.
const BACKOFF_FIRST: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

type Wire = Framed<UnixStream, LengthDelimitedCodec>;
type Call = (Envelope, oneshot::Sender<Reply>);

/// Who answered: the service's `Welcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub instance: String,
    pub pid: u32,
    pub version: String,
    pub path: PathBuf,
}

impl std::fmt::Display for ServerInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ghlsync run {} (pid {})", self.instance, self.pid)
    }
}

/// An engine handle over the socket at `path`.
pub async fn connect(path: &Path) -> Result<EngineHandle, SocketError> {
    attach(path).await.map(|(handle, _)| handle)
}

/// An engine handle over the socket at `path`, and who answered.
pub async fn attach(path: &Path) -> Result<(EngineHandle, ServerInfo), SocketError> {
    attach_as(path, None).await
}

/// As `attach`, with every call that names no peer sent as about `peer` — what an in-process
/// engine built for that one peer answers (`--peer NAME`).
pub async fn attach_as(
    path: &Path,
    peer: Option<&str>,
) -> Result<(EngineHandle, ServerInfo), SocketError> {
    let (wire, info) = open(path).await?;
    let (commands, inbox) = mpsc::channel::<Call>(64);
    let (events, _) = broadcast::channel(EVENT_BUFFER);
    let peer = peer.map(str::to_string);
    tokio::spawn(run(wire, info.clone(), peer, inbox, events.clone()));
    let handle = EngineHandle {
        commands,
        board: Arc::new(Board::new(events.clone())),
        events,
        next_id: Arc::new(AtomicU64::new(1)),
        read_only: false,
    };
    Ok((handle, info))
}

/// Connects and shakes hands, within `HANDSHAKE`.
async fn open(path: &Path) -> Result<(Wire, ServerInfo), SocketError> {
    let stream = UnixStream::connect(path)
        .await
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                SocketError::NotRunning {
                    path: path.to_path_buf(),
                }
            }
            _ => SocketError::io("connecting to the control socket", path, err),
        })?;
    tokio::time::timeout(HANDSHAKE, handshake(stream, path))
        .await
        .map_err(|_| SocketError::Protocol {
            path: path.to_path_buf(),
            message: format!(
                "no welcome within {} s; the service may be stuck (see its log)",
                HANDSHAKE.as_secs()
            ),
        })?
}

/// `Hello` out, `Welcome` (or `Refused`) in.
pub(super) async fn handshake(
    stream: UnixStream,
    path: &Path,
) -> Result<(Wire, ServerInfo), SocketError> {
    let protocol_error = |message: String| SocketError::Protocol {
        path: path.to_path_buf(),
        message,
    };
    let mut wire = Framed::new(stream, frame::codec());
    let hello = frame::encode(&ClientFrame::Hello {
        protocol: PROTOCOL,
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
    .map_err(|err| protocol_error(err.to_string()))?;
    wire.send(hello)
        .await
        .map_err(|err| SocketError::io("writing to the control socket", path, err))?;
    let bytes = match wire.next().await {
        Some(Ok(bytes)) => bytes,
        Some(Err(err)) => return Err(SocketError::io("reading the control socket", path, err)),
        None => return Err(protocol_error("the service closed the connection".into())),
    };
    match frame::decode::<ServerFrame>(&bytes) {
        Ok(ServerFrame::Welcome {
            protocol,
            instance,
            pid,
            version,
        }) if protocol == PROTOCOL => Ok((
            wire,
            ServerInfo {
                instance,
                pid,
                version,
                path: path.to_path_buf(),
            },
        )),
        Ok(ServerFrame::Welcome {
            protocol, version, ..
        }) => Err(SocketError::Refused {
            path: path.to_path_buf(),
            reason: format!(
                "the service (ghlsync {version}) speaks control protocol {protocol}, this client (ghlsync {}) speaks {PROTOCOL}; use the binary of the service's release",
                env!("CARGO_PKG_VERSION")
            ),
        }),
        Ok(ServerFrame::Refused { reason }) => Err(SocketError::Refused {
            path: path.to_path_buf(),
            reason,
        }),
        Ok(ServerFrame::Event { .. }) => Err(protocol_error("an event before the welcome".into())),
        Err(err) => Err(protocol_error(format!(
            "not a ghlsync welcome ({err}); is another program listening there?"
        ))),
    }
}

/// How a connection ended.
enum End {
    /// The handle was dropped or shut down: stop.
    Closed,
    /// The service went away (why).
    Lost(String),
}

/// The connection's life: serve it, and when it is lost, reconnect until the handle is gone.
async fn run(
    mut wire: Wire,
    mut info: ServerInfo,
    peer: Option<String>,
    mut calls: mpsc::Receiver<Call>,
    events: broadcast::Sender<Event>,
) {
    loop {
        let why = match session(&mut wire, &info, peer.as_deref(), &mut calls, &events).await {
            End::Closed => return,
            End::Lost(why) => why,
        };
        let _ = events.send(Event::Connection {
            connected: false,
            message: format!("service lost ({info}: {why}); reconnecting"),
        });
        let mut delay = BACKOFF_FIRST;
        loop {
            tokio::select! {
                call = calls.recv() => match call {
                    None => return,
                    Some((envelope, reply_to)) => {
                        if matches!(envelope.command, Command::Shutdown) {
                            let _ = reply_to.send(Reply::Done);
                            return;
                        }
                        let _ = reply_to.send(transient(format!(
                            "not connected to {info} (socket {}): reconnecting; try again in a moment",
                            info.path.display()
                        )));
                    }
                },
                _ = tokio::time::sleep(delay) => match open(&info.path).await {
                    Ok((again, who)) => {
                        (wire, info) = (again, who);
                        let _ = events.send(Event::Connection {
                            connected: true,
                            message: format!("reconnected to {info}"),
                        });
                        break;
                    }
                    Err(_) => delay = (delay * 2).min(BACKOFF_MAX),
                },
            }
        }
    }
}

/// One connection: calls out, replies matched by id, every other event to subscribers.
async fn session(
    wire: &mut Wire,
    info: &ServerInfo,
    peer: Option<&str>,
    calls: &mut mpsc::Receiver<Call>,
    events: &broadcast::Sender<Event>,
) -> End {
    let mut pending: HashMap<u64, oneshot::Sender<Reply>> = HashMap::new();
    let end = loop {
        tokio::select! {
            call = calls.recv() => {
                let Some((mut envelope, reply_to)) = call else { break End::Closed };
                if envelope.peer.is_none() {
                    envelope.peer = peer.map(str::to_string);
                }
                if matches!(envelope.command, Command::Shutdown) {
                    // Ends this client's connection; the service runs on.
                    let _ = reply_to.send(Reply::Done);
                    break End::Closed;
                }
                let id = envelope.id;
                let bytes = match frame::encode(&ClientFrame::Call { envelope }) {
                    Ok(bytes) => bytes,
                    Err(err) => {
                        let _ = reply_to.send(transient(format!("the command does not encode: {err}")));
                        continue;
                    }
                };
                pending.insert(id, reply_to);
                if let Err(err) = wire.send(bytes).await {
                    break End::Lost(err.to_string());
                }
            }
            frame = wire.next() => match frame {
                None => break End::Lost("the service closed the connection".into()),
                Some(Err(err)) => break End::Lost(err.to_string()),
                Some(Ok(bytes)) => match frame::decode::<ServerFrame>(&bytes) {
                    Ok(ServerFrame::Event { event: Event::Reply { id, reply } }) => {
                        if let Some(reply_to) = pending.remove(&id) {
                            let _ = reply_to.send(reply);
                        }
                    }
                    Ok(ServerFrame::Event { event }) => {
                        let _ = events.send(event);
                    }
                    Ok(ServerFrame::Refused { reason }) => break End::Lost(reason),
                    Ok(ServerFrame::Welcome { .. }) => {}
                    Err(err) => break End::Lost(format!("a frame that does not decode: {err}")),
                },
            },
        }
    };
    if let End::Lost(why) = &end {
        for (_, reply_to) in pending.drain() {
            let _ = reply_to.send(transient(format!(
                "lost {info} before it answered ({why}); the command may or may not have run: check `ghlsync log` and `ghlsync status` before running it again"
            )));
        }
    }
    end
}

/// A failure of the transport, not of the command: class `transient` (exit 9, try again).
fn transient(message: String) -> Reply {
    Reply::Error {
        class: "transient".into(),
        message,
    }
}
