"""Errors the host's calls raise, as Python exceptions.

The host answers a failed call with a WIT variant (`storage-error`,
`room-error`); componentize-py raises it wrapped in its `Err`. The SDK turns
that into a `StorageError` or a `RoomError` whose `kind` names the case and
whose message says what went wrong, so rooms catch ordinary exceptions.
"""

from __future__ import annotations


class StorageError(Exception):
    """A storage call failed; `kind` is the WIT case (`"quota-exceeded"`...)."""

    def __init__(self, kind: str, message: str, limit: int | None = None):
        super().__init__(message)
        #: The WIT case, e.g. `"value-too-large"`.
        self.kind = kind
        #: The limit that was hit, in bytes or entries, where the case has one.
        self.limit = limit


class RoomError(Exception):
    """A room call failed; `kind` is the WIT case (`"unknown-connection"`...)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        #: The WIT case, e.g. `"state-too-large"`.
        self.kind = kind


class CallError(Exception):
    """A call to another room got no answer; `kind` is the WIT case."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        #: The WIT case, e.g. `"unknown-party"` or `"timeout"`.
        self.kind = kind


def storage_error(value: object) -> StorageError:
    """Translates a WIT `storage-error` value."""
    name = type(value).__name__.removeprefix("StorageError_")
    inner = getattr(value, "value", None)
    messages = {
        "KeyTooLarge": ("key-too-large", f"key is longer than {inner} bytes"),
        "ValueTooLarge": ("value-too-large", f"value is longer than {inner} bytes"),
        "QuotaExceeded": ("quota-exceeded", "room storage quota exceeded"),
        "TooManyEntries": ("too-many-entries", f"more than {inner} entries in one call"),
        "InvalidAlarm": ("invalid-alarm", "alarm time is not a valid time"),
        "Backend": ("backend", f"storage backend failed: {inner}"),
    }
    kind, message = messages.get(name, ("unknown", f"storage call failed: {value!r}"))
    limit = inner if isinstance(inner, int) else None
    return StorageError(kind, message, limit)


def room_error(value: object) -> RoomError:
    """Translates a WIT `room-error` value."""
    name = type(value).__name__.removeprefix("RoomError_")
    inner = getattr(value, "value", None)
    messages = {
        "UnknownConnection": ("unknown-connection", f"no open connection has id {inner!r}"),
        "StateTooLarge": ("state-too-large", f"connection state is longer than {inner} bytes"),
        "InvalidClose": (
            "invalid-close",
            "close code must be 1000 or 3000..=4999 and the reason at most 123 bytes",
        ),
        "InvalidTags": ("invalid-tags", "at most 9 tags of at most 256 bytes each"),
    }
    kind, message = messages.get(name, ("unknown", f"room call failed: {value!r}"))
    return RoomError(kind, message)


def call_error(value: object) -> CallError:
    """Translates a WIT `call-error` value."""
    name = type(value).__name__.removeprefix("CallError_")
    inner = getattr(value, "value", None)
    messages = {
        "UnknownParty": ("unknown-party", f"no party is named {inner!r}"),
        "InvalidRoom": ("invalid-room", f"{inner!r} is not a valid room id"),
        "Cycle": ("cycle", "the target waits on this call, or the chain is over 16 rooms"),
        "TooLarge": ("too-large", f"the request body is over {inner} bytes"),
        "Timeout": ("timeout", f"no answer within {inner} ms"),
        "Unavailable": ("unavailable", f"the room is unavailable: {inner}"),
    }
    kind, message = messages.get(name, ("unknown", f"call failed: {value!r}"))
    return CallError(kind, message)
