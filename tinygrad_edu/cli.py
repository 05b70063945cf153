"""The `tinygrad-edu` command line: a thin dispatcher over `tinygrad_edu.commands.*`.

Each subcommand lives in its own module with `register(subparsers)`, which adds its parser and sets
`func` (a callable taking the parsed args and returning an exit status). Errors the package raises
become a one-line message and exit status 2, never a traceback (`EXIT_CODES` says all three).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .errors import TinygradEduError

# Subcommand modules under tinygrad_edu.commands, in the order `--help` lists them.
COMMANDS = ("article", "train", "graph", "check")

# Exit statuses, the same for every command (and said in every command's --help).
EXIT_OK, EXIT_MISTAKES, EXIT_USAGE = 0, 1, 2
EXIT_CODES = (
    "exit status: 0 ok; 1 mistakes found (article: autodiff and the article's formulas disagree; "
    "check: your backprop has mistakes); 2 usage or input error (one line on stderr, never a traceback); "
    "3 check: cannot check this file (it does what the checker cannot model: one line on stderr)"
)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (exit status 2), as the rest of the CLI does."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinygrad-edu", description="A small, readable autograd: audit, train, draw and check backprop."
    )
    parser.add_argument("--version", action="version", version=f"tinygrad-edu {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"tinygrad_edu.commands.{name}").register(subparsers)
    parser.epilog = EXIT_CODES
    for sub in subparsers.choices.values():
        sub.epilog = f"{sub.epilog}\n\n{EXIT_CODES}" if sub.epilog else EXIT_CODES
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows up here, inside the try, rather than at exit
        return code
    except BrokenPipeError:
        # The reader went away (`tinygrad-edu article | head -1`): stop quietly, as Unix tools do.
        # Point stdout at /dev/null so the interpreter's own flush at exit cannot complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        raise
    except (TinygradEduError, OSError) as error:
        print(f"tinygrad-edu {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"tinygrad-edu {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
