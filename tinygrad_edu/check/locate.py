"""Point at the line of the learner's file that computed a wrong quantity.

The learner's function is run once more (in the child process) under `sys.settrace`, watching only
frames of their file. After each line, the frame's local variables are searched for an array equal to
the wrong quantity: the values themselves, and one level down the attributes of their objects, the
items of their lists and dicts (`layer.deltas` in `for layer in self.layers`, `grads["0.bias"]`), with
lists of numbers and torch tensors read as arrays; a value built in a `return` expression is seen
at the return. The first line after which it appears is the line that computed it, given whole: a
statement over several lines is never cut mid-expression.
"""

from __future__ import annotations

import ast
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
    # one number alone (the bias of a single output) is sought only as the batch sum of a per-sample column
    wanted = [np.asarray(t, dtype=np.float64) for t in targets if np.size(t) >= 1 and np.all(np.isfinite(t))]
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
            if event == "return" and _holds({"return": arg}, wanted):
                found.append(frame.f_lineno)  # built in the return expression itself
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
    return found[0], statement(file, found[0])


def statement(file: str, line: int) -> str:
    """The whole statement that starts or spans `line`, on one line (a continued expression is never cut)."""
    text = linecache.getline(file, line).strip()
    try:
        tree = ast.parse("".join(linecache.getlines(file)))
    except (SyntaxError, ValueError):
        return text
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(
            node, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.If, ast.With, ast.Try, ast.AsyncFunctionDef)
        ):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end and (best is None or end - node.lineno < best[1] - best[0]):
                best = (node.lineno, end)
    if best is None or best[0] == best[1]:
        return text
    joined = " ".join(linecache.getline(file, n).strip() for n in range(best[0], best[1] + 1))
    return joined.replace("( ", "(").replace(" )", ")").replace("[ ", "[").replace(" ]", "]")


def _holds(variables: dict[str, Any], wanted: list[np.ndarray]) -> bool:
    for value in variables.values():
        for candidate in _one_level(value):
            if _equal(candidate, wanted):
                return True
    return False


def _one_level(value: Any) -> Iterable[Any]:
    yield value
    if isinstance(value, dict) and len(value) <= 64:
        items: Any = list(value.values())
    elif isinstance(value, (list, tuple)) and len(value) <= 64:
        items = value
    else:
        items = [value]
    for item in items:
        if item is not value:
            yield item
        attributes = getattr(item, "__dict__", None)
        if isinstance(attributes, dict) and not isinstance(item, type):
            yield from attributes.values()


def _as_array(candidate: Any) -> np.ndarray | None:
    """An array of floats from an ndarray, a torch tensor, or a (nested) list of numbers; None otherwise."""
    if hasattr(candidate, "detach") and hasattr(candidate, "numpy"):
        try:
            candidate = candidate.detach().cpu().numpy()
        except Exception:  # a tensor that cannot be read is not the value sought
            return None
    if isinstance(candidate, list) and candidate and isinstance(candidate[0], (float, list)):
        try:
            candidate = np.asarray(candidate, dtype=np.float64)
        except (TypeError, ValueError):
            return None
    return candidate if isinstance(candidate, np.ndarray) else None


def _equal(candidate: Any, wanted: list[np.ndarray]) -> bool:
    candidate = _as_array(candidate)
    if candidate is None or candidate.dtype.kind != "f":
        return False
    for target in wanted:
        batch = candidate.sum(axis=0) if candidate.ndim == 2 and (target.size > 1 or len(candidate) > 1) else None
        for view in (candidate if target.size > 1 else None, batch):
            if view is not None and view.shape == target.shape and np.allclose(view, target, rtol=1e-9, atol=1e-15):
                return True
    return False
