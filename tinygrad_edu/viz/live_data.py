"""What the live page may change, and the checks on everything it sends.

`Points` is the training set as the page sees it: each row's class, and the target a new point of a
class gets in the caller's own encoding (integer labels, one-hot rows, a ±1 sign, or 0/1 for a sigmoid).
`read_command` turns a request body into one checked command, or raises `ArgumentError` with the
sentence the page shows; nothing a page sends reaches training unchecked.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from typing import Any

import numpy as np

from ..errors import ArgumentError, ShapeError

MAX_POINTS = 1000  # training points the page may grow the data set to
MAX_EDITS_PER_SECOND = 20  # points added or deleted per second
MAX_BODY = 1024  # bytes in one request body
MAX_LR = 100.0
MAX_SPEED = 10_000  # steps per second; 0 means as fast as training goes
ACTIONS = ("pause", "resume", "step", "lr", "speed", "add", "delete")


class Points:
    """The training points `(X, Y)`, with each row's class and a way to add and delete points by class."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, n_outputs: int | None = None) -> None:
        self.X = np.asarray(X, dtype=np.float64)
        self.Y = np.asarray(Y)
        if self.Y.ndim == 1 and np.issubdtype(self.Y.dtype, np.integer):
            self.kind = "labels"
            self.n_classes = max(int(self.Y.max()) + 1, n_outputs or 0, 2)
        elif self.Y.ndim == 2 and self.Y.shape[1] > 1:
            self.kind = "one-hot"
            self.n_classes = self.Y.shape[1]
        elif self.Y.size and float(np.min(self.Y)) < 0:
            self.kind = "sign"  # -1 / +1, as the max-margin loss wants
            self.n_classes = 2
        else:
            self.kind = "binary"  # 0 / 1, as a sigmoid output wants
            self.n_classes = 2
        self.version = 0  # bumped on every change, so the page fetches the points only when they changed

    def __len__(self) -> int:
        return len(self.X)

    @property
    def plottable(self) -> bool:
        return self.X.shape[1] == 2

    def classes(self) -> np.ndarray:
        """Each row's class: its label, the argmax of its one-hot row, or which side of 0 (sign) or 0.5 it is on."""
        if self.kind == "labels":
            return self.Y.astype(np.int64)
        if self.kind == "one-hot":
            return self.Y.argmax(axis=1)
        flat = self.Y.reshape(len(self.Y), -1)[:, 0]
        return (flat > (0.0 if self.kind == "sign" else 0.5)).astype(np.int64)

    def target(self, cls: int) -> np.ndarray:
        """The target row of a new point of class `cls`, shaped and typed like the others."""
        if self.kind == "labels":
            return np.array(cls, dtype=self.Y.dtype)
        if self.kind == "one-hot":
            row = np.zeros(self.Y.shape[1], dtype=self.Y.dtype)
            row[cls] = 1
            return row
        value = (1.0 if cls else -1.0) if self.kind == "sign" else float(cls)
        return np.full(self.Y.shape[1:], value, dtype=self.Y.dtype)

    def add(self, x: float, y: float, cls: int) -> None:
        if len(self) >= MAX_POINTS:
            raise ArgumentError(f"the data set already has {MAX_POINTS} points, the most the page may add up to")
        self.X = np.concatenate([self.X, [[x, y]]])
        self.Y = np.concatenate([self.Y, self.target(cls)[None]])
        self.version += 1

    def nearest(self, x: float, y: float, radius: float) -> int:
        """The index of the point nearest (x, y), if one lies within `radius`."""
        d = np.hypot(self.X[:, 0] - x, self.X[:, 1] - y)
        k = int(d.argmin())
        if d[k] > radius:
            raise ArgumentError("no point there to delete; shift-click on a point")
        return k

    def delete(self, k: int) -> None:
        if len(self) <= 1:
            raise ArgumentError("that is the last training point; training needs at least one")
        self.X = np.delete(self.X, k, axis=0)
        self.Y = np.delete(self.Y, k, axis=0)
        self.version += 1

    def as_list(self) -> list[list[float]]:
        """[x, y, class] per point, for the page."""
        return [[float(a), float(b), int(c)] for (a, b), c in zip(self.X[:, :2].tolist(), self.classes().tolist())]


def check_pairs(X: np.ndarray, Y: np.ndarray, where: str) -> None:
    if X.ndim != 2 or len(X) != len(Y) or len(X) == 0:
        raise ShapeError(
            f"{where}: X must be (samples, features) and Y one target per sample, got {X.shape} and {Y.shape}"
        )


class RateLimit:
    """At most `limit` events in any one second (a sliding window)."""

    def __init__(self, limit: int = MAX_EDITS_PER_SECOND, clock: Any = time.monotonic) -> None:
        self.limit, self.clock, self.times = limit, clock, deque()

    def allow(self) -> bool:
        now = self.clock()
        while self.times and now - self.times[0] >= 1.0:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


# ---------------------------------------------------------------------- one command from the page


def read_command(body: bytes, box: list[float] | None, n_classes: int) -> dict[str, Any]:
    """The page's request body as a checked command `{"action": ..., ...}`; `ArgumentError` says what is wrong."""
    if len(body) > MAX_BODY:
        raise ArgumentError(f"the request is {len(body)} bytes; a command is at most {MAX_BODY}")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ArgumentError('the request is not JSON; send {"action": ...}') from None
    if not isinstance(data, dict) or data.get("action") not in ACTIONS:
        raise ArgumentError(f'the request needs an "action", one of {", ".join(ACTIONS)}')
    action = data["action"]
    expected = {"lr": {"value"}, "speed": {"value"}, "add": {"x", "y", "cls"}, "delete": {"x", "y"}}.get(action, set())
    extra = set(data) - expected - {"action"}
    if extra or expected - set(data):
        raise ArgumentError(
            f'"{action}" takes {", ".join(sorted(expected)) or "nothing else"}; got {sorted(set(data) - {"action"})}'
        )
    if action == "lr":
        value = _number(data["value"], "the learning rate")
        if not 0 < value <= MAX_LR:
            raise ArgumentError(f"the learning rate must be > 0 and at most {MAX_LR:g}, got {value:g}")
        return {"action": action, "value": value}
    if action == "speed":
        value = _number(data["value"], "the speed")
        if not 0 <= value <= MAX_SPEED:
            raise ArgumentError(f"the speed is steps per second, 0 (as fast as it goes) to {MAX_SPEED}, got {value:g}")
        return {"action": action, "value": value}
    if action in ("add", "delete"):
        if box is None:
            raise ArgumentError("points can be added or deleted only when the data has two features")
        x, y = _number(data["x"], "x"), _number(data["y"], "y")
        if not (box[0] <= x <= box[1] and box[2] <= y <= box[3]):
            raise ArgumentError(
                f"the point ({x:.3g}, {y:.3g}) lies outside the plot "
                f"[{box[0]:.3g}, {box[1]:.3g}] x [{box[2]:.3g}, {box[3]:.3g}]"
            )
        command = {"action": action, "x": x, "y": y}
        if action == "add":
            cls = data["cls"]
            if not isinstance(cls, int) or isinstance(cls, bool) or not 0 <= cls < n_classes:
                raise ArgumentError(f"the class must be a whole number from 0 to {n_classes - 1}, got {cls!r}")
            command["cls"] = cls
        return command
    return {"action": action}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ArgumentError(f"{what} must be a finite number, got {value!r}")
    return float(value)
