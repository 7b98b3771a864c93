"""The build tool of Python rooms: `python -m partyhost_py build app.py`.

It runs on the developer's Python (3.11 or newer) with componentize-py
installed; the `partyhost` package it bundles runs inside the component.
"""

from .build import BuildError, build

__all__ = ["BuildError", "build"]
