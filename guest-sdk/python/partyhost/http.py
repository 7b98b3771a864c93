"""HTTP as a room sees it: requests in, `Response` out.

Header names are lowercase both ways: the host lowercases the names it
passes in, and `Response` lowercases the names it sends.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qs, urlsplit


class Headers:
    """Read-only HTTP headers, looked up by case-insensitive name."""

    def __init__(self, pairs: dict[str, str] | Iterable[tuple[str, str]] = ()):
        if isinstance(pairs, dict):
            pairs = pairs.items()
        self._pairs = [(str(name).lower(), str(value)) for name, value in pairs]

    def get(self, name: str, default: str | None = None) -> str | None:
        """Returns the first value of header `name`, or `default`."""
        name = name.lower()
        return next((v for k, v in self._pairs if k == name), default)

    def get_all(self, name: str) -> list[str]:
        """Returns every value of header `name`, in order."""
        name = name.lower()
        return [v for k, v in self._pairs if k == name]

    def items(self) -> list[tuple[str, str]]:
        """Returns every (name, value) pair, in order."""
        return list(self._pairs)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self._pairs))

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


class Request:
    """An HTTP request: one sent to the room, or the one that opened a socket."""

    def __init__(
        self,
        method: str = "GET",
        url: str = "/",
        headers: dict[str, str] | Iterable[tuple[str, str]] = (),
        body: str | bytes = b"",
    ):
        #: The method, upper case.
        self.method = method.upper()
        #: The path and query, as the client sent them.
        self.url = url
        #: The headers.
        self.headers = Headers(headers)
        #: The body (empty for a WebSocket upgrade).
        self.body = body.encode() if isinstance(body, str) else bytes(body)

    @property
    def path(self) -> str:
        """The URL's path, without the query."""
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, str]:
        """The URL's query parameters (the first value of each), decoded."""
        parsed = parse_qs(urlsplit(self.url).query, keep_blank_values=True)
        return {name: values[0] for name, values in parsed.items()}

    def text(self) -> str:
        """Returns the body decoded as UTF-8 (raises UnicodeDecodeError)."""
        return self.body.decode()

    def json(self) -> Any:
        """Returns the body decoded as JSON (raises ValueError)."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Request({self.method} {self.url})"


class Response:
    """The room's answer to an HTTP request.

    A `str` body is sent as UTF-8 with `content-type: text/plain` unless the
    headers name another type; `Response.json` sends JSON.
    """

    def __init__(
        self,
        body: str | bytes = b"",
        status: int = 200,
        headers: dict[str, str] | Iterable[tuple[str, str]] | None = None,
    ):
        pairs = headers.items() if isinstance(headers, dict) else (headers or ())
        #: The status code.
        self.status = status
        #: The headers as (lowercase name, value) pairs.
        self.headers = [(str(name).lower(), str(value)) for name, value in pairs]
        if isinstance(body, str):
            body = body.encode()
            self._default_type("text/plain; charset=utf-8")
        #: The body.
        self.body = bytes(body)

    @classmethod
    def json(
        cls,
        value: Any,
        status: int = 200,
        headers: dict[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> "Response":
        """Makes a response whose body is `value` as JSON."""
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        response = cls(text.encode(), status, headers)
        response._default_type("application/json")
        return response

    def _default_type(self, content_type: str) -> None:
        if all(name != "content-type" for name, _ in self.headers):
            self.headers.append(("content-type", content_type))

    def __repr__(self) -> str:
        return f"Response({self.status}, {len(self.body)} bytes)"
