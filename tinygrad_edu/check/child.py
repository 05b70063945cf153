"""The child process of `check`: it runs the learner's functions on what the parent sends, and returns arrays.

The parent (`usercode.UserCode`) starts `python -m tinygrad_edu.check.child IN OUT`, two private pipe
descriptors, and sends one JSON request per line; the child answers each with one JSON line. The
child computes no verdict: it loads the file, reads its settings, calls `gradients`/`step`/`error`
on the arrays it is given and sends back what they returned, as arrays. Whatever the file prints
goes to the child's stdout/stderr, which the parent passes on. A file that writes to the pipe or
exits early can only make its own answer unreadable, which the parent reports as an error: a pass
is computed by the parent alone, from the numbers.

Requests: `{"op": "load"}`, `{"op": "call", "fn", "fresh", "args"}`, `{"op": "schedule", "steps"}`,
`{"op": "locate", "fn", "args", "wanted"}`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import UserFileError
from .wire import decode_array, encode

SETTINGS = ("SIZES", "LOSS", "ACTIVATION", "STATE", "INPUTS", "TARGETS", "LR", "OPTIMIZER", "LR_SCHEDULE", "CLIP")
ENTRIES = ("gradients", "step", "error")


# ---------------------------------------------------------------------- the learner's file


def load(path: str) -> ModuleType:
    """Import the user's file as a fresh module (each call runs it again, so module-level state restarts)."""
    file = Path(path)
    source = file.read_bytes()
    if b"\0" in source:
        line = source[: source.index(b"\0")].count(b"\n") + 1
        raise UserFileError(f"{path}, line {line}: the file contains a NUL byte; is it a Python source file?")
    spec = importlib.util.spec_from_file_location(f"_tinygrad_edu_user_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise UserFileError(f"cannot import {path!r} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up there
    folder = str(file.parent.resolve())
    sys.path.insert(0, folder)
    try:
        guard(path, "loading the file", lambda: spec.loader.exec_module(module))  # type: ignore[union-attr]
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module


def guard(path: str, what: str, call: Callable[[], Any]) -> Any:
    """Run user code; anything it raises (SystemExit and RecursionError too) becomes one line with file:line."""
    try:
        return call()
    except SyntaxError as error:
        raise UserFileError(f"{path}, line {error.lineno}: syntax error: {error.msg}") from None
    except (Exception, SystemExit) as error:
        if isinstance(error, SystemExit):
            raise UserFileError(
                f"{path}{_line(error, path)}: the file called exit({error.code!r}) while {what}; "
                "the check needs it to return (guard a script part with `if __name__ == '__main__':`)"
            ) from None
        kind = "infinite recursion (RecursionError)" if isinstance(error, RecursionError) else type(error).__name__
        text = str(error).splitlines()[0] if str(error) else ""
        raise UserFileError(f"{path}{_line(error, path)}: {kind} while {what}: {text}".rstrip(": ")) from None


def _line(error: BaseException, path: str) -> str:
    target = os.path.abspath(path)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if os.path.abspath(f.filename) == target]
    return f", line {frames[-1].lineno}" if frames else ""


class Session:
    """One loaded copy of the file; `fresh` requests load it again (module-level buffers restart)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.module: ModuleType | None = None

    def handle(self, request: dict[str, Any]) -> Any:
        op = request["op"]
        if op == "load" or self.module is None or request.get("fresh"):
            self.module = load(self.path)
        if op == "load":
            return self.describe()
        if op == "call":
            return encode(self.call(request["fn"], request["args"]))
        if op == "schedule":
            fn = self.module.LR_SCHEDULE
            return [encode(guard(self.path, "running LR_SCHEDULE", lambda k=k: fn(k))) for k in range(request["steps"])]
        if op == "locate":
            return self.locate(request)
        raise UserFileError(f"unknown request {op!r}")

    def describe(self) -> dict[str, Any]:
        module = self.module
        assert module is not None
        names = [n for n in vars(module) if not n.startswith("_")]
        settings = {name: encode(getattr(module, name)) for name in SETTINGS if hasattr(module, name)}
        plain = [
            n
            for n in names
            if not callable(getattr(module, n)) and not isinstance(getattr(module, n), ModuleType) and n not in SETTINGS
        ]
        entries = [n for n in ENTRIES if callable(getattr(module, n, None))]
        return {"settings": settings, "names": plain, "entries": entries}

    def _args(self, fn: str, args: dict[str, Any]) -> tuple[Any, ...]:
        state = {k: decode_array(v) for k, v in args["state"]}
        x, t = decode_array(args["inputs"]), decode_array(args["targets"])
        if "int_targets" in args:
            t = t.astype(np.int64)
        return (state, x, t, args["lr"]) if fn == "step" else (state, x, t)

    def call(self, fn: str, args: dict[str, Any]) -> Any:
        user = getattr(self.module, fn)
        call_args = self._args(fn, args)
        return guard(self.path, f"running {fn}()", lambda: user(*call_args))

    def locate(self, request: dict[str, Any]) -> Any:
        from .locate import locate

        user = getattr(self.module, request["fn"])
        call_args = self._args(request["fn"], request["args"])
        wanted = [decode_array(w) for w in request["wanted"]]
        found = locate(self.path, lambda: user(*call_args), wanted)
        return None if found is None else list(found)


def serve(path: str, read_fd: int, write_fd: int) -> int:
    """Answer requests until the parent closes the pipe: {"ok": answer} or {"error": one line}."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    session = Session(path)
    requests, answers = os.fdopen(read_fd, "r"), os.fdopen(write_fd, "w")
    try:
        for line in requests:
            try:
                reply: dict[str, Any] = {"ok": session.handle(json.loads(line))}
            except UserFileError as error:
                reply = {"error": str(error)}
            except RecursionError:
                reply = {"error": f"{path}: infinite recursion (RecursionError)"}
            answers.write(json.dumps(reply) + "\n")
            answers.flush()
    except (BrokenPipeError, OSError, ValueError):  # the parent stopped listening: it has its answer
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
