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

    /// Adds the writes of `later`, made after these: what applying this
    /// set and then `later` would leave is what applying the result leaves.
    pub fn merge(&mut self, later: &WriteSet) {
        if later.cleared {
            self.clear();
        }
        for (key, value) in &later.entries {
            self.entries.insert(key.clone(), value.clone());
        }
        if later.alarm.is_some() {
            self.alarm = later.alarm;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_leaves_what_applying_both_in_order_leaves() {
        let mut first = WriteSet::default();
        first.put("a".into(), b"1".to_vec());
        first.put("b".into(), b"1".to_vec());
        first.set_alarm(Some(5));
        let mut second = WriteSet::default();
        second.put("a".into(), b"2".to_vec());
        second.delete("c".into());
        first.merge(&second);
        assert_eq!(first.lookup("a"), Some(Some(&b"2"[..])));
        assert_eq!(first.lookup("b"), Some(Some(&b"1"[..])));
        assert_eq!(first.lookup("c"), Some(None));
        assert_eq!(first.alarm, Some(Some(5)), "an unchanged alarm stays");

        let mut cleared = WriteSet::default();
        cleared.clear();
        cleared.put("d".into(), b"3".to_vec());
        cleared.set_alarm(None);
        first.merge(&cleared);
        assert!(first.cleared);
        assert_eq!(first.lookup("a"), Some(None), "cleared by the later set");
        assert_eq!(first.lookup("d"), Some(Some(&b"3"[..])));
        assert_eq!(first.alarm, Some(None));
    }
}
