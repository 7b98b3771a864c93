"""`Server`: the class a Python room subclasses, one method per hook.

Every hook has a default that does nothing (`on_request` answers 404), so a
room defines only the hooks it needs. The host calls hooks one at a time, in
arrival order. A hook that raises fails that event only: the host logs the
exception and, for `on_connect`, closes the socket with 1011; the hook's
storage writes and messages still take effect.
"""

from __future__ import annotations

from typing import Any

from .http import Request, Response
from .room import Connection, Room


class ConnectionContext:
    """What `on_connect` knows about a new connection: its HTTP request."""

    __slots__ = ("request",)

    def __init__(self, request: Request):
        #: The upgrade request (method GET, no body). Headers added by
        #: `on_before_connect` are in it.
        self.request = request


class Server:
    """A room's logic. Subclass it and override the hooks you need.

    The SDK makes one instance per wasm instance of the room (at first use,
    after hibernation, after a failed hook), so anything kept in `self` must
    be reloadable from `self.room.storage` in `on_start`.
    """

    def __init__(self, room: Room):
        #: The room this server runs in.
        self.room = room

    def on_start(self) -> None:
        """Runs before any other hook of the instance: load state here."""

    def get_connection_tags(self, conn: Connection, ctx: ConnectionContext) -> list[str]:
        """Returns tags for a new connection (before `on_connect`)."""
        return []

    def on_connect(self, conn: Connection, ctx: ConnectionContext) -> None:
        """Runs when a WebSocket connection opens."""

    def on_message(self, message: str | bytes, sender: Connection) -> None:
        """Runs for each message: `str` for a text frame, bytes for binary."""

    def on_close(self, conn: Connection, code: int, reason: str, was_clean: bool) -> None:
        """Runs when a connection has closed (code 1005 when none was given).

        Defining it as `on_close(self, conn)`, as in PartyKit, works too.
        """

    def on_error(self, conn: Connection, error: str) -> None:
        """Runs when a connection failed; `on_close` follows."""

    def on_request(self, req: Request) -> Response:
        """Answers an HTTP request that is not a WebSocket upgrade."""
        return Response("not found", status=404)

    def on_alarm(self) -> None:
        """Runs when the alarm set with `room.storage.set_alarm` fires."""

    @staticmethod
    def on_before_connect(req: Request, lobby: Room) -> Any:
        """Runs before an upgrade, in a gatekeeper instance (no `self`).

        Return None to let it through, a dict of headers to add for
        `on_connect`, or a `Response` to answer the client instead. Storage
        reads see the room's committed data; writes are discarded.
        """
        return None

    @staticmethod
    def on_before_request(req: Request, lobby: Room) -> Any:
        """Runs before `on_request`, like `on_before_connect`."""
        return None
