"""The bridge from componentize-py's `WitWorld` exports to a `Server`.

`partyhost_py build` generates an entry module that sets
`WitWorld = world_for(find_server(app))`. The adapter keeps the one server
of the wasm instance, makes it at the first hook, converts the WIT types to
the SDK's on the way in and back on the way out, and turns an exception
into the hook's `err` (an uncaught exception would trap the instance).
"""

from __future__ import annotations

import inspect
import traceback
from types import ModuleType
from typing import Any, Callable

from componentize_py_types import Err
from wit_world.imports import types as wit

from . import log
from .http import Request, Response
from .room import Connection, Room
from .server import ConnectionContext, Server

#: Longest error message a hook returns; the traceback's end is kept.
MAX_ERROR_CHARS = 4000


def find_server(module: ModuleType, name: str | None = None) -> type[Server]:
    """Returns the `Server` subclass `name`, or the only one defined in `module`."""
    if name is not None:
        found = getattr(module, name, None)
        if not (isinstance(found, type) and issubclass(found, Server)):
            raise TypeError(f"{module.__name__}.{name} is not a partyhost.Server subclass")
        return found
    candidates = [
        value for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Server) and value is not Server
        and value.__module__ == module.__name__
    ]
    if len(candidates) != 1:
        names = ", ".join(c.__name__ for c in candidates) or "none"
        raise TypeError(
            f"{module.__name__} must define exactly one partyhost.Server subclass "
            f"(found {names}); name one with --server"
        )
    return candidates[0]


def _describe(error: BaseException) -> str:
    text = "".join(traceback.format_exception(error)).rstrip()
    return text if len(text) <= MAX_ERROR_CHARS else "..." + text[-MAX_ERROR_CHARS:]


def _takes_close_details(server: type[Server]) -> bool:
    # PartyKit's onClose takes only the connection; accept both shapes.
    try:
        parameters = inspect.signature(server.on_close).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    return variadic or len(positional) >= 5


def _to_wit_response(response: Any) -> wit.HttpResponse:
    if not isinstance(response, Response):
        kind = type(response).__name__
        raise TypeError(f"on_request must return a partyhost.Response, not {kind}")
    return wit.HttpResponse(response.status, response.headers, response.body)


def _admission(decision: Any) -> wit.Admission:
    if decision is None:
        return wit.Admission_Allow([])
    if isinstance(decision, Response):
        return wit.Admission_Reject(_to_wit_response(decision))
    pairs = decision.items() if isinstance(decision, dict) else decision
    return wit.Admission_Allow([(str(k).lower(), str(v)) for k, v in pairs])


def _request(request: wit.HttpRequest) -> Request:
    return Request(request.method, request.url, request.headers, request.body)


def world_for(server: type[Server]) -> type:
    """Makes the `WitWorld` class componentize-py exports for `server`."""
    instance: list[Server] = []
    close_details = _takes_close_details(server)

    def run(hook: Callable[[Server], Any]) -> Any:
        log.install()
        try:
            if not instance:
                instance.append(server(Room()))
            return hook(instance[0])
        except BaseException as error:  # noqa: BLE001 - every failure is the hook's err
            raise Err(_describe(error)) from None
        finally:
            log.flush()

    def gate(hook: Callable[[Request, Room], Any], request: wit.HttpRequest) -> wit.Admission:
        log.install()
        try:
            return _admission(hook(_request(request), Room()))
        except BaseException as error:  # noqa: BLE001 - answered as 500, not a trap
            log.error(f"before hook failed: {_describe(error)}")
            return wit.Admission_Reject(wit.HttpResponse(500, [], b"internal server error"))
        finally:
            log.flush()

    class WitWorld:
        def on_start(self) -> None:
            run(lambda s: s.on_start())

        def on_connect(self, conn: str, request: wit.ConnectRequest) -> None:
            ctx = ConnectionContext(Request("GET", request.url, request.headers, b""))
            connection = Connection(conn, request.url)

            def connect(s: Server) -> None:
                tags = s.get_connection_tags(connection, ctx)
                if tags:
                    connection.set_tags(tags)
                s.on_connect(connection, ctx)

            run(connect)

        def on_message(self, conn: str, msg: wit.Message) -> None:
            run(lambda s: s.on_message(msg.value, Connection(conn)))

        def on_close(self, conn: str, code: int, reason: str, was_clean: bool) -> None:
            if close_details:
                run(lambda s: s.on_close(Connection(conn, ""), code, reason, was_clean))
            else:
                run(lambda s: s.on_close(Connection(conn, "")))

        def on_error(self, conn: str, error: str) -> None:
            run(lambda s: s.on_error(Connection(conn), error))

        def on_request(self, request: wit.HttpRequest) -> wit.HttpResponse:
            return run(lambda s: _to_wit_response(s.on_request(_request(request))))

        def on_alarm(self) -> None:
            run(lambda s: s.on_alarm())

        def on_before_connect(self, request: wit.HttpRequest) -> wit.Admission:
            return gate(server.on_before_connect, request)

        def on_before_request(self, request: wit.HttpRequest) -> wit.Admission:
            return gate(server.on_before_request, request)

    return WitWorld
