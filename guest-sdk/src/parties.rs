//! Calls to other rooms on the same host.
//!
//! [`call`] sends an HTTP-shaped [`Request`] to a room of any party and
//! returns that room's [`Response`]; the target runs it in its
//! [`Room::on_request`](crate::Room::on_request) hook, without its party's
//! before-request hook. The hook waits for the answer (waiting does not
//! count against its CPU deadline), so a room that calls another room which
//! calls it back gets [`CallError::Cycle`] instead of waiting forever.
//!
//! ```no_run
//! use partyhost_guest::{parties, Request};
//!
//! # fn report() -> Result<(), partyhost_guest::HookError> {
//! let totals = Request::post_json("/totals", &serde_json::json!({"heart": 3}))?;
//! let answer = parties::call("lobby", "main", totals)?;
//! assert_eq!(answer.status, 200);
//! # Ok(())
//! # }
//! ```

use crate::bindings::partyhost::room::{parties as wit, types};
use crate::{Request, Response};

/// Why a call got no answer; a correct room can meet every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No party has this name on this host.
    #[error("unknown party {0:?}")]
    UnknownParty(String),
    /// The room id is empty, longer than 256 bytes or holds a `/`.
    #[error("invalid room id {0:?}")]
    InvalidRoom(String),
    /// The target waits, directly or through other rooms, on this call, or
    /// the chain of calls is deeper than 16 rooms.
    #[error("call cycle: the target is waiting on this room")]
    Cycle,
    /// The body is larger than the host's limit, in bytes.
    #[error("request body is longer than {0} bytes")]
    TooLarge(u32),
    /// No answer came within the host's call timeout, in milliseconds.
    #[error("no answer within {0} ms")]
    Timeout(u32),
    /// The target cannot take calls now; the message says why.
    #[error("room unavailable: {0}")]
    Unavailable(String),
}

impl CallError {
    /// Returns the WIT name of the case, such as `unknown-party`.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::UnknownParty(_) => "unknown-party",
            CallError::InvalidRoom(_) => "invalid-room",
            CallError::Cycle => "cycle",
            CallError::TooLarge(_) => "too-large",
            CallError::Timeout(_) => "timeout",
            CallError::Unavailable(_) => "unavailable",
        }
    }
}

impl From<wit::CallError> for CallError {
    fn from(error: wit::CallError) -> Self {
        use wit::CallError as Wit;
        match error {
            Wit::UnknownParty(party) => CallError::UnknownParty(party),
            Wit::InvalidRoom(room) => CallError::InvalidRoom(room),
            Wit::Cycle => CallError::Cycle,
            Wit::TooLarge(limit) => CallError::TooLarge(limit),
            Wit::Timeout(ms) => CallError::Timeout(ms),
            Wit::Unavailable(why) => CallError::Unavailable(why),
        }
    }
}

/// Sends `request` to room `room` of party `party` and returns its answer.
///
/// A target whose hook fails answers status 500, as it would a client. The
/// request's `url` reaches the target as given; a relative one such as
/// `/totals` is fine, since the target's hook sees only what it is sent.
pub fn call(party: &str, room: &str, request: Request) -> Result<Response, CallError> {
    let request = types::HttpRequest {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
    };
    let response = wit::call(party, room, &request)?;
    Ok(Response {
        status: response.status,
        headers: response.headers,
        body: response.body,
    })
}
