//! One room's task: it owns the room's instance and state and runs its
//! events one at a time, in mailbox order.
//!
//! The loop waits on four things: the next event, the oldest held commit
//! becoming durable (which releases outputs), the alarm, and the idle timer
//! (which puts the instance to sleep, or retires a room nobody uses).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio::time::sleep_until;

use super::calls::CallChain;
use super::connection::{CloseReason, Delivery, Outbound, Recipients};
use super::event::{ConnectOutcome, HttpResponse, RoomEvent};
use super::gate::Output;
use super::hooks::{Hook, HookOutcome, Slot};
use super::party::Party;
use super::registry::{RoomInfo, RoomRegistry};
use super::state::RoomState;
use crate::ids::RoomKey;

/// First wait before a failed alarm runs again; doubles each retry.
const ALARM_RETRY_FIRST: Duration = Duration::from_secs(1);

/// Retries of a failing alarm before it is dropped.
const ALARM_RETRIES: u32 = 6;

/// Most events run back to back before the loop looks at its commits and
/// timers again.
const EVENT_BURST: usize = 32;

/// The task of one live room.
pub struct RoomTask {
    pub(super) registry: Arc<RoomRegistry>,
    pub(super) slot: Slot,
    generation: u64,
    mailbox: mpsc::Receiver<RoomEvent>,
    last_event: Instant,
    alarm_failures: u32,
    stopping: bool,
    /// The rooms waiting on the event now running (set for calls).
    pub(super) chain: CallChain,
}

impl RoomTask {
    /// Prepares the task of room `key`; it runs when [`RoomTask::run`] is
    /// spawned.
    pub fn new(
        registry: Arc<RoomRegistry>,
        key: RoomKey,
        party: Arc<Party>,
        generation: u64,
        mailbox: mpsc::Receiver<RoomEvent>,
    ) -> Self {
        let state = RoomState::new(key, party, registry.deps());
        Self {
            registry,
            slot: Slot::Asleep(Box::new(state)),
            generation,
            mailbox,
            last_event: Instant::now(),
            alarm_failures: 0,
            stopping: false,
            chain: CallChain::default(),
        }
    }

    /// Runs the room until it retires or the host shuts down, keeping
    /// `info` up to date for the status endpoint.
    pub async fn run(mut self, info: Arc<RoomInfo>) {
        let key = self.slot.state().key.clone();
        let span = tracing::info_span!("room", party = %key.party, room = %key.room);
        let _ = tracing::Instrument::instrument(self.run_loop(&info), span).await;
        info.connections.store(0, Ordering::Relaxed);
        info.awake.store(false, Ordering::Relaxed);
    }

    async fn run_loop(&mut self, info: &RoomInfo) {
        self.registry.stats.live.fetch_add(1, Ordering::Relaxed);
        self.load_stored().await;

        loop {
            let idle_at = self.last_event + self.slot.state().limits.hibernate_after();
            let alarm_at = self.alarm_instant();
            let may_idle = self.slot.is_awake() || self.is_unused();
            let state = self.slot.state_mut();
            tokio::select! {
                biased;
                released = state.gate.durable(), if !state.gate.is_empty() => {
                    self.on_durable(released);
                }
                event = self.mailbox.recv(), if !self.stopping => match event {
                    Some(event) => self.on_events(event).await,
                    None => self.stopping = true,
                },
                () = sleep_until(alarm_at.unwrap_or_else(far_future).into()), if alarm_at.is_some()
                    && !self.stopping => {
                    self.on_alarm().await;
                }
                () = sleep_until(idle_at.into()), if may_idle && !self.stopping => {
                    if self.on_idle() {
                        break;
                    }
                }
                else => {}
            }
            info.connections
                .store(self.slot.state().conns.len(), Ordering::Relaxed);
            info.awake.store(self.slot.is_awake(), Ordering::Relaxed);
            if self.stopping && self.slot.state().gate.is_empty() {
                break;
            }
        }

        self.slot.sleep(&self.registry.stats);
        self.registry.stats.live.fetch_sub(1, Ordering::Relaxed);
    }

    /// Runs `first`, then the events already waiting behind it, up to
    /// [`EVENT_BURST`]: a busy room does not go round the select (and its
    /// timers) for every message. Commits that became durable meanwhile are
    /// released after the burst.
    async fn on_events(&mut self, first: RoomEvent) {
        self.on_event(first).await;
        for _ in 1..EVENT_BURST {
            if self.stopping {
                break;
            }
            match self.mailbox.try_recv() {
                Ok(event) => self.on_event(event).await,
                Err(_) => break,
            }
        }
    }

    async fn on_event(&mut self, event: RoomEvent) {
        self.last_event = Instant::now();
        match event {
            RoomEvent::Connect {
                socket,
                conn,
                headers,
                reply,
            } => {
                let state = self.slot.state_mut();
                if state.conns.len() >= state.limits.max_connections_per_room {
                    let _ = reply.send(ConnectOutcome::Refused(503, "room is full"));
                    return;
                }
                let (id, url) = (conn.id.clone(), conn.url.clone());
                state.conns.insert(socket, conn);
                let outcome = self.run_hook(Hook::Connect { id, url, headers }).await;
                self.after_connect(socket, outcome, reply);
            }
            RoomEvent::Message { socket, frame } => {
                if let Some(id) = self.accepted_id(socket) {
                    let outcome = self.run_hook(Hook::Message { id, frame }).await;
                    self.close_after_trap(socket, &outcome);
                }
            }
            RoomEvent::Error { socket, error } => {
                if let Some(id) = self.accepted_id(socket) {
                    self.run_hook(Hook::Error { id, error }).await;
                }
            }
            RoomEvent::Closed {
                socket,
                reason,
                was_clean,
            } => {
                let removed = self.slot.state_mut().conns.remove(socket);
                if let Some(conn) = removed.filter(|c| c.accepted) {
                    let (id, code, reason) = (conn.id, reason.code, reason.reason);
                    self.run_hook(Hook::Close {
                        id,
                        code,
                        reason,
                        was_clean,
                    })
                    .await;
                }
            }
            RoomEvent::Request {
                request,
                reply,
                chain,
            } => {
                // The chain covers a wake's start hook too: a room woken by
                // a call is part of that call.
                self.chain = chain;
                let outcome = self.run_hook(Hook::Request(request)).await;
                self.chain = CallChain::default();
                match outcome {
                    HookOutcome::Responded(response) => {
                        self.finish(vec![Output::Respond(reply, response)]);
                    }
                    HookOutcome::Failed(_) | HookOutcome::Trapped => {
                        let _ = reply.send(HttpResponse::text(500, "room error"));
                    }
                    HookOutcome::Done => {}
                }
            }
            RoomEvent::Shutdown => self.stopping = true,
        }
    }

    fn after_connect(
        &mut self,
        socket: u64,
        outcome: HookOutcome,
        reply: tokio::sync::oneshot::Sender<ConnectOutcome>,
    ) {
        let state = self.slot.state_mut();
        match outcome {
            HookOutcome::Done | HookOutcome::Responded(_) => {
                if let Some(conn) = state.conns.get_mut(socket) {
                    conn.accepted = true;
                }
                self.finish(vec![Output::Connect(
                    socket,
                    reply,
                    ConnectOutcome::Accepted,
                )]);
            }
            HookOutcome::Failed(_) => {
                state.conns.remove(socket);
                let failed = ConnectOutcome::Failed(CloseReason::new(1011, "room error"));
                self.finish(vec![Output::Connect(socket, reply, failed)]);
            }
            HookOutcome::Trapped => {
                state.conns.remove(socket);
                let failed = ConnectOutcome::Failed(CloseReason::new(1011, "room error"));
                let _ = reply.send(failed);
            }
        }
    }

    /// Closes the socket whose message made the room trap, so its client
    /// learns that the room failed (other sockets stay open).
    fn close_after_trap(&mut self, socket: u64, outcome: &HookOutcome) {
        if matches!(outcome, HookOutcome::Trapped) {
            let reason = CloseReason::new(1011, "room error");
            self.finish(vec![Output::Close {
                to: Recipients::Sockets(vec![socket]),
                reason,
            }]);
        }
    }

    fn accepted_id(&self, socket: u64) -> Option<crate::ids::ConnectionId> {
        let conn = self.slot.state().conns.get(socket)?;
        conn.accepted.then(|| conn.id.clone())
    }

    /// Hands outputs the task added after a hook to the gate, behind that
    /// hook's own outputs.
    fn finish(&mut self, outputs: Vec<Output>) {
        let released = self.slot.state_mut().gate.submit(None, outputs);
        self.release(released);
    }

    /// Sends released outputs to their sockets and waiting requests.
    pub(super) fn release(&mut self, outputs: Vec<Output>) {
        let conns = &mut self.slot.state_mut().conns;
        let stats = &self.registry.stats;
        for output in outputs {
            match output {
                Output::Deliver { to, frame } => conns.for_each(&to, |socket, conn| {
                    if conn.deliver(Outbound::Frame(frame.clone())) == Delivery::SlowConsumer {
                        stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
                        crate::telemetry::METRICS.slow_consumers.inc();
                        let conn = &conn.id;
                        tracing::warn!(%conn, socket, "slow consumer closed with 1013");
                    }
                }),
                Output::Close { to, reason } => conns.for_each(&to, |_, conn| {
                    conn.deliver(Outbound::Close(reason.clone()));
                }),
                Output::Connect(_, reply, outcome) => {
                    let _ = reply.send(outcome);
                }
                Output::Respond(reply, response) => {
                    let _ = reply.send(response);
                }
            }
        }
    }

    fn on_durable(&mut self, released: Result<Vec<Output>, crate::storage::BackendError>) {
        match released {
            Ok(outputs) => self.release(outputs),
            Err(error) => {
                // What the guest holds in memory is now ahead of the disk:
                // drop the instance and every held output.
                tracing::error!(%error, "failed to commit room writes; dropping held outputs");
                let held = self.slot.state_mut().gate.discard();
                for output in held {
                    match output {
                        Output::Connect(socket, reply, _) => {
                            // The socket will close at once: forget it now.
                            self.slot.state_mut().conns.remove(socket);
                            let failed = CloseReason::new(1011, "storage error");
                            let _ = reply.send(ConnectOutcome::Failed(failed));
                        }
                        Output::Respond(reply, _) => {
                            let _ = reply.send(HttpResponse::text(503, "storage error"));
                        }
                        Output::Deliver { .. } | Output::Close { .. } => {}
                    }
                }
                self.slot.sleep(&self.registry.stats);
            }
        }
    }

    /// Reads what the room keeps in storage apart from its keys: its alarm
    /// and how much it stores.
    async fn load_stored(&mut self) {
        let state = self.slot.state_mut();
        match state.backend.alarm(&state.key).await {
            Ok(at) => state.alarm_at = at,
            Err(error) => tracing::error!(%error, "failed to read room alarm"),
        }
        match state.backend.usage(&state.key).await {
            Ok(usage) => state.usage = usage,
            Err(error) => tracing::error!(%error, "failed to read room storage usage"),
        }
    }

    fn alarm_instant(&self) -> Option<Instant> {
        let at_ms = self.slot.state().alarm_at?;
        let now_ms = now_ms();
        let wait = Duration::from_millis(at_ms.saturating_sub(now_ms));
        Some(Instant::now() + wait)
    }

    async fn on_alarm(&mut self) {
        self.last_event = Instant::now();
        let Some(scheduled) = self.slot.state_mut().alarm_at.take() else {
            return;
        };
        match self.run_hook(Hook::Alarm).await {
            HookOutcome::Done | HookOutcome::Responded(_) => self.alarm_failures = 0,
            HookOutcome::Failed(_) | HookOutcome::Trapped => self.retry_alarm(scheduled),
        }
    }

    /// Schedules a failed alarm again with exponential backoff; the stored
    /// alarm stays until a run succeeds, so a restart retries it too.
    fn retry_alarm(&mut self, scheduled: u64) {
        self.alarm_failures += 1;
        let state = self.slot.state_mut();
        if state.alarm_at.is_some() {
            return;
        }
        if self.alarm_failures > ALARM_RETRIES {
            tracing::error!(
                scheduled,
                retries = ALARM_RETRIES,
                "alarm kept failing; dropped"
            );
            self.alarm_failures = 0;
            let key = state.key.clone();
            let mut writes = crate::storage::WriteSet::default();
            writes.set_alarm(None);
            let commit = state.backend.commit(key, Arc::new(writes));
            tokio::spawn(commit);
            return;
        }
        let backoff = ALARM_RETRY_FIRST * 2u32.pow(self.alarm_failures - 1);
        tracing::warn!(
            attempt = self.alarm_failures,
            ?backoff,
            "alarm failed; retrying"
        );
        state.alarm_at = Some(now_ms() + backoff.as_millis() as u64);
    }

    fn is_unused(&self) -> bool {
        let state = self.slot.state();
        state.conns.is_empty() && state.alarm_at.is_none() && state.gate.is_empty()
    }

    /// Handles the idle timer; tells whether the task should end.
    fn on_idle(&mut self) -> bool {
        if self.is_unused() {
            let key = self.slot.state().key.clone();
            if self.registry.retire(&key, self.generation, &self.mailbox) {
                self.mailbox.close();
                let mut late = Vec::new();
                while let Ok(event) = self.mailbox.try_recv() {
                    late.push(event);
                }
                self.registry.redispatch(key, late);
                tracing::debug!("room retired");
                return true;
            }
        }
        if self.slot.is_awake() {
            self.slot.sleep(&self.registry.stats);
            tracing::debug!("room hibernated");
        }
        self.last_event = Instant::now();
        false
    }
}

/// Returns the wall clock in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
