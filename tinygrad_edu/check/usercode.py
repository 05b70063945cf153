"""The parent's handle on the learner's code: a child process, asked over a private pipe, answering with arrays.

`UserCode(path, timeout)` starts `tinygrad_edu.check.child` and sends it requests (see there). Every
call may be made again with other arguments (the probes and the line pointer need that), on a fresh
copy of the file or on the one already loaded (to see state kept between calls). The whole session
shares one time limit; past it the child is stopped and a `UserFileError` says so. What the child
sends back is only data: the verdict is computed here, in the parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from ..errors import UserFileError
from .wire import decode_array


class UserCode:
    """The learner's file, loaded in a child process: `settings`, `entries`, and `call(fn, ...)`."""

    def __init__(self, path: str, timeout: float = 60.0, echo: IO[str] | None = None) -> None:
        self.path, self.timeout = path, float(timeout)
        self.deadline = time.monotonic() + self.timeout
        self.echo = echo  # where what the file prints goes (None: this process's stdout/stderr)
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        command = [sys.executable, "-m", "tinygrad_edu.check.child", path, str(to_child_r), str(from_child_w)]
        self._child = subprocess.Popen(
            command,
            pass_fds=(to_child_r, from_child_w),
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._pumps = [self._pump(self._child.stdout, sys.stdout), self._pump(self._child.stderr, sys.stderr)]
        described = self._ask({"op": "load"})
        if not isinstance(described, dict) or not {"settings", "names", "entries"} <= set(described):
            self._garbled()
        self.settings: dict[str, Any] = {k: decode(v) for k, v in described["settings"].items()}
        self.names: list[str] = described["names"]
        self.entries: list[str] = described["entries"]

    # ------------------------------------------------------------------ requests

    def call(
        self,
        fn: str,
        state: Mapping[str, np.ndarray],
        inputs: np.ndarray,
        targets: np.ndarray,
        lr: float | None = None,
        *,
        fresh: bool = True,
    ) -> Any:
        """What `fn(state, inputs, targets[, lr])` returned: arrays as NumPy arrays, dicts as dicts."""
        return decode(self._ask({"op": "call", "fn": fn, "fresh": fresh, "args": _args(state, inputs, targets, lr)}))

    def schedule(self, steps: int) -> list[Any]:
        """LR_SCHEDULE(0), ..., LR_SCHEDULE(steps − 1), for a schedule written as a function of the step."""
        return [decode(v) for v in self._ask({"op": "schedule", "steps": steps, "fresh": True})]

    def locate(
        self,
        fn: str,
        state: Mapping[str, np.ndarray],
        inputs: np.ndarray,
        targets: np.ndarray,
        lr: float | None,
        wanted,
    ) -> tuple[int, str] | None:
        """(line, text) of the first line of the file after which a local holds one of `wanted` (see locate.py)."""
        request = {
            "op": "locate",
            "fn": fn,
            "fresh": True,
            "args": _args(state, inputs, targets, lr),
            "wanted": [_array(w) for w in wanted],
        }
        try:
            found = self._ask(request)
        except UserFileError:  # the pointer is a hint: a file that fails on the rerun leaves the report as it was
            return None
        return None if found is None else (int(found[0]), str(found[1]))

    def close(self) -> None:
        """Stop the child and anything it started (its own session), then reap it."""
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._child.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(timeout=0.5)
        if self._child.poll() is None:
            try:
                os.killpg(self._child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self._child.kill()
            self._child.wait()
        for pump in self._pumps:
            pump.join(timeout=1.0)

    def __enter__(self) -> UserCode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the pipe

    def _ask(self, request: dict[str, Any]) -> Any:
        try:
            os.write(self._to_child, (json.dumps(request) + "\n").encode())
        except (BrokenPipeError, OSError):
            self._ended()
        while b"\n" not in self._buffer:
            left = self.deadline - time.monotonic()
            ready = select.select([self._from_child], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                self.close()
                raise UserFileError(
                    f"check: {self.path}: still running after {self.timeout:g} s (an endless loop?); stopped. "
                    "Give it longer with --timeout SECONDS"
                )
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                self._ended()
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or len(reply) != 1 or not ({"ok", "error"} & set(reply)):
            self._garbled()
        if "error" in reply:
            raise UserFileError(f"check: {reply['error']}")
        return reply["ok"]

    def _garbled(self) -> None:
        self.close()
        raise UserFileError(
            f"check: {self.path}: the answer from the file's process was garbled (did the file write to a file "
            "descriptor it did not open?); no report, so nothing passed"
        )

    def _ended(self) -> None:
        code = self._child.wait()
        raise UserFileError(
            f"check: {self.path}: the file's code ended the process (exit status {code}) before the check finished; "
            "no report, so nothing passed. Remove exit()/os._exit from it, or guard them with "
            "`if __name__ == '__main__':`"
        )

    def _pump(self, source: IO[bytes] | None, default: IO[str]) -> threading.Thread:
        """Pass on what the file prints, as it prints it (on stderr when `echo` is given, e.g. under --json)."""

        def run() -> None:
            assert source is not None
            for raw in iter(source.readline, b""):
                target = self.echo or default
                try:
                    target.write(raw.decode(errors="replace"))
                    target.flush()
                except (ValueError, OSError):
                    pass

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def decode(value: Any) -> Any:
    """The child's JSON back into Python: arrays, dicts, lists; anything else stays a description."""
    if isinstance(value, dict):
        if "array" in value:
            return decode_array(value)
        if "dict" in value:
            return {k: decode(v) for k, v in value["dict"]}
        if "list" in value:
            return [decode(v) for v in value["list"]]
        return Opaque(value.get("callable") or value.get("other", "?"), value.get("repr", ""), "callable" in value)
    return value


class Opaque:
    """A value the child could not send as data (a function, an object): its type name and a short repr."""

    def __init__(self, kind: str, text: str, is_callable: bool) -> None:
        self.kind, self.text, self.is_callable = kind, text, is_callable

    def __repr__(self) -> str:
        return f"<function {self.kind}>" if self.is_callable else self.text or f"<{self.kind}>"


def _array(a: Any) -> dict[str, Any]:
    arr = np.asarray(a)
    return {"array": arr.astype(np.float64).reshape(-1).tolist(), "dtype": arr.dtype.name, "shape": arr.shape}


def _args(state: Mapping[str, np.ndarray], inputs: np.ndarray, targets: np.ndarray, lr: float | None) -> dict:
    args: dict[str, Any] = {
        "state": [[k, _array(v)] for k, v in state.items()],
        "inputs": _array(inputs),
        "targets": _array(targets),
        "lr": lr,
    }
    if np.asarray(targets).dtype.kind in "iu":
        args["int_targets"] = True
    return args
