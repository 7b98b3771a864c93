"""The reaction room in Python: the same protocol as rooms/reaction (Rust).

The room sends one kind of update,
`{"type":"counts","counts":{"heart":3},"people":2}`: every count by kind,
and `people`, the number of distinct connection ids with an open socket. A
connection gets it when it opens. A text message
`{"type":"reaction","kind":"heart"}` adds one to that kind's count, stores
it under `count:<kind>` (a decimal number as UTF-8) and broadcasts the
update to the whole room, sender included. A join or a leave broadcasts it
too (coalesced in large rooms, see presence.py). Anything else a client
sends is answered to it alone with `{"type":"error","error":"<reason>"}`
and the room keeps counting. `GET` on the room answers the same update as
JSON. With the party variable `LOBBY`, counts are reported to a lobby room
(see lobby.py).

The counts live in memory and are read back from storage in `on_start`, so
they survive restarts; the host's output gate guarantees that no client sees
a count before it is durable.
"""

import json
import re

from partyhost import Response, Server, StorageError, log

import lobby
from presence import NOW, SCHEDULED, Presence

#: The prefix of every count's storage key; the rest of the key is the kind.
KEY_PREFIX = "count:"
#: The longest kind accepted, in UTF-8 bytes.
MAX_KIND_BYTES = 64
#: The most distinct kinds one room counts.
MAX_KINDS = 100
#: Counts saturate here, like the Rust room's u64.
MAX_COUNT = 2**64 - 1

_DECIMAL = re.compile(r"\+?[0-9]+")


class Rejected(Exception):
    """A message that was not counted; its text is sent to the client."""


def is_valid_kind(kind: str) -> bool:
    """Tells whether `kind` is 1 to 64 bytes of UTF-8."""
    try:
        return 0 < len(kind.encode()) <= MAX_KIND_BYTES
    except UnicodeEncodeError:
        return False


def parse_reaction(text: str) -> str:
    """Returns the kind of a `{"type":"reaction","kind":"..."}` message."""
    try:
        value = json.loads(text)
    except ValueError:
        raise Rejected("message is not json") from None
    if not isinstance(value, dict) or value.get("type") != "reaction":
        raise Rejected("unknown message type")
    kind = value.get("kind")
    if not isinstance(kind, str) or not is_valid_kind(kind):
        raise Rejected("kind must be a string of 1 to 64 bytes")
    return kind


def parse_count(data: bytes) -> int | None:
    """Returns a stored count, or None if the bytes are not one."""
    text = data.decode(errors="replace")
    if not _DECIMAL.fullmatch(text):
        return None
    count = int(text)
    return count if count <= MAX_COUNT else None


class Reactions(Server):
    """Counts reactions by kind, tells everyone, and says who is here."""

    def on_start(self):
        self.counts = {}
        self.presence = Presence()
        for key, data in self.room.storage.raw.list(prefix=KEY_PREFIX).items():
            kind, count = key[len(KEY_PREFIX):], parse_count(data)
            if count is None or not is_valid_kind(kind):
                log.warn(f"ignoring stored count {key!r}: not a valid count")
                continue
            self.counts[kind] = count
        self.lobby = None
        target = self.room.env.get(lobby.LOBBY_VAR)
        if target is not None:
            parsed = lobby.parse(target)
            if parsed is None:
                log.warn(f"ignoring LOBBY {target!r}: expected <party>/<room>")
            else:
                self.lobby = lobby.Lobby(*parsed)

    def open_ids(self):
        """The ids of the room's open sockets, for a presence tally."""
        return [conn.id for conn in self.room.get_connections()]

    def message(self):
        """The update that tells clients every count and the people here."""
        people = self.presence.people(self.open_ids)
        return {"type": "counts", "counts": self.counts, "people": people}

    def broadcast(self):
        """Sends the current update to everyone."""
        self.room.broadcast_json(self.message())
        self.presence.broadcast_at(lobby.now_ms())

    def announce_presence(self):
        """Announces a join or leave; returns whether everyone was told."""
        people = self.presence.people(self.open_ids)
        decision = self.presence.announce(people, lobby.now_ms())
        if decision == NOW:
            self.broadcast()
            return True
        if decision != SCHEDULED:
            try:
                self.room.storage.set_alarm(decision)
            except StorageError as error:
                log.warn(f"failed to schedule a presence update: {error}")
                self.presence.alarm_done()
        return False

    def on_connect(self, conn, ctx):
        self.presence.joined(conn.id, self.open_ids)
        try:
            if not self.announce_presence():
                conn.send_json(self.message())
        except BaseException:
            # A failed connect hook drops the socket without a close hook,
            # so the tally must forget it here.
            self.presence.left(conn.id, self.open_ids)
            raise

    def on_close(self, conn, code, reason, was_clean):
        self.presence.left(conn.id, self.open_ids)
        self.announce_presence()

    def on_alarm(self):
        self.presence.alarm_done()
        self.broadcast()
        if self.lobby is not None:
            self.lobby.report(self.room, self.counts)

    def on_message(self, message, sender):
        try:
            self.react(message)
        except Rejected as rejection:
            sender.send_json({"type": "error", "error": str(rejection)})
            return
        self.broadcast()
        if self.lobby is not None:
            lobby.Lobby.schedule(self.room.storage)

    def react(self, message):
        """Counts one reaction, or raises `Rejected` saying why not."""
        if not isinstance(message, str):
            raise Rejected("binary messages are not supported")
        kind = parse_reaction(message)
        known = kind in self.counts
        if not known and len(self.counts) >= MAX_KINDS:
            raise Rejected("too many kinds")
        count = min(self.counts.get(kind, 0) + 1, MAX_COUNT)
        # Memory changes only once the count is stored, so that what clients
        # see never runs ahead of what a restart brings back.
        try:
            self.room.storage.raw.put(KEY_PREFIX + kind, str(count).encode())
        except StorageError as error:
            log.warn(f"failed to store count of {kind!r}: {error}")
            raise Rejected("failed to store count") from None
        self.counts[kind] = count
        if not known:
            # Keys in byte order, as the Rust room's BTreeMap sends them.
            self.counts = dict(sorted(self.counts.items()))

    def on_request(self, req):
        if req.method != "GET":
            return Response("method not allowed", status=405, headers={"allow": "GET"})
        return Response.json(self.message())
