//! Reporting the room's counts to a lobby room, when the party names one
//! with the variable `LOBBY = "<party>/<room>"` (see `rooms/lobby`).
//!
//! A burst of reactions makes one report: the first reaction sets the
//! room's alarm a moment ahead, and the alarm sends the counts as they are
//! then. A report that fails fails the alarm, which the host retries with
//! backoff, so a lobby that is briefly away still gets the counts.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use partyhost_guest::{HookError, HookResult, Request, StorageError, parties, room, storage};
use serde_json::json;

/// The party variable that names the lobby.
const LOBBY_VAR: &str = "LOBBY";

/// How long reactions are gathered before a report, in milliseconds.
const REPORT_DELAY_MS: u64 = 250;

/// The lobby this room reports to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lobby {
    party: String,
    room: String,
}

impl Lobby {
    /// Returns the lobby the party's variables name: `Ok(None)` when none
    /// is set, `Err` with the bad value when it is not `<party>/<room>`.
    pub fn configured() -> Result<Option<Self>, String> {
        let Some(target) = room::vars().remove(LOBBY_VAR) else {
            return Ok(None);
        };
        Self::parse(&target).map(Some).ok_or(target)
    }

    fn parse(target: &str) -> Option<Self> {
        let (party, room) = target.split_once('/')?;
        let valid = !party.is_empty() && !room.is_empty() && !room.contains('/');
        valid.then(|| Lobby {
            party: party.to_owned(),
            room: room.to_owned(),
        })
    }

    /// Makes sure a report is coming: sets the alarm unless one is set.
    pub fn schedule() -> Result<(), StorageError> {
        if storage::get_alarm().is_none() {
            storage::set_alarm(now_ms().saturating_add(REPORT_DELAY_MS))?;
        }
        Ok(())
    }

    /// Sends `counts` to the lobby.
    pub fn report(&self, counts: &BTreeMap<String, u64>) -> HookResult {
        let request = Request::post_json("/report", &json!({ "counts": counts }))?;
        let answer = parties::call(&self.party, &self.room, request)?;
        if answer.status >= 300 {
            let why = String::from_utf8_lossy(&answer.body);
            let message = format!("lobby answered {}: {why}", answer.status);
            return Err(HookError::new(message));
        }
        Ok(())
    }
}

/// Returns the wall clock in milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lobby_names_are_party_slash_room() {
        let lobby = Lobby::parse("lobby/main").expect("valid");
        assert_eq!(
            (lobby.party.as_str(), lobby.room.as_str()),
            ("lobby", "main")
        );
        for bad in ["lobby", "/main", "lobby/", "a/b/c", ""] {
            assert_eq!(Lobby::parse(bad), None, "{bad:?}");
        }
    }
}
