//! The room's one Yjs document, and the changes each applied update made.
//!
//! Clients send updates that may repeat what the document already holds (a
//! reconnecting client's sync step 2 carries its whole delete set, say). The
//! room stores and relays only what an update changed, which yrs reports
//! through its update observer when the transaction commits.

use std::sync::{Arc, Mutex, PoisonError};

use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

/// The observer key under which the document reports its changes.
const OBSERVER: &str = "partyhost-yjs";

/// Why an update could not be applied; the document is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The bytes are not a lib0 v1 encoded update.
    #[error("failed to decode update: {0}")]
    Decode(#[from] yrs::encoding::read::Error),
    /// The update decoded but could not be integrated.
    #[error("failed to apply update: {0}")]
    Apply(#[from] yrs::error::UpdateError),
    /// Another transaction held the document, which a single-threaded room
    /// never does.
    #[error("document is busy")]
    Busy,
}

/// A Yjs document that reports what each applied update changed.
pub struct Document {
    doc: Doc,
    /// Filled by the update observer during a commit, drained right after.
    changes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Default for Document {
    fn default() -> Self {
        Document::new()
    }
}

impl Document {
    /// Makes an empty document.
    pub fn new() -> Self {
        let doc = Doc::new();
        let changes = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&changes);
        // A fresh document has no transaction open, so subscribing succeeds.
        let _ = doc.observe_update_v1(OBSERVER, move |_, event| {
            let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
            sink.push(event.update.clone());
        });
        Document { doc, changes }
    }

    /// Returns the document's state vector (what it has seen of each client).
    pub fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }

    /// Returns what the document holds that a peer with state vector `sv`
    /// lacks, as a v1 update (sync step 2).
    pub fn diff(&self, sv: &StateVector) -> Vec<u8> {
        self.doc.transact().encode_state_as_update_v1(sv)
    }

    /// Returns the whole document as one v1 update.
    pub fn snapshot(&self) -> Vec<u8> {
        self.diff(&StateVector::default())
    }

    /// Applies a v1 update; returns the change it made, or `None` when the
    /// document already held all of it.
    pub fn apply(&mut self, update: &[u8]) -> Result<Option<Vec<u8>>, DocumentError> {
        let update = Update::decode_v1(update)?;
        {
            let mut txn = self
                .doc
                .try_transact_mut()
                .map_err(|_| DocumentError::Busy)?;
            txn.apply_update(update)?;
            // Dropping the transaction commits it and runs the observer.
        }
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let change = match changes.len() {
            0 => None,
            1 => changes.pop(),
            _ => Some(yrs::merge_updates_v1(changes.iter())?),
        };
        changes.clear();
        Ok(change)
    }

    /// Returns the text of the root-level `Y.Text` named `name` (for tests and
    /// diagnostics).
    #[cfg(test)]
    pub fn text(&self, name: &str) -> String {
        use yrs::GetString;
        let text = self.doc.get_or_insert_text(name);
        text.get_string(&self.doc.transact())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Text, TransactionMut};

    /// Makes an update that inserts `what` at `at` in the text `t` of `doc`.
    fn edit(doc: &Doc, at: u32, what: &str) -> Vec<u8> {
        let text = doc.get_or_insert_text("t");
        let mut txn: TransactionMut = doc.transact_mut();
        let before = txn.state_vector();
        text.insert(&mut txn, at, what);
        txn.encode_state_as_update_v1(&before)
    }

    #[test]
    fn an_applied_update_is_reported_once() {
        let client = Doc::new();
        let update = edit(&client, 0, "hello");
        let mut doc = Document::new();

        let change = doc.apply(&update).expect("valid update");
        assert!(change.is_some());
        assert_eq!(doc.text("t"), "hello");

        // The same update again changes nothing.
        assert_eq!(doc.apply(&update).expect("valid update"), None);
    }

    #[test]
    fn a_snapshot_rebuilds_the_document() {
        let client = Doc::new();
        let mut doc = Document::new();
        doc.apply(&edit(&client, 0, "abc")).expect("valid");
        doc.apply(&edit(&client, 3, "def")).expect("valid");

        let mut copy = Document::new();
        copy.apply(&doc.snapshot()).expect("valid snapshot");
        assert_eq!(copy.text("t"), "abcdef");
        assert_eq!(
            copy.diff(&doc.state_vector()).len(),
            doc.diff(&doc.state_vector()).len()
        );
    }

    #[test]
    fn garbage_is_an_error_and_changes_nothing() {
        let mut doc = Document::new();
        assert!(doc.apply(&[0xff, 0xff, 0xff]).is_err());
        assert_eq!(doc.text("t"), "");
    }
}
