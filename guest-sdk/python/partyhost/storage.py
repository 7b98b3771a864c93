"""The room's durable key-value storage: `room.storage`.

Values are JSON: `put` encodes any JSON-serialisable value and `get` decodes
it, like PartyKit's storage. `room.storage.raw` has the same methods over
plain bytes, for values that are not JSON. Every write of one hook commits
atomically when the hook returns, and reads see the hook's own writes.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Mapping

from componentize_py_types import Err
from wit_world.imports import storage as wit

from .errors import StorageError, storage_error


def _call(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except Err as error:
        raise storage_error(error.value) from None


def dumps(value: Any) -> str:
    """Encodes a value as compact JSON text (non-ASCII kept as it is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode(value: Any) -> bytes:
    """Encodes a value as compact UTF-8 JSON."""
    return dumps(value).encode()


def decode(key: str, data: bytes) -> Any:
    """Decodes a stored JSON value; the error names the key."""
    try:
        return json.loads(data)
    except ValueError as error:
        raise ValueError(f"stored value of {key!r} is not JSON: {error}") from None


class RawStorage:
    """Storage over bytes: the host's calls with Pythonic errors."""

    def get(self, key: str) -> bytes | None:
        """Returns the bytes stored under `key`, or None."""
        return _call(wit.get, key)

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """Returns the entries that exist among `keys`, in key order."""
        return dict(_call(wit.get_many, list(keys)))

    def put(self, key: str, value: bytes) -> None:
        """Stores `value` under `key`."""
        _call(wit.put, key, bytes(value))

    def put_many(self, entries: Mapping[str, bytes]) -> None:
        """Stores every entry, all or none."""
        _call(wit.put_many, [(k, bytes(v)) for k, v in entries.items()])

    def list(
        self,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> dict[str, bytes]:
        """Returns the matching entries ordered by key bytes (`end` excluded)."""
        options = wit.ListOptions(prefix, start, end, reverse, limit)
        return dict(_call(wit.list, options))


class Storage:
    """Storage over JSON values, with the raw bytes API at `.raw`."""

    def __init__(self) -> None:
        #: The same storage over bytes.
        self.raw = RawStorage()

    def get(self, key: str, default: Any = None) -> Any:
        """Returns the value stored under `key`, or `default`."""
        data = self.raw.get(key)
        return default if data is None else decode(key, data)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """Returns the values that exist among `keys`, in key order."""
        return {k: decode(k, v) for k, v in self.raw.get_many(keys).items()}

    def put(self, key: str, value: Any) -> None:
        """Stores `value` (JSON-encoded) under `key`."""
        self.raw.put(key, encode(value))

    def put_many(self, entries: Mapping[str, Any]) -> None:
        """Stores every entry, all or none."""
        self.raw.put_many({k: encode(v) for k, v in entries.items()})

    def delete(self, key: str) -> bool:
        """Deletes `key`; returns whether it existed."""
        return _call(wit.delete, key)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Deletes every key in `keys`; returns how many existed."""
        return _call(wit.delete_many, list(keys))

    def delete_all(self) -> None:
        """Deletes every key of the room (the alarm stays)."""
        _call(wit.delete_all)

    def list(
        self,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """Returns the matching entries' values, ordered by key bytes."""
        entries = self.raw.list(prefix, start, end, reverse, limit)
        return {k: decode(k, v) for k, v in entries.items()}

    def get_alarm(self) -> int | None:
        """Returns when the alarm fires (ms since the Unix epoch), or None."""
        return wit.get_alarm()

    def set_alarm(self, at_ms: int | float) -> None:
        """Sets the room's one alarm to `at_ms` (ms since the Unix epoch)."""
        if not 0 <= at_ms < 2**64:
            raise StorageError("invalid-alarm", f"alarm time {at_ms} is not a valid time")
        _call(wit.set_alarm, int(at_ms))

    def delete_alarm(self) -> None:
        """Cancels the alarm, if any."""
        wit.delete_alarm()
