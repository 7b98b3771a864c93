//! The reference room: a reaction counter.
//!
//! Every connection gets the current counts when it opens. A text message
//! `{"type":"reaction","kind":"heart"}` adds one to that kind's count, stores
//! it under `count:<kind>` (a decimal number as UTF-8) and broadcasts every
//! count to the whole room, sender included:
//! `{"type":"counts","counts":{"heart":3}}`. Anything else is answered to its
//! sender alone with `{"type":"error","error":"<reason>"}` and the room keeps
//! counting. `GET` on the room answers the counts as JSON.
//!
//! The counts live in memory and are read back from storage in `on_start`, so
//! they survive restarts; the output gate guarantees that no client sees a
//! count before it is durable.

mod counts;

use counts::{Counts, Outgoing, Rejection};
use partyhost_guest::{
    ConnectRequest, Connection, HookResult, Message, Request, Response, Room, log, room,
    storage::{self, ListOptions},
};

/// The room's state: the counts by kind.
struct ReactionRoom {
    counts: Counts,
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
}

impl Room for ReactionRoom {
    fn new() -> Self {
        ReactionRoom {
            counts: Counts::default(),
        }
    }

    fn on_start(&mut self) -> HookResult {
        let entries = storage::list(ListOptions::new().prefix(counts::KEY_PREFIX))?;
        let (counts, invalid) = Counts::load(entries);
        for key in invalid {
            log::warn(&format!("ignoring stored count {key:?}: not a valid count"));
        }
        self.counts = counts;
        Ok(())
    }

    fn on_connect(&mut self, conn: &Connection, _req: &ConnectRequest) -> HookResult {
        conn.send_json(&self.counts.message())?;
        Ok(())
    }

    fn on_message(&mut self, conn: &Connection, msg: Message) -> HookResult {
        let counted = match &msg {
            Message::Text(text) => self.react(text),
            Message::Binary(_) => Err(Rejection::Binary),
        };
        match counted {
            Ok(()) => room::broadcast_json(&self.counts.message(), &[])?,
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
        Ok(Response::json(200, &self.counts.message())?)
    }
}

partyhost_guest::export_room!(ReactionRoom);
