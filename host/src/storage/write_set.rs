//! The writes one hook made, kept in memory until they commit.

use std::collections::BTreeMap;

/// The storage writes of one hook: applied atomically, in this order: clear
/// (if `delete-all` ran), then every entry, then the alarm change.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteSet {
    /// Each written key and its new value; `None` deletes the key.
    pub entries: BTreeMap<String, Option<Vec<u8>>>,
    /// Whether every key of the room is deleted before `entries` apply.
    pub cleared: bool,
    /// The new alarm (`Some(None)` deletes it); `None` leaves it unchanged.
    pub alarm: Option<Option<u64>>,
}

impl WriteSet {
    /// Records a put of `value` under `key`.
    pub fn put(&mut self, key: String, value: Vec<u8>) {
        self.entries.insert(key, Some(value));
    }

    /// Records the deletion of `key`.
    pub fn delete(&mut self, key: String) {
        self.entries.insert(key, None);
    }

    /// Records the deletion of every key written before.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.cleared = true;
    }

    /// Records a new alarm time, or its removal.
    pub fn set_alarm(&mut self, at_ms: Option<u64>) {
        self.alarm = Some(at_ms);
    }

    /// Tells whether the hook wrote nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && !self.cleared && self.alarm.is_none()
    }

    /// Returns what this write set says of `key`: `Some(None)` if it deleted
    /// the key, `Some(Some(v))` if it wrote one, `None` if it says nothing.
    pub fn lookup(&self, key: &str) -> Option<Option<&[u8]>> {
        match self.entries.get(key) {
            Some(value) => Some(value.as_deref()),
            None if self.cleared => Some(None),
            None => None,
        }
    }
}
