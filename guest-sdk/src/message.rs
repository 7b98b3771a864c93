//! WebSocket messages, as the host passes them through in both directions.

use serde::de::DeserializeOwned;

use crate::bindings::partyhost::room::types as wit;

/// One WebSocket message: a text or a binary frame, untouched by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Message {
    /// Returns the text of a text frame, or `None` for a binary frame.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// Returns the bytes of a binary frame, or `None` for a text frame.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Message::Text(_) => None,
            Message::Binary(bytes) => Some(bytes),
        }
    }

    /// Parses the frame's payload, text or binary, as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self {
            Message::Text(text) => serde_json::from_str(text),
            Message::Binary(bytes) => serde_json::from_slice(bytes),
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(bytes)
    }
}

impl From<wit::Message> for Message {
    fn from(message: wit::Message) -> Self {
        match message {
            wit::Message::Text(text) => Message::Text(text),
            wit::Message::Binary(bytes) => Message::Binary(bytes),
        }
    }
}

impl From<Message> for wit::Message {
    fn from(message: Message) -> Self {
        match message {
            Message::Text(text) => wit::Message::Text(text),
            Message::Binary(bytes) => wit::Message::Binary(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_reads_text_and_binary_frames() {
        let text = Message::from(r#"{"a":1}"#);
        let binary = Message::from(br#"{"a":1}"#.to_vec());
        let expected = serde_json::json!({"a": 1});
        assert_eq!(
            text.json::<serde_json::Value>().ok(),
            Some(expected.clone())
        );
        assert_eq!(binary.json::<serde_json::Value>().ok(), Some(expected));
    }
}
