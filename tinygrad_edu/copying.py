"""Copies of graph nodes (both engines): `copy.copy`, `copy.deepcopy` and `pickle`, as in PyTorch.

A **leaf** (a node you made, or a result computed without a graph) copies with its data, its gradient,
`requires_grad` and its name; the copy is a new leaf of its own. A **result inside a graph** cannot be
deep-copied or pickled: the copy would have to take the whole graph behind it (a 5,000-op chain is
5,000 nested objects, past Python's recursion limit) or silently become a leaf whose gradient reaches
nothing. It raises `GraphError` and says to `detach()` first. `copy.copy` makes a second node that
shares everything with the first (the same array, parents and version counter), as a shallow copy does.
"""

from __future__ import annotations

from typing import Any

from .errors import GraphError


def refuse_non_leaf(node: Any, how: str) -> None:
    """Raise unless `node` is a leaf: `how` is what was asked ("copy.deepcopy", "pickle")."""
    if node.is_leaf:
        return
    kind = type(node).__name__
    raise GraphError(
        f"{how}: this {kind} is the result of an op inside a graph (it requires grad and has parents), and a copy "
        f"would have to take the whole graph with it. Only leaves can be copied, as in PyTorch: copy "
        f"x.detach() (the same values, no graph), or the model's parameters"
    )


def shallow_copy(node: Any) -> Any:
    """A new node of the same class whose slots point at the same objects (what `copy.copy` means)."""
    out = type(node).__new__(type(node))
    for slot in type(node).__slots__:
        if hasattr(node, slot):
            setattr(out, slot, getattr(node, slot))
    return out
