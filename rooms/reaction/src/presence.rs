//! Who is in the room, and when a change of that is worth a broadcast.
//!
//! "People" is the number of distinct connection ids among the open sockets,
//! so that a client with two sockets under one id (a partysocket reconnecting,
//! or `?_pk=` reused) counts once. The tally is kept in memory and updated by
//! connect and close; a fresh instance (after hibernation, a trap or a module
//! swap) does not know it and rebuilds it once from the host's list, because
//! asking the host on every event would copy every connection's record each
//! time.
//!
//! Small rooms hear of every join and leave at once. Past [`SMALL_ROOM`]
//! people, at most one presence broadcast goes out per [`COALESCE_MS`]; a
//! change inside that window is sent when the room's alarm fires at its end,
//! so a room filling with thousands of sockets does not send each of them
//! thousands of messages. Nothing here calls the host, so it is testable
//! natively.

use std::collections::BTreeMap;

/// The most people for which every join and leave is broadcast at once.
pub const SMALL_ROOM: usize = 50;

/// The shortest gap between presence broadcasts in a larger room, in
/// milliseconds.
pub const COALESCE_MS: u64 = 250;

/// What to do about a change in who is in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// Broadcast the new number to everyone now.
    Now,
    /// Tell only whoever must know now (a newcomer); set the alarm to fire at
    /// this time (milliseconds since the Unix epoch) and broadcast then.
    At(u64),
    /// Tell only whoever must know now; an alarm is already set.
    Scheduled,
}

/// The room's presence tally and its broadcast schedule.
#[derive(Debug, Default)]
pub struct Presence {
    /// Open sockets per connection id; `None` until the instance learns it.
    sockets_by_id: Option<BTreeMap<String, u32>>,
    /// When the last broadcast that carried the number went out.
    last_broadcast_ms: u64,
    /// Whether an alarm is set to broadcast a change.
    alarm_pending: bool,
}

impl Presence {
    /// Records that a socket with `id` opened. `list_ids` lists the ids of
    /// the open sockets, the new one included; it is called only when the
    /// tally is not known yet.
    pub fn joined(&mut self, id: &str, list_ids: impl FnOnce() -> Vec<String>) {
        match &mut self.sockets_by_id {
            Some(tally) => *tally.entry(id.to_owned()).or_default() += 1,
            None => self.sockets_by_id = Some(tally_of(list_ids())),
        }
    }

    /// Records that a socket with `id` closed. `list_ids` lists the ids of
    /// the sockets still open; it is called only when the tally is not known.
    pub fn left(&mut self, id: &str, list_ids: impl FnOnce() -> Vec<String>) {
        let Some(tally) = &mut self.sockets_by_id else {
            self.sockets_by_id = Some(tally_of(list_ids()));
            return;
        };
        if let Some(sockets) = tally.get_mut(id) {
            *sockets -= 1;
            if *sockets == 0 {
                tally.remove(id);
            }
        }
    }

    /// Returns the number of people, learning it from `list_ids` first if
    /// the tally is not known.
    pub fn people(&mut self, list_ids: impl FnOnce() -> Vec<String>) -> usize {
        self.sockets_by_id
            .get_or_insert_with(|| tally_of(list_ids()))
            .len()
    }

    /// Decides how to announce that the number changed to `people` at
    /// `now_ms`.
    pub fn announce(&mut self, people: usize, now_ms: u64) -> Announce {
        let window_end = self.last_broadcast_ms.saturating_add(COALESCE_MS);
        if people <= SMALL_ROOM || now_ms >= window_end {
            Announce::Now
        } else if self.alarm_pending {
            Announce::Scheduled
        } else {
            self.alarm_pending = true;
            Announce::At(window_end)
        }
    }

    /// Records that a broadcast carrying the number went out at `now_ms`.
    pub fn broadcast_at(&mut self, now_ms: u64) {
        self.last_broadcast_ms = now_ms;
    }

    /// Records that the alarm could not be set.
    pub fn alarm_done(&mut self) {
        self.alarm_pending = false;
    }

    /// Records that the alarm fired; returns whether it was set for a
    /// presence change (the room's one alarm may have been set for another
    /// reason, or by an earlier instance that knew of no change).
    pub fn take_alarm(&mut self) -> bool {
        std::mem::take(&mut self.alarm_pending)
    }
}

fn tally_of(ids: Vec<String>) -> BTreeMap<String, u32> {
    let mut tally = BTreeMap::new();
    for id in ids {
        *tally.entry(id).or_default() += 1;
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> impl FnOnce() -> Vec<String> {
        let list: Vec<String> = list.iter().map(|id| (*id).to_owned()).collect();
        move || list
    }

    fn unused() -> Vec<String> {
        panic!("the tally is known, so the host is not asked")
    }

    #[test]
    fn a_fresh_instance_learns_the_tally_once_then_counts_itself() {
        let mut presence = Presence::default();
        presence.joined("c", ids(&["a", "b", "c"]));
        assert_eq!(presence.people(unused), 3);
        presence.joined("d", unused);
        presence.left("a", unused);
        assert_eq!(presence.people(unused), 3);
    }

    #[test]
    fn a_close_in_a_fresh_instance_learns_the_remaining_sockets() {
        let mut presence = Presence::default();
        presence.left("gone", ids(&["a"]));
        assert_eq!(presence.people(unused), 1);
    }

    #[test]
    fn two_sockets_of_one_id_are_one_person_until_both_close() {
        let mut presence = Presence::default();
        presence.joined("a", ids(&["a"]));
        presence.joined("a", unused);
        assert_eq!(presence.people(unused), 1);
        presence.left("a", unused);
        assert_eq!(presence.people(unused), 1);
        presence.left("a", unused);
        assert_eq!(presence.people(unused), 0);
        presence.left("never-seen", unused);
        assert_eq!(presence.people(unused), 0);
    }

    #[test]
    fn small_rooms_announce_every_change_at_once() {
        let mut presence = Presence::default();
        presence.broadcast_at(1_000);
        assert_eq!(presence.announce(SMALL_ROOM, 1_001), Announce::Now);
    }

    #[test]
    fn large_rooms_announce_at_most_once_per_window() {
        let mut presence = Presence::default();
        let big = SMALL_ROOM + 1;
        assert_eq!(presence.announce(big, 1_000), Announce::Now);
        presence.broadcast_at(1_000);

        let window_end = 1_000 + COALESCE_MS;
        assert_eq!(presence.announce(big, 1_010), Announce::At(window_end));
        assert_eq!(presence.announce(big, 1_020), Announce::Scheduled);

        assert!(presence.take_alarm());
        assert!(!presence.take_alarm(), "one alarm, one broadcast");
        presence.broadcast_at(window_end);
        assert_eq!(
            presence.announce(big, window_end + 1),
            Announce::At(window_end + COALESCE_MS)
        );
        assert_eq!(presence.announce(big, window_end * 2), Announce::Now);
    }
}
