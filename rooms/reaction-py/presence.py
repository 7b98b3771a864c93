"""Who is in the room, and when a change of that is worth a broadcast.

The same rules as rooms/reaction/src/presence.rs: "people" is the number of
distinct connection ids among the open sockets (two sockets under one id
count once). The tally lives in memory, updated by connect and close; a
fresh instance learns it once from the host's list. Small rooms hear of
every join and leave at once; past `SMALL_ROOM` people, at most one presence
broadcast goes out per `COALESCE_MS`, and the room's alarm sends the last
change of a window. Nothing here calls the host.
"""

#: The most people for which every join and leave is broadcast at once.
SMALL_ROOM = 50
#: The shortest gap between presence broadcasts in a larger room, in ms.
COALESCE_MS = 250

#: `Presence.announce` answers: broadcast now, or an alarm is already set.
NOW, SCHEDULED = "now", "scheduled"


def tally_of(ids):
    """Counts sockets per connection id."""
    tally = {}
    for id in ids:
        tally[id] = tally.get(id, 0) + 1
    return tally


class Presence:
    """The room's presence tally and its broadcast schedule."""

    def __init__(self):
        self.sockets_by_id = None
        self.last_broadcast_ms = 0
        self.alarm_pending = False

    def joined(self, id, list_ids):
        """Records that a socket with `id` opened (`list_ids` includes it)."""
        if self.sockets_by_id is None:
            self.sockets_by_id = tally_of(list_ids())
        else:
            self.sockets_by_id[id] = self.sockets_by_id.get(id, 0) + 1

    def left(self, id, list_ids):
        """Records that a socket with `id` closed."""
        if self.sockets_by_id is None:
            self.sockets_by_id = tally_of(list_ids())
            return
        sockets = self.sockets_by_id.get(id)
        if sockets is not None:
            if sockets <= 1:
                del self.sockets_by_id[id]
            else:
                self.sockets_by_id[id] = sockets - 1

    def people(self, list_ids):
        """Returns the number of people, learning the tally first if needed."""
        if self.sockets_by_id is None:
            self.sockets_by_id = tally_of(list_ids())
        return len(self.sockets_by_id)

    def announce(self, people, now_ms):
        """Returns NOW, SCHEDULED, or the time (ms) to set the alarm to."""
        window_end = self.last_broadcast_ms + COALESCE_MS
        if people <= SMALL_ROOM or now_ms >= window_end:
            return NOW
        if self.alarm_pending:
            return SCHEDULED
        self.alarm_pending = True
        return window_end

    def broadcast_at(self, now_ms):
        """Records that a broadcast carrying the number went out."""
        self.last_broadcast_ms = now_ms

    def alarm_done(self):
        """Records that the alarm fired, or could not be set."""
        self.alarm_pending = False
