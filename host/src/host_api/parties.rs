//! `partyhost:room/parties`: calls from this room to other rooms.
//!
//! The routing, cycle check and timeout live in `room::calls`; this file
//! only converts between the WIT types and the host's.

use super::RoomCtx;
use super::bindings::partyhost::room::parties::{CallError, Host};
use super::bindings::partyhost::room::types::{HttpRequest, HttpResponse};
use crate::room::calls::CallFailure;
use crate::room::event;

impl Host for RoomCtx {
    async fn call(
        &mut self,
        party: String,
        room: String,
        request: HttpRequest,
    ) -> Result<HttpResponse, CallError> {
        let request = event::HttpRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        // Only owned clones cross the await, so the future stays `Send`.
        let state = &self.state;
        let (router, limits) = (state.calls.clone(), state.limits.clone());
        let (from, chain) = (state.key.clone(), state.hook.chain.clone());

        let answer = router
            .call((&from, &chain), (party, room), request, &limits)
            .await;
        match answer {
            Ok(response) => Ok(HttpResponse {
                status: response.status,
                headers: response.headers,
                body: response.body,
            }),
            Err(failure) => {
                tracing::debug!(%failure, "room call failed");
                Err(call_error(failure))
            }
        }
    }
}

fn call_error(failure: CallFailure) -> CallError {
    let clamp = |n: u128| u32::try_from(n).unwrap_or(u32::MAX);
    match failure {
        CallFailure::UnknownParty(party) => CallError::UnknownParty(party),
        CallFailure::InvalidRoom(room) => CallError::InvalidRoom(room),
        CallFailure::Cycle => CallError::Cycle,
        CallFailure::TooLarge(max) => CallError::TooLarge(clamp(max as u128)),
        CallFailure::Timeout(after) => CallError::Timeout(clamp(after.as_millis())),
        CallFailure::Unavailable(why) => CallError::Unavailable(why),
    }
}
