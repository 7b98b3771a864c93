"""In-memory stand-ins for the modules componentize-py generates, so that
the SDK's Python runs under plain CPython in unit tests.

`install()` puts `componentize_py_types` and `wit_world.imports.*` into
`sys.modules`; `HOST` records what the room did (sent frames, log lines)
and holds its storage, connections and alarm.
"""

import enum
import sys
import types
from dataclasses import dataclass


class Err(Exception):
    """componentize-py's failure case of a `result`."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


def _record(name, *fields):
    return dataclass(type(name, (), {"__annotations__": {f: object for f in fields}}))


class Host:
    """What the fake host knows and what the room did."""

    def reset(self):
        self.kv, self.alarm, self.sent, self.logs = {}, None, [], []
        self.conns = {}  # id -> [url, tags, state]
        self.room_id, self.party, self.vars = "r1", "p", [("GREETING", "hi")]
        self.value_limit = 1000


HOST = Host()
HOST.reset()


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def _types_module():
    return _module(
        "wit_world.imports.types",
        Message_Text=_record("Message_Text", "value"),
        Message_Binary=_record("Message_Binary", "value"),
        ConnectRequest=_record("ConnectRequest", "url", "headers"),
        HttpRequest=_record("HttpRequest", "method", "url", "headers", "body"),
        HttpResponse=_record("HttpResponse", "status", "headers", "body"),
        Admission_Allow=_record("Admission_Allow", "value"),
        Admission_Reject=_record("Admission_Reject", "value"),
    )


def _storage_module():
    too_large = _record("StorageError_ValueTooLarge", "value")

    def put(key, value):
        if len(value) > HOST.value_limit:
            raise Err(too_large(HOST.value_limit))
        HOST.kv[key] = value

    def list_(options):
        keys = sorted(k for k in HOST.kv if k.startswith(options.prefix or ""))
        return [(k, HOST.kv[k]) for k in (reversed(keys) if options.reverse else keys)]

    return _module(
        "wit_world.imports.storage",
        ListOptions=_record("ListOptions", "prefix", "start", "end", "reverse", "limit"),
        StorageError_ValueTooLarge=too_large,
        get=lambda key: HOST.kv.get(key),
        get_many=lambda keys: [(k, HOST.kv[k]) for k in sorted(keys) if k in HOST.kv],
        put=put,
        put_many=lambda entries: [put(k, v) for k, v in entries] and None,
        delete=lambda key: HOST.kv.pop(key, None) is not None,
        delete_many=lambda keys: sum(HOST.kv.pop(k, None) is not None for k in keys),
        list=list_,
        delete_all=HOST.kv.clear,
        set_alarm=lambda at: setattr(HOST, "alarm", at),
        get_alarm=lambda: HOST.alarm,
        delete_alarm=lambda: setattr(HOST, "alarm", None),
    )


def _context_module():
    unknown = _record("RoomError_UnknownConnection", "value")
    info = _record("ConnectionInfo", "id", "url", "tags", "state")

    def known(conn):
        if conn not in HOST.conns:
            raise Err(unknown(conn))
        return HOST.conns[conn]

    def send(conn, msg):
        known(conn)
        HOST.sent.append((conn, msg.value))

    def broadcast(msg, exclude):
        for conn in HOST.conns:
            if conn not in exclude:
                HOST.sent.append((conn, msg.value))

    return _module(
        "wit_world.imports.context",
        ConnectionInfo=info,
        RoomError_UnknownConnection=unknown,
        id=lambda: HOST.room_id,
        party=lambda: HOST.party,
        vars=lambda: list(HOST.vars),
        send=send,
        broadcast=broadcast,
        close=lambda conn, code, reason: known(conn) and None,
        connections=lambda tag: [
            info(i, c[0], list(c[1]), c[2]) for i, c in HOST.conns.items()
            if tag is None or tag in c[1]
        ],
        set_tags=lambda conn, tags: known(conn).__setitem__(1, list(tags)),
        get_state=lambda conn: known(conn)[2],
        set_state=lambda conn, state: known(conn).__setitem__(2, state),
    )


def _log_module():
    level = enum.Enum("Level", {"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "ERROR": 4})
    return _module(
        "wit_world.imports.log",
        Level=level,
        log=lambda lvl, message: HOST.logs.append((lvl.name, message)),
    )


def install():
    """Registers the fake modules (once)."""
    if "wit_world" in sys.modules:
        return
    _module("componentize_py_types", Err=Err)
    _module("wit_world")
    imports = _module("wit_world.imports")
    imports.types = _types_module()
    imports.storage = _storage_module()
    imports.context = _context_module()
    imports.log = _log_module()
