"""What both engines share: the creation clock, the grad-mode switch and the graph walk.

A node of either engine (`Value` or `Tensor`) has `_parents` (the nodes it was computed from) and
`_order` (a tick of a global clock taken when it was created). A node is always created after its
parents, so sorting the nodes by `_order`, newest first, is a topological order for backward:
no recursion, no post-order bookkeeping, just "find what is reachable, then sort" (`walk`, which
`Value.backward` and the drawings use). The tensor engine's backward uses the same fact another way:
a heap of the nodes a gradient has reached, newest first (`tensor_backward.backprop`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import inspect
import itertools
import threading
from collections.abc import Callable, Generator, Iterator
from operator import attrgetter
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# A process-wide clock; `next(_clock)` is one C call, cheap enough for every node.
_clock = itertools.count()
tick = _clock.__next__
_by_order = attrgetter("_order")


class Node:
    """The base both engines' nodes share (`Value`, `Tensor`): each engine recognises the other by this
    type, never by a class-name string, and neither has to import the other."""

    __slots__ = ()

    def draw(self, **options: Any) -> Any:
        """The graph that computed this node, as a `graphviz.Digraph` (it shows inline in Jupyter).

        The options are those of `tinygrad_edu.viz.draw`. Drawing builds on the engine, so the engine
        names it only here, loading it by name when a drawing is asked for: no import runs from the
        engine up to viz, and graphviz is loaded on the first drawing, not by `import tinygrad_edu`.
        """
        return importlib.import_module("tinygrad_edu.viz.draw").draw(self, **options)


# ---------------------------------------------------------------------- modes, one per thread
# As in PyTorch, grad mode (and anomaly mode, in anomaly.py) belongs to a thread: a thread that
# evaluates under `no_grad` must not switch recording off in a thread that trains. A new thread
# starts with grad on and anomaly detection off.


class _GradMode(threading.local):
    """This thread's grad mode: whether new results record their inputs (the graph)."""

    def __init__(self) -> None:  # runs once in every thread that reads it
        self.enabled = True


grad_mode = _GradMode()


class _Away:
    """How many threads have a mode away from its default: grad off, or anomaly detection on.

    While the count is 0 every thread is in the default modes, so an engine's hot path may skip
    both thread-local reads (one costs several plain attribute reads). Only `set_mode` changes it.
    """

    __slots__ = ("count", "lock")

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()


away = _Away()


def set_mode(mode: Any, enabled: bool, default: bool) -> None:
    """Set this thread's `mode.enabled` and keep `away.count` true to it."""
    enabled = bool(enabled)
    with away.lock:
        if mode.enabled != enabled:
            mode.enabled = enabled
            away.count += -1 if enabled == default else 1


def is_grad_enabled() -> bool:
    """True unless this thread is inside `no_grad()` (or `set_grad_enabled(False)`)."""
    return grad_mode.enabled


class _GradModeSwitch:
    """What `no_grad`, `enable_grad` and `set_grad_enabled` share: a context manager and a decorator.

    As a decorator it switches the mode on every call, in the calling thread; on a generator
    function, around each resume of the generator (so code after a `yield` runs in the mode too).
    """

    mode = True

    def __init__(self) -> None:
        self._previous: list[bool] = []  # a stack, so one object can be entered again while active

    def __enter__(self) -> None:
        self._previous.append(grad_mode.enabled)
        set_mode(grad_mode, self.mode, True)

    def __exit__(self, *exc_info: object) -> None:
        set_mode(grad_mode, self._previous.pop(), True)

    def _fresh(self) -> _GradModeSwitch:
        """A new switch of the same mode for one call, so that threads never share a stack."""
        return type(self)()

    def __call__(self, fn: F) -> F:
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(self._fresh, fn)  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _wrap_generator(switch: Callable[[], Any], fn: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Any]:
    """`fn` (a generator function) with the mode switched around each of its resumes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        gen = fn(*args, **kwargs)
        try:
            with switch():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with switch():
                        gen.close()
                    raise
                except BaseException as error:
                    with switch():
                        response = gen.throw(error)
                else:
                    with switch():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return wrapper


class no_grad(_GradModeSwitch):  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: results computed inside record no graph (like `torch.no_grad`).

    Use it for evaluation and for parameter updates, which must not become part of the next graph.
    `@no_grad` and `@no_grad()` both decorate. It switches only the calling thread.
    """

    mode = False

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        if fn is not None:  # bare `@no_grad`
            return cls()(fn)
        return super().__new__(cls)

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        super().__init__()


class enable_grad(_GradModeSwitch):  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: record the graph again, even inside `no_grad` (like `torch.enable_grad`)."""

    mode = True

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        if fn is not None:  # bare `@enable_grad`
            return cls()(fn)
        return super().__new__(cls)

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        super().__init__()


class set_grad_enabled(_GradModeSwitch):  # noqa: N801 (PyTorch's name)
    """Switch grad mode on or off in this thread: as a function, it takes effect at once and stays;
    as a context manager or decorator, the previous mode comes back afterwards (like `torch.set_grad_enabled`).
    """

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self._previous.append(grad_mode.enabled)
        set_mode(grad_mode, self.mode, True)  # a plain call must take effect now

    def __enter__(self) -> None:
        pass  # already switched in __init__

    def _fresh(self) -> _GradModeSwitch:
        return set_grad_enabled(self.mode)

    def __call__(self, fn: F) -> F:
        set_mode(grad_mode, self._previous.pop(), True)  # decorating must not switch the mode
        return super().__call__(fn)


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

    With `grad_only`, only nodes that require grad are followed: what a backward pass visits.
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
