//! Example room: the lobby of a conference, a live list of talks and their
//! reaction totals.
//!
//! Reaction rooms whose party sets the variable `LOBBY = "<party>/<room>"`
//! report their counts here through room-to-room calls:
//! `POST /report` with `{"counts":{"heart":3}}`. The lobby learns which talk
//! reports from the `x-partyhost-caller` header, which the host sets on calls
//! and strips from client requests, so a client cannot report for a talk.
//!
//! Clients connect to the lobby to watch: each gets
//! `{"type":"talks","talks":[{"party","room","counts","total"}...]}` (most
//! reactions first) on connect and after every report. `GET` answers the
//! same JSON. Reports are stored under `talk:<party>/<room>`, so the list
//! survives restarts and hibernation.

mod talks;

use partyhost_guest::{
    ConnectRequest, Connection, HookResult, Request, Response, Room, log, room,
    storage::{self, ListOptions},
};
use talks::{Refusal, Report, Talks};

/// The header that names the room making a call, as `<party>/<room>`.
const CALLER_HEADER: &str = "x-partyhost-caller";

/// The lobby's state: the talks it lists.
struct Lobby {
    talks: Talks,
}

impl Lobby {
    /// Records a talk's report, answering the calling room.
    fn report(&mut self, req: &Request) -> HookResult<Response> {
        let Some(talk) = req.header(CALLER_HEADER).map(str::to_owned) else {
            return Ok(Response::text(403, "only rooms report to the lobby"));
        };
        let report: Report = match req.json() {
            Ok(report) => report,
            Err(error) => return Ok(Response::text(400, format!("bad report: {error}"))),
        };
        match self.talks.check(&talk, &report) {
            Ok(()) => {}
            Err(Refusal::Full) => return Ok(Response::text(507, "the lobby is full")),
            Err(Refusal::TooManyKinds) => return Ok(Response::text(400, "too many kinds")),
        }

        storage::put(&talks::key_of(&talk), &serde_json::to_vec(&report)?)?;
        self.talks.set(talk, report);
        room::broadcast_json(&self.talks.message(), &[])?;
        Ok(Response::new(204))
    }
}

impl Room for Lobby {
    fn new() -> Self {
        Lobby {
            talks: Talks::default(),
        }
    }

    fn on_start(&mut self) -> HookResult {
        let entries = storage::list(ListOptions::new().prefix(talks::KEY_PREFIX))?;
        let (talks, invalid) = Talks::load(entries);
        for key in invalid {
            log::warn(&format!("ignoring stored talk {key:?}: not a valid report"));
        }
        self.talks = talks;
        Ok(())
    }

    fn on_connect(&mut self, conn: &Connection, _req: &ConnectRequest) -> HookResult {
        conn.send_json(&self.talks.message())?;
        Ok(())
    }

    fn on_request(&mut self, req: Request) -> HookResult<Response> {
        match (req.method.as_str(), req.path().ends_with("/report")) {
            ("POST", true) => self.report(&req),
            ("GET", false) => Ok(Response::json(200, &self.talks.message())?),
            _ => Ok(Response::text(405, "method not allowed").with_header("allow", "GET")),
        }
    }
}

partyhost_guest::export_room!(Lobby);
