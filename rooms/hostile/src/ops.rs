//! The room's commands and how a text message becomes one.
//!
//! A command is a JSON object `{"op": "<name>", ...args}`. Fields the op does
//! not name are ignored; a missing or mistyped argument makes the message
//! no command at all, like an unknown op.

use serde::Deserialize;

/// One command, by its `op`; other fields of the object are its arguments.
///
/// Each variant says its arguments and its answer to the sender.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Op {
    /// `ping` → `{"pong": <instance id>, "starts": <persisted starts>}`.
    Ping,
    /// `loop` → no answer: spins until the host's CPU deadline stops it.
    Loop,
    /// `grow {mb}` → `{"grown": mb}`, after allocating and touching `mb` MiB
    /// that the instance keeps; the host's memory cap traps a large one.
    Grow {
        /// How many MiB to allocate.
        mb: usize,
    },
    /// `flood-broadcast {bytes, count}` → `{"flooded": count}`, after
    /// broadcasting `count` texts of `bytes` bytes.
    FloodBroadcast {
        /// The length of each text, in bytes.
        bytes: usize,
        /// How many texts to broadcast.
        count: u64,
    },
    /// `flood-send {bytes, count}` → `{"sent": count}`, after sending the
    /// sender `count` texts of `bytes` bytes.
    FloodSend {
        /// The length of each text, in bytes.
        bytes: usize,
        /// How many texts to send.
        count: u64,
    },
    /// `flood-storage {count, size}` → `{"stored": n, "err": <kind> | null}`,
    /// after storing `size`-byte values under `flood:0`, `flood:1`, ... until
    /// `count` are stored or one fails.
    FloodStorage {
        /// How many keys to store.
        count: u64,
        /// The length of each value, in bytes.
        size: usize,
    },
    /// `flood-log {lines}` → `{"logged": lines}`, after logging `lines`
    /// distinct lines at the info level.
    FloodLog {
        /// How many lines to log.
        lines: u64,
    },
    /// `flood-print {lines}` → `{"printed": lines}`, after printing `lines`
    /// distinct lines to stdout.
    FloodPrint {
        /// How many lines to print.
        lines: u64,
    },
    /// `trap` → no answer: the instance traps.
    Trap,
}

/// Parses a text message as a command, or `None` if it is not one.
pub fn parse(text: &str) -> Option<Op> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_parse_with_their_arguments() {
        assert_eq!(parse(r#"{"op":"ping"}"#), Some(Op::Ping));
        assert_eq!(
            parse(r#"{"op":"grow","mb":512}"#),
            Some(Op::Grow { mb: 512 })
        );
        let storage = parse(r#"{"op":"flood-storage","count":10,"size":4}"#);
        assert_eq!(storage, Some(Op::FloodStorage { count: 10, size: 4 }));
        let broadcast = parse(r#"{"count":3,"op":"flood-broadcast","bytes":8}"#);
        assert_eq!(broadcast, Some(Op::FloodBroadcast { bytes: 8, count: 3 }));
    }

    #[test]
    fn extra_fields_are_ignored() {
        assert_eq!(parse(r#"{"op":"trap","id":7}"#), Some(Op::Trap));
    }

    #[test]
    fn unknown_ops_and_bad_arguments_are_no_command() {
        assert_eq!(parse(r#"{"op":"nope"}"#), None);
        assert_eq!(parse(r#"{"op":"grow"}"#), None);
        assert_eq!(parse(r#"{"op":"flood-log","lines":-1}"#), None);
        assert_eq!(parse("not json"), None);
    }
}
