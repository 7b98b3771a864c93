//! A test room that the integration tests drive over WebSocket to exercise
//! every host import.
//!
//! Each text message is a JSON command `{"id": <any>, "op": "<name>", ...}`
//! (see [`ops`] for the list); the probe answers its sender alone with
//! `{"id": <same>, "ok": <result>}` or `{"id": <same>, "err": "<kind[:detail]>"}`.
//! A binary message is echoed back to its sender untouched.
//!
//! Besides, the probe:
//! - logs every hook it ran (hook, connection, begin and end times, instance
//!   id) in memory, for ordering tests (op `events`, or `GET` on the room);
//! - counts its starts and alarms in storage (`probe:starts`,
//!   `probe:alarms`), so that tests can count restarts;
//! - on connect, applies `tags=a,b` from the query, refuses with `fail=1`,
//!   traps with `trap=1`, and otherwise greets with
//!   `{"event":"connected","id":<id>}`;
//! - on close, tells the remaining connections
//!   `{"event":"closed","id":..,"code":..,"reason":..,"clean":..}`;
//! - on alarm, broadcasts `{"event":"alarm"}`;
//! - answers a `POST` to a path ending in `/relay`, whose body is the
//!   arguments of a `call` command, by making that call and answering
//!   `{"ok": <result>}` or `{"err": "<kind>"}` with status 200: a call chain
//!   through several probes; a `POST` to a path ending in `/busy` spins for
//!   the milliseconds its body names, then answers `done`.

mod error;
mod events;
mod ops;

use error::ProbeError;
use events::{Event, EventLog};
use ops::{ALARMS_KEY, FAIL_ALARMS_KEY, Op, STARTS_KEY};
use partyhost_guest::{
    Admission, ConnectRequest, Connection, HookError, HookResult, Message, Request, Response, Room,
    room, storage,
};
use serde_json::{Value, json};

/// The probe's state, which lives as long as its instance.
struct Probe {
    /// The hooks this instance ran.
    events: EventLog,
    /// This instance's id, chosen in `on_start` (0 until then).
    instance: u64,
    /// How many times `on_start` ran in this instance: 1 once started.
    starts: u64,
}

impl Probe {
    /// Runs a hook's body and logs it, whether it succeeded or not.
    fn record<T>(
        &mut self,
        hook: &'static str,
        conn: Option<&Connection>,
        body: impl FnOnce(&mut Self) -> HookResult<T>,
    ) -> HookResult<T> {
        let begin = events::now_ms();
        let result = body(self);
        let conn = conn.map(|conn| conn.id().to_owned());
        let end = events::now_ms();
        self.events.push(Event {
            hook,
            conn,
            begin,
            end,
            instance: self.instance,
        });
        result
    }

    /// Runs one command and answers its sender.
    fn command(&mut self, conn: &Connection, text: &str) -> HookResult {
        let (id, op) = ops::parse(text);
        let result = match op {
            Ok(Op::Trap) => trap(),
            Ok(Op::Fail) => {
                // The answer still goes out: a failed hook's messages count.
                reply(conn, id, Err(ProbeError::new("probe-failure", None)))?;
                return Err(HookError::new("probe failure"));
            }
            Ok(Op::Instance) => Ok(json!({ "instance": self.instance, "starts": self.starts })),
            Ok(op) => ops::execute(op, &self.events),
            Err(error) => Err(error),
        };
        reply(conn, id, result)
    }
}

impl Room for Probe {
    fn new() -> Self {
        Probe {
            events: EventLog::default(),
            instance: 0,
            starts: 0,
        }
    }

    fn on_start(&mut self) -> HookResult {
        self.instance = events::new_instance_id();
        self.starts += 1;
        self.record("start", None, |_| {
            ops::increment_counter(STARTS_KEY)?;
            Ok(())
        })
    }

    fn on_connect(&mut self, conn: &Connection, req: &ConnectRequest) -> HookResult {
        self.record("connect", Some(conn), |_| {
            if let Some(tags) = req.query("tags") {
                conn.set_tags(tags.split(',').filter(|tag| !tag.is_empty()))?;
            }
            if req.query("fail").as_deref() == Some("1") {
                return Err(HookError::new("connect refused by probe"));
            }
            if req.query("trap").as_deref() == Some("1") {
                trap();
            }
            let user = req.header("x-user");
            conn.send_json(&json!({ "event": "connected", "id": conn.id(), "user": user }))?;
            Ok(())
        })
    }

    fn on_message(&mut self, conn: &Connection, msg: Message) -> HookResult {
        self.record("message", Some(conn), |probe| match msg {
            Message::Text(text) => probe.command(conn, &text),
            Message::Binary(bytes) => Ok(conn.send_binary(&bytes)?),
        })
    }

    fn on_close(&mut self, conn: &Connection, code: u16, reason: &str, clean: bool) -> HookResult {
        self.record("close", Some(conn), |_| {
            // No exclude: the closed socket is already gone, and excluding its
            // id would skip a reconnected socket that reuses it.
            let closed = json!({
                "event": "closed", "id": conn.id(), "code": code, "reason": reason, "clean": clean,
            });
            Ok(room::broadcast_json(&closed, &[])?)
        })
    }

    fn on_error(&mut self, conn: &Connection, _error: &str) -> HookResult {
        self.record("error", Some(conn), |_| Ok(()))
    }

    fn on_request(&mut self, req: Request) -> HookResult<Response> {
        self.record("request", None, |probe| match req.method.as_str() {
            "GET" => {
                let starts = ops::read_counter(STARTS_KEY)?;
                let checked = req.header("x-checked");
                let body = json!({
                    "events": probe.events.entries(), "starts": starts, "checked": checked,
                });
                Ok(Response::json(200, &body)?)
            }
            "POST" if req.path().ends_with("/relay") => relay(&req),
            "POST" if req.path().ends_with("/busy") => {
                // The body is how long to spin, in milliseconds.
                let ms = req.text().ok().and_then(|t| t.trim().parse().ok());
                ops::spin(ms.unwrap_or(0));
                Ok(Response::text(200, "done"))
            }
            "POST" => store_form(&req),
            _ => Ok(Response::text(405, "method not allowed").with_header("allow", "GET, POST")),
        })
    }

    fn on_before_connect(request: &Request) -> Admission {
        // `?token=good` passes as the user alice; any other token is refused.
        match request.query("token").as_deref() {
            None => Admission::allow(),
            Some("good") => Admission::allow_with_header("x-user", "alice"),
            Some(_) => Admission::reject(401, "bad token"),
        }
    }

    fn on_before_request(request: &Request) -> Admission {
        match request.header("authorization") {
            Some("Bearer bad") => Admission::reject(403, "forbidden by probe"),
            _ => Admission::allow_with_header("x-checked", "yes"),
        }
    }

    fn on_alarm(&mut self) -> HookResult {
        self.record("alarm", None, |_| {
            // Tests set `probe:fail-alarms` to make the next alarms fail.
            let failures = ops::read_counter(FAIL_ALARMS_KEY)?;
            let now = events::now_ms();
            if failures > 0 {
                storage::put(FAIL_ALARMS_KEY, (failures - 1).to_string().as_bytes())?;
                room::broadcast_json(&json!({ "event": "alarm-failed", "now": now }), &[])?;
                return Err(HookError::new("probe alarm failure"));
            }
            ops::increment_counter(ALARMS_KEY)?;
            Ok(room::broadcast_json(
                &json!({ "event": "alarm", "now": now }),
                &[],
            )?)
        })
    }
}

/// Makes the call a `/relay` request describes and answers with its result.
fn relay(req: &Request) -> HookResult<Response> {
    let result = match req.json::<ops::CallArgs>() {
        Ok(args) => ops::call(args),
        Err(error) => Err(ProbeError::new("bad-command", Some(&error))),
    };
    let body = match result {
        Ok(ok) => json!({ "ok": ok }),
        Err(err) => json!({ "err": err.to_string() }),
    };
    Ok(Response::json(200, &body)?)
}

/// Stores a `key=value` request body.
fn store_form(req: &Request) -> HookResult<Response> {
    let Some((key, value)) = req.text().ok().and_then(|body| body.split_once('=')) else {
        return Ok(Response::text(400, "expected key=value"));
    };
    storage::put(key, value.as_bytes())?;
    Ok(Response::text(200, "stored"))
}

/// Sends a command's answer to its sender.
fn reply(conn: &Connection, id: Value, result: Result<Value, ProbeError>) -> HookResult {
    let answer = match result {
        Ok(ok) => json!({ "id": id, "ok": ok }),
        Err(err) => json!({ "id": id, "err": err.to_string() }),
    };
    Ok(conn.send_json(&answer)?)
}

/// Traps the instance, on purpose.
#[allow(
    clippy::panic,
    reason = "the probe traps on request to test the host's recovery"
)]
fn trap() -> ! {
    panic!("probe trap")
}

partyhost_guest::export_room!(Probe);
