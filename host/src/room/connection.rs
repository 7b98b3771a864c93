//! The host's record of each open socket in a room, and the queue that
//! carries frames out to it.
//!
//! The room task owns the [`Connections`] and the sending end of every
//! socket's queue; the socket task (in `server::socket`) owns the receiving
//! end and the socket itself. The room never sees a socket type.

use std::collections::{BTreeMap, HashMap};

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use tokio::sync::oneshot;

use super::outbox::{self, Refused};
use crate::ids::ConnectionId;

/// Identifies one socket across the host, even when ids repeat.
pub type SocketKey = u64;

/// One WebSocket message leaving or entering a room, without an envelope.
///
/// Text is held as checked UTF-8 so that a broadcast is checked once, not
/// once per recipient; a clone shares the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(Utf8Bytes),
    /// A binary frame.
    Binary(Bytes),
}

impl Frame {
    /// Makes a text frame from a string.
    pub fn text(text: impl Into<String>) -> Self {
        Frame::Text(Utf8Bytes::from(text.into()))
    }

    /// Returns the frame's payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(text) => text.len(),
            Frame::Binary(bytes) => bytes.len(),
        }
    }

    /// Tells whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A close code and a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    /// The WebSocket close code.
    pub code: u16,
    /// The reason, at most 123 bytes.
    pub reason: String,
}

impl CloseReason {
    /// Makes a close reason from a code and a short text.
    pub fn new(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: reason.to_owned(),
        }
    }
}

/// What the room queues for a socket, in order.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// Send this frame.
    Frame(Frame),
    /// Send a close frame and end the connection.
    Close(CloseReason),
}

/// The socket side of a connection: what the socket task reads from.
pub struct SocketChannels {
    /// Frames and closes queued by the room, in order.
    pub outbound: outbox::Receiver,
    /// Fires when the host must close the socket at once (slow consumer).
    pub kill: oneshot::Receiver<CloseReason>,
}

/// How much one connection may have queued.
#[derive(Debug, Clone, Copy)]
pub struct QueueLimit {
    /// Frames.
    pub frames: usize,
    /// Payload bytes.
    pub bytes: usize,
}

/// One open socket as the room sees it.
pub struct Connection {
    /// The connection's id (shared by sockets that reuse a `_pk`).
    pub id: ConnectionId,
    /// The path and query the socket was opened with.
    pub url: String,
    /// Tags set by the room.
    pub tags: Vec<String>,
    /// The state blob set by the room.
    pub state: Option<Vec<u8>>,
    /// Whether the connect hook succeeded (only then does close run).
    pub accepted: bool,
    /// Its place in the order the room's sockets opened.
    opened: u64,
    outbound: outbox::Sender,
    kill: Option<oneshot::Sender<CloseReason>>,
}

/// What happened to a frame handed to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Queued for the socket.
    Queued,
    /// The queue was full: the socket is being closed with 1013.
    SlowConsumer,
    /// The socket is already gone.
    Gone,
}

impl Connection {
    /// Creates a connection and the channels its socket task reads.
    pub fn new(id: ConnectionId, url: String, limit: QueueLimit) -> (Self, SocketChannels) {
        let (tx, rx) = outbox::outbox(limit);
        let (kill_tx, kill_rx) = oneshot::channel();
        let conn = Self {
            id,
            url,
            tags: Vec::new(),
            state: None,
            accepted: false,
            opened: 0,
            outbound: tx,
            kill: Some(kill_tx),
        };
        let channels = SocketChannels {
            outbound: rx,
            kill: kill_rx,
        };
        (conn, channels)
    }

    /// Queues `out` for the socket without waiting; a full queue closes the
    /// socket with 1013 so that one slow reader cannot grow memory.
    pub fn deliver(&mut self, out: Outbound) -> Delivery {
        match self.outbound.push(out) {
            Ok(()) => Delivery::Queued,
            Err(Refused::Closed) => Delivery::Gone,
            Err(Refused::Full) => {
                self.kill(CloseReason::new(1013, "slow consumer"));
                Delivery::SlowConsumer
            }
        }
    }

    /// Closes the socket at once, skipping whatever is still queued.
    pub fn kill(&mut self, reason: CloseReason) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(reason);
        }
    }
}

/// Who a frame or a close goes to, as chosen when the hook sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// These sockets.
    Sockets(Vec<SocketKey>),
    /// Every socket of the room that was open when the hook sent (it
    /// opened before the [`Connections::mark`] taken then), except those
    /// whose id is listed. A broadcast needs no list of a thousand keys.
    Room {
        /// The mark taken when the hook sent.
        mark: u64,
        /// Connection ids left out.
        except: Vec<String>,
    },
}

/// The open sockets of one room, by socket key and by connection id.
#[derive(Default)]
pub struct Connections {
    by_socket: BTreeMap<SocketKey, Connection>,
    by_id: HashMap<ConnectionId, Vec<SocketKey>>,
    /// Sockets ever added, numbering them in the order they opened.
    opened: u64,
}

impl Connections {
    /// Adds a socket.
    pub fn insert(&mut self, socket: SocketKey, mut conn: Connection) {
        conn.opened = self.opened;
        self.opened += 1;
        self.by_id.entry(conn.id.clone()).or_default().push(socket);
        self.by_socket.insert(socket, conn);
    }

    /// Returns a mark that tells the sockets open now from those that open
    /// later.
    pub fn mark(&self) -> u64 {
        self.opened
    }

    /// Returns how many sockets a broadcast leaving out `except` reaches.
    pub fn count_except(&self, except: &[String]) -> usize {
        if except.is_empty() {
            return self.len();
        }
        self.by_socket
            .values()
            .filter(|c| !is_listed(except, &c.id))
            .count()
    }

    /// Calls `f` for every recipient of `to` that is still open.
    pub fn for_each(&mut self, to: &Recipients, mut f: impl FnMut(SocketKey, &mut Connection)) {
        match to {
            Recipients::Sockets(sockets) => {
                for &socket in sockets {
                    if let Some(conn) = self.by_socket.get_mut(&socket) {
                        f(socket, conn);
                    }
                }
            }
            Recipients::Room { mark, except } => {
                for (&socket, conn) in self.by_socket.iter_mut() {
                    if conn.opened < *mark && !is_listed(except, &conn.id) {
                        f(socket, conn);
                    }
                }
            }
        }
    }

    /// Removes a socket and returns it, if it was there.
    pub fn remove(&mut self, socket: SocketKey) -> Option<Connection> {
        let conn = self.by_socket.remove(&socket)?;
        if let Some(sockets) = self.by_id.get_mut(&conn.id) {
            sockets.retain(|s| *s != socket);
            if sockets.is_empty() {
                self.by_id.remove(&conn.id);
            }
        }
        Some(conn)
    }

    /// Returns the socket with key `socket`.
    pub fn get(&self, socket: SocketKey) -> Option<&Connection> {
        self.by_socket.get(&socket)
    }

    /// Returns the socket with key `socket`, for changes.
    pub fn get_mut(&mut self, socket: SocketKey) -> Option<&mut Connection> {
        self.by_socket.get_mut(&socket)
    }

    /// Returns the keys of every open socket whose id is `id`.
    pub fn sockets_of(&self, id: &str) -> &[SocketKey] {
        self.by_id.get(id).map_or(&[], Vec::as_slice)
    }

    /// Iterates over every socket in the order they opened.
    pub fn iter(&self) -> impl Iterator<Item = (SocketKey, &Connection)> {
        self.by_socket.iter().map(|(k, c)| (*k, c))
    }

    /// Returns the number of open sockets.
    pub fn len(&self) -> usize {
        self.by_socket.len()
    }

    /// Tells whether no socket is open.
    pub fn is_empty(&self) -> bool {
        self.by_socket.is_empty()
    }
}

fn is_listed(ids: &[String], id: &ConnectionId) -> bool {
    ids.iter().any(|listed| listed.as_str() == id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: QueueLimit = QueueLimit {
        frames: 8,
        bytes: 1024,
    };

    fn open(conns: &mut Connections, socket: SocketKey, id: &str) -> SocketChannels {
        let (conn, channels) = Connection::new(ConnectionId::new(id), String::new(), LIMIT);
        conns.insert(socket, conn);
        channels
    }

    fn reached(conns: &mut Connections, to: &Recipients) -> Vec<SocketKey> {
        let mut sockets = Vec::new();
        conns.for_each(to, |socket, _| sockets.push(socket));
        sockets
    }

    #[test]
    fn a_broadcast_reaches_the_sockets_open_when_it_was_sent() {
        let mut conns = Connections::default();
        let _a = open(&mut conns, 7, "a");
        let _b = open(&mut conns, 3, "b");
        let _b2 = open(&mut conns, 9, "b");
        let to = Recipients::Room {
            mark: conns.mark(),
            except: vec!["a".to_owned()],
        };
        assert_eq!(conns.count_except(&["a".to_owned()]), 2);
        // Opened after the send, with a lower key: not a recipient.
        let _c = open(&mut conns, 1, "c");
        conns.remove(9);
        assert_eq!(reached(&mut conns, &to), vec![3]);
    }

    #[test]
    fn listed_sockets_that_closed_are_skipped() {
        let mut conns = Connections::default();
        let _a = open(&mut conns, 1, "a");
        let _b = open(&mut conns, 2, "b");
        conns.remove(1);
        assert_eq!(
            reached(&mut conns, &Recipients::Sockets(vec![1, 2])),
            vec![2]
        );
    }
}
