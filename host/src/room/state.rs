//! A room's host-side state: what outlives its wasm instance.
//!
//! While the room is awake this lives inside the instance's store (the host
//! imports work on it); while it sleeps the room task holds it directly.

use std::sync::Arc;

use super::calls::{CallChain, CallRouter};
use super::connection::Connections;
use super::gate::{Gate, Output};
use super::party::Party;
use super::registry::RoomDeps;
use crate::config::Limits;
use crate::ids::RoomKey;
use crate::runtime::limits::LogLimiter;
use crate::storage::{Backend, Usage, WriteSet};

/// What the running hook has done so far; committed or dropped as a whole.
#[derive(Default)]
pub struct HookScope {
    /// Storage writes, applied atomically when the hook succeeds.
    pub writes: WriteSet,
    /// Frames, closes and answers, released through the gate.
    pub outputs: Vec<Output>,
    /// What the room will store once these writes commit.
    pub usage: Usage,
    /// Bytes sent and broadcast so far, against the per-hook output limit.
    pub output_bytes: usize,
    /// The rooms waiting on this hook through calls.
    pub chain: CallChain,
}

/// A room's state apart from its wasm instance.
pub struct RoomState {
    /// Which room this is.
    pub key: RoomKey,
    /// The party, with the module the room runs.
    pub party: Arc<Party>,
    /// Where the room's storage lives.
    pub backend: Arc<dyn Backend>,
    /// The host's limits.
    pub limits: Arc<Limits>,
    /// The open sockets.
    pub conns: Connections,
    /// Outputs waiting for durability.
    pub gate: Gate,
    /// The running hook's writes and outputs.
    pub hook: HookScope,
    /// The committed alarm time, in milliseconds since the Unix epoch.
    pub alarm_at: Option<u64>,
    /// What the room stores, including commits still under way.
    pub usage: Usage,
    /// The rate limit on the room's log lines.
    pub log_limit: Arc<LogLimiter>,
    /// Where the room's calls to other rooms go.
    pub calls: CallRouter,
}

impl RoomState {
    /// Makes the state of room `key` of `party`, with nothing loaded yet.
    pub fn new(key: RoomKey, party: Arc<Party>, deps: &RoomDeps) -> Self {
        Self {
            key,
            party,
            backend: deps.backend.clone(),
            limits: deps.limits.clone(),
            conns: Connections::default(),
            gate: Gate::default(),
            hook: HookScope::default(),
            alarm_at: None,
            usage: Usage::default(),
            log_limit: Arc::new(LogLimiter::new(deps.limits.log_lines_per_second)),
            calls: deps.calls.clone(),
        }
    }

    /// Opens a fresh scope for the next hook.
    pub fn begin_hook(&mut self) {
        self.hook = HookScope {
            usage: self.usage,
            ..HookScope::default()
        };
    }

    /// Returns the alarm as the running hook sees it.
    pub fn effective_alarm(&self) -> Option<u64> {
        self.hook.writes.alarm.unwrap_or(self.alarm_at)
    }

    /// Returns the write sets reads must look through, oldest first.
    pub fn layers(&self) -> Vec<&WriteSet> {
        let mut layers: Vec<&WriteSet> = self.gate.write_sets().collect();
        layers.push(&self.hook.writes);
        layers
    }
}
