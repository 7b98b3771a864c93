//! Lines in the host's log, tagged by the host with the party and room.
//!
//! The host rate-limits a room's log lines. What a room prints to stdout or
//! stderr (a panic message, say) reaches the host log too, without a level.

use crate::bindings::partyhost::room::log as wit;

/// How important a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Fine-grained tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the room survived.
    Warn,
    /// A failure.
    Error,
}

impl From<Level> for wit::Level {
    fn from(level: Level) -> Self {
        match level {
            Level::Trace => wit::Level::Trace,
            Level::Debug => wit::Level::Debug,
            Level::Info => wit::Level::Info,
            Level::Warn => wit::Level::Warn,
            Level::Error => wit::Level::Error,
        }
    }
}

/// Writes `message` to the host log at `level`.
pub fn log(level: Level, message: &str) {
    wit::log(level.into(), message);
}

/// Writes `message` to the host log at the trace level.
pub fn trace(message: &str) {
    log(Level::Trace, message);
}

/// Writes `message` to the host log at the debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Writes `message` to the host log at the info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Writes `message` to the host log at the warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Writes `message` to the host log at the error level.
pub fn error(message: &str) {
    log(Level::Error, message);
}
