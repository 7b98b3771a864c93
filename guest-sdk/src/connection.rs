//! One WebSocket connection of the room, addressed by its id.
//!
//! A [`Connection`] is only an id: every method is a call to the host, which
//! keeps the sockets, tags and state blobs (across hibernation too). Ids are
//! not unique by force (a reconnecting client may reuse its id while its old
//! socket is still open), so a call reaches every open socket with the id.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::partyhost::room::context as wit;
use crate::{Error, Message, RoomError};

/// A connection of the room, by id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Connection {
    id: String,
}

impl Connection {
    /// Names the connection with this id; it need not be open.
    pub fn new(id: impl Into<String>) -> Self {
        Connection { id: id.into() }
    }

    /// Returns the connection's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Sends a message to every open socket with this id.
    pub fn send(&self, msg: Message) -> Result<(), RoomError> {
        Ok(wit::send(&self.id, &msg.into())?)
    }

    /// Sends a text frame.
    pub fn send_text(&self, text: &str) -> Result<(), RoomError> {
        self.send(Message::Text(text.to_owned()))
    }

    /// Sends a binary frame.
    pub fn send_binary(&self, bytes: &[u8]) -> Result<(), RoomError> {
        self.send(Message::Binary(bytes.to_vec()))
    }

    /// Sends `value` encoded as JSON in a text frame.
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        let text = serde_json::to_string(value).map_err(Error::Encode)?;
        Ok(self.send(Message::Text(text))?)
    }

    /// Closes every open socket with this id, with a close code (1000 or
    /// 3000..=4999) and a reason of at most 123 bytes.
    pub fn close(&self, code: u16, reason: &str) -> Result<(), RoomError> {
        Ok(wit::close(&self.id, code, reason)?)
    }

    /// Replaces the connection's tags (at most 9, of at most 256 bytes each).
    pub fn set_tags<I, S>(&self, tags: I) -> Result<(), RoomError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let tags: Vec<String> = tags.into_iter().map(Into::into).collect();
        Ok(wit::set_tags(&self.id, &tags)?)
    }

    /// Returns the connection's state blob, or `None` if unset.
    pub fn state(&self) -> Result<Option<Vec<u8>>, RoomError> {
        Ok(wit::get_state(&self.id)?)
    }

    /// Sets the connection's state blob (at most 2 KiB by default), or
    /// clears it with `None`.
    pub fn set_state(&self, state: Option<&[u8]>) -> Result<(), RoomError> {
        Ok(wit::set_state(&self.id, state)?)
    }

    /// Returns the connection's state decoded from JSON, or `None` if unset.
    pub fn state_json<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        match self.state()? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes).map_err(Error::Decode)?)),
            None => Ok(None),
        }
    }

    /// Sets the connection's state to `value` encoded as JSON.
    pub fn set_state_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        let bytes = serde_json::to_vec(value).map_err(Error::Encode)?;
        Ok(self.set_state(Some(&bytes))?)
    }
}

/// One open connection as the host keeps it, from [`crate::room::connections`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The connection's id.
    pub id: String,
    /// The path and query the connection was opened with.
    pub url: String,
    /// The connection's tags, as last set.
    pub tags: Vec<String>,
    /// The state blob last set for the connection, if any.
    pub state: Option<Vec<u8>>,
}

impl ConnectionInfo {
    /// Returns a handle to address the connection.
    pub fn connection(&self) -> Connection {
        Connection::new(self.id.clone())
    }

    /// Returns the state blob decoded from JSON, or `None` if unset.
    pub fn state_json<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        match &self.state {
            Some(bytes) => Ok(Some(serde_json::from_slice(bytes).map_err(Error::Decode)?)),
            None => Ok(None),
        }
    }
}

impl From<wit::ConnectionInfo> for ConnectionInfo {
    fn from(info: wit::ConnectionInfo) -> Self {
        ConnectionInfo {
            id: info.id,
            url: info.url,
            tags: info.tags,
            state: info.state,
        }
    }
}
