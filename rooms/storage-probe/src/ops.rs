//! The probe's commands: one per host import, plus a few to misbehave.
//!
//! A command is a JSON object `{"id": <any>, "op": "<name>", ...args}`; its
//! result is JSON, or a [`ProbeError`] rendered as a short kebab-case string
//! such as `value-too-large:131072`. Values travel as UTF-8 strings.

use partyhost_guest::log::{self, Level};
use partyhost_guest::storage::{self, ListOptions};
use partyhost_guest::{Connection, ConnectionInfo, Request, parties, room};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ProbeError;
use crate::events::{self, EventLog};

/// Storage key of the number of times `on_start` ran, across instances.
pub const STARTS_KEY: &str = "probe:starts";

/// Storage key of the number of times `on_alarm` ran, across instances.
pub const ALARMS_KEY: &str = "probe:alarms";

/// Storage key of how many of the next alarms should fail.
pub const FAIL_ALARMS_KEY: &str = "probe:fail-alarms";

/// One command, by its `op`; other fields of the object are its arguments.
///
/// Each variant says its arguments and its `ok` result; every storage and
/// room error comes back as `err`.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Op {
    /// `get {key}` → the value, or null.
    Get { key: String },
    /// `get-many {keys}` → `[[key, value], ...]` of the keys that exist.
    GetMany { keys: Vec<String> },
    /// `put {key, value}` → null.
    Put { key: String, value: String },
    /// `put-size {key, size}` → null; stores `size` bytes of `x`.
    PutSize { key: String, size: usize },
    /// `put-many {entries: [[key, value], ...]}` → null.
    PutMany { entries: Vec<(String, String)> },
    /// `delete {key}` → whether it existed.
    Delete { key: String },
    /// `delete-many {keys}` → how many existed.
    DeleteMany { keys: Vec<String> },
    /// `list {prefix?, start?, end?, reverse?, limit?}` → `[[key, value], ...]`.
    List(ListArgs),
    /// `delete-all` → null.
    DeleteAll,
    /// `set-alarm {at}` (milliseconds since the Unix epoch) → null.
    SetAlarm { at: u64 },
    /// `get-alarm` → the alarm time, or null.
    GetAlarm,
    /// `delete-alarm` → null.
    DeleteAlarm,
    /// `now` → the guest's wall clock, in milliseconds since the Unix epoch.
    Now,
    /// `send {to, text}` → null.
    Send { to: String, text: String },
    /// `broadcast {text, exclude?}` → null.
    Broadcast {
        text: String,
        #[serde(default)]
        exclude: Vec<String>,
    },
    /// `close {to, code, reason?}` → null.
    Close {
        to: String,
        code: u16,
        #[serde(default)]
        reason: String,
    },
    /// `connections {tag?}` → `[{id, url, tags, state}]`, state a string or
    /// null.
    Connections { tag: Option<String> },
    /// `set-state {to, state}` (a string, or null to clear) → null.
    SetState { to: String, state: Option<String> },
    /// `get-state {to}` → the state, or null.
    GetState { to: String },
    /// `set-tags {to, tags}` → null.
    SetTags { to: String, tags: Vec<String> },
    /// `vars` → `{name: value}`.
    Vars,
    /// `call {party, room, method?, url?, body?}` → `{status, body}` of the
    /// target's answer (body as text); a `POST` to `/relay` makes the target
    /// probe call on in turn (see the crate docs).
    Call(CallArgs),
    /// `room` → `{id, party}`.
    Room,
    /// `instance` → `{instance, starts}` of the running instance.
    Instance,
    /// `log {level, message}` → null.
    Log { level: LogLevel, message: String },
    /// `print {text}` → null; prints the text to stdout.
    Print { text: String },
    /// `busy {ms}` → null, after spinning on the CPU that long.
    Busy { ms: u64 },
    /// `trap` → no answer: the instance traps.
    Trap,
    /// `fail` → `err: "probe-failure"`, then the hook fails.
    Fail,
    /// `events` → the instance's event log.
    Events,
    /// `starts` → how many times `on_start` ran, across instances.
    Starts,
    /// `alarms` → how many times `on_alarm` ran, across instances.
    Alarms,
}

/// The arguments of `list`, each optional.
#[derive(Debug, Deserialize)]
pub struct ListArgs {
    /// Only keys with this prefix.
    prefix: Option<String>,
    /// Only keys at or after this one.
    start: Option<String>,
    /// Only keys before this one.
    end: Option<String>,
    /// Descending order; false when absent.
    #[serde(default)]
    reverse: bool,
    /// At most this many entries.
    limit: Option<u32>,
}

/// The arguments of `call`.
#[derive(Debug, Deserialize)]
pub struct CallArgs {
    /// The target's party.
    party: String,
    /// The target's room id.
    room: String,
    /// The method; `GET` when absent.
    method: Option<String>,
    /// The URL; `/` when absent.
    url: Option<String>,
    /// The body, as text; empty when absent.
    #[serde(default)]
    body: String,
}

/// The `level` of `log`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// `trace`.
    Trace,
    /// `debug`.
    Debug,
    /// `info`.
    Info,
    /// `warn`.
    Warn,
    /// `error`.
    Error,
}

/// Splits a command into its `id` (null when absent) and its parsed op.
pub fn parse(text: &str) -> (Value, Result<Op, ProbeError>) {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            return (
                Value::Null,
                Err(ProbeError::new("bad-command", Some(&error))),
            );
        }
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let op = Op::deserialize(value).map_err(|error| ProbeError::new("bad-command", Some(&error)));
    (id, op)
}

/// Runs every op but `trap` and `fail`, which the hook handles itself.
pub fn execute(op: Op, events: &EventLog) -> Result<Value, ProbeError> {
    match op {
        Op::Get { key } => Ok(json!(storage::get(&key)?.map(text))),
        Op::GetMany { keys } => Ok(pairs(storage::get_many(&keys)?)),
        Op::Put { key, value } => storage::put(&key, value.as_bytes()).null(),
        Op::PutSize { key, size } => storage::put(&key, &vec![b'x'; size]).null(),
        Op::PutMany { entries } => storage::put_many(entries).null(),
        Op::Delete { key } => Ok(json!(storage::delete(&key)?)),
        Op::DeleteMany { keys } => Ok(json!(storage::delete_many(&keys)?)),
        Op::List(args) => Ok(pairs(storage::list(args.into())?)),
        Op::DeleteAll => storage::delete_all().null(),
        Op::SetAlarm { at } => storage::set_alarm(at).null(),
        Op::GetAlarm => Ok(json!(storage::get_alarm())),
        Op::DeleteAlarm => {
            storage::delete_alarm();
            Ok(Value::Null)
        }
        Op::Now => Ok(json!(events::now_ms())),
        Op::Starts => Ok(json!(read_counter(STARTS_KEY)?)),
        Op::Alarms => Ok(json!(read_counter(ALARMS_KEY)?)),
        Op::Events => Ok(json!(events.entries())),
        Op::Busy { ms } => {
            spin(ms);
            Ok(Value::Null)
        }
        Op::Log { level, message } => {
            log::log(level.into(), &message);
            Ok(Value::Null)
        }
        Op::Print { text } => {
            println!("{text}");
            Ok(Value::Null)
        }
        op => execute_room_op(op),
    }
}

/// Runs the ops that call the `room` interface.
fn execute_room_op(op: Op) -> Result<Value, ProbeError> {
    match op {
        Op::Send { to, text } => Connection::new(to).send_text(&text).null(),
        Op::Broadcast { text, exclude } => {
            let exclude: Vec<&str> = exclude.iter().map(String::as_str).collect();
            room::broadcast_text(&text, &exclude);
            Ok(Value::Null)
        }
        Op::Close { to, code, reason } => Connection::new(to).close(code, &reason).null(),
        Op::Connections { tag } => {
            let infos = room::connections(tag.as_deref());
            Ok(Value::Array(
                infos.into_iter().map(connection_json).collect(),
            ))
        }
        Op::SetState { to, state } => {
            let state = state.as_ref().map(String::as_bytes);
            Connection::new(to).set_state(state).null()
        }
        Op::GetState { to } => Ok(json!(Connection::new(to).state()?.map(text))),
        Op::SetTags { to, tags } => Connection::new(to).set_tags(tags).null(),
        Op::Vars => Ok(json!(room::vars())),
        Op::Room => Ok(json!({ "id": room::id(), "party": room::party() })),
        Op::Call(args) => call(args),
        op => Err(ProbeError::new("unsupported-op", Some(&format!("{op:?}")))),
    }
}

/// Calls another room and renders its answer.
pub fn call(args: CallArgs) -> Result<Value, ProbeError> {
    let method = args.method.as_deref().unwrap_or("GET");
    let url = args.url.unwrap_or_else(|| "/".to_owned());
    let request = Request::new(method, url).with_body(args.body);
    let response = parties::call(&args.party, &args.room, request)?;
    let body = String::from_utf8_lossy(&response.body);
    Ok(json!({ "status": response.status, "body": body }))
}

/// Reads a counter stored as a decimal number; absent is 0.
pub fn read_counter(key: &str) -> Result<u64, ProbeError> {
    let Some(bytes) = storage::get(key)? else {
        return Ok(0);
    };
    String::from_utf8_lossy(&bytes)
        .parse()
        .map_err(|_| ProbeError::new("bad-counter", Some(&key)))
}

/// Adds one to a counter stored as a decimal number; returns the new value.
pub fn increment_counter(key: &str) -> Result<u64, ProbeError> {
    let next = read_counter(key)?.saturating_add(1);
    storage::put(key, next.to_string().as_bytes())?;
    Ok(next)
}

/// Burns CPU for `ms` milliseconds of wall-clock time, to test CPU deadlines.
pub fn spin(ms: u64) {
    let until = events::now_ms().saturating_add(ms);
    while events::now_ms() < until {
        std::hint::spin_loop();
    }
}

/// Turns the result of a call that returns nothing into a null result.
trait Null {
    fn null(self) -> Result<Value, ProbeError>;
}

impl<E: Into<ProbeError>> Null for Result<(), E> {
    fn null(self) -> Result<Value, ProbeError> {
        self.map(|()| Value::Null).map_err(Into::into)
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

fn pairs(entries: Vec<(String, Vec<u8>)>) -> Value {
    entries
        .into_iter()
        .map(|(key, value)| json!([key, text(value)]))
        .collect()
}

fn connection_json(info: ConnectionInfo) -> Value {
    json!({
        "id": info.id,
        "url": info.url,
        "tags": info.tags,
        "state": info.state.map(text),
    })
}

impl From<ListArgs> for ListOptions {
    fn from(args: ListArgs) -> Self {
        let mut options = ListOptions::new().reverse(args.reverse);
        if let Some(prefix) = args.prefix {
            options = options.prefix(prefix);
        }
        if let Some(start) = args.start {
            options = options.start(start);
        }
        if let Some(end) = args.end {
            options = options.end(end);
        }
        if let Some(limit) = args.limit {
            options = options.limit(limit);
        }
        options
    }
}

impl From<LogLevel> for Level {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Trace => Level::Trace,
            LogLevel::Debug => Level::Debug,
            LogLevel::Info => Level::Info,
            LogLevel::Warn => Level::Warn,
            LogLevel::Error => Level::Error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_keep_their_id_and_ignore_it_as_an_argument() {
        let (id, op) = parse(r#"{"id":{"n":7},"op":"put","key":"k","value":"v"}"#);
        assert_eq!(id, json!({"n": 7}));
        assert!(matches!(op, Ok(Op::Put { key, value }) if key == "k" && value == "v"));
    }

    #[test]
    fn ops_without_arguments_parse() {
        let (id, op) = parse(r#"{"op":"delete-all","id":1}"#);
        assert_eq!(id, json!(1));
        assert!(matches!(op, Ok(Op::DeleteAll)));
    }

    #[test]
    fn list_arguments_are_optional() {
        let (_, op) = parse(r#"{"id":1,"op":"list","prefix":"a","reverse":true}"#);
        let Ok(Op::List(args)) = op else {
            panic!("list did not parse: {op:?}")
        };
        let expected = ListOptions::new().prefix("a").reverse(true);
        assert_eq!(ListOptions::from(args), expected);
    }

    #[test]
    fn malformed_commands_are_bad_commands() {
        let (id, op) = parse("not json");
        assert_eq!(id, Value::Null);
        assert!(op.is_err_and(|e| e.to_string().starts_with("bad-command:")));
        let (id, op) = parse(r#"{"id":"x","op":"nope"}"#);
        assert_eq!(id, json!("x"));
        assert!(op.is_err_and(|e| e.to_string().starts_with("bad-command:unknown variant")));
    }
}
