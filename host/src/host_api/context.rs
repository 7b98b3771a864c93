//! `partyhost:room/context`: the room's identity, connections and variables.
//!
//! Sends, broadcasts and closes choose their sockets now but leave through
//! the output gate after the hook's writes are durable. Tags and state change
//! at once: they are the host's memory of a connection, not output.

use super::RoomCtx;
use super::bindings::partyhost::room::context::{ConnectionInfo, Host, RoomError};
use super::bindings::partyhost::room::types::Message;
use crate::room::connection::{CloseReason, Frame, Recipients, SocketKey};
use crate::room::gate::Output;

/// Most tags one connection may carry.
const MAX_TAGS: usize = 9;

/// Longest tag, in bytes.
const MAX_TAG_BYTES: usize = 256;

/// Longest close reason the WebSocket protocol allows, in bytes.
const MAX_CLOSE_REASON: usize = 123;

type Result<T> = std::result::Result<T, RoomError>;

/// What a context import returns: a trap, or the WIT result.
type Trappable<T> = wasmtime::Result<T>;

/// Bytes charged per recipient of a frame (its place in the queue).
const RECIPIENT_COST: usize = 8;

impl RoomCtx {
    /// Counts output against the hook's limit; past it the hook traps, since
    /// a room that floods its clients is misbehaving.
    fn charge_output(&mut self, payload: usize, recipients: usize) -> Trappable<()> {
        let scope = &mut self.state.hook;
        scope.output_bytes = scope
            .output_bytes
            .saturating_add(payload)
            .saturating_add(recipients.saturating_mul(RECIPIENT_COST));
        let max = self.state.limits.max_output_bytes_per_hook;
        if scope.output_bytes > max {
            return Err(wasmtime::Error::msg(format!(
                "room exceeded its output limit of {max} bytes in one hook"
            )));
        }
        Ok(())
    }

    fn sockets_of(&self, conn: &str) -> Result<Vec<SocketKey>> {
        let sockets = self.state.conns.sockets_of(conn);
        if sockets.is_empty() {
            return Err(RoomError::UnknownConnection(conn.to_owned()));
        }
        Ok(sockets.to_vec())
    }
}

impl RoomCtx {
    fn update_tags(&mut self, conn: &str, tags: Vec<String>) -> Result<()> {
        let too_long = tags.iter().any(|t| t.len() > MAX_TAG_BYTES);
        if tags.len() > MAX_TAGS || too_long {
            return Err(RoomError::InvalidTags);
        }
        for socket in self.sockets_of(conn)? {
            if let Some(c) = self.state.conns.get_mut(socket) {
                c.tags = tags.clone();
            }
        }
        Ok(())
    }

    fn update_state(&mut self, conn: &str, state: Option<Vec<u8>>) -> Result<()> {
        let max = self.state.limits.max_state_bytes;
        if state.as_ref().is_some_and(|s| s.len() > max) {
            return Err(RoomError::StateTooLarge(
                u32::try_from(max).unwrap_or(u32::MAX),
            ));
        }
        for socket in self.sockets_of(conn)? {
            if let Some(c) = self.state.conns.get_mut(socket) {
                c.state = state.clone();
            }
        }
        Ok(())
    }
}

fn frame_of(msg: Message) -> Frame {
    match msg {
        Message::Text(text) => Frame::text(text),
        Message::Binary(bytes) => Frame::Binary(bytes.into()),
    }
}

impl Host for RoomCtx {
    fn id(&mut self) -> Trappable<String> {
        Ok(self.state.key.room.to_string())
    }

    fn party(&mut self) -> Trappable<String> {
        Ok(self.state.key.party.to_string())
    }

    fn broadcast(&mut self, msg: Message, exclude: Vec<String>) -> Trappable<()> {
        let reached = self.state.conns.count_except(&exclude);
        if reached > 0 {
            let frame = frame_of(msg);
            self.charge_output(frame.len(), reached)?;
            let to = Recipients::Room {
                mark: self.state.conns.mark(),
                except: exclude,
            };
            self.state.hook.outputs.push(Output::Deliver { to, frame });
        }
        Ok(())
    }

    fn send(&mut self, conn: String, msg: Message) -> Trappable<Result<()>> {
        let to = match self.sockets_of(&conn) {
            Ok(to) => to,
            Err(error) => return Ok(Err(error)),
        };
        let frame = frame_of(msg);
        self.charge_output(frame.len(), to.len())?;
        let to = Recipients::Sockets(to);
        self.state.hook.outputs.push(Output::Deliver { to, frame });
        Ok(Ok(()))
    }

    fn close(&mut self, conn: String, code: u16, reason: String) -> Trappable<Result<()>> {
        let valid_code = code == 1000 || (3000..=4999).contains(&code);
        if !valid_code || reason.len() > MAX_CLOSE_REASON {
            return Ok(Err(RoomError::InvalidClose));
        }
        let to = match self.sockets_of(&conn) {
            Ok(to) => to,
            Err(error) => return Ok(Err(error)),
        };
        self.charge_output(reason.len(), to.len())?;
        let reason = CloseReason { code, reason };
        let to = Recipients::Sockets(to);
        self.state.hook.outputs.push(Output::Close { to, reason });
        Ok(Ok(()))
    }

    fn connections(&mut self, tag: Option<String>) -> Trappable<Vec<ConnectionInfo>> {
        Ok(self
            .state
            .conns
            .iter()
            .filter(|(_, c)| tag.as_ref().is_none_or(|t| c.tags.contains(t)))
            .map(|(_, c)| ConnectionInfo {
                id: c.id.to_string(),
                url: c.url.clone(),
                tags: c.tags.clone(),
                state: c.state.clone(),
            })
            .collect())
    }

    fn set_tags(&mut self, conn: String, tags: Vec<String>) -> Trappable<Result<()>> {
        Ok(self.update_tags(&conn, tags))
    }

    fn get_state(&mut self, conn: String) -> Trappable<Result<Option<Vec<u8>>>> {
        let sockets = match self.sockets_of(&conn) {
            Ok(sockets) => sockets,
            Err(error) => return Ok(Err(error)),
        };
        let state = sockets
            .iter()
            .rev()
            .find_map(|s| self.state.conns.get(*s).and_then(|c| c.state.clone()));
        Ok(Ok(state))
    }

    fn set_state(&mut self, conn: String, state: Option<Vec<u8>>) -> Trappable<Result<()>> {
        Ok(self.update_state(&conn, state))
    }

    fn vars(&mut self) -> Trappable<Vec<(String, String)>> {
        Ok(self.state.party.vars.clone())
    }
}
