"""Reporting the room's counts to a lobby room, when the party names one
with the variable `LOBBY = "<party>/<room>"` (see rooms/lobby).

As in rooms/reaction/src/lobby.rs: the first reaction of a burst sets the
room's alarm a moment ahead, and the alarm sends the counts as they are
then. A failed report fails the alarm, which the host retries.
"""

import json
import time

from partyhost import Request

#: The party variable that names the lobby.
LOBBY_VAR = "LOBBY"
#: How long reactions are gathered before a report, in ms.
REPORT_DELAY_MS = 250


def now_ms():
    """The wall clock in milliseconds since the Unix epoch."""
    return int(time.time() * 1000)


def parse(target):
    """Returns (party, room) from `<party>/<room>`, or None."""
    party, slash, room = target.partition("/")
    if not slash or not party or not room or "/" in room:
        return None
    return party, room


class Lobby:
    """The lobby a room reports to."""

    def __init__(self, party, room):
        self.party, self.room = party, room

    @staticmethod
    def schedule(storage):
        """Makes sure a report is coming: sets the alarm unless one is set."""
        if storage.get_alarm() is None:
            storage.set_alarm(now_ms() + REPORT_DELAY_MS)

    def report(self, room, counts):
        """Sends `counts` to the lobby; raises if it does not accept them."""
        body = json.dumps({"counts": counts}, separators=(",", ":"), ensure_ascii=False)
        request = Request("POST", "/report", {"content-type": "application/json"}, body)
        answer = room.call(self.party, self.room, request)
        if answer.status >= 300:
            why = answer.body.decode(errors="replace")
            raise RuntimeError(f"lobby answered {answer.status}: {why}")
