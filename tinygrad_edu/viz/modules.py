"""Which module call created which node: the clusters of a drawing.

`nn.Module.__call__` takes a tick of the graph clock before and after `forward` and keeps the pair in
`module._call_ranges`. Every node carries the tick of its creation (`_order`), so a node with
`start < node._order < end` was made inside that call. Calls nest like brackets (a `Sequential`
call contains its layers' calls), so one sweep over the nodes in creation order, with a stack of
the calls still open, gives each node its innermost call: no recursion, O(nodes + calls).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    """One call of one module: its tick range, where it sits in the call tree, what it holds."""

    start: int
    end: int
    name: str  # the dotted name from `named_modules()` ('' for the model itself)
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


def module_calls(params: Any) -> list[Call]:
    """Every recorded call of `params` and its sub-modules, sorted by start tick (outer before inner)."""
    if params is None or not hasattr(params, "named_modules"):
        return []
    calls = []
    for name, module in params.named_modules():
        title = describe(name, module)
        for start, end in getattr(module, "_call_ranges", ()):
            calls.append(Call(int(start), int(end), name, title))
    calls.sort(key=lambda c: (c.start, -c.end))
    return calls


def assign(orders: list[int], calls: list[Call]) -> list[int | None]:
    """For each node (given by creation tick, ascending), the index of its innermost call, or None.

    Also fills each call's `parent`, `depth` and `members`.
    """
    owner: list[int | None] = [None] * len(orders)
    stack: list[int] = []  # calls open at the current tick, outermost first
    nxt = 0
    for i, tick in enumerate(orders):
        while nxt < len(calls) and calls[nxt].start < tick:
            call = calls[nxt]
            while stack and calls[stack[-1]].end <= call.start:
                stack.pop()
            if stack:
                call.parent = stack[-1]
                call.depth = calls[stack[-1]].depth + 1
            stack.append(nxt)
            nxt += 1
        while stack and calls[stack[-1]].end <= tick:
            stack.pop()
        if stack:
            owner[i] = stack[-1]
            calls[stack[-1]].members.append(i)
    # Calls that start after the newest node are left at depth 0 with no members: none is drawn.
    return owner
