//! The room's storage as the [`Backend`] that [`crate::persist`] writes to.

use partyhost_guest::StorageError;
use partyhost_guest::storage::{self, ListOptions};

use crate::persist::Backend;

/// The room's durable storage, through the host.
pub struct RoomStorage;

impl Backend for RoomStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        storage::get(key)
    }

    fn list(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        storage::list(ListOptions::new().prefix(prefix))
    }

    fn put(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        storage::put(key, value)
    }

    fn delete_many(&mut self, keys: &[String]) -> Result<(), StorageError> {
        storage::delete_many(keys).map(|_| ())
    }
}
