//! Durable per-room storage: the backend trait and what travels through it.
//!
//! A room reads through [`Backend`] and never writes to it directly: the
//! writes of one hook gather in a [`WriteSet`], which the room task hands to
//! [`Backend::commit`] when the hook returns. The commit's future resolves
//! once the writes are on disk; only then does the room release what the hook
//! sent (the output gate, see `room::gate`). Until then later hooks of the
//! same room read through the pending write sets (see [`layers`]).
//!
//! Every method is async so that a backend on the network (PostgreSQL for a
//! cluster) can wait on I/O without stalling other rooms. The embedded
//! backend is [`sqlite::SqliteBackend`].

pub mod layers;
pub mod sqlite;
mod write_set;

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::ids::RoomKey;

pub use write_set::WriteSet;

/// A key and its value, as storage returns them.
pub type Entry = (String, Vec<u8>);

/// Why the backend could not serve a read or a commit.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// The database answered with an error.
    #[error("storage backend failed: {0}")]
    Database(String),
    /// The backend has shut down.
    #[error("storage backend is closed")]
    Closed,
}

/// Which keys a `list` returns, as byte bounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    /// Lowest key included, if any.
    pub start: Option<Vec<u8>>,
    /// First key excluded, if any.
    pub end: Option<Vec<u8>>,
    /// Whether to return keys in descending order.
    pub reverse: bool,
    /// Most entries to return.
    pub limit: Option<usize>,
}

impl KeyRange {
    /// Builds the range for a prefix and optional start and end keys.
    pub fn new(prefix: Option<&str>, start: Option<&str>, end: Option<&str>) -> Self {
        let mut lower = start.map(|s| s.as_bytes().to_vec());
        let mut upper = end.map(|s| s.as_bytes().to_vec());
        if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
            let p = prefix.as_bytes().to_vec();
            lower = Some(lower.map_or(p.clone(), |l| l.max(p.clone())));
            if let Some(after) = prefix_end(&p) {
                upper = Some(upper.map_or(after.clone(), |u| u.min(after)));
            }
        }
        Self {
            start: lower,
            end: upper,
            reverse: false,
            limit: None,
        }
    }

    /// Tells whether `key` lies within the bounds (ignoring the limit).
    pub fn contains(&self, key: &[u8]) -> bool {
        self.start.as_deref().is_none_or(|s| key >= s)
            && self.end.as_deref().is_none_or(|e| key < e)
    }

    /// Tells whether no key can lie within the bounds.
    pub fn is_empty(&self) -> bool {
        matches!((&self.start, &self.end), (Some(s), Some(e)) if s >= e)
    }
}

/// Returns the smallest byte string greater than every string with `prefix`.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// How much a room stores: what its quota counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes of keys plus values.
    pub bytes: u64,
    /// Number of keys.
    pub keys: u64,
}

/// A room's alarm as the backend stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlarm {
    /// The room the alarm belongs to.
    pub room: RoomKey,
    /// When it fires, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// Durable key-value storage for every room of a host.
pub trait Backend: Send + Sync + 'static {
    /// Returns the value of `key` in `room`.
    fn get<'a>(
        &'a self,
        room: &'a RoomKey,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, BackendError>>;

    /// Returns the entries of `room` within `range`, in range order.
    fn list<'a>(
        &'a self,
        room: &'a RoomKey,
        range: &'a KeyRange,
    ) -> BoxFuture<'a, Result<Vec<Entry>, BackendError>>;

    /// Returns how much the room stores.
    fn usage<'a>(&'a self, room: &'a RoomKey) -> BoxFuture<'a, Result<Usage, BackendError>>;

    /// Returns the room's alarm, if one is set.
    fn alarm<'a>(&'a self, room: &'a RoomKey) -> BoxFuture<'a, Result<Option<u64>, BackendError>>;

    /// Returns every room's alarm (read once at startup).
    fn alarms(&self) -> BoxFuture<'_, Result<Vec<StoredAlarm>, BackendError>>;

    /// Applies `writes` to `room` atomically; resolves once they are durable.
    fn commit(
        &self,
        room: RoomKey,
        writes: Arc<WriteSet>,
    ) -> BoxFuture<'static, Result<(), BackendError>>;

    /// Finishes pending commits and stops accepting new ones.
    fn close(&self) -> BoxFuture<'_, ()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_range_covers_exactly_the_prefixed_keys() {
        let range = KeyRange::new(Some("count:"), None, None);
        assert!(range.contains(b"count:"));
        assert!(range.contains(b"count:heart"));
        assert!(!range.contains(b"count;"));
        assert!(!range.contains(b"coun"));
    }

    #[test]
    fn prefix_and_bounds_intersect() {
        let range = KeyRange::new(Some("a"), Some("ab"), Some("ad"));
        assert!(range.contains(b"ab"));
        assert!(range.contains(b"acz"));
        assert!(!range.contains(b"aa"));
        assert!(!range.contains(b"ad"));
        assert!(KeyRange::new(Some("b"), Some("c"), None).is_empty());
    }
}
