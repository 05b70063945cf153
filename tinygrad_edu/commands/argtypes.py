"""argparse types and checks the commands share: bad numbers and unusable output paths are refused
before any work starts, as one line and exit status 2 (argparse's own convention for usage errors).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator

from ..errors import ArgumentError, ReadOnlyFileError
from ..files import follow_links, is_stream, refuse_read_only

STDOUT = "-"  # `-o -`: write the file's bytes to standard output (where a command allows it)

DRAWING_FORMATS = ("svg", "png", "pdf", "dot")  # what viz.render writes
GRAPH_FORMATS = (*DRAWING_FORMATS, "html")  # and the step-through page (viz.steps), for graph and train --graph


def count(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number of at least `minimum`, and at most `maximum` if given (`--epochs`, `--seed`, `--steps`)."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if maximum is not None and not minimum <= number <= maximum:
            raise argparse.ArgumentTypeError(f"must be from {minimum} to {maximum}, got {number}")
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {number}")
        return number

    return parse


def positive_float(text: str) -> float:
    """A finite number > 0 (`--lr`, `--timeout`): `nan`, `inf`, 0 and negatives are refused."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (number > 0 and math.isfinite(number)):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number, got {text}")
    return number


def tolerance(text: str) -> float:
    """A finite number >= 0 (`--rtol`, `--atol`): 0 asks for exact equality; `nan`, `inf` and negatives are refused."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (number >= 0 and math.isfinite(number)):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return number


def drawing_format(path: str, formats: tuple[str, ...] = DRAWING_FORMATS) -> str | None:
    """The format a file name asks for (`x.SVG` -> "svg"), or None for a suffix not in `formats`."""
    suffix = os.path.splitext(path)[1][1:].lower()
    return suffix if suffix in formats else None


def check_output(flag: str, path: str, *, stdout: bool = False) -> None:
    """Refuse, before any long work, an output path that cannot be written: a folder, a missing or
    read-only folder, a read-only file, a block device or a socket. Raises an `OSError` subclass (the
    CLI prints one line). A symbolic link is checked where it points; a FIFO or a character device is
    only looked at (`os.stat`), never opened, since opening a FIFO blocks until a reader comes.
    `-` means standard output where `stdout` is True, and is refused elsewhere."""
    if path == STDOUT:
        if stdout:
            return
        raise ArgumentError(
            f"{flag} -: this command prints its report on standard output, so the file cannot go there too; "
            "give a file name"
        )
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise IsADirectoryError(f"{flag} {path}: is a folder; give a file name, such as {os.path.join(path, 'out')}")
    try:
        target = follow_links(path)
        if is_stream(target):
            return  # written in place: no folder to write in, no rename
    except OSError as error:
        raise OSError(error.errno, f"{flag} {error.strerror}") from None
    folder = os.path.dirname(os.path.abspath(target))
    shown = path if target == path else f"{path} (a link to {target})"
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{flag} {shown}: the folder does not exist ({folder}); create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"{flag} {shown}: permission denied: cannot write in the folder {folder}")
    try:
        refuse_read_only(target)
    except ReadOnlyFileError as error:
        raise ReadOnlyFileError(error.errno, f"{flag} {error.strerror}") from None


@contextlib.contextmanager
def output_path(path: str, suffix: str) -> Iterator[str]:
    """The path to hand to a writer: `path` itself, or for `-` a temporary file whose bytes then go to
    standard output (the writers name files; this keeps them from having to know about streams)."""
    if path != STDOUT:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="tinygrad-edu-") as folder:
        temporary = os.path.join(folder, f"stdout.{suffix}")
        yield temporary
        sys.stdout.flush()
        with open(temporary, "rb") as file:
            shutil.copyfileobj(file, sys.stdout.buffer)
        sys.stdout.buffer.flush()
