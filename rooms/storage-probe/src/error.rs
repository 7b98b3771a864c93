//! How the probe renders a failed command: a short kebab-case string, the
//! WIT case name of a host error with its payload after a colon
//! (`value-too-large:131072`, `unknown-connection:abc`, `invalid-tags`), or
//! one of the probe's own (`bad-command:<why>`, `probe-failure`).

use std::fmt;

use partyhost_guest::parties::CallError;
use partyhost_guest::{RoomError, StorageError};

/// Why a command failed, rendered as `kind` or `kind:detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError(String);

impl ProbeError {
    /// Makes an error from a kind and an optional detail.
    pub fn new(kind: &str, detail: Option<&dyn fmt::Display>) -> Self {
        match detail {
            Some(detail) => ProbeError(format!("{kind}:{detail}")),
            None => ProbeError(kind.to_owned()),
        }
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProbeError {}

impl From<StorageError> for ProbeError {
    fn from(error: StorageError) -> Self {
        let kind = error.kind();
        match &error {
            StorageError::KeyTooLarge(limit)
            | StorageError::ValueTooLarge(limit)
            | StorageError::TooManyEntries(limit) => ProbeError::new(kind, Some(limit)),
            StorageError::Backend(message) => ProbeError::new(kind, Some(message)),
            StorageError::QuotaExceeded | StorageError::InvalidAlarm => ProbeError::new(kind, None),
        }
    }
}

impl From<RoomError> for ProbeError {
    fn from(error: RoomError) -> Self {
        let kind = error.kind();
        match &error {
            RoomError::UnknownConnection(id) => ProbeError::new(kind, Some(id)),
            RoomError::StateTooLarge(limit) => ProbeError::new(kind, Some(limit)),
            RoomError::InvalidClose | RoomError::InvalidTags => ProbeError::new(kind, None),
        }
    }
}

impl From<CallError> for ProbeError {
    fn from(error: CallError) -> Self {
        let kind = error.kind();
        match &error {
            CallError::UnknownParty(name)
            | CallError::InvalidRoom(name)
            | CallError::Unavailable(name) => ProbeError::new(kind, Some(name)),
            CallError::TooLarge(limit) | CallError::Timeout(limit) => {
                ProbeError::new(kind, Some(limit))
            }
            CallError::Cycle => ProbeError::new(kind, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_errors_render_as_kind_and_detail() {
        let render = |e: ProbeError| e.to_string();
        assert_eq!(
            render(StorageError::ValueTooLarge(131072).into()),
            "value-too-large:131072"
        );
        assert_eq!(render(StorageError::QuotaExceeded.into()), "quota-exceeded");
        assert_eq!(
            render(StorageError::Backend("io".into()).into()),
            "backend:io"
        );
        assert_eq!(
            render(RoomError::UnknownConnection("abc".into()).into()),
            "unknown-connection:abc"
        );
        assert_eq!(render(RoomError::InvalidTags.into()), "invalid-tags");
    }
}
