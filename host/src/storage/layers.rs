//! Reads that see a room's uncommitted writes.
//!
//! A room keeps running hooks while earlier hooks' writes are still on their
//! way to disk, so a read looks through layers, newest first: the running
//! hook's own write set, then each pending write set, then the backend. This
//! is what lets one room pipeline its commits without ever reading stale
//! data.

use std::collections::BTreeMap;

use super::{Backend, BackendError, Entry, KeyRange, WriteSet};
use crate::ids::RoomKey;

/// Returns the value of `key`, reading `layers` (oldest first) over `backend`.
pub async fn get(
    backend: &dyn Backend,
    room: &RoomKey,
    layers: &[&WriteSet],
    key: &str,
) -> Result<Option<Vec<u8>>, BackendError> {
    for layer in layers.iter().rev() {
        if let Some(value) = layer.lookup(key) {
            return Ok(value.map(<[u8]>::to_vec));
        }
    }
    backend.get(room, key).await
}

/// Returns the entries within `range`, reading `layers` (oldest first) over
/// `backend`.
pub async fn list(
    backend: &dyn Backend,
    room: &RoomKey,
    layers: &[&WriteSet],
    range: &KeyRange,
) -> Result<Vec<Entry>, BackendError> {
    if range.is_empty() || range.limit == Some(0) {
        return Ok(Vec::new());
    }

    // Layers older than the newest `delete-all` cannot show through it.
    let first_visible = layers.iter().rposition(|l| l.cleared).unwrap_or(0);
    let visible = &layers[first_visible..];
    let backend_shows = !visible.first().is_some_and(|l| l.cleared);

    // Each overlaid key may hide one backend entry, so ask for that many more.
    let overlaid = visible
        .iter()
        .flat_map(|l| l.entries.keys())
        .filter(|k| range.contains(k.as_bytes()))
        .count();
    let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    if backend_shows {
        let mut wider = range.clone();
        wider.limit = range.limit.map(|n| n.saturating_add(overlaid));
        for (key, value) in backend.list(room, &wider).await? {
            merged.insert(key.into_bytes(), value);
        }
    }

    for layer in visible {
        for (key, value) in layer.entries.iter() {
            if !range.contains(key.as_bytes()) {
                continue;
            }
            match value {
                Some(v) => merged.insert(key.clone().into_bytes(), v.clone()),
                None => merged.remove(key.as_bytes()),
            };
        }
    }

    let limit = range.limit.unwrap_or(usize::MAX);
    let into_entry = |(k, v): (Vec<u8>, Vec<u8>)| (String::from_utf8_lossy(&k).into_owned(), v);
    let entries = if range.reverse {
        merged
            .into_iter()
            .rev()
            .take(limit)
            .map(into_entry)
            .collect()
    } else {
        merged.into_iter().take(limit).map(into_entry).collect()
    };
    Ok(entries)
}
