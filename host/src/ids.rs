//! Newtypes for the names that route an event: party, room and connection.
//!
//! Parties and rooms are the raw path segments of the request URL, never
//! percent-decoded, so that the same URL always names the same room.

use std::fmt;
use std::sync::Arc;

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps a name taken from a URL or a config file.
            pub fn new(name: impl Into<Arc<str>>) -> Self {
                Self(name.into())
            }

            /// Returns the name as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", &*self.0)
            }
        }
    };
}

name_type!(
    /// The name of a party: a kind of room, bound to one component.
    PartyName
);
name_type!(
    /// The id of a room within its party.
    RoomId
);
name_type!(
    /// The id of a connection: the client's `_pk`, or a random one.
    ConnectionId
);

impl PartyName {
    /// Longest name a party may be given, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Checks a name a party is being given (by config, deploy or the CLI):
    /// it becomes a URL path segment, so it holds only letters, digits, `-`
    /// and `_`. Returns the reason when it does not fit.
    pub fn check(name: &str) -> Result<(), String> {
        let valid = !name.is_empty()
            && name.len() <= Self::MAX_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            return Ok(());
        }
        Err(format!(
            "party name {name:?} must be 1 to {} letters, digits, '-' or '_'",
            Self::MAX_LEN
        ))
    }
}

impl ConnectionId {
    /// Makes a random id for a client that sent no `_pk`.
    pub fn random() -> Self {
        let bits: u128 = rand::random();
        Self::new(format!("{bits:032x}"))
    }
}

/// Names one room of one party: the unit of scheduling and of storage.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomKey {
    /// The party the room belongs to.
    pub party: PartyName,
    /// The room's id within the party.
    pub room: RoomId,
}

impl RoomKey {
    /// Names room `room` of party `party`.
    pub fn new(party: PartyName, room: RoomId) -> Self {
        Self { party, room }
    }
}

impl fmt::Display for RoomKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.party, self.room)
    }
}

impl fmt::Debug for RoomKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", format_args!("{}/{}", self.party, self.room))
    }
}
