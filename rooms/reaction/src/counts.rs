//! The reaction counts of one room and the messages about them, without any
//! host call, so that the rules are testable natively.

use std::collections::BTreeMap;

use serde::Serialize;

/// The prefix of every count's storage key; the rest of the key is the kind.
pub const KEY_PREFIX: &str = "count:";

/// The longest kind accepted, in bytes.
pub const MAX_KIND_BYTES: usize = 64;

/// The most distinct kinds one room counts.
pub const MAX_KINDS: usize = 100;

/// Why a client's message was not counted; its reason is sent to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The frame was binary.
    Binary,
    /// The frame was not JSON.
    NotJson,
    /// The JSON was not `{"type":"reaction",...}`.
    UnknownType,
    /// The kind was missing, not a string, empty or too long.
    BadKind,
    /// The kind is new and the room already counts [`MAX_KINDS`] kinds.
    TooManyKinds,
    /// The new count could not be stored.
    StoreFailed,
}

impl Rejection {
    /// Returns the short reason sent to the client.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Binary => "binary messages are not supported",
            Rejection::NotJson => "message is not json",
            Rejection::UnknownType => "unknown message type",
            Rejection::BadKind => "kind must be a string of 1 to 64 bytes",
            Rejection::TooManyKinds => "too many kinds",
            Rejection::StoreFailed => "failed to store count",
        }
    }
}

/// What the room sends to clients.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Outgoing<'a> {
    /// Every count, by kind, and how many people are in the room.
    Counts {
        /// The counts.
        counts: &'a BTreeMap<String, u64>,
        /// The number of distinct connection ids with an open socket.
        people: usize,
    },
    /// Why the client's last message was not counted.
    Error {
        /// The short reason.
        error: &'static str,
    },
}

/// Returns the kind of a `{"type":"reaction","kind":"..."}` message.
pub fn parse_reaction(text: &str) -> Result<String, Rejection> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| Rejection::NotJson)?;
    if value.get("type").and_then(|t| t.as_str()) != Some("reaction") {
        return Err(Rejection::UnknownType);
    }
    match value.get("kind").and_then(|kind| kind.as_str()) {
        Some(kind) if is_valid_kind(kind) => Ok(kind.to_owned()),
        _ => Err(Rejection::BadKind),
    }
}

/// Returns the storage key of `kind`'s count.
pub fn key_of(kind: &str) -> String {
    format!("{KEY_PREFIX}{kind}")
}

fn is_valid_kind(kind: &str) -> bool {
    !kind.is_empty() && kind.len() <= MAX_KIND_BYTES
}

/// The counts of one room, by kind.
#[derive(Debug, Default)]
pub struct Counts {
    by_kind: BTreeMap<String, u64>,
}

impl Counts {
    /// Rebuilds the counts from stored `count:<kind>` entries; returns them and
    /// the keys of entries that were not a valid count.
    pub fn load(entries: Vec<(String, Vec<u8>)>) -> (Counts, Vec<String>) {
        let mut counts = Counts::default();
        let mut invalid = Vec::new();
        for (key, value) in entries {
            let kind = key
                .strip_prefix(KEY_PREFIX)
                .filter(|kind| is_valid_kind(kind));
            let count = std::str::from_utf8(&value)
                .ok()
                .and_then(|text| text.parse().ok());
            match (kind, count) {
                (Some(kind), Some(count)) => {
                    counts.by_kind.insert(kind.to_owned(), count);
                }
                _ => invalid.push(key),
            }
        }
        (counts, invalid)
    }

    /// Returns what `kind`'s count becomes after one more reaction, without
    /// changing it.
    pub fn next(&self, kind: &str) -> Result<u64, Rejection> {
        match self.by_kind.get(kind) {
            Some(count) => Ok(count.saturating_add(1)),
            None if self.by_kind.len() >= MAX_KINDS => Err(Rejection::TooManyKinds),
            None => Ok(1),
        }
    }

    /// Returns every count, by kind.
    pub fn all(&self) -> &BTreeMap<String, u64> {
        &self.by_kind
    }

    /// Sets `kind`'s count.
    pub fn set(&mut self, kind: String, count: u64) {
        self.by_kind.insert(kind, count);
    }

    /// Returns the message that tells clients every count and the number of
    /// `people` in the room.
    pub fn message(&self, people: usize) -> Outgoing<'_> {
        Outgoing::Counts {
            counts: &self.by_kind,
            people,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(message: &Outgoing<'_>) -> String {
        serde_json::to_string(message).expect("outgoing messages encode")
    }

    #[test]
    fn reaction_messages_yield_their_kind() {
        assert_eq!(
            parse_reaction(r#"{"type":"reaction","kind":"heart"}"#),
            Ok("heart".into())
        );
    }

    #[test]
    fn other_messages_are_rejected_with_a_reason() {
        assert_eq!(parse_reaction("heart"), Err(Rejection::NotJson));
        assert_eq!(
            parse_reaction(r#"{"type":"hug","kind":"x"}"#),
            Err(Rejection::UnknownType)
        );
        assert_eq!(
            parse_reaction(r#"{"type":"reaction"}"#),
            Err(Rejection::BadKind)
        );
        assert_eq!(
            parse_reaction(r#"{"type":"reaction","kind":""}"#),
            Err(Rejection::BadKind)
        );
        assert_eq!(
            parse_reaction(r#"{"type":"reaction","kind":7}"#),
            Err(Rejection::BadKind)
        );
        let long = format!(r#"{{"type":"reaction","kind":"{}"}}"#, "a".repeat(65));
        assert_eq!(parse_reaction(&long), Err(Rejection::BadKind));
    }

    #[test]
    fn a_kind_of_exactly_64_bytes_is_accepted() {
        let kind = "é".repeat(32);
        let message = format!(r#"{{"type":"reaction","kind":"{kind}"}}"#);
        assert_eq!(parse_reaction(&message), Ok(kind));
    }

    #[test]
    fn load_keeps_valid_counts_and_reports_the_rest() {
        let entries = vec![
            ("count:heart".to_owned(), b"3".to_vec()),
            ("count:clap".to_owned(), b"x".to_vec()),
            ("count:".to_owned(), b"1".to_vec()),
        ];
        let (counts, invalid) = Counts::load(entries);
        assert_eq!(
            json(&counts.message(2)),
            r#"{"type":"counts","counts":{"heart":3},"people":2}"#
        );
        assert_eq!(invalid, vec!["count:clap".to_owned(), "count:".to_owned()]);
    }

    #[test]
    fn no_new_kind_past_the_limit_but_old_ones_still_count() {
        let mut counts = Counts::default();
        for i in 0..MAX_KINDS {
            counts.set(format!("k{i}"), 1);
        }
        assert_eq!(counts.next("new"), Err(Rejection::TooManyKinds));
        assert_eq!(counts.next("k0"), Ok(2));
    }

    #[test]
    fn empty_counts_are_an_empty_object() {
        let counts = Counts::default();
        assert_eq!(
            json(&counts.message(0)),
            r#"{"type":"counts","counts":{},"people":0}"#
        );
    }

    #[test]
    fn errors_carry_their_reason() {
        let message = Outgoing::Error {
            error: Rejection::TooManyKinds.reason(),
        };
        assert_eq!(
            json(&message),
            r#"{"type":"error","error":"too many kinds"}"#
        );
    }
}
