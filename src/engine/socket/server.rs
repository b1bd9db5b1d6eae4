//! `serve`: the engine of this process on a Unix socket. Only this user may connect (the folder
//! is 0700, the socket 0600, and each connection's peer uid is checked); every client gets
//! every engine event, and its commands run side by side, answered by id.

use super::frame::{self, ClientFrame, PROTOCOL, ServerFrame};
use super::{SocketError, my_uid};
use crate::engine::EngineHandle;
use crate::engine::protocol::{Command, Envelope, Event, Reply};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::codec::Framed;

/// How long a client has to say hello, and a live socket's owner to answer ours.
const HANDSHAKE: Duration = Duration::from_secs(5);
/// Frames queued for one client before its event forwarding waits (and the engine's broadcast
/// makes it skip ahead instead of holding anyone up).
const OUTBOX: usize = 256;

/// The socket being served. `close` (or dropping it) stops accepting, ends every connection
/// and removes the socket file.
pub struct SocketServer {
    path: PathBuf,
    instance: String,
    stop: watch::Sender<bool>,
    accept: Option<tokio::task::JoinHandle<()>>,
}

impl SocketServer {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Stops serving and removes the socket file.
    pub fn close(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        let _ = self.stop.send(true);
        accept.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for SocketServer {
    fn drop(&mut self) {
        self.shut();
    }
}

/// Serves `handle` on `path` as instance `instance`. The folder is created 0700 if missing and
/// refused if others can enter it; a socket left by a service that died is replaced, a live one
/// is an error naming its instance and pid.
pub async fn serve(
    handle: EngineHandle,
    path: &Path,
    instance: &str,
) -> Result<SocketServer, SocketError> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        private_folder(dir)?;
    }
    if path.exists() {
        clear_stale(path).await?;
    }
    let listener =
        UnixListener::bind(path).map_err(|err| SocketError::io("binding the socket", path, err))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|err| SocketError::io("making the socket owner-only", path, err))?;
    let (stop, stopped) = watch::channel(false);
    let welcome = ServerFrame::Welcome {
        protocol: PROTOCOL,
        instance: instance.to_string(),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let accept = tokio::spawn(accept_loop(listener, handle, welcome, stopped));
    tracing::info!(socket = %path.display(), instance, "control socket listening");
    Ok(SocketServer {
        path: path.to_path_buf(),
        instance: instance.to_string(),
        stop,
        accept: Some(accept),
    })
}

/// Creates `dir` 0700, or checks that an existing one is ours and closed to others.
fn private_folder(dir: &Path) -> Result<(), SocketError> {
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|err| SocketError::io("creating the socket folder", dir, err))?;
    }
    let meta = std::fs::metadata(dir)
        .map_err(|err| SocketError::io("reading the socket folder", dir, err))?;
    let me = my_uid();
    if meta.uid() != me {
        return Err(SocketError::ForeignFolder {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SocketError::OpenFolder {
            path: dir.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// A socket file already at `path`: removed if nothing answers, else who holds it.
async fn clear_stale(path: &Path) -> Result<(), SocketError> {
    match UnixStream::connect(path).await {
        Err(_) => std::fs::remove_file(path)
            .map_err(|err| SocketError::io("removing the stale socket", path, err)),
        Ok(stream) => {
            let welcome = tokio::time::timeout(HANDSHAKE, super::client::handshake(stream, path))
                .await
                .ok()
                .and_then(Result::ok);
            Err(match welcome {
                Some((_, info)) => SocketError::InUse {
                    path: path.to_path_buf(),
                    instance: info.instance,
                    pid: info.pid,
                },
                None => SocketError::Squatted {
                    path: path.to_path_buf(),
                },
            })
        }
    }
}

async fn accept_loop(
    listener: UnixListener,
    handle: EngineHandle,
    welcome: ServerFrame,
    stopped: watch::Receiver<bool>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let (handle, welcome, stopped) = (handle.clone(), welcome.clone(), stopped.clone());
                tokio::spawn(async move {
                    if let Err(err) = client(stream, handle, welcome, stopped).await {
                        tracing::debug!(%err, "control client left");
                    }
                });
            }
            Err(err) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(%err, "control socket accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

type Wire = Framed<UnixStream, tokio_util::codec::LengthDelimitedCodec>;

async fn refuse(wire: &mut Wire, reason: String) -> std::io::Result<()> {
    tracing::warn!(%reason, "control client refused");
    let bytes = frame::encode(&ServerFrame::Refused { reason }).map_err(std::io::Error::other)?;
    wire.send(bytes).await
}

/// One client: the uid check and handshake, then its calls in and every event out.
async fn client(
    stream: UnixStream,
    handle: EngineHandle,
    welcome: ServerFrame,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let uid = stream.peer_cred()?.uid();
    let mut wire = Framed::new(stream, frame::codec());
    if uid != my_uid() {
        return refuse(
            &mut wire,
            format!("uid {uid} is not the service's user; only its own user may attach (run the command as that user, e.g. `sudo -u <user> ghlsync …`)"),
        )
        .await;
    }
    let hello = match tokio::time::timeout(HANDSHAKE, wire.next()).await {
        Ok(Some(Ok(bytes))) => bytes,
        Ok(Some(Err(err))) => return Err(err),
        Ok(None) | Err(_) => return Ok(()),
    };
    match frame::hello_protocol(&hello) {
        Some(PROTOCOL) => {}
        Some(theirs) => return refuse(&mut wire, frame::mismatch(theirs)).await,
        None => {
            return refuse(
                &mut wire,
                "the first frame must be a hello naming the protocol".into(),
            )
            .await;
        }
    }
    wire.send(frame::encode(&welcome).map_err(std::io::Error::other)?)
        .await?;

    let (mut sink, mut stream) = wire.split();
    let (outbox, mut outgoing) = mpsc::channel::<Bytes>(OUTBOX);
    let writer = tokio::spawn(async move {
        while let Some(bytes) = outgoing.recv().await {
            if sink.send(bytes).await.is_err() {
                break;
            }
        }
    });
    let forwarder = tokio::spawn(forward_events(handle.subscribe(), outbox.clone()));
    let result = loop {
        tokio::select! {
            _ = stopped.changed() => break Ok(()),
            next = stream.next() => match next {
                None => break Ok(()),
                Some(Err(err)) => break Err(err),
                Some(Ok(bytes)) => match frame::decode::<ClientFrame>(&bytes) {
                    Ok(ClientFrame::Call { envelope }) => {
                        tokio::spawn(answer(handle.clone(), envelope, outbox.clone()));
                    }
                    Ok(ClientFrame::Hello { .. }) => {}
                    Err(err) => break Err(std::io::Error::other(format!("a frame that does not decode: {err}"))),
                },
            },
        }
    };
    forwarder.abort();
    writer.abort();
    result
}

/// Every engine event to this client; a client too slow to keep up skips ahead (the engine's
/// broadcast drops its oldest), and nobody else waits for it.
async fn forward_events(mut events: broadcast::Receiver<Event>, outbox: mpsc::Sender<Bytes>) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Ok(bytes) = frame::encode(&ServerFrame::Event { event }) else {
            continue;
        };
        if outbox.send(bytes).await.is_err() {
            return;
        }
    }
}

/// One call, answered as `Event::Reply` with the client's id.
async fn answer(handle: EngineHandle, envelope: Envelope, outbox: mpsc::Sender<Bytes>) {
    let reply = match envelope.command {
        // A client's Shutdown ends its own use of the engine, never the service's (that is
        // SIGTERM's), so the engine is not told.
        Command::Shutdown => Reply::Done,
        command => match handle.call_on(envelope.peer.as_deref(), command).await {
            Ok(reply) => reply,
            Err(_) => Reply::Error {
                class: "transient".into(),
                message: "the service's engine is stopping; run the command again once it is back (`ghlsync status`)".into(),
            },
        },
    };
    let event = Event::Reply {
        id: envelope.id,
        reply,
    };
    let bytes = match frame::encode(&ServerFrame::Event { event }) {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(%err, "a reply that does not encode");
            return;
        }
    };
    if bytes.len() > frame::MAX_FRAME {
        let event = Event::Reply {
            id: envelope.id,
            reply: Reply::Error {
                class: "validation".into(),
                message: format!(
                    "the answer is {} MB, past the control socket's {} MB frame; ask for less (a --limit)",
                    bytes.len() >> 20,
                    frame::MAX_FRAME >> 20
                ),
            },
        };
        if let Ok(bytes) = frame::encode(&ServerFrame::Event { event }) {
            let _ = outbox.send(bytes).await;
        }
        return;
    }
    let _ = outbox.send(bytes).await;
}
