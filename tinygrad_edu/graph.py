"""What both engines share: the creation clock, the grad-mode switch and the graph walk.

A node of either engine (`Value` or `Tensor`) has `_parents` (the nodes it was computed from) and
`_order` (a tick of a global clock taken when it was created). A node is always created after its
parents, so sorting the nodes by `_order`, newest first, is a topological order for backward:
no recursion, no post-order bookkeeping, just "find what is reachable, then sort".
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# A process-wide clock; `next(_clock)` is one C call, cheap enough for every node.
_clock = itertools.count()
tick = _clock.__next__
_by_order = attrgetter("_order")


class _GradMode:
    """Whether new results record their inputs (the graph) or are plain constants."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


grad_mode = _GradMode()


class no_grad:  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: results computed inside record no graph (like `torch.no_grad`).

    Use it for evaluation and for parameter updates, which must not become part of the next graph.
    """

    def __init__(self) -> None:
        self._previous: list[bool] = []  # a stack, so one object can be entered again while active

    def __enter__(self) -> None:
        self._previous.append(grad_mode.enabled)
        grad_mode.enabled = False

    def __exit__(self, *exc_info: object) -> None:
        grad_mode.enabled = self._previous.pop()

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`."""
    return grad_mode.enabled


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one block, such as a training step.

    Graphs of both engines have no reference cycles, so reference counting frees them the moment
    the last reference goes. The cyclic collector has nothing to find in them, yet on a large graph
    it re-scans every live node again and again (this is where micrograd spends most of its time).
    `fit` pauses it around each step; anything cyclic your own code makes is collected afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def walk(root: Any, *, grad_only: bool = False) -> list[Any]:
    """All nodes reachable from `root` (itself included), newest first: a topological order.

    With `grad_only`, only nodes that require grad are followed, which is what backward needs.
    The walk uses an explicit stack, so a chain of a million ops cannot hit Python's recursion limit.
    """
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop()._parents:
            if parent is None or parent in seen:
                continue
            if grad_only and not parent.requires_grad:
                continue
            seen.add(parent)
            stack.append(parent)
    return sorted(seen, key=_by_order, reverse=True)
