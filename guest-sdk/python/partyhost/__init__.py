"""partyhost rooms in Python: subclass `Server`, override the hooks you need.

```python
from partyhost import Server

class Echo(Server):
    def on_message(self, message, sender):
        self.room.broadcast(message, without=[sender])
```

Build the component with `python -m partyhost_py build app.py -o room.wasm`.
This package runs inside the component: it imports the bindings that
componentize-py generates from `wit/room.wit`, so it is importable only
there (or under `partyhost_py`'s build).
"""

from . import log
from .errors import CallError, RoomError, StorageError
from .http import Headers, Request, Response
from .room import Connection, Room
from .server import ConnectionContext, Server
from .storage import RawStorage, Storage

__all__ = [
    "CallError",
    "Connection",
    "ConnectionContext",
    "Headers",
    "RawStorage",
    "Request",
    "Response",
    "Room",
    "RoomError",
    "Server",
    "Storage",
    "StorageError",
    "log",
]
