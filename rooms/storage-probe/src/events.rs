//! The probe's in-memory log of the hooks it ran, for ordering tests.
//!
//! Each hook appends one entry when it returns (a hook that traps appends
//! none, and its instance and log are gone anyway). The log lives only as long
//! as the instance; `instance` tells entries of different instances apart.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// How many entries the log keeps; older ones are dropped first.
pub const MAX_EVENTS: usize = 10_000;

/// One hook run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The hook: `start`, `connect`, `message`, `close`, `error`, `alarm` or
    /// `request`.
    pub hook: &'static str,
    /// The connection the hook ran for, if any.
    pub conn: Option<String>,
    /// When the hook began, in milliseconds since the Unix epoch.
    pub begin: u64,
    /// When the hook ended, in milliseconds since the Unix epoch.
    pub end: u64,
    /// The id of the instance that ran the hook.
    pub instance: u64,
}

/// The last [`MAX_EVENTS`] hook runs, oldest first.
#[derive(Debug, Default)]
pub struct EventLog {
    entries: VecDeque<Event>,
}

impl EventLog {
    /// Appends an entry, dropping the oldest past [`MAX_EVENTS`].
    pub fn push(&mut self, event: Event) {
        if self.entries.len() == MAX_EVENTS {
            self.entries.pop_front();
        }
        self.entries.push_back(event);
    }

    /// Returns the entries, oldest first.
    pub fn entries(&self) -> impl Serialize + '_ {
        &self.entries
    }
}

/// Returns the wall-clock time in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

/// Returns an id for a new instance, from the clock's nanoseconds.
///
/// It keeps 53 bits so that it survives a JSON number in any client.
pub fn new_instance_id() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let nanos = u64::try_from(since_epoch.as_nanos() & u128::from(u64::MAX)).unwrap_or(0);
    nanos & ((1 << 53) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(begin: u64) -> Event {
        Event {
            hook: "message",
            conn: None,
            begin,
            end: begin,
            instance: 1,
        }
    }

    #[test]
    fn the_log_keeps_only_the_newest_entries() {
        let mut log = EventLog::default();
        for begin in 0..(MAX_EVENTS as u64 + 5) {
            log.push(event(begin));
        }
        assert_eq!(log.entries.len(), MAX_EVENTS);
        assert_eq!(log.entries.front().map(|e| e.begin), Some(5));
    }
}
