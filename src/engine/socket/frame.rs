//! The wire: each frame is a 4-byte big-endian length and a JSON value (`LengthDelimitedCodec`).
//! The first frame each way is the handshake; after it, the client sends `Call`s and the server
//! sends `Event`s (replies are `Event::Reply {id, reply}`, matched by the call's id).

use crate::engine::protocol::{Envelope, Event};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio_util::codec::LengthDelimitedCodec;

/// The protocol version both sides must speak. Bump it when a frame or a protocol type changes
/// in a way the other side cannot read.
pub const PROTOCOL: u32 = 1;

/// Big enough for a 100,000-row contact list (~30 MB of JSON), small enough that a broken
/// peer cannot make us allocate without bound.
pub const MAX_FRAME: usize = 64 << 20;

/// The codec both sides frame with.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_codec()
}

/// What a client sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "frame")]
pub enum ClientFrame {
    /// The first frame: which protocol the client speaks, and its version (for the log).
    Hello { protocol: u32, version: String },
    /// A command, answered by an `Event::Reply` with the envelope's id.
    Call { envelope: Envelope },
}

/// What a server sends. Not boxed: a frame lives only while it is encoded or matched, and
/// nearly every one is an event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "frame")]
pub enum ServerFrame {
    Welcome {
        protocol: u32,
        instance: String,
        pid: u32,
        version: String,
    },
    /// The connection is refused (another user, another protocol); the server closes it.
    Refused {
        reason: String,
    },
    Event {
        event: Event,
    },
}

pub fn encode<T: Serialize>(frame: &T) -> Result<Bytes, serde_json::Error> {
    serde_json::to_vec(frame).map(Bytes::from)
}

pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// The protocol a `Hello` names, read loosely: a client of another version may shape the rest
/// of its frames differently, and must still be told which version the server speaks.
pub fn hello_protocol(bytes: &[u8]) -> Option<u32> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if value.get("frame")?.as_str()? != "hello" {
        return None;
    }
    u32::try_from(value.get("protocol")?.as_u64()?).ok()
}

/// The refusal a client of protocol `theirs` gets from a server of ours.
pub fn mismatch(theirs: u32) -> String {
    format!(
        "this service speaks control protocol {PROTOCOL} (ghlsync {}), the client speaks {theirs}; run the ghlsync binary of the same release as the service (`ghlsync --version` on both), or restart the service with this one",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::engine::protocol::{Command, Reply};
    use futures::{SinkExt, StreamExt};
    use tokio_util::codec::{FramedRead, FramedWrite};

    #[test]
    fn frames_round_trip_as_tagged_json() {
        let call = ClientFrame::Call {
            envelope: Envelope {
                id: 7,
                peer: Some("repsly".into()),
                command: Command::LogTail { limit: 5 },
            },
        };
        let bytes = encode(&call).unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(
            text.starts_with(r#"{"frame":"call","envelope":{"id":7"#),
            "{text}"
        );
        let ClientFrame::Call { envelope } = decode(&bytes).unwrap() else {
            panic!("a call");
        };
        assert_eq!(envelope.id, 7);
        assert!(matches!(envelope.command, Command::LogTail { limit: 5 }));

        let reply = ServerFrame::Event {
            event: Event::Reply {
                id: 7,
                reply: Reply::Closed { ids: vec![1, 2] },
            },
        };
        let back: ServerFrame = decode(&encode(&reply).unwrap()).unwrap();
        let ServerFrame::Event {
            event: Event::Reply { id, reply },
        } = back
        else {
            panic!("a reply");
        };
        assert_eq!(id, 7);
        assert!(matches!(reply, Reply::Closed { ids } if ids == [1, 2]));
    }

    #[test]
    fn a_hello_is_read_loosely_so_any_version_can_be_told_ours() {
        let ours = encode(&ClientFrame::Hello {
            protocol: PROTOCOL,
            version: "x".into(),
        })
        .unwrap();
        assert_eq!(hello_protocol(&ours), Some(PROTOCOL));
        // A future client's hello with fields we do not know still names its protocol.
        let future = br#"{"frame":"hello","protocol":9,"features":["zstd"]}"#;
        assert_eq!(hello_protocol(future), Some(9));
        assert_eq!(hello_protocol(br#"{"frame":"call"}"#), None);
        assert_eq!(hello_protocol(b"<html>"), None);
        let message = mismatch(9);
        assert!(
            message.contains("protocol 1") && message.contains("speaks 9"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn frames_cross_a_stream_whole_and_oversized_ones_are_refused() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let mut write = FramedWrite::new(a, codec());
        let mut read = FramedRead::new(b, codec());
        // Two frames back to back arrive as two, each whole.
        let big = "x".repeat(200_000);
        let writer = tokio::spawn(async move {
            write.send(Bytes::from(big)).await.unwrap();
            write.send(Bytes::from_static(b"{}")).await.unwrap();
            write
        });
        assert_eq!(read.next().await.unwrap().unwrap().len(), 200_000);
        assert_eq!(&read.next().await.unwrap().unwrap()[..], b"{}");
        let mut write = writer.await.unwrap();

        // A length past MAX_FRAME is an error, not an allocation.
        use tokio::io::AsyncWriteExt;
        let header = u32::try_from(MAX_FRAME + 1).unwrap().to_be_bytes();
        write.get_mut().write_all(&header).await.unwrap();
        let err = read.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
    }
}
