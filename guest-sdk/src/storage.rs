//! The room's durable key-value storage and its one alarm.
//!
//! Keys are UTF-8 strings ordered by their bytes; values are bytes. Every
//! write of a hook commits atomically when the hook returns, and reads see the
//! hook's own writes at once. Nothing a hook sends reaches a client before its
//! writes are durable, so a room may reply right after a `put`. If the hook
//! traps, its writes are discarded.
//!
//! [`get_json`] and [`put_json`] store any serde type as JSON.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::partyhost::room::storage as wit;
use crate::{Error, StorageError};

/// Returns the value stored under `key`, or `None`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, StorageError> {
    Ok(wit::get(key)?)
}

/// Returns the entries that exist among `keys`, in key order (at most 128
/// keys by default).
pub fn get_many<K: AsRef<str>>(keys: &[K]) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
    Ok(wit::get_many(&owned_keys(keys))?)
}

/// Stores `value` under `key`, replacing any earlier value.
pub fn put(key: &str, value: &[u8]) -> Result<(), StorageError> {
    Ok(wit::put(key, value)?)
}

/// Stores every entry (at most 128 by default); either all of them are
/// stored or none is.
pub fn put_many<I, K, V>(entries: I) -> Result<(), StorageError>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<Vec<u8>>,
{
    let entries: Vec<(String, Vec<u8>)> = entries
        .into_iter()
        .map(|(key, value)| (key.into(), value.into()))
        .collect();
    Ok(wit::put_many(&entries)?)
}

/// Deletes `key`; returns whether it existed.
pub fn delete(key: &str) -> Result<bool, StorageError> {
    Ok(wit::delete(key)?)
}

/// Deletes every key in `keys` (at most 128 by default); returns how many
/// existed.
pub fn delete_many<K: AsRef<str>>(keys: &[K]) -> Result<u32, StorageError> {
    Ok(wit::delete_many(&owned_keys(keys))?)
}

/// Returns the entries that match `options`, ordered by key bytes.
///
/// ```no_run
/// use partyhost_guest::storage::{self, ListOptions};
///
/// # fn main() -> Result<(), partyhost_guest::StorageError> {
/// let newest = storage::list(ListOptions::new().prefix("msg:").reverse(true).limit(10))?;
/// # Ok(())
/// # }
/// ```
pub fn list(options: ListOptions) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
    Ok(wit::list(&options.into())?)
}

/// Deletes every key of the room; the alarm is left as it is.
pub fn delete_all() -> Result<(), StorageError> {
    Ok(wit::delete_all()?)
}

/// Sets the room's one alarm to fire at `at_ms` (milliseconds since the Unix
/// epoch), replacing any earlier alarm; a time in the past fires at once.
pub fn set_alarm(at_ms: u64) -> Result<(), StorageError> {
    Ok(wit::set_alarm(at_ms)?)
}

/// Sets the room's one alarm to fire `delay` from now.
pub fn set_alarm_in(delay: Duration) -> Result<(), StorageError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let at_ms = u64::try_from(now.saturating_add(delay).as_millis()).unwrap_or(u64::MAX);
    set_alarm(at_ms)
}

/// Returns when the room's alarm will fire (milliseconds since the Unix
/// epoch), or `None`.
pub fn get_alarm() -> Option<u64> {
    wit::get_alarm()
}

/// Cancels the room's alarm, if any.
pub fn delete_alarm() {
    wit::delete_alarm();
}

/// Returns the value stored under `key` decoded from JSON, or `None`.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    match get(key)? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes).map_err(Error::Decode)?)),
        None => Ok(None),
    }
}

/// Stores `value` encoded as JSON under `key`.
pub fn put_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), Error> {
    let bytes = serde_json::to_vec(value).map_err(Error::Encode)?;
    Ok(put(key, &bytes)?)
}

/// Which entries [`list`] returns, and in which order; by default all of them,
/// in ascending key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    prefix: Option<String>,
    start: Option<String>,
    end: Option<String>,
    reverse: bool,
    limit: Option<u32>,
}

impl ListOptions {
    /// Selects every entry, in ascending key order.
    pub fn new() -> Self {
        ListOptions::default()
    }

    /// Keeps only keys that start with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Keeps only keys greater than or equal to `start`.
    pub fn start(mut self, start: impl Into<String>) -> Self {
        self.start = Some(start.into());
        self
    }

    /// Keeps only keys strictly less than `end`.
    pub fn end(mut self, end: impl Into<String>) -> Self {
        self.end = Some(end.into());
        self
    }

    /// Returns keys in descending order when `reverse` is true.
    pub fn reverse(mut self, reverse: bool) -> Self {
        self.reverse = reverse;
        self
    }

    /// Returns at most `limit` entries.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
}

impl From<ListOptions> for wit::ListOptions {
    fn from(options: ListOptions) -> Self {
        wit::ListOptions {
            prefix: options.prefix,
            start: options.start,
            end: options.end,
            reverse: options.reverse,
            limit: options.limit,
        }
    }
}

fn owned_keys<K: AsRef<str>>(keys: &[K]) -> Vec<String> {
    keys.iter().map(|key| key.as_ref().to_owned()).collect()
}
