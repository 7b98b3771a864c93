//! The errors a room meets: the host's storage and room errors, JSON
//! conversion errors of the typed helpers, and the error a hook returns.
//!
//! [`StorageError`] and [`RoomError`] mirror the WIT variants one to one;
//! their [`kind`](StorageError::kind) is the WIT case name, stable enough to
//! show to clients. A hook returns a [`HookError`], which any of them (or any
//! other `std::error::Error`) converts into with `?`.

use std::fmt;

use crate::bindings::partyhost::room::{context as wit_context, storage as wit_storage};

/// What a hook returns: `Ok` or the reason it failed.
pub type HookResult<T = ()> = Result<T, HookError>;

/// Why a storage call failed; a correct room can meet every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The key is longer than the limit, in bytes (default 2048).
    #[error("key is longer than {0} bytes")]
    KeyTooLarge(u32),
    /// The value is longer than the limit, in bytes (default 131072).
    #[error("value is longer than {0} bytes")]
    ValueTooLarge(u32),
    /// The room's storage quota would be exceeded by this write.
    #[error("storage quota exceeded")]
    QuotaExceeded,
    /// A batch call named more entries than the limit allows (default 128).
    #[error("batch has more than {0} entries")]
    TooManyEntries(u32),
    /// The alarm time is not a valid time.
    #[error("invalid alarm time")]
    InvalidAlarm,
    /// The storage backend failed; the message says how.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

impl StorageError {
    /// Returns the WIT name of the case, such as `value-too-large`.
    pub fn kind(&self) -> &'static str {
        match self {
            StorageError::KeyTooLarge(_) => "key-too-large",
            StorageError::ValueTooLarge(_) => "value-too-large",
            StorageError::QuotaExceeded => "quota-exceeded",
            StorageError::TooManyEntries(_) => "too-many-entries",
            StorageError::InvalidAlarm => "invalid-alarm",
            StorageError::Backend(_) => "backend",
        }
    }
}

impl From<wit_storage::StorageError> for StorageError {
    fn from(error: wit_storage::StorageError) -> Self {
        use wit_storage::StorageError as Wit;
        match error {
            Wit::KeyTooLarge(limit) => StorageError::KeyTooLarge(limit),
            Wit::ValueTooLarge(limit) => StorageError::ValueTooLarge(limit),
            Wit::QuotaExceeded => StorageError::QuotaExceeded,
            Wit::TooManyEntries(limit) => StorageError::TooManyEntries(limit),
            Wit::InvalidAlarm => StorageError::InvalidAlarm,
            Wit::Backend(message) => StorageError::Backend(message),
        }
    }
}

/// Why a room call (send, close, tags, state) failed; a correct room can meet
/// every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    /// No open connection has this id (it may have just closed).
    #[error("no open connection {0:?}")]
    UnknownConnection(String),
    /// The connection state is longer than the limit, in bytes (default 2048).
    #[error("connection state is longer than {0} bytes")]
    StateTooLarge(u32),
    /// A close code outside 1000 and 3000..=4999, or a reason longer than 123
    /// bytes.
    #[error("invalid close code or reason")]
    InvalidClose,
    /// More than 9 tags, or a tag longer than 256 bytes.
    #[error("invalid tags")]
    InvalidTags,
}

impl RoomError {
    /// Returns the WIT name of the case, such as `unknown-connection`.
    pub fn kind(&self) -> &'static str {
        match self {
            RoomError::UnknownConnection(_) => "unknown-connection",
            RoomError::StateTooLarge(_) => "state-too-large",
            RoomError::InvalidClose => "invalid-close",
            RoomError::InvalidTags => "invalid-tags",
        }
    }
}

impl From<wit_context::RoomError> for RoomError {
    fn from(error: wit_context::RoomError) -> Self {
        use wit_context::RoomError as Wit;
        match error {
            Wit::UnknownConnection(id) => RoomError::UnknownConnection(id),
            Wit::StateTooLarge(limit) => RoomError::StateTooLarge(limit),
            Wit::InvalidClose => RoomError::InvalidClose,
            Wit::InvalidTags => RoomError::InvalidTags,
        }
    }
}

/// Why a typed (JSON) helper failed: the host call or the JSON conversion.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The storage call failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The room call failed.
    #[error(transparent)]
    Room(#[from] RoomError),
    /// The value could not be encoded as JSON.
    #[error("failed to encode json")]
    Encode(#[source] serde_json::Error),
    /// The stored bytes were not the JSON of the expected type.
    #[error("failed to decode json")]
    Decode(#[source] serde_json::Error),
}

/// Why a hook failed; the host logs its message.
///
/// Any `std::error::Error` converts into it with `?`, keeping the chain of
/// causes in the message (`failed to decode json: expected value at line 1`).
/// For a failure of the room's own, use [`HookError::new`]. It deliberately
/// does not implement `std::error::Error` itself: that would conflict with
/// the blanket conversion.
pub struct HookError {
    message: String,
}

impl HookError {
    /// Makes an error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        HookError {
            message: message.into(),
        }
    }

    /// Returns the message the host will log.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Returns the message, consuming the error.
    pub fn into_message(self) -> String {
        self.message
    }
}

impl<E: std::error::Error> From<E> for HookError {
    fn from(error: E) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        HookError { message }
    }
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HookError({:?})", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_error_keeps_the_chain_of_causes() {
        let json = serde_json::from_str::<u64>("nope").expect_err("`nope` is not a number");
        let error = HookError::from(Error::Decode(json));
        assert!(
            error
                .message()
                .starts_with("failed to decode json: expected ident")
        );
    }

    #[test]
    fn transparent_errors_show_the_host_error() {
        let error = HookError::from(Error::Storage(StorageError::ValueTooLarge(131072)));
        assert_eq!(error.message(), "value is longer than 131072 bytes");
    }

    #[test]
    fn kinds_are_the_wit_case_names() {
        assert_eq!(StorageError::Backend("disk".into()).kind(), "backend");
        assert_eq!(
            RoomError::UnknownConnection("a".into()).kind(),
            "unknown-connection"
        );
    }
}
