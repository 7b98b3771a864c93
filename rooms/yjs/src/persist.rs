//! How the document lives in room storage: a snapshot split into chunks plus
//! a log of the updates since.
//!
//! ```text
//! head                          {"generation":3,"chunks":2,"bytes":150000}
//! snapshot:00000003:00000000    first chunk of the whole document (a v1 update)
//! snapshot:00000003:00000001    next chunk, ...
//! log:0000000000000000          an update applied after the snapshot
//! log:0000000000000001          the next one, ...
//! ```
//!
//! Each change a client makes is appended to the log under the next key, so
//! an edit costs one small write. When the log grows past the snapshot's size
//! (or past [`MAX_LOG_ENTRIES`]), when one change is too large for a single
//! value, and when the last client leaves, the room compacts: it writes the
//! whole document as the next generation's chunks, points `head` at them, and
//! deletes the old chunks and the log. A write that fails half way (the
//! storage quota, say) still commits the writes before it, so a compaction
//! never touches the current generation until the new one is complete, and
//! removes what it wrote of the new one when it gives up.
//!
//! A storage value may hold at most the host's `max_value_bytes` (128 KiB by
//! default), which the room cannot read; it starts with chunks of that size
//! and, when the host answers `value-too-large(limit)`, retries with chunks of
//! the limit it reported.

use partyhost_guest::StorageError;
use serde::{Deserialize, Serialize};

/// The key that names the current snapshot.
pub const HEAD_KEY: &str = "head";

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

/// The current snapshot, as `head` records it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    generation: u32,
    chunks: usize,
    bytes: usize,
}

/// The storage calls persistence needs; the room's storage in wasm, a map in
/// tests.
pub trait Backend {
    /// Returns the value stored under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
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
    head: Head,
    log_keys: Vec<String>,
    log_bytes: usize,
    next_seq: u64,
    /// Why the stored snapshot could not be read, if it could not.
    damage: Option<&'static str>,
}

impl Default for Persistence {
    /// Describes an empty store.
    fn default() -> Self {
        Persistence {
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            head: Head::default(),
            log_keys: Vec::new(),
            log_bytes: 0,
            next_seq: 0,
            damage: None,
        }
    }
}

impl Persistence {
    /// Reads the stored document; returns the persistence state and the
    /// updates to apply in order (the joined snapshot first, then the log).
    /// A damaged snapshot is left out and reported by [`Persistence::damage`].
    pub fn load(backend: &impl Backend) -> Result<(Persistence, Vec<Vec<u8>>), StorageError> {
        let mut state = Persistence::default();
        let mut updates = Vec::new();
        if let Some(snapshot) = state.load_snapshot(backend)? {
            updates.push(snapshot);
        }

        for (key, value) in backend.list(LOG_PREFIX)? {
            if let Some(seq) = parse_seq(&key) {
                state.next_seq = state.next_seq.max(seq.saturating_add(1));
            }
            state.log_bytes += value.len();
            state.log_keys.push(key);
            updates.push(value);
        }
        Ok((state, updates))
    }

    /// Reads the snapshot `head` names; records the damage and returns
    /// `None` if it is not whole.
    fn load_snapshot(&mut self, backend: &impl Backend) -> Result<Option<Vec<u8>>, StorageError> {
        let Some(bytes) = backend.get(HEAD_KEY)? else {
            return Ok(None);
        };
        let Ok(head) = serde_json::from_slice::<Head>(&bytes) else {
            self.damage = Some("head is not valid");
            return Ok(None);
        };
        let chunks = backend.list(&generation_prefix(head.generation))?;
        let count = chunks.len();
        let snapshot: Vec<u8> = chunks.into_iter().flat_map(|(_, value)| value).collect();
        if count != head.chunks || snapshot.len() != head.bytes {
            self.damage = Some("snapshot chunks are missing");
            return Ok(None);
        }
        self.head = head;
        Ok(Some(snapshot))
    }

    /// Returns why the stored snapshot could not be loaded, if it could not;
    /// the room must then not compact, or the snapshot would be lost.
    pub fn damage(&self) -> Option<&'static str> {
        self.damage
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
            || self.log_bytes >= self.head.bytes.max(MIN_LOG_BYTES);
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
        self.head.chunks
    }

    /// Replaces the stored document with `snapshot` (the whole document as
    /// one update) and empties the log. On failure the stored document is
    /// left as it was; after a damaged load it is never replaced.
    pub fn compact(
        &mut self,
        backend: &mut impl Backend,
        snapshot: &[u8],
    ) -> Result<(), StorageError> {
        if self.damage.is_some() {
            return Ok(());
        }
        let generation = self.head.generation.wrapping_add(1);
        let chunks = loop {
            match self.write_chunks(backend, generation, snapshot) {
                Ok(chunks) => break chunks,
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
        let head = Head {
            generation,
            chunks,
            bytes: snapshot.len(),
        };
        // A head of three numbers always encodes.
        let encoded = serde_json::to_vec(&head).unwrap_or_default();
        if let Err(error) = backend.put(HEAD_KEY, &encoded) {
            discard(backend, generation, chunks)?;
            return Err(error);
        }

        let old: Vec<String> = (0..self.head.chunks)
            .map(|index| chunk_key(self.head.generation, index))
            .collect();
        delete_in_batches(backend, &old)?;
        delete_in_batches(backend, &self.log_keys)?;
        self.head = head;
        self.log_keys.clear();
        self.log_bytes = 0;
        Ok(())
    }

    /// Writes `snapshot` as the chunks of `generation`; returns how many.
    /// On failure it removes what it wrote.
    fn write_chunks(
        &self,
        backend: &mut impl Backend,
        generation: u32,
        snapshot: &[u8],
    ) -> Result<usize, StorageError> {
        for (index, chunk) in snapshot.chunks(self.chunk_bytes).enumerate() {
            if let Err(error) = backend.put(&chunk_key(generation, index), chunk) {
                discard(backend, generation, index)?;
                return Err(error);
            }
        }
        Ok(snapshot.len().div_ceil(self.chunk_bytes))
    }

    /// Lowers the chunk size to the host's value limit (never below one
    /// byte, so that chunking always makes progress).
    fn shrink_chunks(&mut self, limit: u32) {
        self.chunk_bytes = (limit as usize).clamp(1, self.chunk_bytes);
    }
}

/// Deletes the first `chunks` chunks of `generation`.
fn discard(backend: &mut impl Backend, generation: u32, chunks: usize) -> Result<(), StorageError> {
    let keys: Vec<String> = (0..chunks)
        .map(|index| chunk_key(generation, index))
        .collect();
    delete_in_batches(backend, &keys)
}

fn delete_in_batches(backend: &mut impl Backend, keys: &[String]) -> Result<(), StorageError> {
    for batch in keys.chunks(BATCH_KEYS) {
        backend.delete_many(batch)?;
    }
    Ok(())
}

/// Returns the prefix of `generation`'s chunk keys.
fn generation_prefix(generation: u32) -> String {
    format!("{SNAPSHOT_PREFIX}{generation:08x}:")
}

/// Returns the key of `generation`'s chunk at `index`.
fn chunk_key(generation: u32, index: usize) -> String {
    format!("{}{index:08}", generation_prefix(generation))
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
