//! The misbehaviours themselves, each pushing one host limit as far as the
//! command asks.
//!
//! None of them checks its arguments: stopping a guest that asks too much is
//! the host's job, and the tests are there to show that it does.

use partyhost_guest::{Connection, RoomError, StorageError, log, room, storage};

/// Bytes in one MiB.
const MIB: usize = 1 << 20;

/// Bytes between two writes of [`grow`]: one per 4 KiB page, so that every
/// page is really in use rather than merely reserved.
const PAGE: usize = 4096;

/// Spins forever; only the host's CPU deadline ends it.
pub fn spin_forever() -> ! {
    // `black_box` makes each turn's counter opaque to the optimizer, which
    // can then neither fold the loop away nor turn it into a bare jump.
    let mut turns: u64 = 0;
    loop {
        turns = std::hint::black_box(turns.wrapping_add(1));
    }
}

/// Allocates `mb` MiB and writes to each of its pages.
///
/// An allocation the host's memory cap refuses traps the instance.
pub fn grow(mb: usize) -> Vec<u8> {
    let mut block = vec![0_u8; mb.saturating_mul(MIB)];
    for byte in block.iter_mut().step_by(PAGE) {
        *byte = 1;
    }
    block
}

/// Broadcasts `count` texts of `bytes` bytes to the whole room.
pub fn flood_broadcast(bytes: usize, count: u64) {
    let text = filler(bytes);
    for _ in 0..count {
        room::broadcast_text(&text, &[]);
    }
}

/// Sends `conn` `count` texts of `bytes` bytes.
pub fn flood_send(conn: &Connection, bytes: usize, count: u64) -> Result<(), RoomError> {
    let text = filler(bytes);
    for _ in 0..count {
        conn.send_text(&text)?;
    }
    Ok(())
}

/// Stores `count` values of `size` bytes under `flood:<i>`, stopping at the
/// first failure; returns how many were stored and the failure, if any.
pub fn flood_storage(count: u64, size: usize) -> (u64, Option<StorageError>) {
    let value = vec![b'x'; size];
    for i in 0..count {
        if let Err(error) = storage::put(&format!("flood:{i}"), &value) {
            return (i, Some(error));
        }
    }
    (count, None)
}

/// Logs `lines` distinct lines at the info level.
pub fn flood_log(lines: u64) {
    for i in 0..lines {
        log::info(&format!("flood line {i}"));
    }
}

/// Prints `lines` distinct lines to stdout.
pub fn flood_print(lines: u64) {
    for i in 0..lines {
        println!("print line {i}");
    }
}

/// Returns a text of `bytes` bytes.
fn filler(bytes: usize) -> String {
    "x".repeat(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grow_touches_every_page() {
        let block = grow(1);
        assert_eq!(block.len(), MIB);
        assert!(block.iter().step_by(PAGE).all(|&byte| byte == 1));
        assert_eq!(block.iter().filter(|&&byte| byte == 1).count(), MIB / PAGE);
    }

    #[test]
    fn filler_has_the_asked_length() {
        assert_eq!(filler(0), "");
        assert_eq!(filler(5).len(), 5);
    }
}
