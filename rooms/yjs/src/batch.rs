//! Reassembly of the y-partykit provider's chunked messages.
//!
//! The provider sends a message over 1 MB as a text start marker, binary
//! chunks, and a text end marker:
//!
//! ```text
//! y-pk-batch#{"id":"k3x","type":"start","size":2500000,"count":3}
//! <binary 1000000> <binary 1000000> <binary 500000>
//! y-pk-batch#{"id":"k3x","type":"end","size":2500000,"count":3}
//! ```
//!
//! The room joins the chunks per connection and handles the whole message
//! once the end marker matches the start. A batch in progress lives in the
//! instance only: if the room hibernates in the middle of one (which needs the
//! client to pause longer than the idle timeout), the batch is dropped.

use std::collections::HashMap;

use serde::Deserialize;

/// The prefix of a batch marker.
const SENTINEL: &str = "y-pk-batch#";

/// The largest message a batch may carry, in bytes.
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Why a batch was refused; the batch is dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The marker's JSON is not a start or end marker.
    #[error("malformed batch marker")]
    Malformed,
    /// The batch announced or sent more than [`MAX_BATCH_BYTES`].
    #[error("batch is larger than {MAX_BATCH_BYTES} bytes")]
    TooLarge,
    /// The end marker does not match the start marker or the chunks received.
    #[error("batch end does not match its start")]
    Mismatch,
}

/// A batch marker's JSON.
#[derive(Debug, Deserialize)]
struct Marker {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    size: usize,
    count: usize,
}

/// A batch whose end marker has not come yet.
#[derive(Debug)]
struct Open {
    start: Marker,
    data: Vec<u8>,
    chunks: usize,
}

/// The batches in progress, by connection.
#[derive(Debug, Default)]
pub struct Batches {
    open: HashMap<String, Open>,
}

impl Batches {
    /// Handles a text frame; returns the whole message when it ends a batch.
    /// Text that is not a marker is not the provider's and yields nothing.
    pub fn text(&mut self, conn: &str, text: &str) -> Result<Option<Vec<u8>>, BatchError> {
        let Some(json) = text.strip_prefix(SENTINEL) else {
            return Ok(None);
        };
        let marker: Marker = serde_json::from_str(json).map_err(|_| BatchError::Malformed)?;
        match marker.kind.as_str() {
            "start" => {
                self.open.remove(conn);
                if marker.size > MAX_BATCH_BYTES {
                    return Err(BatchError::TooLarge);
                }
                let open = Open {
                    data: Vec::with_capacity(marker.size),
                    start: marker,
                    chunks: 0,
                };
                self.open.insert(conn.to_owned(), open);
                Ok(None)
            }
            "end" => {
                let open = self.open.remove(conn).ok_or(BatchError::Mismatch)?;
                let start = &open.start;
                let matches = marker.id == start.id
                    && marker.count == start.count
                    && marker.size == start.size
                    && open.chunks == start.count
                    && open.data.len() == start.size;
                matches
                    .then_some(Some(open.data))
                    .ok_or(BatchError::Mismatch)
            }
            _ => Err(BatchError::Malformed),
        }
    }

    /// Handles a binary frame: returns it when no batch is open on `conn`,
    /// or keeps it as the batch's next chunk.
    pub fn binary(&mut self, conn: &str, bytes: Vec<u8>) -> Result<Option<Vec<u8>>, BatchError> {
        let Some(open) = self.open.get_mut(conn) else {
            return Ok(Some(bytes));
        };
        if open.data.len() + bytes.len() > open.start.size {
            self.open.remove(conn);
            return Err(BatchError::TooLarge);
        }
        open.data.extend_from_slice(&bytes);
        open.chunks += 1;
        Ok(None)
    }

    /// Drops `conn`'s batch in progress, if any.
    pub fn forget(&mut self, conn: &str) {
        self.open.remove(conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(kind: &str, size: usize, count: usize) -> String {
        format!(r#"{SENTINEL}{{"id":"b1","type":"{kind}","size":{size},"count":{count}}}"#)
    }

    #[test]
    fn chunks_between_markers_make_one_message() {
        let mut batches = Batches::default();
        assert_eq!(batches.text("a", &marker("start", 5, 2)), Ok(None));
        assert_eq!(batches.binary("a", vec![1, 2, 3]), Ok(None));
        // Another connection's frames are not part of a's batch.
        assert_eq!(batches.binary("b", vec![9]), Ok(Some(vec![9])));
        assert_eq!(batches.binary("a", vec![4, 5]), Ok(None));
        assert_eq!(
            batches.text("a", &marker("end", 5, 2)),
            Ok(Some(vec![1, 2, 3, 4, 5]))
        );
        assert_eq!(batches.binary("a", vec![6]), Ok(Some(vec![6])));
    }

    #[test]
    fn a_batch_that_does_not_add_up_is_refused() {
        let mut batches = Batches::default();
        batches.text("a", &marker("start", 5, 2)).expect("start");
        batches.binary("a", vec![1, 2, 3]).expect("chunk");
        assert_eq!(
            batches.text("a", &marker("end", 5, 2)),
            Err(BatchError::Mismatch)
        );

        batches.text("a", &marker("start", 2, 1)).expect("start");
        assert_eq!(
            batches.binary("a", vec![1, 2, 3]),
            Err(BatchError::TooLarge)
        );
        assert_eq!(
            batches.text("a", &marker("end", 2, 1)),
            Err(BatchError::Mismatch)
        );
    }

    #[test]
    fn bad_markers_and_other_text_are_told_apart() {
        let mut batches = Batches::default();
        assert_eq!(batches.text("a", "hello"), Ok(None));
        assert_eq!(
            batches.text("a", "y-pk-batch#{"),
            Err(BatchError::Malformed)
        );
        let huge = marker("start", MAX_BATCH_BYTES + 1, 20);
        assert_eq!(batches.text("a", &huge), Err(BatchError::TooLarge));
    }
}
