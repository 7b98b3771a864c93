//! How the document lives in room storage: a snapshot split into chunks plus
//! a log of the updates since.
//!
//! ```text
//! snapshot:00000000  first chunk of the whole document (a v1 update)
//! snapshot:00000001  next chunk, ...
//! log:0000000000000000  an update applied after the snapshot
//! log:0000000000000001  the next one, ...
//! ```
//!
//! Each change a client makes is appended to the log under the next key, so
//! an edit costs one small write. When the log grows past the snapshot's size
//! (or past [`MAX_LOG_ENTRIES`]), when one change is too large for a single
//! value, and when the last client leaves, the room compacts: it writes the
//! whole document as a new snapshot and deletes the log. All writes of a hook
//! commit atomically, so a compaction is never seen half done.
//!
//! A storage value may hold at most the host's `max_value_bytes` (128 KiB by
//! default), which the room cannot read; it starts with chunks of that size
//! and, when the host answers `value-too-large(limit)`, retries with chunks of
//! the limit it reported.

use partyhost_guest::StorageError;

/// The prefix of the snapshot's chunk keys.
pub const SNAPSHOT_PREFIX: &str = "snapshot:";

/// The prefix of the update log's keys.
pub const LOG_PREFIX: &str = "log:";

/// The chunk size tried first: the host's default value limit, in bytes.
pub const DEFAULT_CHUNK_BYTES: usize = 128 * 1024;

/// The most updates the log holds before the room compacts it.
pub const MAX_LOG_ENTRIES: usize = 1000;

/// The log may always grow to this many bytes before a compaction, however
/// small the snapshot is.
pub const MIN_LOG_BYTES: usize = 256 * 1024;

/// The most keys one batch call names (the host's default batch limit).
const BATCH_KEYS: usize = 128;

/// The storage calls persistence needs; the room's storage in wasm, a map in
/// tests.
pub trait Backend {
    /// Returns the entries whose key starts with `prefix`, in key order.
    fn list(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError>;
    /// Stores `value` under `key`.
    fn put(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError>;
    /// Deletes every key in `keys` (at most [`BATCH_KEYS`]).
    fn delete_many(&mut self, keys: &[String]) -> Result<(), StorageError>;
}

/// What [`Persistence::append`] did with an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The update is in the log.
    Logged,
    /// The update is in the log, and the log has grown enough to compact.
    LoggedCompactSoon,
    /// The update was too large for one value and was not stored: compact
    /// now, or it is lost on restart.
    CompactNow,
}

/// What the room knows about its stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persistence {
    chunk_bytes: usize,
    snapshot_chunks: usize,
    snapshot_bytes: usize,
    log_keys: Vec<String>,
    log_bytes: usize,
    next_seq: u64,
}

impl Default for Persistence {
    /// Describes an empty store.
    fn default() -> Self {
        Persistence {
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            snapshot_chunks: 0,
            snapshot_bytes: 0,
            log_keys: Vec::new(),
            log_bytes: 0,
            next_seq: 0,
        }
    }
}

impl Persistence {
    /// Reads the stored document; returns the persistence state and the
    /// updates to apply in order (the joined snapshot first, then the log).
    pub fn load(backend: &impl Backend) -> Result<(Persistence, Vec<Vec<u8>>), StorageError> {
        let chunks = backend.list(SNAPSHOT_PREFIX)?;
        let log = backend.list(LOG_PREFIX)?;

        let mut state = Persistence {
            snapshot_chunks: chunks.len(),
            snapshot_bytes: chunks.iter().map(|(_, value)| value.len()).sum(),
            log_keys: Vec::with_capacity(log.len()),
            log_bytes: log.iter().map(|(_, value)| value.len()).sum(),
            ..Persistence::default()
        };
        let mut updates = Vec::with_capacity(log.len() + 1);
        if !chunks.is_empty() {
            updates.push(chunks.into_iter().flat_map(|(_, value)| value).collect());
        }
        for (key, value) in log {
            if let Some(seq) = parse_seq(&key) {
                state.next_seq = state.next_seq.max(seq.saturating_add(1));
            }
            state.log_keys.push(key);
            updates.push(value);
        }
        Ok((state, updates))
    }

    /// Appends one update to the log, unless it is too large for one value.
    pub fn append(
        &mut self,
        backend: &mut impl Backend,
        update: &[u8],
    ) -> Result<Appended, StorageError> {
        if update.len() > self.chunk_bytes {
            return Ok(Appended::CompactNow);
        }
        let key = log_key(self.next_seq);
        match backend.put(&key, update) {
            Ok(()) => {}
            Err(StorageError::ValueTooLarge(limit)) => {
                self.shrink_chunks(limit);
                return Ok(Appended::CompactNow);
            }
            Err(error) => return Err(error),
        }
        self.next_seq += 1;
        self.log_keys.push(key);
        self.log_bytes += update.len();

        let grown = self.log_keys.len() >= MAX_LOG_ENTRIES
            || self.log_bytes >= self.snapshot_bytes.max(MIN_LOG_BYTES);
        Ok(if grown {
            Appended::LoggedCompactSoon
        } else {
            Appended::Logged
        })
    }

    /// Returns whether the log holds any update (so a compaction would help
    /// the next load).
    pub fn has_log(&self) -> bool {
        !self.log_keys.is_empty()
    }

    /// Returns how many updates the log holds.
    pub fn log_entries(&self) -> usize {
        self.log_keys.len()
    }

    /// Returns how many chunks the stored snapshot has.
    pub fn snapshot_chunks(&self) -> usize {
        self.snapshot_chunks
    }

    /// Replaces the stored document with `snapshot` (the whole document as
    /// one update) and empties the log.
    pub fn compact(
        &mut self,
        backend: &mut impl Backend,
        snapshot: &[u8],
    ) -> Result<(), StorageError> {
        let written = loop {
            match self.write_chunks(backend, snapshot) {
                Ok(written) => break written,
                // The host's limit is lower than the chunk size: every chunk
                // is written again, at the size it named.
                Err(StorageError::ValueTooLarge(limit))
                    if limit > 0 && (limit as usize) < self.chunk_bytes =>
                {
                    self.shrink_chunks(limit);
                }
                Err(error) => return Err(error),
            }
        };

        // Chunks past the new end belong to the old snapshot.
        let stale: Vec<String> = (written..self.snapshot_chunks).map(snapshot_key).collect();
        delete_in_batches(backend, &stale)?;
        delete_in_batches(backend, &self.log_keys)?;

        self.snapshot_chunks = written;
        self.snapshot_bytes = snapshot.len();
        self.log_keys.clear();
        self.log_bytes = 0;
        Ok(())
    }

    /// Writes `snapshot` as chunks from index 0; returns how many.
    fn write_chunks(
        &self,
        backend: &mut impl Backend,
        snapshot: &[u8],
    ) -> Result<usize, StorageError> {
        let mut written = 0;
        for (index, chunk) in snapshot.chunks(self.chunk_bytes).enumerate() {
            backend.put(&snapshot_key(index), chunk)?;
            written += 1;
        }
        Ok(written)
    }

    /// Lowers the chunk size to the host's value limit (never below one
    /// byte, so that chunking always makes progress).
    fn shrink_chunks(&mut self, limit: u32) {
        self.chunk_bytes = (limit as usize).clamp(1, self.chunk_bytes);
    }
}

fn delete_in_batches(backend: &mut impl Backend, keys: &[String]) -> Result<(), StorageError> {
    for batch in keys.chunks(BATCH_KEYS) {
        backend.delete_many(batch)?;
    }
    Ok(())
}

/// Returns the key of the snapshot chunk at `index`.
fn snapshot_key(index: usize) -> String {
    format!("{SNAPSHOT_PREFIX}{index:08}")
}

/// Returns the key of the log entry `seq`; zero-padded hex keeps key order
/// and number order the same.
fn log_key(seq: u64) -> String {
    format!("{LOG_PREFIX}{seq:016x}")
}

fn parse_seq(key: &str) -> Option<u64> {
    u64::from_str_radix(key.strip_prefix(LOG_PREFIX)?, 16).ok()
}

#[cfg(test)]
#[path = "persist_tests.rs"]
mod tests;
