"""Which module call created which node: the clusters of a drawing.

`record_modules()` watches module calls through nn's global forward hooks: a tick of the graph clock
before `forward` and one after it returns. Every node carries the tick of its creation (`order`), so
a node with `start < node.order < end` was made inside that call. Calls nest like brackets (a
`Sequential` call contains its layers' calls), so one sweep over the nodes in creation order, with a
stack of the calls still open, gives each node its innermost call: no recursion, O(nodes + calls).

A graph built outside `record_modules()` has no recorded calls: it is drawn without module clusters
(parameters are still named by `params=`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import ArgumentTypeError
from ..graph import tick
from ..nn.hooks import register_module_forward_hook, register_module_forward_pre_hook
from ..nn.module import Module


class ModuleCalls:
    """What `record_modules()` recorded: each finished module call on its thread, as (module, start, end) ticks.

    A call whose `forward` raised is not recorded (it made no result to draw).
    """

    def __init__(self) -> None:
        self.calls: list[tuple[Module, int, int]] = []
        self._open: list[tuple[Module, int]] = []  # calls started and not finished, innermost last
        self._thread = threading.get_ident()

    def __len__(self) -> int:
        return len(self.calls)

    def __repr__(self) -> str:
        return f"ModuleCalls({len(self.calls)} calls)"

    def _before(self, module: Module, args: tuple) -> None:
        if threading.get_ident() == self._thread:
            self._open.append((module, tick()))

    def _after(self, module: Module, args: tuple, output: Any) -> None:
        if threading.get_ident() != self._thread:
            return
        # Pop up to this module's own entry: anything above it is a call whose forward raised and
        # whose error was caught inside this call, so it never got its "after".
        while self._open:
            opened, start = self._open.pop()
            if opened is module:
                self.calls.append((module, start, tick()))
                return


@contextmanager
def record_modules() -> Iterator[ModuleCalls]:
    """Record which module call made which node, for drawing the calls as clusters.

        with viz.record_modules() as calls:
            loss = loss_fn(model(x), y)
        viz.draw(loss, params=model, calls=calls)

    Records the module calls made on this thread while the block runs (other threads' are left out).
    """
    record = ModuleCalls()
    with register_module_forward_pre_hook(record._before), register_module_forward_hook(record._after):
        try:
            yield record
        finally:
            record._open.clear()  # calls left open by an error: nothing stale stays behind


@dataclass
class Call:
    """One call of one module: its tick range, where it sits in the call tree, what it holds."""

    start: int
    end: int
    name: str | None  # the dotted name from `named_modules()` ('' for the model itself); None without a model
    title: str  # what the cluster says: '0: Linear(2→2)'
    parent: int | None = None  # index of the enclosing call
    depth: int = 0
    members: list[int] = field(default_factory=list)  # indices of the nodes it created directly


def describe(name: str, module: Any) -> str:
    """A short title for a module: `Linear(2→2)`, or the class name; prefixed by its dotted name."""
    kind = type(module).__name__
    n_in, n_out = getattr(module, "in_features", None), getattr(module, "out_features", None)
    if isinstance(n_in, int) and isinstance(n_out, int):
        kind = f"{kind}({n_in}→{n_out})"
    return f"{name}: {kind}" if name else kind


def module_calls(record: ModuleCalls | None, params: Any) -> list[Call]:
    """The recorded calls to draw, sorted by start tick (outer before inner).

    With a Module as `params`, the calls of its modules, named as `named_modules()` names them;
    otherwise every recorded call, titled by its class.
    """
    if record is None:
        return []
    if not isinstance(record, ModuleCalls):
        raise ArgumentTypeError(
            f"calls must be what `with tinygrad_edu.viz.record_modules() as calls:` recorded, "
            f"not {type(record).__name__}"
        )
    names = {id(module): name for name, module in params.named_modules()} if isinstance(params, Module) else None
    calls = []
    for module, start, end in record.calls:
        name = names.get(id(module)) if names is not None else None
        if names is not None and name is None:
            continue  # a module outside the model (a loss function, another model)
        calls.append(Call(start, end, name, describe(name or "", module)))
    calls.sort(key=lambda c: (c.start, -c.end))
    return calls


def assign(orders: list[int], calls: list[Call]) -> list[int | None]:
    """For each node (given by creation tick, ascending), the index of its innermost call, or None.

    Also fills each call's `parent`, `depth` and `members`.
    """
    owner: list[int | None] = [None] * len(orders)
    stack: list[int] = []  # calls open at the current tick, outermost first
    nxt = 0
    for i, made in enumerate(orders):
        while nxt < len(calls) and calls[nxt].start < made:
            call = calls[nxt]
            while stack and calls[stack[-1]].end <= call.start:
                stack.pop()
            if stack:
                call.parent = stack[-1]
                call.depth = calls[stack[-1]].depth + 1
            stack.append(nxt)
            nxt += 1
        while stack and calls[stack[-1]].end <= made:
            stack.pop()
        if stack:
            owner[i] = stack[-1]
            calls[stack[-1]].members.append(i)
    # Calls that start after the newest node are left at depth 0 with no members: none is drawn.
    return owner
