//! Where a guest's stdout and stderr go: the host log, one event per line,
//! tagged with the party, room and stream.

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use std::sync::Arc;

use super::limits::{LogAdmission, LogLimiter};
use crate::ids::RoomKey;

/// Longest line logged; the rest of a longer line is cut.
const MAX_LINE: usize = 4096;

/// A guest output stream that logs each line it receives.
#[derive(Clone)]
pub struct GuestOutput {
    room: RoomKey,
    stream: &'static str,
    limit: Arc<LogLimiter>,
}

impl GuestOutput {
    /// Makes the `stream` ("stdout" or "stderr") of `room`, sharing the
    /// room's log rate limit.
    pub fn new(room: RoomKey, stream: &'static str, limit: Arc<LogLimiter>) -> Self {
        Self {
            room,
            stream,
            limit,
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineLogger {
            out: self.clone(),
            line: Vec::new(),
        })
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(tokio::io::sink())
    }
}

/// Buffers bytes until a newline, then logs the line.
struct LineLogger {
    out: GuestOutput,
    line: Vec<u8>,
}

impl LineLogger {
    fn emit(&mut self) {
        let (party, room) = (self.out.room.party.as_str(), self.out.room.room.as_str());
        let stream = self.out.stream;
        match self.out.limit.admit() {
            LogAdmission::Drop => {}
            LogAdmission::WriteAfterDropping(dropped) => {
                tracing::warn!(party, room, dropped, "room log lines dropped by rate limit");
                let text = String::from_utf8_lossy(&self.line);
                tracing::info!(party, room, stream, line = %text.trim_end(), "room output");
            }
            LogAdmission::Write => {
                let text = String::from_utf8_lossy(&self.line);
                tracing::info!(party, room, stream, line = %text.trim_end(), "room output");
            }
        }
        self.line.clear();
    }
}

impl OutputStream for LineLogger {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        for &byte in bytes.iter() {
            if byte == b'\n' {
                self.emit();
            } else if self.line.len() < MAX_LINE {
                self.line.push(byte);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LineLogger {
    async fn ready(&mut self) {}
}

impl Drop for LineLogger {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            self.emit();
        }
    }
}
