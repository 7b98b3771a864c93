//! Awareness: who is in the document (names, cursors), as the y-protocols
//! awareness messages describe it.
//!
//! Each Yjs client announces its state (a JSON value) with a clock; a higher
//! clock wins and the state `null` means the client left. The room keeps the
//! latest state of every client, remembers which connection announced it, and
//! when that connection closes tells the others that its clients left.
//!
//! Awareness is not stored: it lives in the instance and in each connection's
//! state blob, which the host keeps across hibernation. After a sleep the room
//! rebuilds the table from those blobs; a blob too small for the states keeps
//! only clients and clocks, and such a client's state comes back with its next
//! renewal (providers renew every 15 seconds).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yrs::ClientID;
use yrs::sync::AwarenessUpdate;
use yrs::sync::awareness::AwarenessUpdateEntry;

/// The JSON a client sends as its state when it leaves.
const LEFT: &str = "null";

/// One client's latest announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Client {
    clock: u32,
    /// The state as JSON, or `None` while it is unknown after a sleep.
    state: Option<Arc<str>>,
    /// The connection that first announced the client.
    owner: String,
}

/// One connection's clients as saved in its state blob.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    /// Client id, clock and state (`None` when the blob had no room for it).
    clients: Vec<(u64, u32, Option<String>)>,
}

/// The awareness states of the room's clients.
#[derive(Debug, Default)]
pub struct Presence {
    clients: HashMap<u64, Client>,
}

impl Presence {
    /// Applies an awareness update that `conn` sent; returns the entries that
    /// changed something (to relay to every connection) and the connections
    /// whose saved clients must be written again.
    pub fn apply(&mut self, conn: &str, update: AwarenessUpdate) -> (AwarenessUpdate, Vec<String>) {
        let mut accepted = HashMap::new();
        let mut owners = BTreeSet::new();
        for (id, entry) in update.clients {
            let left = entry.json.trim() == LEFT;
            let known = self.clients.get(&id.get());
            let newer = match known {
                Some(client) => entry.clock > client.clock || (entry.clock == client.clock && left),
                None => !left,
            };
            if !newer {
                continue;
            }
            let owner = known.map_or_else(|| conn.to_owned(), |client| client.owner.clone());
            if left {
                self.clients.remove(&id.get());
            } else {
                let state = Some(Arc::clone(&entry.json));
                let client = Client {
                    clock: entry.clock,
                    state,
                    owner: owner.clone(),
                };
                self.clients.insert(id.get(), client);
            }
            owners.insert(owner);
            accepted.insert(id, entry);
        }
        (
            AwarenessUpdate { clients: accepted },
            owners.into_iter().collect(),
        )
    }

    /// Returns every known state, for a client that joins or asks.
    pub fn everyone(&self) -> AwarenessUpdate {
        let clients = self
            .clients
            .iter()
            .filter_map(|(id, client)| {
                let json = Arc::clone(client.state.as_ref()?);
                let entry = AwarenessUpdateEntry {
                    clock: client.clock,
                    json,
                };
                Some((ClientID::new(*id), entry))
            })
            .collect();
        AwarenessUpdate { clients }
    }

    /// Forgets the clients `conn` announced; returns the update that tells
    /// the others they left, or `None` if it announced none.
    pub fn remove_connection(&mut self, conn: &str) -> Option<AwarenessUpdate> {
        let mut left = HashMap::new();
        self.clients.retain(|id, client| {
            if client.owner != conn {
                return true;
            }
            let entry = AwarenessUpdateEntry {
                clock: client.clock.wrapping_add(1),
                json: LEFT.into(),
            };
            left.insert(ClientID::new(*id), entry);
            false
        });
        (!left.is_empty()).then_some(AwarenessUpdate { clients: left })
    }

    /// Returns `conn`'s clients as a state blob, with their states when
    /// `with_states` is true.
    pub fn saved(&self, conn: &str, with_states: bool) -> Vec<u8> {
        let mut clients: Vec<(u64, u32, Option<String>)> = self
            .clients
            .iter()
            .filter(|(_, client)| client.owner == conn)
            .map(|(id, client)| {
                let state = client
                    .state
                    .as_deref()
                    .filter(|_| with_states)
                    .map(str::to_owned);
                (*id, client.clock, state)
            })
            .collect();
        clients.sort_unstable_by_key(|(id, _, _)| *id);
        // A list of numbers and strings always encodes.
        serde_json::to_vec(&Saved { clients }).unwrap_or_default()
    }

    /// Restores `conn`'s clients from its state blob; returns `false` if the
    /// blob is not one this room wrote.
    pub fn restore(&mut self, conn: &str, blob: &[u8]) -> bool {
        let Ok(saved) = serde_json::from_slice::<Saved>(blob) else {
            return false;
        };
        for (id, clock, state) in saved.clients {
            let client = Client {
                clock,
                state: state.map(Arc::from),
                owner: conn.to_owned(),
            };
            self.clients.insert(id, client);
        }
        true
    }
}

#[cfg(test)]
#[path = "presence_tests.rs"]
mod tests;
