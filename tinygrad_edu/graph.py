"""What both engines share: the node's reading protocol, the creation clock, the modes and the graph walk.

A node of either engine (`Value` or `Tensor`) is read through `Node`'s protocol: its `parents`, its
`op`, its `local_derivatives` and its `order` (a tick of a global clock taken when it was created).
A node is always created after its parents, so sorting the nodes by `order`, newest first, is a
topological order: no recursion, no post-order bookkeeping, just "find what is reachable, then sort"
(`walk`, which the drawings, `explain` and the step-through page use). The engines' own backward
passes use the same fact without a walk: `Value.backward` sorts the nodes below the root by
creation tick, and the tensor engine pops a heap of the nodes a gradient has reached, newest first
(`tensor_backward.backprop`).
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
_by_order = attrgetter("order")


class Node:
    """The base both engines' nodes share (`Value`, `Tensor`): each engine recognises the other by this
    type, never by a class-name string, and neither has to import the other.

    It is also how a node is read. Drawing, `explain`, the formulas of `symbolic`, the step-through page,
    the checkers and the compiler's forward read a node of either engine through these, never its private
    fields (the compiler's replay of a tensor backward pass also reads what the engine's loop reads):

    * `parents`: the nodes it was computed from, () for a leaf (None where a Tensor op had a constant);
    * `op`: the name of the op that made it (`"*"`, `"sigmoid"`, `"MatMul"`), None for a leaf;
    * `local_derivatives`: d(node)/d(parent) for each parent, as the forward pass recorded them (the
      scalar engine); None where the op computes them in backward from what it saved (the tensor engine);
    * `order`: its creation tick; a node is newer than its parents, so newest first is a topological order;
    * `constant`: the number an op folded in (the 2 of `x * 2`, the 3 of `x ** 3`), None where there is none.
    """

    __slots__ = ()

    @property
    def parents(self) -> tuple[Any, ...]:
        return self._parents  # type: ignore[attr-defined]

    @property
    def order(self) -> int:
        return self._order  # type: ignore[attr-defined]

    @property
    def constant(self) -> Any:
        return None

    def draw(self, **options: Any) -> Any:
        """The graph that computed this node, as a `graphviz.Digraph` (it shows inline in Jupyter).

        The options are those of `tinygrad_edu.viz.draw`. Drawing builds on the engine, so the engine
        names it only here, loading it by name when a drawing is asked for: no import runs from the
        engine up to viz, and graphviz is loaded on the first drawing, not by `import tinygrad_edu`.
        """
        return importlib.import_module("tinygrad_edu.viz.draw").draw(self, **options)


# ---------------------------------------------------------------------- modes, one per thread
# As in PyTorch, a mode belongs to a thread: a thread that evaluates under `no_grad` must not switch
# recording off in a thread that trains. Every mode is a `Mode` (grad mode here, anomaly mode in
# anomaly.py, keeping the graph in retention.py), and every way to switch one for a block is a
# `Switch` (`no_grad`, `enable_grad`, `set_grad_enabled`, `detect_anomaly`, `keep_graph`).


class Mode(threading.local):
    """One on/off setting per thread; every new thread starts at `default`.

    `where` names the module global that holds it ("module.name"): a copy or a pickle of a `Switch`
    refers to its mode by that name, so the copy switches the one mode every op reads.
    """

    def __init__(self, default: bool, where: str) -> None:  # runs once in every thread that reads it
        self.default = default
        self.enabled = default
        self.where = where

    def __reduce__(self) -> tuple[Any, ...]:
        return mode_at, (self.where,)


def mode_at(where: str) -> Mode:
    """The mode named "module.name" (how copies and pickles of a switch find their mode)."""
    module, name = where.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


grad_mode = Mode(True, f"{__name__}.grad_mode")  # whether new results record their inputs (the graph)


class _Away:
    """How many modes, over all threads, are away from their default (grad off, anomaly on, ...).

    While the count is 0 every thread is in the default modes, so an engine's hot path may skip
    the thread-local reads (one costs several plain attribute reads). Only `set_mode` changes it.
    """

    __slots__ = ("count", "lock")

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()


away = _Away()


def set_mode(mode: Mode, enabled: bool) -> None:
    """Set this thread's `mode.enabled` and keep `away.count` true to it."""
    enabled = bool(enabled)
    with away.lock:
        if mode.enabled != enabled:
            mode.enabled = enabled
            away.count += -1 if enabled == mode.default else 1


def is_grad_enabled() -> bool:
    """True unless this thread is inside `no_grad()` (or `set_grad_enabled(False)`)."""
    return grad_mode.enabled


class Switch:
    """Set one mode for a block, in the calling thread, and put it back afterwards: a context manager and a decorator.

    As a decorator it switches the mode on every call (each call with a switch of its own, so that one
    object may decorate any number of functions and threads never share its state); on a generator
    function, around each resume of the generator (so code after a `yield` runs in the mode too).
    """

    def __init__(self, mode: Mode, enabled: bool) -> None:
        self._mode = mode
        self._enabled = bool(enabled)
        self._previous: list[bool] = []  # a stack, so one object can be entered again while active

    def __enter__(self) -> Any:
        self._previous.append(self._mode.enabled)
        set_mode(self._mode, self._enabled)
        return self

    def __exit__(self, *exc_info: object) -> None:
        set_mode(self._mode, self._previous.pop())

    def __getstate__(self) -> dict[str, Any]:
        """What `copy`, `deepcopy` and `pickle` carry: the mode (by name) and the setting; no open block."""
        return {"_mode": self._mode, "_enabled": self._enabled, "_previous": []}

    def _fresh(self) -> Switch:
        """The same switch for one call of a decorated function, with a stack of its own."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._previous = []
        return clone

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


class no_grad(Switch):  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: results computed inside record no graph (like `torch.no_grad`).

    Use it for evaluation and for parameter updates, which must not become part of the next graph.
    `@no_grad` and `@no_grad()` both decorate. It switches only the calling thread.
    """

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        if fn is not None:  # bare `@no_grad`
            return cls()(fn)
        return super().__new__(cls)

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        super().__init__(grad_mode, False)


class enable_grad(Switch):  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: record the graph again, even inside `no_grad` (like `torch.enable_grad`)."""

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        if fn is not None:  # bare `@enable_grad`
            return cls()(fn)
        return super().__new__(cls)

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        super().__init__(grad_mode, True)


class set_grad_enabled(Switch):  # noqa: N801 (PyTorch's name)
    """Switch grad mode on or off in this thread: as a function, it takes effect at once and stays;
    as a context manager or decorator, the previous mode comes back afterwards (like `torch.set_grad_enabled`).
    """

    def __init__(self, mode: bool) -> None:
        super().__init__(grad_mode, mode)
        super().__enter__()  # a plain call must take effect now,
        self._pending = True  # and a `with` on this object carries on from it

    def __enter__(self) -> Any:
        if self._pending:  # already switched in __init__
            self._pending = False
            return self
        return super().__enter__()

    def _fresh(self) -> Switch:
        return set_grad_enabled(self._enabled)

    def __getstate__(self) -> dict[str, Any]:  # a copy has switched nothing yet: `with` on it switches
        return {**super().__getstate__(), "_pending": False}

    def __call__(self, fn: F) -> F:
        if self._pending:  # decorating must not switch the mode: put back what __init__ changed
            self._pending = False
            set_mode(grad_mode, self._previous.pop())
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
        for parent in stack.pop().parents:
            if parent is None or parent in seen:
                continue
            if grad_only and not parent.requires_grad:
                continue
            seen.add(parent)
            stack.append(parent)
    return sorted(seen, key=_by_order, reverse=True)
