//! The events a room's mailbox carries, and the answers some of them await.

use tokio::sync::oneshot;

use super::calls::CallChain;
use super::connection::{CloseReason, Connection, Frame, SocketKey};

/// An HTTP request for a room's request hook.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The method, upper case.
    pub method: String,
    /// The path and query.
    pub url: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// A room's answer to an HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Makes a plain-text response.
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

/// How a connect ended, as the upgrade handler learns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectOutcome {
    /// The connect hook succeeded: complete the upgrade.
    Accepted,
    /// The hook failed: complete the upgrade, then close with this reason.
    Failed(CloseReason),
    /// The room refused before the hook ran: answer with this HTTP status.
    Refused(u16, &'static str),
}

/// One thing for a room to do, in mailbox order.
pub enum RoomEvent {
    /// A socket wants to join; the room runs the connect hook.
    Connect {
        /// The socket's key.
        socket: SocketKey,
        /// The connection the room keeps for it.
        conn: Connection,
        /// The upgrade request's headers.
        headers: Vec<(String, String)>,
        /// Where the outcome goes.
        reply: oneshot::Sender<ConnectOutcome>,
    },
    /// A socket sent a message.
    Message {
        /// The socket.
        socket: SocketKey,
        /// The message, untouched.
        frame: Frame,
    },
    /// A socket failed (protocol error or broken pipe); `Closed` follows.
    Error {
        /// The socket.
        socket: SocketKey,
        /// What went wrong, for the error hook.
        error: String,
    },
    /// A socket closed.
    Closed {
        /// The socket.
        socket: SocketKey,
        /// The code and reason the client gave (1005 for none, 1006 when the
        /// socket broke).
        reason: CloseReason,
        /// Whether a close frame was received.
        was_clean: bool,
    },
    /// An HTTP request for the request hook.
    Request {
        /// The request.
        request: HttpRequest,
        /// Where the response goes.
        reply: oneshot::Sender<HttpResponse>,
        /// The rooms waiting on the answer, when another room calls (empty
        /// for a client's request).
        chain: CallChain,
    },
    /// Finish what is queued, wait for durability, and stop.
    Shutdown,
}
