//! Calling a room's hooks: waking the instance, running one hook under its
//! CPU and memory limits, and turning what it did into a commit and outputs.
//!
//! A hook that returns `err` is logged and its effects stand. A hook that
//! traps (a panic, the CPU deadline, the memory cap) loses its writes and
//! outputs, and the instance is dropped: the next event starts a fresh one,
//! which runs start again and reads its state back from storage.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use wasmtime::Store;

use super::connection::Frame;
use super::event::{HttpRequest, HttpResponse};
use super::registry::RoomStats;
use super::state::RoomState;
use super::task::RoomTask;
use crate::host_api::RoomCtx;
use crate::host_api::bindings::Room;
use crate::host_api::bindings::partyhost::room::types;
use crate::ids::ConnectionId;
use crate::runtime::limits::on_epoch_tick;

/// A room's instance, or its state alone while it sleeps.
pub enum Slot {
    /// The room has a live instance; its state sits in the store.
    Awake(Box<Awake>),
    /// The room has no instance.
    Asleep(Box<RoomState>),
    /// Only while the state moves between the two above.
    Moving,
}

const MOVING: &str = "a room slot is only moving inside `wake` and `sleep`, which restore it";

/// A live instance, the store that holds it, and the module it runs.
pub struct Awake {
    store: Store<RoomCtx>,
    room: Room,
    module_hash: String,
}

impl Slot {
    /// Returns the room's state.
    pub fn state(&self) -> &RoomState {
        match self {
            Slot::Awake(awake) => &awake.store.data().state,
            Slot::Asleep(state) => state,
            Slot::Moving => unreachable!("{MOVING}"),
        }
    }

    /// Returns the room's state for changes.
    pub fn state_mut(&mut self) -> &mut RoomState {
        match self {
            Slot::Awake(awake) => &mut awake.store.data_mut().state,
            Slot::Asleep(state) => state,
            Slot::Moving => unreachable!("{MOVING}"),
        }
    }

    /// Tells whether the room has a live instance.
    pub fn is_awake(&self) -> bool {
        matches!(self, Slot::Awake(_))
    }

    /// Tells whether the live instance runs another module than the party's
    /// current one (an operator swapped it).
    fn is_stale(&self) -> bool {
        match self {
            Slot::Awake(awake) => awake.module_hash != awake.store.data().state.party.module().hash,
            Slot::Asleep(_) | Slot::Moving => false,
        }
    }

    /// Drops the instance, keeping the state.
    pub fn sleep(&mut self, stats: &RoomStats) {
        if !self.is_awake() {
            return;
        }
        if let Slot::Awake(awake) = std::mem::replace(self, Slot::Moving) {
            let mut state = awake.store.into_data().state;
            state.hook = Default::default();
            *self = Slot::Asleep(Box::new(state));
            stats.awake.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// One hook call with its arguments.
pub enum Hook {
    /// `on-start`.
    Start,
    /// `on-connect`.
    Connect {
        /// The connection's id.
        id: ConnectionId,
        /// The request's path and query.
        url: String,
        /// The request's headers.
        headers: Vec<(String, String)>,
    },
    /// `on-message`.
    Message {
        /// The sender.
        id: ConnectionId,
        /// The message.
        frame: Frame,
    },
    /// `on-error`.
    Error {
        /// The connection.
        id: ConnectionId,
        /// What went wrong.
        error: String,
    },
    /// `on-close`.
    Close {
        /// The connection.
        id: ConnectionId,
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
        /// Whether a close frame was received.
        was_clean: bool,
    },
    /// `on-request`.
    Request(HttpRequest),
    /// `on-alarm`.
    Alarm,
}

impl Hook {
    fn name(&self) -> &'static str {
        match self {
            Hook::Start => "start",
            Hook::Connect { .. } => "connect",
            Hook::Message { .. } => "message",
            Hook::Error { .. } => "error",
            Hook::Close { .. } => "close",
            Hook::Request(_) => "request",
            Hook::Alarm => "alarm",
        }
    }
}

/// How a hook ended.
#[derive(Debug)]
pub enum HookOutcome {
    /// It returned `ok`.
    Done,
    /// The request hook returned this response.
    Responded(HttpResponse),
    /// It returned `err` with this message; its effects stand.
    Failed(String),
    /// It trapped; its effects were dropped and so was the instance.
    Trapped,
}

impl RoomTask {
    /// Runs `hook`, waking the room first if it sleeps.
    pub(super) async fn run_hook(&mut self, hook: Hook) -> HookOutcome {
        // Between events is the room's idle point: a swapped module takes
        // over here, with a fresh instance that runs start.
        if self.slot.is_stale() {
            tracing::info!("room switching to the party's new module");
            self.slot.sleep(&self.registry.stats);
        }
        if !self.slot.is_awake()
            && let Err(outcome) = self.wake().await
        {
            return outcome;
        }
        self.call(hook).await
    }

    /// Instantiates the room and runs its start hook.
    async fn wake(&mut self) -> Result<(), HookOutcome> {
        let state = match std::mem::replace(&mut self.slot, Slot::Moving) {
            Slot::Asleep(state) => *state,
            other => {
                self.slot = other;
                return Ok(());
            }
        };
        let began = std::time::Instant::now();
        let engine = self.registry.deps().runtime.engine().clone();
        let module = state.party.module();
        let mut store = new_store(&engine, state);

        match module.pre.instantiate_async(&mut store).await {
            Ok(room) => {
                let module_hash = module.hash.clone();
                self.slot = Slot::Awake(Box::new(Awake {
                    store,
                    room,
                    module_hash,
                }));
                self.registry.stats.awake.fetch_add(1, Ordering::Relaxed);
                self.registry.stats.starts.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                let cause = TrapCause::of(&error);
                tracing::error!(cause = cause.name(), error = %format_trap(&error),
                    "failed to instantiate room");
                self.registry.stats.count_trap(cause);
                self.slot = Slot::Asleep(Box::new(store.into_data().state));
                return Err(HookOutcome::Trapped);
            }
        }

        let started = self.call(Hook::Start).await;
        let micros = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.registry.stats.wakes.record(micros);
        tracing::debug!(micros, "room woke");
        match started {
            HookOutcome::Trapped => Err(HookOutcome::Trapped),
            HookOutcome::Failed(message) => Err(HookOutcome::Failed(message)),
            HookOutcome::Done | HookOutcome::Responded(_) => Ok(()),
        }
    }

    /// Calls one export on the live instance and settles its effects.
    async fn call(&mut self, hook: Hook) -> HookOutcome {
        let Slot::Awake(awake) = &mut self.slot else {
            return HookOutcome::Trapped;
        };
        let name = hook.name();
        awake.store.data_mut().state.begin_hook();
        awake.store.data_mut().state.hook.chain = self.chain.clone();
        let limits = awake.store.data().state.limits.clone();
        awake.store.data_mut().budget.reset(&limits);
        awake.store.set_epoch_deadline(1);
        let span = tracing::debug_span!("hook", hook = name);
        let began = std::time::Instant::now();
        let result =
            tracing::Instrument::instrument(invoke(&mut awake.store, &awake.room, hook), span)
                .await;
        crate::telemetry::METRICS.observe_hook(name, began.elapsed().as_secs_f64());

        match result {
            Ok(Ok(response)) => {
                self.settle();
                response.map_or(HookOutcome::Done, HookOutcome::Responded)
            }
            Ok(Err(message)) => {
                tracing::warn!(hook = name, error = %message, "room hook failed");
                self.settle();
                HookOutcome::Failed(message)
            }
            Err(error) => {
                let cause = TrapCause::of(&error);
                tracing::error!(hook = name, cause = cause.name(), error = %format_trap(&error),
                    "room hook trapped");
                self.registry.stats.count_trap(cause);
                self.slot.sleep(&self.registry.stats);
                HookOutcome::Trapped
            }
        }
    }

    /// Commits the finished hook's writes and hands its outputs to the gate.
    fn settle(&mut self) {
        let state = self.slot.state_mut();
        let scope = std::mem::take(&mut state.hook);
        state.usage = scope.usage;
        let commit = if scope.writes.is_empty() {
            None
        } else {
            if let Some(alarm) = scope.writes.alarm {
                state.alarm_at = alarm;
            }
            let writes = Arc::new(scope.writes);
            let future = state.backend.commit(state.key.clone(), writes.clone());
            Some((writes, future))
        };
        let released = state.gate.submit(commit, scope.outputs);
        self.release(released);
    }
}

/// Makes a store for an instance of the room whose state is `state`, with
/// its memory cap and CPU budget in place (instantiating runs guest code).
pub fn new_store(engine: &wasmtime::Engine, state: RoomState) -> Store<RoomCtx> {
    let mut store = Store::new(engine, RoomCtx::new(state));
    store.limiter(|ctx| &mut ctx.limits);
    store.epoch_deadline_callback(on_epoch_tick);
    let limits = store.data().state.limits.clone();
    store.data_mut().budget.reset(&limits);
    store.set_epoch_deadline(1);
    store
}

/// Calls the export behind `hook`; the outer error is a trap.
async fn invoke(
    store: &mut Store<RoomCtx>,
    room: &Room,
    hook: Hook,
) -> wasmtime::Result<Result<Option<HttpResponse>, String>> {
    let done = |r: Result<(), String>| r.map(|()| None);
    match hook {
        Hook::Start => room.call_on_start(store).await.map(done),
        Hook::Connect { id, url, headers } => {
            let request = types::ConnectRequest { url, headers };
            room.call_on_connect(store, id.as_str(), &request)
                .await
                .map(done)
        }
        Hook::Message { id, frame } => {
            let message = match frame {
                Frame::Text(text) => types::Message::Text(text.as_str().to_owned()),
                Frame::Binary(bytes) => types::Message::Binary(bytes.to_vec()),
            };
            room.call_on_message(store, id.as_str(), &message)
                .await
                .map(done)
        }
        Hook::Error { id, error } => room
            .call_on_error(store, id.as_str(), &error)
            .await
            .map(done),
        Hook::Close {
            id,
            code,
            reason,
            was_clean,
        } => room
            .call_on_close(store, id.as_str(), code, &reason, was_clean)
            .await
            .map(done),
        Hook::Request(request) => {
            let request = types::HttpRequest {
                method: request.method,
                url: request.url,
                headers: request.headers,
                body: request.body,
            };
            let result = room.call_on_request(store, &request).await?;
            Ok(result.map(|r| {
                Some(HttpResponse {
                    status: r.status,
                    headers: r.headers,
                    body: r.body,
                })
            }))
        }
        Hook::Alarm => room.call_on_alarm(store).await.map(done),
    }
}

/// Why a guest was stopped, as logs and counters name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapCause {
    /// It ran past its CPU deadline.
    Cpu,
    /// It tried to grow past its memory cap.
    Memory,
    /// It sent past its per-hook output limit.
    Output,
    /// It trapped on its own (a panic, an invalid access).
    Guest,
}

impl TrapCause {
    /// Every cause, in counter order.
    pub const ALL: [TrapCause; 4] = [Self::Cpu, Self::Memory, Self::Output, Self::Guest];

    /// Classifies a wasmtime error.
    pub fn of(error: &wasmtime::Error) -> Self {
        if matches!(
            error.downcast_ref::<wasmtime::Trap>(),
            Some(wasmtime::Trap::Interrupt)
        ) {
            return Self::Cpu;
        }
        let text = format!("{error:#}");
        if text.contains("forcing trap when growing memory") {
            Self::Memory
        } else if text.contains("output limit") {
            Self::Output
        } else {
            Self::Guest
        }
    }

    /// Returns the cause's name in logs and counters.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Memory => "memory",
            Self::Output => "output",
            Self::Guest => "guest",
        }
    }
}

/// Describes a trap by its cause, for the log.
pub fn format_trap(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => "cpu deadline exceeded".to_owned(),
        Some(trap) => format!("trap: {trap}"),
        None => format!("{error:#}"),
    }
}
