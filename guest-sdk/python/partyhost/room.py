"""The room a server runs in (`self.room`) and its connections.

A `Connection` is only an id: every method is a call to the host, which
keeps the sockets, tags and state (across hibernation too). Ids are not
unique by force (a reconnecting client may reuse its id while its old socket
is still open), so a call reaches every open socket with the id.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from componentize_py_types import Err
from wit_world.imports import context as wit
from wit_world.imports.types import HttpRequest, Message_Binary, Message_Text

from .errors import call_error, room_error
from .http import Request, Response
from .storage import Storage, dumps, encode

_UNSET = object()


def to_message(message: str | bytes) -> Message_Text | Message_Binary:
    """Makes a WIT message: `str` is a text frame, bytes a binary one."""
    if isinstance(message, str):
        return Message_Text(message)
    if isinstance(message, (bytes, bytearray, memoryview)):
        return Message_Binary(bytes(message))
    kind = type(message).__name__
    raise TypeError(f"a message is str or bytes, not {kind}; send other values with send_json")


def _call(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except Err as error:
        raise room_error(error.value) from None


class Connection:
    """One WebSocket connection of the room, by id."""

    __slots__ = ("id", "_url", "_tags", "_state")

    def __init__(self, id: str, url: str | None = None, tags: list[str] | None = None,
                 state: Any = _UNSET):
        #: The connection's id (the client's `_pk`, or one the host made).
        self.id = id
        self._url, self._tags, self._state = url, tags, state

    def send(self, message: str | bytes) -> None:
        """Sends a text (`str`) or binary (bytes) frame."""
        _call(wit.send, self.id, to_message(message))

    def send_json(self, value: Any) -> None:
        """Sends `value` encoded as JSON in a text frame."""
        _call(wit.send, self.id, Message_Text(dumps(value)))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Closes the connection (code 1000 or 3000..=4999, reason <= 123 bytes)."""
        _call(wit.close, self.id, code, reason)

    @property
    def state(self) -> Any:
        """The JSON state last set with `set_state`, or None.

        A state that is not JSON (set by a room in another language) is bytes.
        """
        if self._state is _UNSET:
            self._state = _decode_state(_call(wit.get_state, self.id))
        return self._state

    def set_state(self, state: Any) -> Any:
        """Sets the state (JSON, <= 2 KiB; None clears it) and returns it.

        Like PartyKit, `state` may be a function of the current state.
        """
        if callable(state):
            state = state(self.state)
        _call(wit.set_state, self.id, None if state is None else encode(state))
        self._state = state
        return state

    @property
    def url(self) -> str:
        """The path and query the connection was opened with."""
        if self._url is None:
            self._load_info()
        return self._url or ""

    @property
    def tags(self) -> list[str]:
        """The connection's tags."""
        if self._tags is None:
            self._load_info()
        return list(self._tags or [])

    def set_tags(self, tags: Iterable[str]) -> None:
        """Replaces the tags (at most 9, of at most 256 bytes each)."""
        self._tags = list(tags)
        _call(wit.set_tags, self.id, self._tags)

    def _load_info(self) -> None:
        info = next((c for c in wit.connections(None) if c.id == self.id), None)
        self._url = info.url if info else ""
        self._tags = list(info.tags) if info else []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Connection) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Connection({self.id!r})"


def _decode_state(data: bytes | None) -> Any:
    # A state another SDK set may not be JSON; it is then left as bytes.
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data


def _from_info(info: wit.ConnectionInfo) -> Connection:
    return Connection(info.id, info.url, list(info.tags), _decode_state(info.state))


class Room:
    """The room: its id, storage, connections and configured variables."""

    def __init__(self) -> None:
        #: The room's durable storage (JSON values; bytes at `.raw`).
        self.storage = Storage()

    @property
    def id(self) -> str:
        """The room's id (the room segment of its URL path)."""
        return wit.id()

    @property
    def name(self) -> str:
        """The name of the party this room belongs to."""
        return wit.party()

    @property
    def env(self) -> dict[str, str]:
        """The party's configured variables (`vars` in partyhost.toml)."""
        return dict(wit.vars())

    def broadcast(self, message: str | bytes, without: Iterable[str | Connection] = ()) -> None:
        """Sends a frame to every open connection except those in `without`."""
        exclude = [c.id if isinstance(c, Connection) else c for c in without]
        wit.broadcast(to_message(message), exclude)

    def broadcast_json(self, value: Any, without: Iterable[str | Connection] = ()) -> None:
        """Broadcasts `value` encoded as JSON in a text frame."""
        self.broadcast(dumps(value), without)

    def get_connection(self, id: str) -> Connection | None:
        """Returns the open connection with this id, or None."""
        return next((c for c in self.get_connections() if c.id == id), None)

    def get_connections(self, tag: str | None = None) -> list[Connection]:
        """Returns the open connections; with a tag, only those that carry it."""
        return [_from_info(info) for info in wit.connections(tag)]

    def call(self, party: str, room: str, request: Request) -> Response:
        """Sends `request` to room `room` of party `party` on this host.

        The target's `on_request` answers it (its before-request hook is
        skipped); a target that fails answers 500. Raises `CallError` when no
        answer came (unknown party, a call cycle, a timeout...).
        """
        from wit_world.imports import parties

        wit_request = HttpRequest(request.method, request.url, request.headers.items(),
                                  bytes(request.body))
        try:
            answer = parties.call(party, room, wit_request)
        except Err as error:
            raise call_error(error.value) from None
        return Response(answer.body, answer.status, answer.headers)
