//! Before hooks: `on-before-connect` and `on-before-request` run in one
//! gatekeeper instance per party, never in the room's own, so that checking a
//! token neither wakes nor loads a room.
//!
//! The gatekeeper is stateless by contract: its writes and messages are
//! dropped after each call, and it sees the room named by the request only
//! through committed storage. Calls for one party take turns; a trap drops
//! the instance and the next call makes a new one.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::event::{HttpRequest, HttpResponse};
use super::hooks::{format_trap, new_store};
use super::party::Party;
use super::registry::RoomDeps;
use super::state::RoomState;
use crate::host_api::RoomCtx;
use crate::host_api::bindings::Room;
use crate::host_api::bindings::partyhost::room::types;
use crate::ids::RoomKey;

/// What a before hook decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on, with these headers added (replacing any of the same name).
    Allow(Vec<(String, String)>),
    /// Answer with this response.
    Reject(HttpResponse),
    /// The hook trapped: answer 500.
    Failed,
}

/// Which before hook to call.
#[derive(Debug, Clone, Copy)]
pub enum Before {
    /// `on-before-connect`.
    Connect,
    /// `on-before-request`.
    Request,
}

/// A live gatekeeper instance and the module it runs.
struct Instance {
    store: wasmtime::Store<RoomCtx>,
    room: Room,
    module_hash: String,
}

/// The gatekeeper instance of one party, made on first use and again after
/// a trap or a module swap.
#[derive(Default)]
pub struct Gatekeeper {
    instance: Mutex<Option<Instance>>,
}

impl Gatekeeper {
    /// Runs `hook` of `party` for a request to room `key`.
    pub async fn check(
        &self,
        party: &Arc<Party>,
        deps: &RoomDeps,
        hook: Before,
        key: &RoomKey,
        request: HttpRequest,
    ) -> Verdict {
        let mut slot = self.instance.lock().await;
        let module = party.module();
        if slot.as_ref().is_none_or(|i| i.module_hash != module.hash) {
            *slot = instantiate(party, deps, key).await;
        }
        let Some(Instance { store, room, .. }) = slot.as_mut() else {
            return Verdict::Failed;
        };

        let state = &mut store.data_mut().state;
        state.key = key.clone();
        state.begin_hook();
        let limits = state.limits.clone();
        store.data_mut().budget.reset(&limits);
        store.set_epoch_deadline(1);
        let request = types::HttpRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        let result = match hook {
            Before::Connect => room.call_on_before_connect(&mut *store, &request).await,
            Before::Request => room.call_on_before_request(&mut *store, &request).await,
        };
        // Whatever the hook wrote or sent is dropped: it is not the room.
        store.data_mut().state.hook = Default::default();

        match result {
            Ok(types::Admission::Allow(headers)) => Verdict::Allow(headers),
            Ok(types::Admission::Reject(r)) => Verdict::Reject(HttpResponse {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(error) => {
                tracing::error!(party = %party.name, error = %format_trap(&error),
                    "before hook trapped");
                *slot = None;
                Verdict::Failed
            }
        }
    }
}

async fn instantiate(party: &Arc<Party>, deps: &RoomDeps, key: &RoomKey) -> Option<Instance> {
    let module = party.module();
    let state = RoomState::new(key.clone(), party.clone(), deps);
    let mut store = new_store(deps.runtime.engine(), state);
    match module.pre.instantiate_async(&mut store).await {
        Ok(room) => Some(Instance {
            store,
            room,
            module_hash: module.hash.clone(),
        }),
        Err(error) => {
            tracing::error!(party = %party.name, error = %format_trap(&error),
                "failed to instantiate gatekeeper");
            None
        }
    }
}
