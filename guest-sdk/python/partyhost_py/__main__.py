"""Command line: `python -m partyhost_py build app.py -o room.wasm`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import BuildError, build


def main(argv: list[str] | None = None) -> int:
    """Parses the command line and runs it; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m partyhost_py")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build a Python room into a component")
    build_cmd.add_argument("app", type=Path, help="the room's .py file")
    build_cmd.add_argument("-o", "--output", type=Path, default=Path("room.wasm"),
                           help="where to write the component (default room.wasm)")
    build_cmd.add_argument("--wit", help="the WIT folder or file (default: the checkout's wit/)")
    build_cmd.add_argument("--server", help="the Server subclass to export, if the module has several")
    args = parser.parse_args(argv)
    try:
        build(args.app, args.output, wit=args.wit, server=args.server)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"built {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
