//! One WebSocket's loop: frames from the client go to the room's mailbox,
//! frames from the room's queue go to the client.
//!
//! The loop is written against `Sink` and `Stream` of messages, so it runs
//! the same over a real socket or an in-memory pair; `server::upgrade` only
//! adapts axum's socket to it. Pings are answered by the WebSocket layer
//! without waking the room, and a client's close frame is echoed with its own
//! code.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use bytes::Bytes;
use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};

use crate::ids::RoomKey;
use crate::room::connection::{CloseReason, Frame, Outbound, SocketChannels, SocketKey};
use crate::room::event::RoomEvent;
use crate::room::outbox;
use crate::room::registry::RoomRegistry;
use crate::telemetry::METRICS;

/// How long to wait for the client's answer to a close frame.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);

/// The close code for "no status received".
const NO_STATUS: u16 = 1005;

/// The close code for "closed abnormally" (never sent on the wire).
const ABNORMAL: u16 = 1006;

/// Where a socket's events go.
pub struct SocketRoute {
    /// The registry of rooms.
    pub registry: Arc<RoomRegistry>,
    /// The socket's room.
    pub room: RoomKey,
    /// The socket's key.
    pub socket: SocketKey,
    /// How often to ping a silent client.
    pub ping_interval: Duration,
    /// How long a client may stay silent before it is closed.
    pub idle_timeout: Duration,
}

/// How the loop ended.
struct Ending {
    reason: CloseReason,
    was_clean: bool,
}

/// Runs a socket until it closes, then tells the room.
pub async fn drive<S>(mut socket: S, channels: SocketChannels, route: SocketRoute)
where
    S: Sink<Message, Error = axum::Error> + Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    // One socket for reads and writes, not split halves: the loop never
    // reads and writes at the same time, and split halves pay a lock on
    // every operation.
    let SocketChannels { mut outbound, kill } = channels;
    let mut batch = VecDeque::new();
    // A dropped kill sender means only that the room forgot the socket.
    let killed = async move {
        match kill.await {
            Ok(reason) => reason,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::pin!(killed);
    let mut heard = Instant::now();
    let mut pings = tokio::time::interval_at(
        (Instant::now() + route.ping_interval).into(),
        route.ping_interval,
    );

    let ending = loop {
        tokio::select! {
            biased;
            reason = &mut killed => break close(&mut socket, reason).await,
            open = outbound.recv_many(&mut batch) => {
                if !open {
                    // The room dropped the connection: the host is going away.
                    let going_away = CloseReason::new(1001, "going away");
                    break close(&mut socket, going_away).await;
                }
                // A write may wait on a full socket: the kill must still win.
                let written = tokio::select! {
                    biased;
                    reason = &mut killed => Written::Close(reason),
                    written = write(&mut socket, &mut batch, &outbound) => written,
                };
                match written {
                    Written::Flushed => {}
                    Written::Broken => break broken(),
                    Written::Close(reason) => break close(&mut socket, reason).await,
                }
            }
            incoming = socket.next() => {
                heard = Instant::now();
                if let Some(ending) = read(&mut socket, &route, incoming).await {
                    break ending;
                }
            }
            _ = pings.tick() => {
                if heard.elapsed() >= route.idle_timeout {
                    let idle = CloseReason::new(1001, "idle timeout");
                    break close(&mut socket, idle).await;
                }
                if heard.elapsed() >= route.ping_interval
                    && socket.send(Message::Ping(Bytes::new())).await.is_err()
                {
                    break broken();
                }
            }
        }
    };

    let closed = RoomEvent::Closed {
        socket: route.socket,
        reason: ending.reason,
        was_clean: ending.was_clean,
    };
    // The room may be gone already (shutdown); then there is nobody to tell.
    let _ = route.registry.dispatch(&route.room, closed).await;
}

/// What a batch of writes came to.
enum Written {
    /// Everything queued was written and flushed.
    Flushed,
    /// The socket failed.
    Broken,
    /// The room asked to close (or is gone): close with this reason.
    Close(CloseReason),
}

/// Writes the frames in `batch` in order, then flushes; stops at a close.
/// What it takes from `batch` is counted off the socket's queue bounds once
/// written; a batch cut short by a kill is dropped with the socket.
async fn write<Si>(
    sink: &mut Si,
    batch: &mut VecDeque<Outbound>,
    queue: &outbox::Receiver,
) -> Written
where
    Si: Sink<Message, Error = axum::Error> + Unpin,
{
    let (mut frames, mut bytes) = (0, 0);
    while let Some(out) = batch.pop_front() {
        match out {
            Outbound::Frame(frame) => {
                frames += 1;
                bytes += frame.len();
                if sink.feed(message_of(frame)).await.is_err() {
                    return Written::Broken;
                }
            }
            Outbound::Close(reason) => {
                batch.clear();
                return Written::Close(reason);
            }
        }
    }
    let flushed = sink.flush().await;
    queue.written(frames, bytes);
    METRICS.messages_out.inc_by(frames as u64);
    METRICS.bytes_out.inc_by(bytes as u64);
    if flushed.is_err() {
        return Written::Broken;
    }
    Written::Flushed
}

/// Handles one incoming item; returns an ending if the socket is done.
async fn read<Si>(
    sink: &mut Si,
    route: &SocketRoute,
    incoming: Option<Result<Message, axum::Error>>,
) -> Option<Ending>
where
    Si: Sink<Message, Error = axum::Error> + Unpin,
{
    let frame = match incoming {
        Some(Ok(Message::Text(text))) => Frame::Text(text),
        Some(Ok(Message::Binary(bytes))) => Frame::Binary(bytes),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => return None,
        Some(Ok(Message::Close(frame))) => {
            // Closing the sink sends the echo the WebSocket layer queued.
            let _ = sink.close().await;
            let reason = frame.map_or(CloseReason::new(NO_STATUS, ""), |f| {
                CloseReason::new(f.code, f.reason.as_str())
            });
            return Some(Ending {
                reason,
                was_clean: true,
            });
        }
        Some(Err(error)) => return Some(fail(sink, route, error).await),
        None => return Some(broken()),
    };

    METRICS.messages_in.inc();
    METRICS.bytes_in.inc_by(frame.len() as u64);
    let event = RoomEvent::Message {
        socket: route.socket,
        frame,
    };
    match route.registry.dispatch(&route.room, event).await {
        Ok(()) => None,
        Err(_) => {
            let going_away = CloseReason::new(1001, "going away");
            let _ = sink.send(close_message(&going_away)).await;
            Some(Ending {
                reason: going_away,
                was_clean: false,
            })
        }
    }
}

/// Closes the socket after a read error, with the code that fits it.
async fn fail<Si>(sink: &mut Si, route: &SocketRoute, error: axum::Error) -> Ending
where
    Si: Sink<Message, Error = axum::Error> + Unpin,
{
    let reason = match error.into_inner().downcast::<tungstenite::Error>() {
        Ok(e) => match *e {
            tungstenite::Error::Capacity(_) => CloseReason::new(1009, "message too big"),
            tungstenite::Error::Utf8(_) => CloseReason::new(1007, "invalid utf-8"),
            tungstenite::Error::Protocol(_) => CloseReason::new(1002, "protocol error"),
            _ => return broken(),
        },
        Err(_) => return broken(),
    };
    tracing::debug!(
        socket = route.socket,
        code = reason.code,
        "closing socket after bad input"
    );
    let _ = sink.send(close_message(&reason)).await;

    let error = RoomEvent::Error {
        socket: route.socket,
        error: reason.reason.clone(),
    };
    let _ = route.registry.dispatch(&route.room, error).await;
    Ending {
        reason,
        was_clean: false,
    }
}

/// Sends a close frame and waits briefly for the client's answer.
async fn close<S>(socket: &mut S, reason: CloseReason) -> Ending
where
    S: Sink<Message, Error = axum::Error> + Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    // A client that stopped reading may never take the close frame.
    let sent = tokio::time::timeout(CLOSE_HANDSHAKE, socket.send(close_message(&reason))).await;
    if !matches!(sent, Ok(Ok(()))) {
        return Ending {
            reason,
            was_clean: false,
        };
    }
    let answered = tokio::time::timeout(CLOSE_HANDSHAKE, async {
        while let Some(Ok(message)) = socket.next().await {
            if matches!(message, Message::Close(_)) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    Ending {
        reason,
        was_clean: answered,
    }
}

fn broken() -> Ending {
    Ending {
        reason: CloseReason::new(ABNORMAL, "connection lost"),
        was_clean: false,
    }
}

fn close_message(reason: &CloseReason) -> Message {
    Message::Close(Some(CloseFrame {
        code: reason.code,
        reason: Utf8Bytes::from(reason.reason.clone()),
    }))
}

fn message_of(frame: Frame) -> Message {
    match frame {
        Frame::Text(text) => Message::Text(text),
        Frame::Binary(bytes) => Message::Binary(bytes),
    }
}
