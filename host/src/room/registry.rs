//! The registry of live rooms: finds or starts a room's task and hands it
//! events.
//!
//! Each live room is one tokio task (see `room::task`) reading a bounded
//! mailbox. The registry holds the sending ends. A room task that has been
//! idle with no connection and no alarm retires itself: it removes its entry
//! under the registry's lock, closes its mailbox, and hands anything that
//! slipped in back to the registry, so no event is ever lost in the race.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use super::calls::CallRouter;
use super::event::{HttpRequest, HttpResponse, RoomEvent};
use super::gatekeeper::{Before, Verdict};
use super::hooks::TrapCause;
use super::party::Party;
use super::task::RoomTask;
use crate::config::Limits;
use crate::ids::{PartyName, RoomKey};
use crate::runtime::Runtime;
use crate::runtime::module::Module;
use crate::storage::Backend;
use crate::telemetry::METRICS;

/// Why an event could not reach its room.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// No party has this name.
    #[error("unknown party {0:?}")]
    UnknownParty(PartyName),
    /// The host is shutting down.
    #[error("host is shutting down")]
    ShuttingDown,
    /// The host holds as many rooms as it may.
    #[error("host holds its maximum number of rooms")]
    TooManyRooms,
}

/// What every room task shares.
pub struct RoomDeps {
    /// The wasm engine and linker.
    pub runtime: Arc<Runtime>,
    /// The parties, by name; an operator may add one while the host runs.
    pub parties: RwLock<HashMap<PartyName, Arc<Party>>>,
    /// The storage backend.
    pub backend: Arc<dyn Backend>,
    /// The host's limits.
    pub limits: Arc<Limits>,
    /// Routes room-to-room calls; bound to the registry built on these
    /// dependencies.
    pub calls: CallRouter,
}

impl RoomDeps {
    /// Returns party `name`, if it exists.
    pub fn party(&self, name: &str) -> Option<Arc<Party>> {
        let parties = self.parties.read().ok()?;
        parties.get(name).cloned()
    }

    /// Lists the parties, ordered by name.
    pub fn parties(&self) -> Vec<Arc<Party>> {
        let Ok(parties) = self.parties.read() else {
            return Vec::new();
        };
        let mut list: Vec<Arc<Party>> = parties.values().cloned().collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// Adds a party, or makes `module` the current module of an existing one.
    pub fn install(&self, name: PartyName, module: Arc<Module>) {
        let Ok(mut parties) = self.parties.write() else {
            return;
        };
        match parties.get(&name) {
            Some(party) => party.swap(module),
            None => {
                let party = Party::new(name.clone(), Vec::new(), module);
                parties.insert(name, Arc::new(party));
            }
        }
    }
}

/// Counters that describe the live rooms, read by the status endpoint.
#[derive(Debug, Default)]
pub struct RoomStats {
    /// Room tasks alive (awake or asleep).
    pub live: AtomicUsize,
    /// Rooms with a wasm instance.
    pub awake: AtomicUsize,
    /// Times a room was instantiated (start ran).
    pub starts: AtomicU64,
    /// Hooks that trapped or ran out of time or memory, by cause, in the
    /// order of `TrapCause::ALL`.
    pub traps_by_cause: [AtomicU64; 4],
    /// Sockets closed with 1013 because they did not read fast enough.
    pub slow_consumers: AtomicU64,
    /// How long recent wakes (instantiate + start) took.
    pub wakes: WakeTimes,
}

impl RoomStats {
    /// Returns the hooks stopped for any cause.
    pub fn traps(&self) -> u64 {
        self.traps_by_cause
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .sum()
    }

    /// Counts one trap of `cause`.
    pub fn count_trap(&self, cause: TrapCause) {
        let index = TrapCause::ALL.iter().position(|c| *c == cause).unwrap_or(0);
        self.traps_by_cause[index].fetch_add(1, Ordering::Relaxed);
        METRICS.count_trap(cause.name());
    }
}

/// The durations of the most recent room wakes, for percentiles.
#[derive(Debug, Default)]
pub struct WakeTimes {
    recent: Mutex<std::collections::VecDeque<u32>>,
}

impl WakeTimes {
    /// Samples kept.
    const KEPT: usize = 10_000;

    /// Records one wake of `micros` microseconds.
    pub fn record(&self, micros: u64) {
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == Self::KEPT {
                recent.pop_front();
            }
            recent.push_back(u32::try_from(micros).unwrap_or(u32::MAX));
        }
    }

    /// Returns the count and the 50th and 99th percentiles, in microseconds.
    pub fn percentiles(&self) -> (usize, u32, u32) {
        let Ok(recent) = self.recent.lock() else {
            return (0, 0, 0);
        };
        let mut sorted: Vec<u32> = recent.iter().copied().collect();
        sorted.sort_unstable();
        let at =
            |p: usize| sorted.get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)));
        (
            sorted.len(),
            at(50).copied().unwrap_or(0),
            at(99).copied().unwrap_or(0),
        )
    }
}

/// What one live room shows the status endpoint; the room task updates it.
#[derive(Debug, Default)]
pub struct RoomInfo {
    /// Open sockets.
    pub connections: AtomicUsize,
    /// Whether the room has a wasm instance.
    pub awake: AtomicBool,
}

/// A live room as the status endpoint lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoomSummary {
    /// The party.
    pub party: String,
    /// The room id.
    pub room: String,
    /// Open sockets.
    pub connections: usize,
    /// Whether the room has a wasm instance.
    pub awake: bool,
}

struct Entry {
    tx: mpsc::Sender<RoomEvent>,
    generation: u64,
    info: Arc<RoomInfo>,
}

/// Finds, starts and retires room tasks.
pub struct RoomRegistry {
    deps: Arc<RoomDeps>,
    rooms: Mutex<HashMap<RoomKey, Entry>>,
    generations: AtomicU64,
    tasks: TaskTracker,
    closing: AtomicBool,
    /// Counters over all rooms.
    pub stats: RoomStats,
}

impl RoomRegistry {
    /// Creates an empty registry.
    pub fn new(deps: RoomDeps) -> Arc<Self> {
        for cause in TrapCause::ALL {
            METRICS.declare_trap_cause(cause.name());
        }
        let calls = deps.calls.clone();
        let registry = Arc::new(Self {
            deps: Arc::new(deps),
            rooms: Mutex::new(HashMap::new()),
            generations: AtomicU64::new(0),
            tasks: TaskTracker::new(),
            closing: AtomicBool::new(false),
            stats: RoomStats::default(),
        });
        calls.bind(&registry);
        registry
    }

    /// Returns the shared dependencies.
    pub fn deps(&self) -> &Arc<RoomDeps> {
        &self.deps
    }

    /// Tells whether `party` names a configured party.
    pub fn has_party(&self, party: &str) -> bool {
        self.deps.party(party).is_some()
    }

    /// Runs the party's before hook for a request to room `key`, without
    /// touching the room itself.
    pub async fn before(&self, hook: Before, key: &RoomKey, request: HttpRequest) -> Verdict {
        match self.deps.party(key.party.as_str()) {
            Some(party) => {
                party
                    .gatekeeper
                    .check(&party, &self.deps, hook, key, request)
                    .await
            }
            None => Verdict::Reject(HttpResponse::text(404, "unknown party")),
        }
    }

    /// Delivers `event` to room `key`, starting the room if needed. Waits
    /// while the room's mailbox is full.
    pub async fn dispatch(
        self: &Arc<Self>,
        key: &RoomKey,
        mut event: RoomEvent,
    ) -> Result<(), DispatchError> {
        loop {
            if self.closing.load(Ordering::Acquire) && !matches!(event, RoomEvent::Shutdown) {
                return Err(DispatchError::ShuttingDown);
            }
            let (tx, generation) = self.find_or_start(key)?;
            match tx.send(event).await {
                Ok(()) => return Ok(()),
                // The room retired between lookup and send: start it anew.
                Err(mpsc::error::SendError(back)) => {
                    event = back;
                    self.forget(key, generation);
                }
            }
        }
    }

    /// Lists the live rooms, ordered by party and room.
    pub fn summaries(&self) -> Vec<RoomSummary> {
        let Ok(rooms) = self.rooms.lock() else {
            return Vec::new();
        };
        let mut list: Vec<RoomSummary> = rooms
            .iter()
            .map(|(key, entry)| RoomSummary {
                party: key.party.to_string(),
                room: key.room.to_string(),
                connections: entry.info.connections.load(Ordering::Relaxed),
                awake: entry.info.awake.load(Ordering::Relaxed),
            })
            .collect();
        list.sort_by(|a, b| (&a.party, &a.room).cmp(&(&b.party, &b.room)));
        list
    }

    /// Starts the rooms that have an alarm, so that alarms fire after a
    /// restart even if no client comes.
    pub async fn restore_alarms(self: &Arc<Self>) -> anyhow::Result<usize> {
        let alarms = self.deps.backend.alarms().await?;
        let mut started = 0;
        for alarm in alarms {
            if !self.has_party(alarm.room.party.as_str()) {
                tracing::warn!(room = %alarm.room, "alarm for a room of an unknown party");
                continue;
            }
            match self.find_or_start(&alarm.room) {
                Ok(_) => started += 1,
                Err(error) => tracing::warn!(room = %alarm.room, %error, "failed to restore alarm"),
            }
        }
        Ok(started)
    }

    /// Stops every room: each finishes its queued events, waits until its
    /// writes are durable and its outputs released, then ends.
    pub async fn shutdown(self: &Arc<Self>) {
        self.closing.store(true, Ordering::Release);
        let senders: Vec<_> = match self.rooms.lock() {
            Ok(rooms) => rooms.values().map(|e| e.tx.clone()).collect(),
            Err(_) => Vec::new(),
        };
        for tx in senders {
            let _ = tx.send(RoomEvent::Shutdown).await;
        }
        self.tasks.close();
        self.tasks.wait().await;
    }

    fn find_or_start(
        self: &Arc<Self>,
        key: &RoomKey,
    ) -> Result<(mpsc::Sender<RoomEvent>, u64), DispatchError> {
        let party = self
            .deps
            .party(key.party.as_str())
            .ok_or_else(|| DispatchError::UnknownParty(key.party.clone()))?;
        let mut rooms = self.rooms.lock().map_err(|_| DispatchError::ShuttingDown)?;
        if let Some(entry) = rooms.get(key) {
            return Ok((entry.tx.clone(), entry.generation));
        }

        if rooms.len() >= self.deps.limits.max_rooms {
            return Err(DispatchError::TooManyRooms);
        }
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.deps.limits.room_mailbox.max(1));
        let info = Arc::new(RoomInfo::default());
        let task = RoomTask::new(self.clone(), key.clone(), party, generation, rx);
        self.tasks.spawn(task.run(info.clone()));
        let entry = Entry {
            tx: tx.clone(),
            generation,
            info,
        };
        rooms.insert(key.clone(), entry);
        Ok((tx, generation))
    }

    fn forget(&self, key: &RoomKey, generation: u64) {
        if let Ok(mut rooms) = self.rooms.lock()
            && rooms.get(key).is_some_and(|e| e.generation == generation)
        {
            rooms.remove(key);
        }
    }

    /// Called by an idle room task: removes its entry if its mailbox is
    /// empty, and tells whether it may end.
    pub(crate) fn retire(
        &self,
        key: &RoomKey,
        generation: u64,
        rx: &mpsc::Receiver<RoomEvent>,
    ) -> bool {
        let Ok(mut rooms) = self.rooms.lock() else {
            return false;
        };
        if !rx.is_empty() {
            return false;
        }
        if rooms.get(key).is_some_and(|e| e.generation == generation) {
            rooms.remove(key);
        }
        true
    }

    /// Hands events that reached a retired room to its successor.
    pub(crate) fn redispatch(self: &Arc<Self>, key: RoomKey, events: Vec<RoomEvent>) {
        if events.is_empty() {
            return;
        }
        let registry = self.clone();
        tokio::spawn(async move {
            for event in events {
                if let Err(error) = registry.dispatch(&key, event).await {
                    tracing::warn!(room = %key, %error, "failed to hand event to restarted room");
                }
            }
        });
    }
}
