//! `partyhost:room/log`: a room's log lines, tagged with party and room.

use super::RoomCtx;
use super::bindings::partyhost::room::log::{Host, Level};
use crate::runtime::limits::LogAdmission;

/// Longest message logged; the rest is cut.
const MAX_MESSAGE: usize = 4096;

impl Host for RoomCtx {
    fn log(&mut self, level: Level, message: String) {
        let message = truncate(&message, MAX_MESSAGE);
        let (party, room) = (self.state.key.party.as_str(), self.state.key.room.as_str());
        match self.state.log_limit.admit() {
            LogAdmission::Drop => return,
            LogAdmission::WriteAfterDropping(dropped) => {
                tracing::warn!(party, room, dropped, "room log lines dropped by rate limit");
            }
            LogAdmission::Write => {}
        }
        match level {
            Level::Trace => tracing::trace!(party, room, message, "room log"),
            Level::Debug => tracing::debug!(party, room, message, "room log"),
            Level::Info => tracing::info!(party, room, message, "room log"),
            Level::Warn => tracing::warn!(party, room, message, "room log"),
            Level::Error => tracing::error!(party, room, message, "room log"),
        }
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
