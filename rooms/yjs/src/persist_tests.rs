//! Tests of the storage layout against an in-memory store with a value limit.

use std::collections::BTreeMap;

use super::*;

/// Room storage in a map, refusing values over `max_value` bytes and
/// writes past `quota` stored bytes like the host does.
struct MemoryBackend {
    entries: BTreeMap<String, Vec<u8>>,
    max_value: usize,
    quota: usize,
}

impl MemoryBackend {
    fn new(max_value: usize) -> Self {
        MemoryBackend {
            entries: BTreeMap::new(),
            max_value,
            quota: usize::MAX,
        }
    }

    fn stored_bytes(&self) -> usize {
        self.entries
            .iter()
            .map(|(key, value)| key.len() + value.len())
            .sum()
    }

    fn keys(&self, prefix: &str) -> Vec<&str> {
        self.entries
            .keys()
            .filter(|key| key.starts_with(prefix))
            .map(String::as_str)
            .collect()
    }
}

impl Backend for MemoryBackend {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.entries.get(key).cloned())
    }

    fn list(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        Ok(self
            .entries
            .iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    fn put(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        if value.len() > self.max_value {
            return Err(StorageError::ValueTooLarge(self.max_value as u32));
        }
        let replaced = self.entries.get(key).map_or(0, |old| key.len() + old.len());
        if self.stored_bytes() - replaced + key.len() + value.len() > self.quota {
            return Err(StorageError::QuotaExceeded);
        }
        self.entries.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete_many(&mut self, keys: &[String]) -> Result<(), StorageError> {
        assert!(keys.len() <= BATCH_KEYS, "batch over the host limit");
        for key in keys {
            self.entries.remove(key);
        }
        Ok(())
    }
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn an_empty_store_loads_nothing() {
    let backend = MemoryBackend::new(DEFAULT_CHUNK_BYTES);
    let (state, updates) = Persistence::load(&backend).expect("load");
    assert!(updates.is_empty());
    assert!(!state.has_log());
}

#[test]
fn appended_updates_load_in_order_after_the_snapshot() {
    let mut backend = MemoryBackend::new(DEFAULT_CHUNK_BYTES);
    let (mut state, _) = Persistence::load(&backend).expect("load");
    state.compact(&mut backend, b"snapshot").expect("compact");
    for i in 0..20u8 {
        assert_eq!(
            state.append(&mut backend, &[i]).expect("append"),
            Appended::Logged
        );
    }

    let (reloaded, updates) = Persistence::load(&backend).expect("load");
    assert_eq!(updates[0], b"snapshot");
    let log: Vec<u8> = updates[1..].iter().map(|u| u[0]).collect();
    assert_eq!(log, (0..20).collect::<Vec<u8>>());

    // The sequence goes on where it stopped, after the sixteenth entry too.
    let mut reloaded = reloaded;
    reloaded.append(&mut backend, &[99]).expect("append");
    let (_, updates) = Persistence::load(&backend).expect("load");
    assert_eq!(updates.last().map(Vec::as_slice), Some(&[99u8][..]));
}

#[test]
fn a_large_snapshot_is_split_and_joined_again() {
    let mut backend = MemoryBackend::new(DEFAULT_CHUNK_BYTES);
    let (mut state, _) = Persistence::load(&backend).expect("load");
    let snapshot = bytes(DEFAULT_CHUNK_BYTES * 2 + 17, 1);
    state.compact(&mut backend, &snapshot).expect("compact");
    assert_eq!(backend.keys(SNAPSHOT_PREFIX).len(), 3);

    let (_, updates) = Persistence::load(&backend).expect("load");
    assert_eq!(updates, vec![snapshot]);
}

#[test]
fn chunks_shrink_to_the_limit_the_host_reports() {
    let mut backend = MemoryBackend::new(1000);
    let (mut state, _) = Persistence::load(&backend).expect("load");
    let snapshot = bytes(4500, 2);
    state.compact(&mut backend, &snapshot).expect("compact");
    assert_eq!(backend.keys(SNAPSHOT_PREFIX).len(), 5);

    // An update over the learned limit asks for a compaction instead.
    assert_eq!(
        state.append(&mut backend, &bytes(1001, 3)).expect("append"),
        Appended::CompactNow
    );
    let (_, updates) = Persistence::load(&backend).expect("load");
    assert_eq!(updates, vec![snapshot]);
}

#[test]
fn an_update_too_large_for_the_host_is_not_logged() {
    let mut backend = MemoryBackend::new(100);
    let (mut state, _) = Persistence::load(&backend).expect("load");
    assert_eq!(
        state.append(&mut backend, &bytes(200, 4)).expect("append"),
        Appended::CompactNow
    );
    assert!(backend.keys(LOG_PREFIX).is_empty());
}

#[test]
fn compaction_removes_the_log_and_stale_chunks() {
    let mut backend = MemoryBackend::new(1000);
    let (mut state, _) = Persistence::load(&backend).expect("load");
    state
        .compact(&mut backend, &bytes(3500, 5))
        .expect("compact");
    for i in 0..300u16 {
        state
            .append(&mut backend, &i.to_be_bytes())
            .expect("append");
    }
    assert!(state.has_log());

    state.compact(&mut backend, b"small").expect("compact");
    assert_eq!(backend.keys(SNAPSHOT_PREFIX).len(), 1);
    assert!(backend.keys(LOG_PREFIX).is_empty());
    assert!(!state.has_log());
    let (_, updates) = Persistence::load(&backend).expect("load");
    assert_eq!(updates, vec![b"small".to_vec()]);
}

#[test]
fn the_log_asks_for_compaction_once_it_outgrows_the_snapshot() {
    let mut backend = MemoryBackend::new(DEFAULT_CHUNK_BYTES);
    let (mut state, _) = Persistence::load(&backend).expect("load");
    let mut outcomes = Vec::new();
    for _ in 0..MAX_LOG_ENTRIES {
        outcomes.push(state.append(&mut backend, b"x").expect("append"));
    }
    assert_eq!(outcomes.last(), Some(&Appended::LoggedCompactSoon));
    assert!(
        outcomes[..MAX_LOG_ENTRIES - 1]
            .iter()
            .all(|o| *o == Appended::Logged)
    );

    // By bytes: a quarter of the minimum at a time, compacting on the fourth.
    let quarter = bytes(MIN_LOG_BYTES / 4, 6);
    let (mut state, _) = Persistence::load(&MemoryBackend::new(1)).expect("load");
    let mut backend = MemoryBackend::new(DEFAULT_CHUNK_BYTES);
    let outcomes: Vec<Appended> = (0..4)
        .map(|_| state.append(&mut backend, &quarter).expect("append"))
        .collect();
    assert_eq!(
        outcomes,
        [
            Appended::Logged,
            Appended::Logged,
            Appended::Logged,
            Appended::LoggedCompactSoon
        ]
    );
}

#[test]
fn a_compaction_that_fails_leaves_the_stored_document_as_it_was() {
    let mut backend = MemoryBackend::new(1000);
    let (mut state, _) = Persistence::load(&backend).expect("load");
    let first = bytes(2500, 7);
    state.compact(&mut backend, &first).expect("compact");
    state.append(&mut backend, b"change").expect("append");
    let before = backend.entries.clone();

    // Room for one more chunk, not for a whole new snapshot.
    backend.quota = backend.stored_bytes() + 1100;
    let result = state.compact(&mut backend, &bytes(5000, 8));
    assert_eq!(result, Err(StorageError::QuotaExceeded));
    assert_eq!(backend.entries, before, "nothing of the new snapshot stays");

    let (_, updates) = Persistence::load(&backend).expect("load");
    assert_eq!(updates, vec![first, b"change".to_vec()]);
}

#[test]
fn a_damaged_snapshot_is_reported_and_never_replaced() {
    let mut backend = MemoryBackend::new(1000);
    let (mut state, _) = Persistence::load(&backend).expect("load");
    state
        .compact(&mut backend, &bytes(2500, 9))
        .expect("compact");
    state.append(&mut backend, b"change").expect("append");
    let chunk = backend.keys(SNAPSHOT_PREFIX)[1].to_owned();
    backend.entries.remove(&chunk);

    let (mut state, updates) = Persistence::load(&backend).expect("load");
    assert_eq!(state.damage(), Some("snapshot chunks are missing"));
    assert_eq!(updates, vec![b"change".to_vec()], "the log still loads");
    let before = backend.entries.clone();
    state
        .compact(&mut backend, b"partial")
        .expect("compact is skipped");
    assert_eq!(backend.entries, before);
    // New changes still go to the log, after the old ones.
    state.append(&mut backend, b"later").expect("append");
    assert_eq!(backend.keys(LOG_PREFIX).len(), 2);
}
