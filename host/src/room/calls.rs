//! Room-to-room calls: a room sends an HTTP-shaped request to another room
//! on this host and waits for that room's request hook to answer.
//!
//! A call is an ordinary `Request` event in the target's mailbox, so the
//! target runs it between its other events and answers through its output
//! gate. Because a room runs one hook at a time, a room that waits on a call
//! cannot answer a call itself; each call therefore carries the chain of
//! rooms waiting on it, and a call back into that chain fails at once with
//! `Cycle` instead of waiting for a timeout. Two rooms that call each other
//! from unrelated events cannot see that; both calls end at the timeout.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::oneshot;

use super::event::{HttpRequest, HttpResponse, RoomEvent};
use super::registry::{DispatchError, RoomRegistry};
use crate::config::Limits;
use crate::ids::{PartyName, RoomId, RoomKey};

/// Most rooms one chain of calls may pass through.
pub const MAX_CALL_DEPTH: usize = 16;

/// The header that tells a called room who calls, as `<party>/<room>`. The
/// host sets it on every call and strips it from client requests, so a room
/// can trust it.
pub const CALLER_HEADER: &str = "x-partyhost-caller";

/// Longest room id a call may name, in bytes (as in a URL).
const MAX_ROOM_ID: usize = 256;

/// The rooms waiting, oldest first, on the hook now running.
#[derive(Debug, Clone, Default)]
pub struct CallChain(Arc<[RoomKey]>);

impl CallChain {
    /// Tells whether `room` is waiting on this chain.
    pub fn contains(&self, room: &RoomKey) -> bool {
        self.0.contains(room)
    }

    /// Returns how many rooms wait on this chain.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Tells whether no room waits (the hook serves a client or a timer).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Returns the chain with `room` added as its newest waiter.
    pub fn then(&self, room: RoomKey) -> Self {
        let mut rooms = self.0.to_vec();
        rooms.push(room);
        Self(rooms.into())
    }
}

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    /// No party has this name.
    #[error("unknown party {0:?}")]
    UnknownParty(String),
    /// The room id cannot name a room.
    #[error("invalid room id {0:?}")]
    InvalidRoom(String),
    /// The target waits on the caller, or the chain is too deep.
    #[error("call cycle")]
    Cycle,
    /// The body is over the host's body limit, in bytes.
    #[error("request body over {0} bytes")]
    TooLarge(usize),
    /// No answer came within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The host cannot start or reach the target.
    #[error("room unavailable: {0}")]
    Unavailable(String),
}

/// Routes calls to rooms; every room state holds a clone.
///
/// It reaches the registry through a weak link set once the registry
/// exists, so rooms do not keep the registry alive.
#[derive(Clone, Default)]
pub struct CallRouter {
    registry: Arc<OnceLock<Weak<RoomRegistry>>>,
}

impl CallRouter {
    /// Points the router at `registry`; later calls are ignored.
    pub(crate) fn bind(&self, registry: &Arc<RoomRegistry>) {
        let _ = self.registry.set(Arc::downgrade(registry));
    }

    /// Sends `request` from the room `from`, whose hook runs on behalf of
    /// `chain`, to room `room` of `party`, and waits for the answer.
    pub async fn call(
        &self,
        from: (&RoomKey, &CallChain),
        target: (String, String),
        request: HttpRequest,
        limits: &Limits,
    ) -> Result<HttpResponse, CallFailure> {
        let (party, room) = target;
        let target = check_target(party, room)?;
        let chain = from.1.then(from.0.clone());
        if *from.0 == target || chain.contains(&target) || chain.len() >= MAX_CALL_DEPTH {
            return Err(CallFailure::Cycle);
        }
        if request.body.len() > limits.max_request_body_bytes {
            return Err(CallFailure::TooLarge(limits.max_request_body_bytes));
        }

        let registry = self
            .registry
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| CallFailure::Unavailable("host is shutting down".into()))?;
        if !registry.has_party(target.party.as_str()) {
            return Err(CallFailure::UnknownParty(target.party.to_string()));
        }
        let timeout = Duration::from_millis(limits.call_timeout_ms);
        let mut request = request;
        request
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case(CALLER_HEADER));
        request
            .headers
            .push((CALLER_HEADER.to_owned(), from.0.to_string()));
        tokio::time::timeout(timeout, deliver(&registry, target, request, chain))
            .await
            .map_err(|_| CallFailure::Timeout(timeout))?
    }
}

/// Checks the names a guest gave and makes the target's key.
fn check_target(party: String, room: String) -> Result<RoomKey, CallFailure> {
    if PartyName::check(&party).is_err() {
        return Err(CallFailure::UnknownParty(party));
    }
    let valid_room = !room.is_empty() && room.len() <= MAX_ROOM_ID && !room.contains('/');
    if !valid_room {
        return Err(CallFailure::InvalidRoom(room));
    }
    Ok(RoomKey::new(PartyName::new(party), RoomId::new(room)))
}

/// Puts the request in the target's mailbox and waits for its answer.
async fn deliver(
    registry: &Arc<RoomRegistry>,
    target: RoomKey,
    request: HttpRequest,
    chain: CallChain,
) -> Result<HttpResponse, CallFailure> {
    let (reply, answer) = oneshot::channel();
    let event = RoomEvent::Request {
        request,
        reply,
        chain,
    };
    registry
        .dispatch(&target, event)
        .await
        .map_err(|error| match error {
            DispatchError::UnknownParty(party) => CallFailure::UnknownParty(party.to_string()),
            other => CallFailure::Unavailable(other.to_string()),
        })?;
    answer
        .await
        .map_err(|_| CallFailure::Unavailable("the room stopped before answering".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(party: &str, room: &str) -> RoomKey {
        RoomKey::new(PartyName::new(party), RoomId::new(room))
    }

    #[test]
    fn chain_grows_and_knows_its_rooms() {
        let chain = CallChain::default().then(key("a", "1")).then(key("b", "2"));
        assert_eq!(chain.len(), 2);
        assert!(chain.contains(&key("a", "1")));
        assert!(!chain.contains(&key("a", "2")));
    }

    #[test]
    fn targets_must_be_usable_names() {
        assert!(check_target("lobby".into(), "main".into()).is_ok());
        let bad_party = check_target("no such".into(), "x".into());
        assert_eq!(bad_party, Err(CallFailure::UnknownParty("no such".into())));
        for room in ["", "a/b", &"x".repeat(257)] {
            let result = check_target("lobby".into(), room.to_owned());
            assert!(
                matches!(result, Err(CallFailure::InvalidRoom(_))),
                "{room:?}"
            );
        }
    }

    #[tokio::test]
    async fn calls_back_into_the_chain_are_cycles() {
        let router = CallRouter::default();
        let limits = Limits::default();
        let a = key("a", "1");
        let chain = CallChain::default().then(key("b", "2"));
        let request = || HttpRequest {
            method: "GET".into(),
            url: "/".into(),
            headers: Vec::new(),
            body: Vec::new(),
        };

        let to_self = router
            .call((&a, &chain), ("a".into(), "1".into()), request(), &limits)
            .await;
        assert_eq!(to_self, Err(CallFailure::Cycle));
        let back = router
            .call((&a, &chain), ("b".into(), "2".into()), request(), &limits)
            .await;
        assert_eq!(back, Err(CallFailure::Cycle));
        // Not a cycle, but no registry is bound: the host is going away.
        let other = router
            .call((&a, &chain), ("c".into(), "3".into()), request(), &limits)
            .await;
        assert!(matches!(other, Err(CallFailure::Unavailable(_))));
    }
}
