"""The `tinygrad-edu` command line: a thin dispatcher over `tinygrad_edu.commands.*`.

Each subcommand lives in its own module with `register(subparsers)`, which adds its parser and sets
`func` (a callable taking the parsed args and returning an exit status). Errors the package raises
become a one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__
from .errors import TinygradEduError

# Subcommand modules under tinygrad_edu.commands, in the order `--help` lists them.
COMMANDS = ("article", "train", "graph", "check")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu", description="A small, readable autograd: audit, train, draw and check backprop."
    )
    parser.add_argument("--version", action="version", version=f"tinygrad-edu {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"tinygrad_edu.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"tinygrad_edu.commands.{name}":
                raise
            continue  # a subcommand not written yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (TinygradEduError, OSError) as error:
        print(f"tinygrad-edu {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tinygrad-edu {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
