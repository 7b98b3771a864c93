//! A deliberately misbehaving room, for the integration tests that show the
//! host survives bad guests.
//!
//! Each text message is a JSON command `{"op": "<name>", ...}` (see [`Op`]
//! for the list and each one's answer); the room answers its sender alone.
//! A command it cannot parse, or a binary message, is answered with
//! `{"error":"unknown op"}`. Most commands abuse one of the host's limits:
//! CPU (`loop`), memory (`grow`), outbound queues (`flood-broadcast`,
//! `flood-send`), the storage quota (`flood-storage`), the log
//! (`flood-log`, `flood-print`), or the instance itself (`trap`).
//!
//! Besides, the room:
//! - picks an instance id in `on_start` and counts its starts in storage
//!   under `hostile:starts`, so that a test can see a fresh instance serve
//!   after a failure (`ping`, or `GET` on the room for `{"starts":n}`);
//! - on connect, traps with `trap=1` in the query, and otherwise greets with
//!   `{"event":"connected","instance":<id>}`.

mod abuse;
mod ops;
mod starts;

use ops::Op;
use partyhost_guest::{ConnectRequest, Connection, HookResult, Message, Request, Response, Room};
use serde_json::{Value, json};

/// The room's state, which lives as long as its instance.
struct Hostile {
    /// This instance's id, chosen in `on_start` (0 until then).
    instance: u64,
    /// The blocks `grow` allocated, kept so that their memory stays in use.
    hoard: Vec<Vec<u8>>,
}

impl Hostile {
    /// Runs one command and answers its sender, unless the command never
    /// returns.
    fn command(&mut self, conn: &Connection, text: &str) -> HookResult {
        let Some(op) = ops::parse(text) else {
            return unknown_op(conn);
        };
        let answer = match op {
            Op::Ping => json!({ "pong": self.instance, "starts": starts::read()? }),
            Op::Loop => abuse::spin_forever(),
            Op::Grow { mb } => {
                self.hoard.push(abuse::grow(mb));
                json!({ "grown": mb })
            }
            Op::FloodBroadcast { bytes, count } => {
                abuse::flood_broadcast(bytes, count);
                json!({ "flooded": count })
            }
            Op::FloodSend { bytes, count } => {
                abuse::flood_send(conn, bytes, count)?;
                json!({ "sent": count })
            }
            Op::FloodStorage { count, size } => flood_storage(count, size),
            Op::FloodLog { lines } => {
                abuse::flood_log(lines);
                json!({ "logged": lines })
            }
            Op::FloodPrint { lines } => {
                abuse::flood_print(lines);
                json!({ "printed": lines })
            }
            Op::Trap => trap(),
        };
        Ok(conn.send_json(&answer)?)
    }
}

impl Room for Hostile {
    fn new() -> Self {
        Hostile {
            instance: 0,
            hoard: Vec::new(),
        }
    }

    fn on_start(&mut self) -> HookResult {
        self.instance = starts::new_instance_id();
        starts::increment()?;
        Ok(())
    }

    fn on_connect(&mut self, conn: &Connection, req: &ConnectRequest) -> HookResult {
        if req.query("trap").as_deref() == Some("1") {
            trap();
        }
        let greeting = json!({ "event": "connected", "instance": self.instance });
        Ok(conn.send_json(&greeting)?)
    }

    fn on_message(&mut self, conn: &Connection, msg: Message) -> HookResult {
        match msg {
            Message::Text(text) => self.command(conn, &text),
            Message::Binary(_) => unknown_op(conn),
        }
    }

    fn on_request(&mut self, req: Request) -> HookResult<Response> {
        if req.method != "GET" {
            return Ok(Response::text(405, "method not allowed").with_header("allow", "GET"));
        }
        Ok(Response::json(200, &json!({ "starts": starts::read()? }))?)
    }
}

/// Runs `flood-storage` and renders how far it got.
fn flood_storage(count: u64, size: usize) -> Value {
    let (stored, error) = abuse::flood_storage(count, size);
    json!({ "stored": stored, "err": error.as_ref().map(|error| error.kind()) })
}

/// Tells the sender that its message was not a command.
fn unknown_op(conn: &Connection) -> HookResult {
    Ok(conn.send_json(&json!({ "error": "unknown op" }))?)
}

/// Traps the instance, on purpose.
#[allow(
    clippy::panic,
    reason = "the room traps on request to test the host's recovery"
)]
fn trap() -> ! {
    panic!("hostile trap")
}

partyhost_guest::export_room!(Hostile);
