//! The instance's identity and the count of starts that outlives it.
//!
//! Each instance picks an id when it starts; the number of starts across
//! instances lives in storage under [`STARTS_KEY`] as a decimal number, so a
//! test can tell a fresh instance from the one that failed.

use std::time::{SystemTime, UNIX_EPOCH};

use partyhost_guest::{HookError, storage};

/// Storage key of the number of times `on_start` ran, across instances.
pub const STARTS_KEY: &str = "hostile:starts";

/// Returns an id for a new instance, from the clock's nanoseconds.
///
/// It keeps 53 bits so that it survives a JSON number in any client.
pub fn new_instance_id() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let nanos = u64::try_from(since_epoch.as_nanos() & u128::from(u64::MAX)).unwrap_or(0);
    nanos & ((1 << 53) - 1)
}

/// Returns the persisted number of starts; absent is 0.
pub fn read() -> Result<u64, HookError> {
    let Some(bytes) = storage::get(STARTS_KEY)? else {
        return Ok(0);
    };
    parse_count(&bytes).ok_or_else(|| {
        let stored = String::from_utf8_lossy(&bytes);
        HookError::new(format!(
            "failed to parse {STARTS_KEY:?}: {stored:?} is no count"
        ))
    })
}

/// Adds one to the persisted number of starts.
pub fn increment() -> Result<(), HookError> {
    let next = read()?.saturating_add(1);
    storage::put(STARTS_KEY, next.to_string().as_bytes())?;
    Ok(())
}

/// Parses a count stored as a decimal number in UTF-8.
fn parse_count(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_decimal_text() {
        assert_eq!(parse_count(b"42"), Some(42));
        assert_eq!(parse_count(b"-1"), None);
        assert_eq!(parse_count(b"\xff"), None);
    }

    #[test]
    fn instance_ids_fit_a_json_number() {
        assert!(new_instance_id() < 1 << 53);
    }
}
