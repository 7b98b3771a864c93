//! The reference room: a reaction counter that also says how many people
//! are in the room.
//!
//! The room sends one kind of update,
//! `{"type":"counts","counts":{"heart":3},"people":2}`: every count by kind,
//! and `people`, the number of distinct connection ids with an open socket
//! (two sockets under one id count once). A connection gets it when it opens.
//! A text message `{"type":"reaction","kind":"heart"}` adds one to that
//! kind's count, stores it under `count:<kind>` (a decimal number as UTF-8)
//! and broadcasts the update to the whole room, sender included. A join or a
//! leave broadcasts it too: at once while the room has at most
//! [`presence::SMALL_ROOM`] people, and past that at most once per
//! [`presence::COALESCE_MS`] (the room's alarm sends the last change of a
//! window), so a room of thousands is not flooded while it fills. Anything
//! else a client sends is answered to it alone with
//! `{"type":"error","error":"<reason>"}` and the room keeps counting. `GET` on
//! the room answers the same update as JSON.
//!
//! When the party sets `LOBBY = "<party>/<room>"`, the room also reports its
//! counts to that lobby room through a room-to-room call, once per burst of
//! reactions, from its alarm (see `lobby`).
//!
//! The counts live in memory and are read back from storage in `on_start`, so
//! they survive restarts; the output gate guarantees that no client sees a
//! count before it is durable.

mod counts;
mod lobby;
mod presence;

use std::time::{SystemTime, UNIX_EPOCH};

use counts::{Counts, Outgoing, Rejection};
use partyhost_guest::{
    ConnectRequest, Connection, HookError, HookResult, Message, Request, Response, Room, log, room,
    storage::{self, ListOptions},
};
use presence::{Announce, Presence};

/// The room's state: the counts by kind and who is in the room.
struct ReactionRoom {
    counts: Counts,
    presence: Presence,
    /// The lobby this room reports its counts to, if its party names one.
    lobby: Option<lobby::Lobby>,
}

/// Lists the ids of the room's open sockets, for a presence tally.
fn open_ids() -> Vec<String> {
    room::connections(None)
        .into_iter()
        .map(|info| info.id)
        .collect()
}

/// Returns the time in milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

impl ReactionRoom {
    /// Counts one reaction of `text`'s kind, or says why not.
    fn react(&mut self, text: &str) -> Result<(), Rejection> {
        let kind = counts::parse_reaction(text)?;
        let next = self.counts.next(&kind)?;

        // Memory changes only once the count is stored, so that what clients
        // see never runs ahead of what a restart brings back.
        let stored = storage::put(&counts::key_of(&kind), next.to_string().as_bytes());
        if let Err(error) = stored {
            log::warn(&format!("failed to store count of {kind:?}: {error}"));
            return Err(Rejection::StoreFailed);
        }
        self.counts.set(kind, next);
        Ok(())
    }

    /// Sends the current update to everyone.
    fn broadcast(&mut self) -> HookResult {
        let people = self.presence.people(open_ids);
        room::broadcast_json(&self.counts.message(people), &[])?;
        self.presence.broadcast_at(now_ms());
        Ok(())
    }

    /// Announces a join or a leave as [`Presence::announce`] decides; returns
    /// whether everyone was told, so that a newcomer is not told twice.
    fn announce_presence(&mut self) -> HookResult<bool> {
        let people = self.presence.people(open_ids);
        match self.presence.announce(people, now_ms()) {
            Announce::Now => {
                self.broadcast()?;
                return Ok(true);
            }
            Announce::At(at_ms) => {
                if let Err(error) = storage::set_alarm(at_ms) {
                    log::warn(&format!("failed to schedule a presence update: {error}"));
                    self.presence.alarm_done();
                }
            }
            Announce::Scheduled => {}
        }
        Ok(false)
    }
}

impl Room for ReactionRoom {
    fn new() -> Self {
        ReactionRoom {
            counts: Counts::default(),
            presence: Presence::default(),
            lobby: None,
        }
    }

    fn on_start(&mut self) -> HookResult {
        let entries = storage::list(ListOptions::new().prefix(counts::KEY_PREFIX))?;
        let (counts, invalid) = Counts::load(entries);
        for key in invalid {
            log::warn(&format!("ignoring stored count {key:?}: not a valid count"));
        }
        self.counts = counts;
        self.lobby = lobby::Lobby::configured().unwrap_or_else(|bad| {
            log::warn(&format!("ignoring LOBBY {bad:?}: expected <party>/<room>"));
            None
        });
        Ok(())
    }

    fn on_connect(&mut self, conn: &Connection, _req: &ConnectRequest) -> HookResult {
        self.presence.joined(conn.id(), open_ids);
        let greeted = match self.announce_presence() {
            Ok(true) => Ok(()),
            Ok(false) => {
                let people = self.presence.people(open_ids);
                conn.send_json(&self.counts.message(people))
                    .map_err(HookError::from)
            }
            Err(error) => Err(error),
        };
        // A failed connect hook drops the socket without a close hook, so
        // the tally must forget it here.
        if let Err(error) = greeted {
            self.presence.left(conn.id(), open_ids);
            return Err(error);
        }
        Ok(())
    }

    fn on_close(
        &mut self,
        conn: &Connection,
        _code: u16,
        _reason: &str,
        _clean: bool,
    ) -> HookResult {
        self.presence.left(conn.id(), open_ids);
        self.announce_presence()?;
        Ok(())
    }

    fn on_alarm(&mut self) -> HookResult {
        // The one alarm also serves lobby reports; only a pending presence
        // change is broadcast, and a retried alarm does not repeat it.
        if self.presence.take_alarm() {
            self.broadcast()?;
        }
        match &self.lobby {
            Some(lobby) => lobby.report(self.counts.all()),
            None => Ok(()),
        }
    }

    fn on_message(&mut self, conn: &Connection, msg: Message) -> HookResult {
        let counted = match &msg {
            Message::Text(text) => self.react(text),
            Message::Binary(_) => Err(Rejection::Binary),
        };
        match counted {
            Ok(()) => {
                self.broadcast()?;
                if self.lobby.is_some() {
                    lobby::Lobby::schedule()?;
                }
            }
            Err(rejection) => conn.send_json(&Outgoing::Error {
                error: rejection.reason(),
            })?,
        }
        Ok(())
    }

    fn on_request(&mut self, req: Request) -> HookResult<Response> {
        if req.method != "GET" {
            return Ok(Response::text(405, "method not allowed").with_header("allow", "GET"));
        }
        let people = self.presence.people(open_ids);
        Ok(Response::json(200, &self.counts.message(people))?)
    }
}

partyhost_guest::export_room!(ReactionRoom);
