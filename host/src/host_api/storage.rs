//! `partyhost:room/storage`: the room's key-value storage and alarm.
//!
//! Writes go into the running hook's write set and commit when it returns;
//! reads look through that set and the room's pending commits before the
//! backend (see `storage::layers`). Limits are checked here, so an oversized
//! write is an error the guest sees, never a silent drop.

use super::RoomCtx;
use super::bindings::partyhost::room::storage::{Host, ListOptions, StorageError};
use crate::storage::{KeyRange, Usage, layers};

type Result<T> = std::result::Result<T, StorageError>;

/// Latest alarm time accepted: the year 10000, well inside `i64` millis.
const MAX_ALARM_MS: u64 = 253_402_300_800_000;

impl RoomCtx {
    fn check_key(&self, key: &str) -> Result<()> {
        let max = self.state.limits.max_key_bytes;
        if key.len() > max {
            return Err(StorageError::KeyTooLarge(clamp(max)));
        }
        Ok(())
    }

    fn check_value(&self, value: &[u8]) -> Result<()> {
        let max = self.state.limits.max_value_bytes;
        if value.len() > max {
            return Err(StorageError::ValueTooLarge(clamp(max)));
        }
        Ok(())
    }

    fn check_batch(&self, len: usize) -> Result<()> {
        let max = self.state.limits.max_batch_entries;
        if len > max {
            return Err(StorageError::TooManyEntries(clamp(max)));
        }
        Ok(())
    }

    /// Reads `key` through the pending layers. Only `Sync` parts of the
    /// state are held across the await, so the future stays `Send`.
    async fn read(&mut self, key: &str) -> Result<Option<Vec<u8>>> {
        let backend = self.state.backend.clone();
        let (room, layers) = (&self.state.key, self.state.layers());
        layers::get(backend.as_ref(), room, &layers, key)
            .await
            .map_err(|e| StorageError::Backend(e.to_string()))
    }
}

impl RoomCtx {
    /// Returns `usage` after putting `value_len` bytes under `key`, or
    /// `quota-exceeded` if that would grow the room past its quota.
    async fn charge_put(&mut self, usage: Usage, key: &str, value_len: usize) -> Result<Usage> {
        let old = self.read(key).await?.map(|v| v.len());
        charge(usage, key, old, value_len, &self.state.limits)
    }

    /// Returns `usage` after deleting `key`, and whether it existed.
    async fn charge_delete(&mut self, usage: Usage, key: &str) -> Result<(Usage, bool)> {
        let Some(old) = self.read(key).await? else {
            return Ok((usage, false));
        };
        let after = Usage {
            bytes: usage.bytes.saturating_sub((key.len() + old.len()) as u64),
            keys: usage.keys.saturating_sub(1),
        };
        Ok((after, true))
    }
}

impl Host for RoomCtx {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>> {
        self.check_key(&key)?;
        self.read(&key).await
    }

    async fn get_many(&mut self, keys: Vec<String>) -> Result<Vec<(String, Vec<u8>)>> {
        self.check_batch(keys.len())?;
        let mut keys = keys;
        keys.sort();
        keys.dedup();
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            self.check_key(&key)?;
            if let Some(value) = self.read(&key).await? {
                found.push((key, value));
            }
        }
        Ok(found)
    }

    async fn put(&mut self, key: String, value: Vec<u8>) -> Result<()> {
        self.check_key(&key)?;
        self.check_value(&value)?;
        let usage = self
            .charge_put(self.state.hook.usage, &key, value.len())
            .await?;
        self.state.hook.usage = usage;
        self.state.hook.writes.put(key, value);
        Ok(())
    }

    async fn put_many(&mut self, entries: Vec<(String, Vec<u8>)>) -> Result<()> {
        self.check_batch(entries.len())?;
        // Check everything first: either all entries are written or none.
        let mut usage = self.state.hook.usage;
        for (key, value) in &entries {
            self.check_key(key)?;
            self.check_value(value)?;
        }
        // Charge in order against a scratch layer, so repeated keys count once.
        let mut scratch = crate::storage::WriteSet::default();
        for (key, value) in &entries {
            let old = match scratch.lookup(key) {
                Some(old) => old.map(<[u8]>::len),
                None => self.read(key).await?.map(|v| v.len()),
            };
            usage = charge(usage, key, old, value.len(), &self.state.limits)?;
            scratch.put(key.clone(), value.clone());
        }
        self.state.hook.usage = usage;
        for (key, value) in entries {
            self.state.hook.writes.put(key, value);
        }
        Ok(())
    }

    async fn delete(&mut self, key: String) -> Result<bool> {
        self.check_key(&key)?;
        let (usage, existed) = self.charge_delete(self.state.hook.usage, &key).await?;
        self.state.hook.usage = usage;
        self.state.hook.writes.delete(key);
        Ok(existed)
    }

    async fn delete_many(&mut self, keys: Vec<String>) -> Result<u32> {
        self.check_batch(keys.len())?;
        for key in &keys {
            self.check_key(key)?;
        }
        let mut existed = 0u32;
        for key in keys {
            let (usage, found) = self.charge_delete(self.state.hook.usage, &key).await?;
            self.state.hook.usage = usage;
            existed += u32::from(found);
            self.state.hook.writes.delete(key);
        }
        Ok(existed)
    }

    async fn list(&mut self, options: ListOptions) -> Result<Vec<(String, Vec<u8>)>> {
        let mut range = KeyRange::new(
            options.prefix.as_deref(),
            options.start.as_deref(),
            options.end.as_deref(),
        );
        range.reverse = options.reverse;
        range.limit = options.limit.map(|n| n as usize);

        let backend = self.state.backend.clone();
        let (room, layers) = (&self.state.key, self.state.layers());
        layers::list(backend.as_ref(), room, &layers, &range)
            .await
            .map_err(|e| StorageError::Backend(e.to_string()))
    }

    async fn delete_all(&mut self) -> Result<()> {
        self.state.hook.usage = Usage::default();
        self.state.hook.writes.clear();
        Ok(())
    }

    async fn set_alarm(&mut self, at_ms: u64) -> Result<()> {
        if at_ms > MAX_ALARM_MS {
            return Err(StorageError::InvalidAlarm);
        }
        self.state.hook.writes.set_alarm(Some(at_ms));
        Ok(())
    }

    async fn get_alarm(&mut self) -> Option<u64> {
        self.state.effective_alarm()
    }

    async fn delete_alarm(&mut self) {
        self.state.hook.writes.set_alarm(None);
    }
}

/// Returns `usage` after replacing an entry of `old` bytes (or none) under
/// `key` with `new` bytes, or `quota-exceeded` if that grows it past limits.
fn charge(
    usage: Usage,
    key: &str,
    old: Option<usize>,
    new: usize,
    limits: &crate::config::Limits,
) -> Result<Usage> {
    let entry = |len: usize| (key.len() + len) as u64;
    let mut after = usage;
    match old {
        Some(len) => after.bytes = after.bytes.saturating_sub(entry(len)),
        None => after.keys += 1,
    }
    after.bytes += entry(new);

    // A write that shrinks the room is always allowed.
    let over =
        after.bytes > limits.max_storage_bytes_per_room || after.keys > limits.max_keys_per_room;
    let grows = after.bytes > usage.bytes || after.keys > usage.keys;
    if over && grows {
        return Err(StorageError::QuotaExceeded);
    }
    Ok(after)
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
