//! Which room a URL names, and which connection id a client asked for.
//!
//! Like PartyKit: `/parties/:party/:room[/*rest]`, and the legacy
//! `/party/:room` for the party `main`. Segments are taken raw, never
//! percent-decoded.

use crate::ids::{ConnectionId, PartyName, RoomId, RoomKey};

/// The party every legacy `/party/:room` URL belongs to.
pub const DEFAULT_PARTY: &str = "main";

/// Longest party or room segment accepted, in bytes.
const MAX_SEGMENT: usize = 256;

/// Longest `_pk` accepted, in bytes.
const MAX_CONNECTION_ID: usize = 256;

/// Returns the room a request path names, or `None` if it names none.
pub fn parse_room_path(path: &str) -> Option<RoomKey> {
    let mut segments = path.strip_prefix('/')?.split('/');
    let (party, room) = match segments.next()? {
        "parties" => (segments.next()?, segments.next()?),
        "party" => (DEFAULT_PARTY, segments.next()?),
        _ => return None,
    };
    let valid = |s: &str| !s.is_empty() && s.len() <= MAX_SEGMENT;
    if !valid(party) || !valid(room) {
        return None;
    }
    Some(RoomKey::new(PartyName::new(party), RoomId::new(room)))
}

/// Returns the `_pk` query parameter, if the client sent a usable one.
pub fn connection_id(query: Option<&str>) -> Option<ConnectionId> {
    let query = query?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "_pk")
        .map(|(_, value)| value.into_owned())
        .filter(|id| !id.is_empty() && id.len() <= MAX_CONNECTION_ID)
        .map(ConnectionId::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(path: &str) -> Option<(String, String)> {
        parse_room_path(path).map(|k| (k.party.to_string(), k.room.to_string()))
    }

    #[test]
    fn parties_route_names_party_and_room() {
        let expected = Some(("reaction".into(), "talk-42".into()));
        assert_eq!(names("/parties/reaction/talk-42"), expected);
        assert_eq!(names("/parties/reaction/talk-42/some/rest"), expected);
    }

    #[test]
    fn legacy_route_uses_the_main_party() {
        assert_eq!(names("/party/lobby"), Some(("main".into(), "lobby".into())));
    }

    #[test]
    fn segments_stay_raw() {
        let expected = Some(("main".into(), "a%2Fb".into()));
        assert_eq!(names("/parties/main/a%2Fb"), expected);
    }

    #[test]
    fn other_paths_name_no_room() {
        assert_eq!(names("/"), None);
        assert_eq!(names("/parties/main"), None);
        assert_eq!(names("/parties/main/"), None);
        assert_eq!(names("/parties//x"), None);
        assert_eq!(names("/other/main/x"), None);
    }

    #[test]
    fn connection_id_comes_from_pk() {
        let id = connection_id(Some("a=1&_pk=abc%20d")).map(|c| c.to_string());
        assert_eq!(id.as_deref(), Some("abc d"));
        assert!(connection_id(Some("_pk=")).is_none());
        assert!(connection_id(None).is_none());
    }
}
