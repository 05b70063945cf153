"""Point at the line of the learner's file that computed a wrong quantity.

The learner's function is run once more under `sys.settrace`, watching only frames of their file.
After each line, the frame's local variables (and the attributes of their objects, and the items of
their lists, one level down: `layer.deltas` in `for layer in self.layers`) are searched for an array
equal to the wrong quantity; the first line after which it appears is the line that computed it.
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

import numpy as np

MAX_EVENTS = 200_000  # a search, not a debugger: give up on long programs


def locate(path: str, call: Callable[[], Any], targets: Iterable[np.ndarray]) -> tuple[int, str] | None:
    """(line number, source text) of the first line of `path` after which a local holds one of `targets`."""
    file = os.path.abspath(path)
    wanted = [np.asarray(t, dtype=np.float64) for t in targets if np.size(t) > 1 and np.all(np.isfinite(t))]
    if not wanted:
        return None
    found: list[int] = []
    last: dict[int, int] = {}
    events = [0]

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        events[0] += 1
        if found or events[0] > MAX_EVENTS:
            return None
        if event in ("line", "return"):
            before = last.get(id(frame))
            if before is not None and _holds(frame.f_locals, wanted):
                found.append(before)
                return None
            last[id(frame)] = frame.f_lineno
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        if os.path.abspath(frame.f_code.co_filename) != file:
            return None
        return local(frame, event, arg)

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        call()
    except Exception:  # the learner's code already ran once without error; a second run is only a search
        return None
    finally:
        sys.settrace(old)
    if not found:
        return None
    return found[0], linecache.getline(file, found[0]).strip()


def _holds(variables: dict[str, Any], wanted: list[np.ndarray]) -> bool:
    for value in variables.values():
        for candidate in _one_level(value):
            if _equal(candidate, wanted):
                return True
    return False


def _one_level(value: Any) -> Iterable[Any]:
    yield value
    items = value if isinstance(value, (list, tuple)) and len(value) <= 64 else [value]
    for item in items:
        if item is not value:
            yield item
        attributes = getattr(item, "__dict__", None)
        if isinstance(attributes, dict) and not isinstance(item, type):
            yield from attributes.values()


def _equal(candidate: Any, wanted: list[np.ndarray]) -> bool:
    if not isinstance(candidate, np.ndarray) or candidate.dtype.kind != "f":
        return False
    for target in wanted:
        for view in (candidate, candidate.sum(axis=0) if candidate.ndim == 2 else None):
            if view is not None and view.shape == target.shape and np.allclose(view, target, rtol=1e-9, atol=1e-15):
                return True
    return False
