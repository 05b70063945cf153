"""The scalar engine's chain rule into a dict, and the same chain rule recorded as a graph.

`Value.backward()` writes `.grad` as it goes. `grad()` wants the gradients returned instead, and
`backward(create_graph=True)` wants each product and sum of the chain rule recorded, so that a
gradient is a Value with a graph of its own. Both use `sweep`. Under `create_graph` each local
derivative comes from the op's rule in Value ops: `@rule(...)` above each op in value.py puts it in
`RULES`, like PyTorch's derivatives table.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from .graph import Node, set_grad_enabled

Local = Any  # a local derivative: a float, or a Value under create_graph
Rule = Callable[[Any, Any, Any], tuple[Local, ...]]  # (out, a, b) -> d out / d each parent, in Value ops

# op name -> its rule; b is the second parent, or the op's constant
RULES: dict[str, Rule] = {}
_by_order = attrgetter("_order")


def rule(op: str, fn: Rule) -> Callable[[Any], Any]:
    """Register `fn` as op's derivative in Value ops (for create_graph); the method is unchanged."""
    RULES[op] = fn
    return lambda method: method


def backward_graph(root: Any, seed: Any) -> None:
    """`root.backward(create_graph=True)`: every `.grad` below root becomes a Value with a graph.

    Leaves accumulate (a float they held is added to), intermediate nodes show this pass only.
    """
    for node, g in sweep([root], [seed], create_graph=True).items():
        g = as_node(g, root)
        is_leaf = node._a is None and node._many is None
        node.grad = g + node.grad if is_leaf and node.grad is not None else g


def sweep(outputs: list[Any], seeds: list[Any], create_graph: bool) -> dict[Any, Any]:
    """The chain rule from `outputs` down, into a dict (node -> gradient) instead of `.grad`.

    Like `Value.backward`: the nodes below the outputs, newest first (every user of a node comes
    before it), each passing its gradient to its parents. Under `create_graph` the local
    derivatives are the ops' rules in Value ops and the products and sums are recorded, so each
    gradient is a graph.
    """
    seen = set(outputs)
    stack = list(seen)
    while stack:
        for parent in stack.pop()._parents:
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    grads: dict[Any, Any] = {}
    for out, seed in zip(outputs, seeds):
        grads[out] = grads[out] + seed if out in grads else seed
    with set_grad_enabled(create_graph):  # record the chain rule only when a graph is asked for
        for node in sorted(seen, key=_by_order, reverse=True):  # newest first, as in Value.backward
            if node not in grads or (node._a is None and node._many is None):
                continue  # no gradient reached it, or a leaf: nothing to pass on
            g = grads[node]
            local = graph_locals(node) if create_graph else node._locals
            for parent, d in zip(node._parents, local):
                if parent.requires_grad:
                    contribution = d * g
                    grads[parent] = grads[parent] + contribution if parent in grads else contribution
    return grads


def graph_locals(node: Any) -> tuple[Local, ...]:
    """d(node)/d(parent) for each parent, from the op's rule in Value ops (see `RULES`)."""
    op = "Σw·x" if node._many is not None else "**" if node._op.startswith("**") else node._op
    b = node._b if node._b is not None else node._db  # the second parent, or the op's constant
    return RULES[op](node, node._a, b)


def as_node(g: Any, like: Node) -> Any:
    """A gradient as a node of `like`'s engine: a float becomes a constant Value."""
    return g if isinstance(g, Node) else type(like)(g, requires_grad=False)
