"""Lines in the host's log, tagged by the host with the party and room.

Use `log.info(...)` and friends, `print`, or the `logging` module: once the
first hook runs, `print` to stdout becomes info lines, stderr (tracebacks
too) becomes warn lines, and the root logger writes through the `log`
import at its own levels. The host rate-limits a room's lines.
"""

from __future__ import annotations

import io
import logging
import sys

from wit_world.imports.log import Level, log

__all__ = ["trace", "debug", "info", "warn", "error", "Level", "log"]


def trace(message: str) -> None:
    """Writes `message` at the trace level."""
    log(Level.TRACE, str(message))


def debug(message: str) -> None:
    """Writes `message` at the debug level."""
    log(Level.DEBUG, str(message))


def info(message: str) -> None:
    """Writes `message` at the info level."""
    log(Level.INFO, str(message))


def warn(message: str) -> None:
    """Writes `message` at the warn level."""
    log(Level.WARN, str(message))


def error(message: str) -> None:
    """Writes `message` at the error level."""
    log(Level.ERROR, str(message))


class _LineWriter(io.TextIOBase):
    """A text stream that logs each complete line at one level."""

    def __init__(self, level: Level):
        super().__init__()
        self._level = level
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            log(self._level, line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            log(self._level, self._pending)
            self._pending = ""


class _Handler(logging.Handler):
    """A logging handler that writes through the `log` import."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:  # noqa: BLE001 - a bad format must not fail the hook
            message = str(record.msg)
        if record.levelno >= logging.ERROR:
            level = Level.ERROR
        elif record.levelno >= logging.WARNING:
            level = Level.WARN
        elif record.levelno >= logging.INFO:
            level = Level.INFO
        else:
            level = Level.DEBUG
        log(level, message)


_installed = False


def install() -> None:
    """Routes print and logging to the host log (runs at the first hook).

    Not at import: the module is imported while the component is built, when
    the host's imports cannot be called.
    """
    global _installed
    if _installed:
        return
    _installed = True
    sys.stdout = _LineWriter(Level.INFO)
    sys.stderr = _LineWriter(Level.WARN)
    root = logging.getLogger()
    if not root.handlers:
        handler = _Handler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        root.addHandler(handler)
        if root.level == logging.WARNING:
            root.setLevel(logging.INFO)


def flush() -> None:
    """Writes out partial printed lines (at the end of every hook)."""
    sys.stdout.flush()
    sys.stderr.flush()
