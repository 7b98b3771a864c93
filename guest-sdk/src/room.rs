//! The room itself: its names, its connections and its configured variables.
//!
//! To address one connection, use [`Connection`](crate::Connection); the
//! functions here act on the whole room.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::bindings::partyhost::room::context as wit;
use crate::{ConnectionInfo, Message};

/// Returns the room's id (the room segment of its URL path).
pub fn id() -> String {
    wit::id()
}

/// Returns the name of the party this room belongs to.
pub fn party() -> String {
    wit::party()
}

/// Sends a message to every open connection except those whose id is in
/// `exclude`.
pub fn broadcast(msg: Message, exclude: &[&str]) {
    let exclude: Vec<String> = exclude.iter().map(|id| (*id).to_owned()).collect();
    wit::broadcast(&msg.into(), &exclude);
}

/// Sends a text frame to every open connection except those in `exclude`.
pub fn broadcast_text(text: &str, exclude: &[&str]) {
    broadcast(Message::Text(text.to_owned()), exclude);
}

/// Sends a binary frame to every open connection except those in `exclude`.
pub fn broadcast_binary(bytes: &[u8], exclude: &[&str]) {
    broadcast(Message::Binary(bytes.to_vec()), exclude);
}

/// Sends `value` encoded as JSON in a text frame to every open connection
/// except those in `exclude`.
pub fn broadcast_json<T: Serialize + ?Sized>(
    value: &T,
    exclude: &[&str],
) -> Result<(), serde_json::Error> {
    broadcast(Message::Text(serde_json::to_string(value)?), exclude);
    Ok(())
}

/// Lists the room's open connections; with a tag, only those that carry it.
pub fn connections(tag: Option<&str>) -> Vec<ConnectionInfo> {
    wit::connections(tag)
        .into_iter()
        .map(ConnectionInfo::from)
        .collect()
}

/// Returns the party's configured variables, by name.
pub fn vars() -> BTreeMap<String, String> {
    wit::vars().into_iter().collect()
}

/// Returns the party's configured variable `name`, if set.
pub fn var(name: &str) -> Option<String> {
    wit::vars()
        .into_iter()
        .find_map(|(key, value)| (key == name).then_some(value))
}
