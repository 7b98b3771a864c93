//! Opening a WebSocket into a room.
//!
//! The room runs its connect hook before the upgrade is answered, so the 101
//! goes out only once connect has returned (and its writes are durable). If
//! the hook fails, the upgrade still completes and the socket closes at once
//! with 1011, like PartyKit.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::FromRequestParts as _;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse as _, Response};
use futures_util::SinkExt as _;
use tokio::sync::oneshot;

use super::App;
use super::routes::connection_id;
use super::socket::{SocketRoute, drive};
use crate::ids::{ConnectionId, RoomKey};
use crate::room::connection::{CloseReason, Connection, QueueLimit, SocketKey};
use crate::room::event::{ConnectOutcome, HttpRequest, RoomEvent};
use crate::room::gatekeeper::Before;
use crate::room::registry::DispatchError;

/// Bytes a socket's read buffer starts with; it grows for larger frames,
/// so idle sockets stay small (see BENCHMARKS.md).
const SOCKET_READ_BUFFER: usize = 1024;

/// Bytes of frames gathered before a socket write.
const SOCKET_WRITE_BUFFER: usize = 8 * 1024;

/// Counts an open socket against the host's limit until dropped.
struct OpenSlot(Arc<App>);

/// Takes a place for a new socket, or `None` when the host is full.
fn reserve_socket(app: &Arc<App>) -> Option<OpenSlot> {
    let max = app.limits.max_connections;
    let taken = app
        .open_sockets
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        });
    taken.ok().map(|_| OpenSlot(app.clone()))
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.open_sockets.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Tells the room a socket is gone if the upgrade never got to run it (the
/// client left while connect ran, or the upgrade failed).
struct UnrunSocket {
    route: Option<SocketRoute>,
}

impl Drop for UnrunSocket {
    fn drop(&mut self) {
        if let Some(route) = self.route.take() {
            let closed = RoomEvent::Closed {
                socket: route.socket,
                reason: CloseReason::new(1006, "upgrade not completed"),
                was_clean: false,
            };
            tokio::spawn(async move {
                let _ = route.registry.dispatch(&route.room, closed).await;
            });
        }
    }
}

/// Handles an upgrade request for room `key`.
pub async fn connect(app: Arc<App>, key: RoomKey, mut parts: Parts) -> Response {
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let max = app.limits.max_message_bytes;
    // Small starting buffers keep an idle socket to a few KiB; they grow
    // for larger messages.
    let upgrade = upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(SOCKET_READ_BUFFER)
        .write_buffer_size(SOCKET_WRITE_BUFFER);

    let Some(slot) = reserve_socket(&app) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "host is full").into_response();
    };
    let url = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut request = HttpRequest {
        method: parts.method.as_str().to_owned(),
        url: url.clone(),
        headers: super::http::header_pairs(&parts.headers),
        body: Vec::new(),
    };
    if let Some(refused) = super::http::admit(&app, Before::Connect, &key, &mut request).await {
        return refused;
    }
    let id = connection_id(parts.uri.query()).unwrap_or_else(ConnectionId::random);
    let url = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let limit = QueueLimit {
        frames: app.limits.outbound_queue,
        bytes: app.limits.outbound_queue_bytes,
    };
    let (conn, channels) = Connection::new(id, url, limit);
    let socket: SocketKey = app.next_socket.fetch_add(1, Ordering::Relaxed);

    let (reply, outcome) = oneshot::channel();
    let event = RoomEvent::Connect {
        socket,
        conn,
        headers: request.headers,
        reply,
    };
    if let Err(error) = app.registry.dispatch(&key, event).await {
        return dispatch_error(&error);
    }
    let mut unrun = UnrunSocket {
        route: Some(SocketRoute {
            registry: app.registry.clone(),
            room: key,
            socket,
            ping_interval: Duration::from_millis(app.limits.ping_interval_ms.max(1)),
            idle_timeout: Duration::from_millis(app.limits.client_idle_timeout_ms.max(1)),
        }),
    };

    match outcome.await {
        Ok(ConnectOutcome::Accepted) => {
            let sockets = app.sockets.clone();
            upgrade.on_upgrade(move |ws| {
                let route = unrun.route.take();
                sockets.track_future(async move {
                    let _slot = slot;
                    if let Some(route) = route {
                        drive(ws, channels, route).await;
                    }
                })
            })
        }
        Ok(ConnectOutcome::Failed(reason)) => {
            // The room already forgot this socket.
            unrun.route = None;
            upgrade.on_upgrade(move |mut ws| async move {
                let _slot = slot;
                let frame = axum::extract::ws::CloseFrame {
                    code: reason.code,
                    reason: reason.reason.into(),
                };
                let _ = ws
                    .send(axum::extract::ws::Message::Close(Some(frame)))
                    .await;
                let _ = ws.close().await;
            })
        }
        Ok(ConnectOutcome::Refused(status, message)) => {
            unrun.route = None;
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (status, message).into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "room unavailable").into_response(),
    }
}

/// Answers a request whose room could not take the event.
pub fn dispatch_error(error: &DispatchError) -> Response {
    match error {
        DispatchError::UnknownParty(_) => (StatusCode::NOT_FOUND, "unknown party").into_response(),
        DispatchError::ShuttingDown => {
            (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
        }
        DispatchError::TooManyRooms => {
            (StatusCode::SERVICE_UNAVAILABLE, "host has too many rooms").into_response()
        }
    }
}
